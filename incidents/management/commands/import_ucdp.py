from incidents.management.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import a UCDP Georeferenced Event Dataset (GED) CSV: one incident per event, updated on re-import."
    )
    dataset_key = "ucdp"
