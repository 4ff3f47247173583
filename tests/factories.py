"""Small helpers that build valid records; tests override only what they are about."""

import datetime
import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from incidents import blame, figures, tolls
from incidents.models import Actor, Attribution, Incident, Location, Source, TollReport, Victim
from incidents.workflow import publish_incident, set_victims_public

_counter = itertools.count(1)


def make_location(name=None, kind="locality", parent=None, **fields):
    name = name or f"Place {next(_counter)}"
    return Location.objects.create(name=name, kind=kind, parent=parent, **fields)


def make_tree():
    """Syria > Idlib governorate > Idlib district > Idlib city, and Homs governorate."""
    syria = make_location(
        "Syria",
        kind="country",
        pcode="SY",
        admin1_name="governorate",
        admin2_name="district",
        admin3_name="sub-district",
    )
    idlib = make_location("Idlib", kind="admin1", parent=syria, pcode="SY07")
    district = make_location("Idlib", kind="admin2", parent=idlib, pcode="SY0700")
    city = make_location("Idlib", kind="locality", parent=district)
    homs = make_location("Homs", kind="admin1", parent=syria, pcode="SY04")
    return {"syria": syria, "idlib": idlib, "district": district, "city": city, "homs": homs}


def make_actor(name=None, kind="state_forces", **fields):
    return Actor.objects.create(name=name or f"Actor {next(_counter)}", kind=kind, **fields)


def make_source(name=None, short_name="", kind="monitoring_group", **fields):
    return Source.objects.create(
        name=name or f"Source {next(_counter)}", short_name=short_name, kind=kind, **fields
    )


def make_incident(title=None, location=None, status="published", **fields):
    """A draft, published through the workflow (as a command would) unless ``status="draft"``."""
    fields.setdefault("kind", "air_strike")
    fields.setdefault("start_date", datetime.date(2023, 10, 5))
    incident = Incident.objects.create(
        title=title or f"Incident {next(_counter)}", location=location or make_location(), **fields
    )
    if status == "published":
        publish_incident(incident=incident, user=None, via="tests")
    return incident


def make_report(incident, source=None, killed=10, qualifier="exact", **fields):
    fields.setdefault("published_on", incident.start_date)
    return TollReport.objects.create(
        incident=incident,
        source=source or make_source(),
        killed=killed,
        killed_qualifier=qualifier,
        **fields,
    )


def make_attribution(incident, actor=None, source=None, stance="alleged", **fields):
    """``source`` says ``actor`` did it (or, with ``stance``, claims or denies), on the incident's day."""
    fields.setdefault("published_on", incident.start_date)
    return Attribution.objects.create(
        incident=incident,
        actor=actor or make_actor(),
        source=source or make_source(),
        stance=stance,
        **fields,
    )


def make_victim(incident, name="", public=False, **fields):
    """A person killed in ``incident``; with ``public=True`` their name is released (as a command
    would: the workflow is the only way)."""
    fields.setdefault("status", "civilian")
    victim = Victim.objects.create(incident=incident, name=name, **fields)
    if public:
        set_victims_public(victims=Victim.objects.filter(pk=victim.pk), user=None, via="tests")
        victim.refresh_from_db()
    return victim


def make_user(username, group=None, staff=True, superuser=False):
    user = get_user_model().objects.create_user(
        username=username, password="a-long-test-password", is_staff=staff, is_superuser=superuser
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def make_homs():
    """The Homs strike: MoH "at least 89" (5 Oct), SOHR "more than 120" (6 Oct)."""
    tree = make_tree()
    homs_city = make_location("Homs", kind="locality", parent=tree["homs"])
    incident = make_incident("Drone strike on the Homs military academy", location=homs_city)
    moh = make_source("Syrian Ministry of Health", short_name="MoH", kind="government")
    sohr = make_source("Syrian Observatory for Human Rights", short_name="SOHR")
    make_report(incident, moh, killed=89, qualifier="at_least", published_on=datetime.date(2023, 10, 5))
    make_report(incident, sohr, killed=120, qualifier="more_than", published_on=datetime.date(2023, 10, 6))
    incident.refresh_from_db()
    return incident


def stored_range(incident):
    """What ``incidents.tolls`` stored on the incident: its figures, as ``fresh_range`` gives them."""
    incident = Incident.objects.get(pk=incident.pk)
    skipped = {"in_part_tree", "totalled_in", "totalled_at"}  # of part trees and totals (test_totals.py)
    return {name: getattr(incident, name) for name in Incident.FIGURE_FIELDS if name not in skipped}


def fresh_range(incident):
    """What the pure arithmetic of ``incidents.figures`` gives for the incident's reports now."""
    reports = list(TollReport.objects.filter(incident_id=incident.pk))
    values = tolls.stored_values(figures.incident_figures_of_reports(reports))
    values["attribution_disputed"] = blame.blame(
        Attribution.objects.filter(incident_id=incident.pk)
    ).is_disputed
    return values


def current_report_ids(incident):
    """{(source id, population): [ids of its reports marked current]}: exactly one each when all is
    well (a source has one current report per population: UCDP's all deaths and civilians)."""
    marked = {}
    for source_id, counts, pk in TollReport.objects.filter(
        incident_id=incident.pk, is_current=True
    ).values_list("source_id", "killed_counts", "pk"):
        marked.setdefault((source_id, counts), []).append(pk)
    return marked
