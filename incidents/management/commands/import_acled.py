from incidents.management.import_command import ImportCommand


class Command(ImportCommand):
    help = "Import an ACLED CSV export: one incident per event, updated on re-import."
    dataset_key = "acled"
