"""Write the directory as an Open Referral (HSDS 3.0) JSON document (casework.hsds)."""

import json

from django.core.management.base import BaseCommand

from casework import hsds, selectors


class Command(BaseCommand):
    help = "Export the service directory in the Open Referral HSDS JSON format."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write (default: standard output)")
        parser.add_argument("--district", help="Only this district (its code)")

    def handle(self, *args, output=None, district=None, **options):
        document = hsds.document_out(selectors.directory_export(district=district))
        text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(f"{len(document['services'])} services written to {output}")
        else:
            self.stdout.write(text, ending="")
