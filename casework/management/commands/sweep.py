"""The embedded mode's stand-in for Celery beat: run every sweep (due review timers,
reminders, escalations, the outbox) once, or every N seconds until stopped."""

import time

from django.core.management.base import BaseCommand

from casework.tasks import run_sweeps


class Command(BaseCommand):
    help = "Run the protocol's sweeps once, or every --every seconds (no broker needed)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds")

    def handle(self, *args, every, **options):
        while True:
            results = run_sweeps()
            done = {name: n for name, n in results.items() if n}
            if done or not every:
                self.stdout.write(", ".join(f"{k}: {v}" for k, v in results.items()))
            if not every:
                return
            time.sleep(every)
