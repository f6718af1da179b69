"""manage.py import_network_data --kind subscribers|mailings|contacts FILE.csv --actor USER"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from casework.services.imports import COLUMNS, KINDS, ImportError_, network_import


class Command(BaseCommand):
    help = (
        "Bring last years' registers of the helpline from a CSV file (UTF-8, a header row): "
        "the whole file in one transaction, or nothing. Columns at least — "
        + "; ".join(f"{kind}: {', '.join(cols)}" for kind, cols in COLUMNS.items())
    )

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=KINDS)
        parser.add_argument(
            "--actor",
            required=True,
            help="The username the import is recorded as (a helpline operator or an admin).",
        )
        parser.add_argument("file", type=Path)

    def handle(self, *args, kind, actor, file, **options):
        user = get_user_model().objects.filter(username=actor, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {actor!r}")
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: {exc}") from exc
        try:
            count = network_import(kind=kind, text=text, actor=user)
        except ImportError_ as exc:
            raise CommandError(f"{file}: {exc}; nothing was imported") from exc
        self.stdout.write(f"{file}: {count} {kind} imported")
