"""manage.py restore: a backup into an empty database and an empty MEDIA_ROOT, then checked."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a folder written by manage.py backup into the (empty) database of "
        "DATABASE_URL and the (empty) MEDIA_ROOT, then check rows, migrations, audit triggers "
        "and attachment files against its manifest. See docs/operations.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)
        parser.add_argument(
            "--no-owner",
            action="store_true",
            help="PostgreSQL: make the connecting role own everything and skip the grants "
            "(a test copy on a server without the production roles)",
        )

    def handle(self, *args, folder, no_owner, **options):
        try:
            result = restore(folder, keep_owners=not no_owner)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        restored = result["restored"]
        if result["problems"]:
            raise CommandError(
                "Restored, but the check found problems:\n- " + "\n- ".join(result["problems"])
            )
        self.stdout.write(
            f"Restored {folder} and checked: {len(restored['migrations'])} migrations, "
            f"{sum(restored['tables'].values())} rows in {len(restored['tables'])} tables as in "
            f"the backup, {len(restored['append_only_triggers'])} append-only triggers, every "
            "attachment's file present."
        )
