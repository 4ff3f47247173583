from django.db import migrations, models


def remove_triggers_before_labels(apps, schema_editor):
    from incidents import dataversion

    dataversion.NAMES_TRIGGERS_BEFORE_LABELS.remove(schema_editor.connection)


def install_triggers_before_labels(apps, schema_editor):
    from incidents import dataversion

    dataversion.NAMES_TRIGGERS_BEFORE_LABELS.install(schema_editor.connection)


def install_triggers(apps, schema_editor):
    from incidents import dataversion

    dataversion.NAMES_TRIGGERS.install(schema_editor.connection)


def remove_triggers(apps, schema_editor):
    from incidents import dataversion

    dataversion.NAMES_TRIGGERS.remove(schema_editor.connection)


class Migration(migrations.Migration):
    """The labels version (incidents/dataversion.py): writes to the places, sources and actors
    themselves, counted by the names triggers, so that one incident's page and record are not
    rendered again when another incident is published.

    The triggers are removed while the version's table changes: SQLite adds these columns by
    rebuilding the table, and refuses to while triggers write to it."""

    dependencies = [
        ("incidents", "0027_names_version_and_incident_revisions"),
    ]

    operations = [
        migrations.RunPython(remove_triggers_before_labels, install_triggers_before_labels, elidable=False),
        migrations.AddField(
            model_name="dataversion",
            name="labels_changed_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="dataversion",
            name="labels_changes",
            field=models.BigIntegerField(db_default=0),
        ),
        migrations.RunPython(install_triggers, remove_triggers, elidable=False),
    ]
