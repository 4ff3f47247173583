"""What `import_ucdp` and `import_acled` share: options, progress bar, summary, exit status."""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from incidents.importing import DATASETS
from incidents.importing.base import MissingColumns, count_rows, read_rows
from incidents.importing.importer import AtomicImportFailed, Importer, run_import


class ImportCommand(BaseCommand):
    dataset_key = None  # "ucdp" or "acled"

    def add_arguments(self, parser):
        parser.add_argument("file", help="the dataset's CSV file (with or without an HXL hashtag row)")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
        parser.add_argument("--publish", action="store_true", help="publish new incidents (default: drafts)")
        parser.add_argument(
            "--atomic", action="store_true", help="all or nothing: the first bad row undoes the whole import"
        )
        parser.add_argument(
            "--allow-skips",
            action="store_true",
            help="exit with status 0 when rows were skipped (default: status 1, the other rows imported)",
        )
        parser.add_argument(
            "--release-date",
            type=datetime.date.fromisoformat,
            default=None,
            help="the release's date (YYYY-MM-DD), used as the reports' publication date; default today",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(
        self, *args, file, dry_run, publish, atomic, allow_skips, release_date, no_progress, **options
    ):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        dataset, name, short_name, website, mapper, required_columns = DATASETS[self.dataset_key]
        release_date = release_date or datetime.date.today()
        importer = Importer(dataset=dataset, source=(name, short_name, website), publish=publish)
        try:
            # A file refused at its header is refused before a progress bar is drawn.
            next(read_rows(path, required_columns), None)
            # The bar redraws itself in place: written to the stream itself, not through the
            # command's stderr wrapper, which would end each redraw with a new line (and colour it).
            progress = tqdm(
                total=count_rows(path),
                unit=" rows",
                file=getattr(self.stderr, "_out", self.stderr),
                disable=no_progress,
                dynamic_ncols=True,
            )
            with progress:
                summary = run_import(
                    path,
                    mapper=lambda row: mapper(row, release_date),
                    importer=importer,
                    required_columns=required_columns,
                    dry_run=dry_run,
                    atomic=atomic,
                    progress=progress,
                )
        except MissingColumns as problem:
            raise CommandError(f"Nothing was imported: {problem}.") from None
        except AtomicImportFailed as failure:
            raise CommandError(f"Nothing was imported (--atomic): {failure}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text: save it as UTF-8 CSV and try again.") from None
        prefix = "Dry run, nothing written: " if dry_run else ""
        lines = list(summary.lines())
        self.stdout.write(self.style.SUCCESS(prefix + lines[0]))
        for line in lines[1:]:
            self.stdout.write(line)
        if summary.skipped and not allow_skips:
            others = "would be imported" if dry_run else "were imported"
            raise CommandError(
                f"{len(summary.skipped)} row(s) skipped (listed above; the other rows {others}). "
                "Fix them and import again, or pass --allow-skips to accept them.",
                returncode=1,
            )
