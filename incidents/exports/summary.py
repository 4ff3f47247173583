"""summary.csv: totals as ranges per group (place, month, kind, perpetrator, source)."""

from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from incidents.exports.cells import bad_request, csv_response, export_view, filtered_for_export, wants_hxl

# ?by= value: its columns, each (name, HXL tag, expression to group on).
GROUPINGS = {
    "admin1": [
        ("admin1", "#adm1+name", F("location__admin1__name")),
        ("admin1_pcode", "#adm1+code", F("location__admin1__pcode")),
    ],
    "admin2": [
        ("admin2", "#adm2+name", F("location__admin2__name")),
        ("admin2_pcode", "#adm2+code", F("location__admin2__pcode")),
    ],
    "month": [("month", "#date+month", TruncMonth("start_date"))],
    "kind": [("kind", "#event+type", F("kind"))],
    "perpetrator": [("perpetrator", "#group+name+perpetrator", F("perpetrators__name"))],
    "source": [("source", "#meta+source", F("reports__source__name"))],
}

SUMMARY_COLUMNS = [
    ("incidents", "#event+num"),
    ("disputed_incidents", "#event+num+disputed"),
    ("killed_lowest_total", "#affected+killed+min"),
    ("killed_highest_total", "#affected+killed+max"),
    ("sources", "#meta+source+num"),
]


def summary_rows(incidents, groupings):
    """One row per group: totals as ranges (DESIGN.md). Two queries whatever the data size.

    Grouping by source counts an incident once for each source with a current report on it;
    grouping by perpetrator, once for each alleged perpetrator.
    """
    columns = [column for key in groupings for column in GROUPINGS[key]]
    # Prefixed so that a group called "kind" does not clash with the field.
    expressions = {f"group_{name}": expression for name, _, expression in columns}
    names = list(expressions)
    base = incidents.order_by()
    if "source" in groupings:
        base = base.filter(reports__is_current=True)
    totals = (
        base.annotate(**expressions)
        .values(*names)
        .annotate(
            incidents=Count("pk", distinct=True),
            disputed_incidents=Count("pk", distinct=True, filter=Q(is_disputed=True)),
            killed_lowest_total=Coalesce(Sum("killed_lowest"), Value(0)),
            killed_highest_total=Coalesce(Sum("killed_highest"), Value(0)),
        )
        .order_by(*names)
    )
    # Counted apart: joining the reports into the sums above would count incidents twice.
    source_counts = {
        tuple(row[n] for n in names): row["sources"]
        for row in base.annotate(**expressions)
        .values(*names)
        .annotate(sources=Count("reports__source", distinct=True, filter=Q(reports__is_current=True)))
    }
    for row in totals:
        key = tuple(row[n] for n in names)
        values = [f"{row[n]:%Y-%m}" if n == "group_month" and row[n] else row[n] for n in names]
        yield [
            *values,
            row["incidents"],
            row["disputed_incidents"],
            row["killed_lowest_total"],
            row["killed_highest_total"],
            source_counts.get(key, 0),
        ]


@export_view
def export_summary(request):
    groupings = list(dict.fromkeys(request.GET.getlist("by")))
    unknown = [g for g in groupings if g not in GROUPINGS]
    if not groupings or unknown:
        return bad_request(
            "Say how to group the summary with by=admin1, admin2, month, kind, perpetrator or source "
            "(several allowed, e.g. by=admin1&by=month)."
            + (f" Not understood: {', '.join(unknown)}." if unknown else "")
        )
    incidents, error = filtered_for_export(request)
    if error:
        return bad_request(error)
    columns = [(name, tag) for g in groupings for name, tag, _ in GROUPINGS[g]] + SUMMARY_COLUMNS
    name = "summary-by-" + "-".join(groupings)
    return csv_response(name, columns, summary_rows(incidents, groupings), hxl=wants_hxl(request))
