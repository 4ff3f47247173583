from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from incidents.importing.base import MissingColumns
from incidents.importing.cod import import_places


class Command(BaseCommand):
    help = (
        "Import an OCHA P-code table (HDX tabular admin1Name_en/admin1Pcode … or COD-AB "
        "ADM1_EN/ADM1_PCODE …; CSV or XLSX): places created or updated by P-code and name, never duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the P-code table (CSV or XLSX)")
        parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")

    def handle(self, *args, file, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            with transaction.atomic():
                summary = import_places(path)
                if dry_run:
                    transaction.set_rollback(True)
        except MissingColumns as problem:
            raise CommandError(f"Nothing was imported: {path.name} has {problem}.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text: save it as UTF-8 CSV and try again.") from None
        lines = list(summary.lines())
        self.stdout.write(self.style.SUCCESS(("Dry run, nothing written: " if dry_run else "") + lines[0]))
        for line in lines[1:]:
            self.stdout.write(line)
        if summary.skipped:
            raise CommandError(f"{len(summary.skipped)} row(s) skipped (listed above).", returncode=1)
