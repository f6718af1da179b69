"""Print the demo users' current second-factor code (DEBUG only: the key is published)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_otp.oath import totp

from fixtures import demo


class Command(BaseCommand):
    help = "Print the current second-factor code of the demo users (DEBUG only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(_("The demo code is for development machines only (DEBUG=1)."))
        self.stdout.write(f"{totp(bytes.fromhex(demo.DEMO_TOTP_KEY)):06d}")
