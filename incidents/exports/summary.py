"""summary.csv: totals as ranges per group (place, month, kind, perpetrator, source)."""

from django.db.models import Case, Count, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth

from incidents import figures, stats
from incidents.exports.cells import (
    bad_request,
    csv_response,
    export_view,
    filtered_for_export,
    wants_hxl,
    yes_no,
)
from incidents.models.reports import stated_ends_sql

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
    ("killed_highest_open", "#affected+killed+max+open"),
]


def summary_rows(incidents, groupings):
    """One row per group: totals as ranges (DESIGN.md). Four queries whatever the data size.

    Each group's total counts a part within its whole, never twice: incidents in a part tree
    are added up apart (``stats.tree_ends``). Grouping by source adds each source's own current
    figure of everyone killed (``stated_ends_sql``), never the incident's range; grouping by
    perpetrator counts an incident once for each alleged perpetrator.
    """
    columns = [column for key in groupings for column in GROUPINGS[key]]
    # Prefixed so that a group called "kind" does not clash with the field.
    expressions = {f"group_{name}": expression for name, _, expression in columns}
    if "perpetrator" in groupings:
        # Each actor's incidents where the sources agree on the actor apart from the disputed ones,
        # told apart by the appended "attribution" column: no actor carries a disputed toll unmarked.
        expressions["group_attribution"] = Case(
            When(attribution_disputed=True, then=Value("disputed")), default=Value("agreed")
        )
    names = list(expressions)
    base = incidents.order_by()
    alone = stats.ALONE
    if "source" in groupings:
        # One joined row per incident and source: that source's current figure of everyone killed.
        base = base.filter(reports__is_current=True, reports__killed_counts=figures.ALL)
        low, high, is_open = stated_ends_sql("reports__")
        grouped = base.annotate(**expressions, figure_open=is_open)
        open_figure = Q(figure_open=True)
    else:
        low, high, open_figure = F("killed_lowest"), F("killed_highest"), Q(killed_highest_open=True)
        grouped = base.annotate(**expressions)
    totals = (
        grouped.values(*names)
        .annotate(
            incidents=Count("pk", distinct=True),
            disputed_incidents=Count("pk", distinct=True, filter=Q(is_disputed=True)),
            killed_lowest_total=Coalesce(Sum(low, filter=alone), Value(0)),
            killed_highest_total=Coalesce(Sum(high, filter=alone), Value(0)),
            open_figures=Count("pk", filter=alone & open_figure),
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
    trees = _part_trees(base, expressions, names, "source" in groupings)
    for row in totals:
        key = tuple(row[n] for n in names)
        shown = [n for n in names if n != "group_attribution"]
        values = [f"{row[n]:%Y-%m}" if n == "group_month" and row[n] else row[n] for n in shown]
        tree = trees.get(key, stats.NOTHING)
        yield [
            *values,
            row["incidents"],
            row["disputed_incidents"],
            row["killed_lowest_total"] + (tree.lowest or 0),
            row["killed_highest_total"] + (tree.highest or 0),
            source_counts.get(key, 0),
            yes_no(row["open_figures"] > 0 or tree.highest_open),
            *([row["group_attribution"]] if "group_attribution" in names else []),
        ]


def _part_trees(base, expressions, names, by_source):
    """{group key: Ends} of each group's incidents that are wholes or parts. Two queries."""
    members = base.filter(in_part_tree=True).annotate(**expressions)
    fields = ["pk", "part_of", "killed_lowest", "killed_highest", "killed_highest_open"]
    if by_source:
        low, high, is_open = stated_ends_sql("reports__")
        members = members.annotate(own_low=low, own_high=high, own_open=is_open)
        fields = ["pk", "part_of", "own_low", "own_high", "own_open"]
    groups = {}
    for row in members.values_list(*names, *fields):
        key, (pk, part_of, lowest, highest, is_open) = tuple(row[: len(names)]), row[len(names) :]
        toll = figures.Ends(lowest, highest, is_open)
        groups.setdefault(key, []).append(figures.IncidentToll(pk, part_of, toll))
    parents = stats.part_tree_parents()
    return {key: stats.tree_ends(group, parents) for key, group in groups.items()}


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
    if "perpetrator" in groupings:
        columns.append(("attribution", "#group+perpetrator+status"))
    name = "summary-by-" + "-".join(groupings)
    return csv_response(name, columns, summary_rows(incidents, groupings), hxl=wants_hxl(request))
