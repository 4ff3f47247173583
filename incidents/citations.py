"""How to cite the data: an incident record (its page, the API) and the whole dataset (/data/).

A citation names the version it was made from: the moment of the last recorded change to the
incident, its reports or its attributions (django-simple-history keeps every one), so that a
reader can later open the record exactly as it was cited (``incident_version`` view).
"""

import datetime

from django.conf import settings
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext

from incidents.models import Attribution, Incident, TollReport
from incidents.templatetags.bilingual import text_in_page_language

STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"  # 20231006T120000000000Z: sortable, safe in a URL path


def stamp(moment):
    return moment.astimezone(datetime.timezone.utc).strftime(STAMP_FORMAT)


def moment_of(text):
    """The moment a stamp names, or None when it is not one."""
    try:
        return datetime.datetime.strptime(text, STAMP_FORMAT).replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def recorded_at(incident):
    """When the incident, one of its reports or one of its attributions last changed, as the
    history records it; None when no history was kept (synthetic benchmark data). Three queries."""
    moments = [
        Incident.history.filter(id=incident.pk).aggregate(at=Max("history_date"))["at"],
        TollReport.history.filter(incident_id=incident.pk).aggregate(at=Max("history_date"))["at"],
        Attribution.history.filter(incident_id=incident.pk).aggregate(at=Max("history_date"))["at"],
    ]
    moments = [m for m in moments if m is not None]
    return max(moments) if moments else None


def records_as_of(model, moment, **filters):
    """The records of ``model`` matching ``filters`` as they were at ``moment``, from the
    history, as unsaved model instances. One query.

    simple_history's own ``as_of()`` asks the live table, record by record, for the fields its
    history leaves out (a report's ``version`` and ``is_current``): a query per report. A
    version of the past needs none of them, so they keep their defaults here."""
    excluded = set(model.history.model._history_excluded_fields)
    tracked = [field.attname for field in model._meta.concrete_fields if field.name not in excluded]
    # Filtered after choosing each record's latest row: a report moved to another incident since
    # is where it was then.
    rows = model.history.filter(history_date__lte=moment).latest_of_each().exclude(history_type="-")
    rows = rows.filter(**filters)
    return [model(**{name: getattr(row, name) for name in tracked}) for row in rows]


def incident_citation(incident, *, absolute_url, moment, accessed=None):
    """The stable identifier, the suggested citation and the permalink to the version recorded
    at ``moment`` (None: no version known). No query."""
    accessed = accessed or timezone.localdate()
    publisher = settings.OPEN_DATA_PUBLISHER
    url = absolute_url(incident.get_absolute_url())
    version = None
    if moment is not None:
        version = {
            "stamp": stamp(moment),
            "recorded_at": moment,
            "permalink": absolute_url(reverse("incident_version", args=[incident.slug, stamp(moment)])),
        }
    identifier = f"incident:{incident.pk}"
    words = {
        "publisher": gettext(publisher),  # the site's own name has a translation; another name keeps its own
        "title": text_in_page_language(incident, "title"),
        "date": date_format(incident.start_date, "j F Y"),
        "identifier": identifier,
        "url": url,
        "accessed": date_format(accessed, "j F Y"),
    }
    if version:
        text = gettext(
            "%(publisher)s. “%(title)s”, %(date)s (%(identifier)s). %(url)s. "
            "Version of %(version_date)s UTC: %(permalink)s. Accessed %(accessed)s."
        ) % {
            **words,
            "version_date": date_format(moment, pgettext("date and time format", "j F Y, H:i")),
            "permalink": version["permalink"],
        }
    else:
        text = (
            gettext("%(publisher)s. “%(title)s”, %(date)s (%(identifier)s). %(url)s. Accessed %(accessed)s.")
            % words
        )
    return {
        "identifier": identifier,
        "text": text,
        "publisher": publisher,
        "title": incident.title,
        "url": url,
        "accessed": accessed,
        "version": version,
    }


def dataset_citation(*, absolute_url, last_changed, accessed=None):
    """How to cite the whole dataset (/data/). No query."""
    accessed = accessed or timezone.localdate()
    publisher = settings.OPEN_DATA_PUBLISHER
    words = {
        "publisher": gettext(publisher),
        "licence": settings.OPEN_DATA_LICENCE["name"],
        "url": absolute_url(reverse("open_data")),
        "accessed": date_format(accessed, "j F Y"),
    }
    if last_changed:
        return gettext(
            "%(publisher)s. Published incidents and reports (CSV, %(licence)s). %(url)s. Data last changed "
            "%(changed)s. Accessed %(accessed)s."
        ) % {**words, "changed": date_format(last_changed, "j F Y")}
    return (
        gettext(
            "%(publisher)s. Published incidents and reports (CSV, %(licence)s). %(url)s. "
            "Accessed %(accessed)s."
        )
        % words
    )
