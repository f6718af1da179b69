"""Bring a directory in from an Open Referral (HSDS) JSON file: all of it or nothing."""

import json

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from casework import services
from casework.models import District


class Command(BaseCommand):
    help = (
        "Import services and initiatives from an Open Referral HSDS JSON file. Entries are "
        "matched on district and name; nothing is written when one entry is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--district",
            help="District (code) of the entries that carry no casework:district attribute",
        )
        parser.add_argument("--actor", help="Username recorded in the history (optional)")

    def handle(self, *args, file, district=None, actor=None, **options):
        try:
            with open(file, encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, ValueError) as error:
            raise CommandError(f"{file}: {error}") from error
        default = None
        if district:
            default = District.objects.filter(code=district).first()
            if default is None:
                raise CommandError(f"Unknown district {district}.")
        user = None
        if actor:
            user = get_user_model().objects.filter(username=actor).first()
            if user is None:
                raise CommandError(f"Unknown user {actor}.")
        try:
            counts = services.directory_import_hsds(
                actor=user, document=document, default_district=default
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            "{created} created, {updated} updated, {unchanged} unchanged".format(**counts)
        )
