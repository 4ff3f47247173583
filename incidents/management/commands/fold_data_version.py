"""manage.py fold_data_version: keep the data version's table small (PostgreSQL; run it daily)."""

from django.core.management.base import BaseCommand

from incidents import dataversion


class Command(BaseCommand):
    help = (
        "Fold the data version's rows of database sessions that have ended into one row. The "
        "version and the cached pages stay as they are. PostgreSQL only (SQLite keeps one row); "
        "run it daily, e.g. from cron."
    )

    def handle(self, *args, **options):
        folded = dataversion.fold_ended_writers()
        self.stdout.write(f"Folded the rows of {folded} ended database session{'s' if folded != 1 else ''}.")
