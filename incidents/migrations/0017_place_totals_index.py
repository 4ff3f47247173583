from django.db import migrations, models


def refresh_statistics(apps, schema_editor):
    """The planner learns of the new index: without fresh statistics SQLite chose it for the
    list and the home page too (five to ten times as long at 100,000 incidents)."""
    schema_editor.execute("ANALYZE")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0016_bilingual_records"),
    ]

    operations = [
        # A place's totals and the sources reporting on it, read from this index alone.
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                fields=[
                    "location",
                    "status",
                    "killed_lowest",
                    "killed_highest",
                    "killed_highest_open",
                    "is_disputed",
                    "in_part_tree",
                    "id",
                ],
                name="incident_place_figures_idx",
            ),
        ),
        migrations.RunPython(refresh_statistics, migrations.RunPython.noop, elidable=True),
    ]
