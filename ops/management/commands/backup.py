"""manage.py backup: the database and the uploaded files, together, into one folder."""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the database and MEDIA_ROOT together into a new folder (database dump, "
        "media archive, manifest with row counts and checksums). See docs/operations.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help="the folder to create (default: backups/casework-<UTC time>)",
        )

    def handle(self, *args, output, **options):
        if output is None:
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
            output = Path("backups") / f"casework-{stamp}"
        try:
            manifest = backup(output)
        except (BackupError, FileExistsError) as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Backup written to {output}: {manifest['vendor']} database "
            f"({len(manifest['tables'])} tables, {rows} rows, "
            f"{len(manifest['append_only_triggers'])} append-only triggers), "
            f"{manifest['media_files']} uploaded files."
        )
