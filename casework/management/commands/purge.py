"""The retention purge by hand (docs/operations.md, "Retention and purge").

manage.py purge --dry-run                 # what would go, per rule: changes nothing
manage.py purge                           # purge what is due (as the owner role on PostgreSQL)
manage.py purge --rule draft --rule contact --batch-size 20
"""

from django.core.management.base import BaseCommand, CommandError

from casework import retention
from casework.services import purge as purge_services


class Command(BaseCommand):
    help = (
        "Delete what is past its retention and not on hold, with everything that carries its "
        "personal data; --dry-run says what would go and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
        parser.add_argument(
            "--rule",
            action="append",
            choices=[rule.code for rule in retention.RULES],
            help="only this rule (repeatable); all rules by default",
        )
        parser.add_argument("--batch-size", type=int, default=purge_services.BATCH)

    def handle(self, *args, dry_run, rule, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more")
        for each in retention.RULES:
            if rule is None or each.code in rule:
                self.stdout.write(f"{each.code}: kept {each.summary()} after {each.counts_from}")
        try:
            report = purge_services.purge(dry_run=dry_run, rules=rule, batch_size=batch_size)
        except purge_services.PurgeNotPermitted as exc:
            raise CommandError(str(exc)) from None
        verb = "would purge" if dry_run else "purged"
        lines = report.lines()
        if not lines:
            self.stdout.write("Nothing is due." if dry_run else "Nothing was due.")
        for line in lines:
            self.stdout.write(f"{verb} {line}")
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
