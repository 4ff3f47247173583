"""Count the month totals of published incidents again from scratch."""

from django.core.management.base import BaseCommand

from incidents import tolls


class Command(BaseCommand):
    help = (
        "Count the month totals (the home page's totals and chart) again from every incident. "
        "They are kept up to date by every change; this repairs them after a change made around "
        "the application (SQL by hand, a restored backup of one table)."
    )

    def handle(self, *args, **options):
        months = tolls.rebuild_totals()
        self.stdout.write(
            self.style.SUCCESS(f"Month totals counted again: {months:,} months with incidents.")
        )
