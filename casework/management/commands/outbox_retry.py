"""Try again the notifications the outbox gave up on (after OUTBOX_GIVE_UP_HOURS of failures),
once the cause — a mail server down, a refused sender — is fixed."""

from django.core.management.base import BaseCommand

from casework import outbox


class Command(BaseCommand):
    help = "Queue again the notifications the outbox gave up on (all, or --id N …)."

    def add_arguments(self, parser):
        parser.add_argument("--id", type=int, action="append", dest="ids", help="only this row")
        parser.add_argument(
            "--list", action="store_true", help="only show how many were given up, change nothing"
        )

    def handle(self, *args, ids=None, list=False, **options):
        if list:
            rows = outbox.notifications_given_up()
            if ids:
                rows = rows.filter(pk__in=ids)
            self.stdout.write(f"given up: {rows.count()}")
            return
        count = outbox.retry_given_up(ids=ids)
        self.stdout.write(
            f"{count} notifications to be tried again: the outbox sweep sends them within a "
            "minute, and tries again for OUTBOX_GIVE_UP_HOURS if they fail."
        )
