"""English dates as the municipalities' readers write them: day first, 24-hour clock."""

import datetime

from django.template import Context, Template
from django.utils import timezone, translation


def _render(template: str, **context) -> str:
    return Template(template).render(Context(context))


def test_english_dates_put_the_day_first_on_a_24_hour_clock():
    moment = datetime.datetime(2026, 12, 6, 15, 38, tzinfo=timezone.get_current_timezone())
    with translation.override("en"):
        assert _render('{{ d|date:"SHORT_DATE_FORMAT" }}', d=moment) == "06/12/2026"
        assert _render('{{ d|date:"SHORT_DATETIME_FORMAT" }}', d=moment) == "06/12/2026 15:38"
        assert _render("{{ d|date }}", d=moment.date()) == "6 December 2026"
    with translation.override("it"):
        assert _render('{{ d|date:"SHORT_DATE_FORMAT" }}', d=moment) == "06/12/2026"
