from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import translation
from viewflow.workflow import chart

from protocols.flows import CaseFlow, ReferralFlow


class Command(BaseCommand):
    help = "Write the SVG charts of the protocol's flows (used for docs/)."

    def add_arguments(self, parser):
        parser.add_argument("--out", default="docs/img")
        parser.add_argument("--language", default="en")

    def handle(self, *args, out, language, **options):
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        with translation.override(language):
            for name, flow_class in [("referral-flow", ReferralFlow), ("case-flow", CaseFlow)]:
                svg = chart.grid_to_svg(chart.calc_layout_data(flow_class))
                path = folder / f"{name}.svg"
                path.write_text(svg, encoding="utf-8")
                self.stdout.write(str(path))
