from django.db import migrations, models


def refresh_statistics(apps, schema_editor):
    """The planner learns of the changed index (SQLite chooses its indexes by these)."""
    schema_editor.execute("ANALYZE")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0028_labels_version"),
    ]

    operations = [
        # The list's whole order (date, then id) in the date index, before the stored figures.
        migrations.RemoveIndex(model_name="incident", name="incident_date_figures_idx"),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                fields=[
                    "start_date", "id", "killed_lowest", "killed_highest", "killed_highest_open",
                    "is_disputed", "in_part_tree", "status",
                ],
                name="incident_date_figures_idx",
            ),
        ),
        migrations.RunPython(refresh_statistics, migrations.RunPython.noop),
    ]
