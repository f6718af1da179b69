"""The queue's rows written by a tag (casework/templatetags/casework.py: queue_rows) are the
HTML the template loop wrote before (kept here as it was), escapes and all, in two languages."""

import datetime

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from casework.selectors import QueueRow

# The loop of casework/queue.html before the rows were written in Python.
LOOP = (
    "{% load i18n %}"
    "  {# The cells' labels, translated once for all the rows. #}{% transla"
    'te "Child" as l_child %}{% translate "Age" as l_age %}{% translate "Sc'
    'hool" as l_school %}{% translate "Concerns" as l_concerns %}{% transla'
    'te "Urgency" as l_urgency %}{% translate "Triage due" as l_due %}{% tr'
    'anslate "Status" as l_status %}{% translate "Claimed by" as l_claimed '
    '%}{% translate "Referral" as l_referral %}{% for r in rows %}\n  <tr>\n '
    '   <td data-label="{{ l_child }}"><a href="{{ r.url }}">{{ r.child }}<'
    '/a><br><span class="cw-muted">{{ l_referral }} {{ r.pk }}</span></td>\n'
    '    <td data-label="{{ l_age }}">{{ r.age }}</td>\n    <td data-label="'
    '{{ l_school }}">{{ r.school }}</td>\n    <td data-label="{{ l_concerns '
    '}}">{{ r.concerns|join:", "|default:"—" }}</td>\n    <td data-label="{{'
    ' l_urgency }}"><span class="cw-badge cw-badge--{{ r.urgency }}">{{ r.u'
    'rgency_label }}</span></td>\n    <td data-label="{{ l_due }}">{{ r.due|'
    'date:"SHORT_DATETIME_FORMAT"|default:"—" }}{% if r.time_left %}<br>{% '
    'if r.overdue %}<span class="cw-badge cw-badge--overdue">{{ r.time_left'
    ' }}</span>{% else %}<span class="cw-muted">{{ r.time_left }}</span>{% '
    'endif %}{% endif %}</td>\n    <td data-label="{{ l_status }}">{{ r.stat'
    'us }}</td>\n    <td data-label="{{ l_claimed }}">{{ r.claimed_by|defaul'
    't:"—" }}</td>\n  </tr>\n  {% empty %}<tr><td colspan="{{ headers|length '
    '}}">{% translate "The queue is empty." %}</td></tr>{% endfor %}'
)


def _row(pk, **overrides):
    values = {
        "pk": pk,
        "url": f"/casework/referrals/{pk}/decide/",
        "child": "Luca Bruno",
        "named": True,
        "age": 11,
        "school": "Primary Rodari",
        "concerns": ["Neglect", "Bullying"],
        "urgency": "priority",
        "urgency_label": "Priority",
        "due": datetime.datetime(2026, 12, 11, 14, 5, tzinfo=datetime.UTC),
        "time_left": "4 days left",
        "overdue": False,
        "status": "Submitted",
        "claimed_by": "",
    }
    values.update(overrides)
    return QueueRow(**values)


ROWS = [
    _row(1),
    _row(
        123456,
        child='<script>alert("x")</script> & O\'Neil',
        school='Scuola <b>"Rodari"</b>',
        concerns=["<i>", "A & B"],
        urgency='urgent" onmouseover="x',
        urgency_label="Urgente & <subito>",
        time_left="overdue by 2 days",
        overdue=True,
        status="In triage",
        claimed_by="Anna <Rossi>",
        url="/casework/referrals/2/?a=1&b=<2>",
    ),
    _row(3, named=False, child="L. B.", concerns=[], due=None, time_left="", age=None),
    _row(4, due=datetime.datetime(2026, 7, 1, 23, 30, tzinfo=datetime.UTC), time_left=""),
]


@pytest.mark.parametrize("language", ["en", "it"])
@pytest.mark.parametrize("zone", ["Europe/Rome", "America/New_York"])
def test_the_tag_writes_the_rows_the_template_loop_wrote(language, zone):
    headers = [{}] * 8
    with translation.override(language), timezone.override(zone):
        expected = Template(LOOP).render(Context({"rows": ROWS, "headers": headers}))
        written = Template("  {% load casework %}{% queue_rows rows %}").render(
            Context({"rows": ROWS})
        )
    assert "&lt;script&gt;" in written and "<script>" not in written
    assert written == expected
