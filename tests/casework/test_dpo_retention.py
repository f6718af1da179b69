"""The data protection officer's view of retention: per rule, what the purge would take now
and within 30 days (counts only, held records left out), the holds in place, the purges done.
The DPO only."""

import datetime
import re

import pytest
import time_machine
from django.utils import timezone

from casework import services

pytestmark = pytest.mark.django_db


def _draft(teacher, child):
    return services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="Unique observation Zq81",
        family_informed=True,
    )


def _row(body: str, code: str) -> list[str]:
    row = re.search(rf'<tr id="rule-{code}">(.*?)</tr>', body, re.S).group(1)
    return [re.sub(r"<.*?>", "", cell).strip() for cell in re.findall(r"<td.*?</td>", row)]


def test_the_dpo_sees_what_is_due_now_and_soon_and_held_records_are_left_out(
    client, dpo, teacher, child
):
    old = _draft(teacher, child)  # 200 days old when read: past the 180 days of a draft
    later = timezone.now() + datetime.timedelta(days=200)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=40), tick=False):
        _draft(teacher, child)  # 160 days old then: due within 30 days
    with time_machine.travel(later, tick=False):
        client.force_login(dpo)  # signed in then (a session does not last 200 days)
        body = client.get("/casework/dpo/retention/").content.decode()
        cells = _row(body, "draft")
        assert cells[1].startswith("180") and cells[3:] == ["1", "1"]
        assert "Zq81" not in body and "Bruno" not in body  # counts only
        services.legal_hold_place(actor=dpo, kind="referral", object_id=old.pk, reason="Court")
        body = client.get("/casework/dpo/retention/").content.decode()
        assert _row(body, "draft")[3:] == ["0", "1"]
        assert "1 record is held" in body
        assert "No purge has run yet." in body


def test_only_the_dpo_reads_the_retention_page(client, supervisor, triage_worker, teacher):
    for user in (supervisor, triage_worker, teacher):
        client.force_login(user)
        assert client.get("/casework/dpo/retention/").status_code == 403


def test_each_municipalitys_retention_is_named_where_they_differ(client, dpo, north, south):
    from casework.models import Municipality

    Municipality.objects.create(code="a", name="Vallebruna", retention_draft_days=180)
    Municipality.objects.create(code="b", name="Vallserena", retention_draft_days=90)
    Municipality.objects.create(code="c", name="Vallalta", retention_contact_days=730)
    client.force_login(dpo)
    body = client.get("/casework/dpo/retention/").content.decode()
    # Draft: they differ, each is named; helpline contact: all agree, one figure.
    kept = _row(body, "draft")[1]
    assert kept.startswith("Vallalta: 180 days") and "Vallserena: 90 days" in kept
    assert _row(body, "contact")[1] == "730 days"
    register = client.get("/casework/dpo/").content.decode()
    assert "Vallserena 90" in register
