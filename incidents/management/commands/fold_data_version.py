"""manage.py fold_data_version: keep the versions' tables small (run it daily)."""

from django.core.management.base import BaseCommand

from incidents import dataversion, revisions


class Command(BaseCommand):
    help = (
        "Fold the data version's rows of database sessions that have ended into one row. The "
        "version and the cached pages stay as they are (PostgreSQL: SQLite keeps one row). Remove "
        "the revisions of deleted incidents. Run it daily, e.g. from cron."
    )

    def handle(self, *args, **options):
        folded = dataversion.fold_ended_writers()
        self.stdout.write(f"Folded the rows of {folded} ended database session{'s' if folded != 1 else ''}.")
        forgotten = revisions.forget_deleted_incidents()
        self.stdout.write(
            f"Removed the revisions of {forgotten} deleted incident{'s' if forgotten != 1 else ''}."
        )
