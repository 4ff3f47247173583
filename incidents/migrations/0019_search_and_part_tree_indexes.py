from django.db import migrations, models

# Text search (incidents.filters: ``icontains``, which PostgreSQL runs as UPPER(column) LIKE
# UPPER('%words%')) reads these trigram indexes instead of every incident. PostgreSQL only:
# SQLite has no such index, and reads its table.
SEARCHED_COLUMNS = ["title", "place", "summary", "search_ar"]


def add_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS incident_{column}_trgm_idx ON incidents_incident "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def remove_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS incident_{column}_trgm_idx")


def refresh_statistics(apps, schema_editor):
    # New indexes: SQLite's planner needs statistics to choose well between them (0017).
    schema_editor.execute("ANALYZE")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0018_place_totals"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                condition=models.Q(("in_part_tree", True)),
                fields=["location", "start_date"],
                name="incident_part_tree_place_idx",
            ),
        ),
        migrations.RunPython(add_search_indexes, remove_search_indexes),
        migrations.RunPython(refresh_statistics, migrations.RunPython.noop, elidable=True),
    ]
