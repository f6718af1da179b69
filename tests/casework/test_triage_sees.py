"""Triage sees what it decides on: the queue names the child (initials, or the name where the
role allows), age, school, concerns, urgency, deadline and time left, sorted and filtered
from the address; the decision page shows the whole referral beside the form, its services
filter keeps what was typed, and a new case needs a lead."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from casework import selectors, services
from casework.models import Membership, Referral
from tests.conftest import _member, protocol
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

FORM = {
    "concern_categories": ["neglect", "absenteeism"],
    "indicators": ["neglect.hungry"],
    "observations": "He asks classmates for food every morning.",
    "school_actions": "Talked with the mother on 3 March.",
    "family_informed": True,
    "interpreter_needed": True,
    "interpreter_language": "Arabic",
}


@pytest.fixture
def coordinator(social_north):
    return _member("coordinatrice", social_north, Membership.Role.TRIAGE_COORDINATOR)


def submit(teacher, child, **extra):
    draft = services.referral_create_draft(actor=teacher, child=child, **{**FORM, **extra})
    return protocol("referral.submit")(actor=teacher, referral=draft)


def make_children(teacher, north, school, n, start=0):
    referrals = []
    for i in range(start, start + n):
        child = services.child_create(
            actor=teacher,
            first_name=f"Nome{i}",
            last_name="Cognome",
            date_of_birth=f"{2010 + i % 8}-05-0{1 + i % 9}",
            district=north,
            school=school,
        )
        referrals.append(submit(teacher, child, urgency=["routine", "urgent"][i % 2]))
    return referrals


# --- the queue -------------------------------------------------------------------------------


def row_of(page: str, pk: int) -> str:
    match = re.search(rf'<tr>\s*<td[^>]*><a href="/casework/referrals/{pk}/">.*?</tr>', page, re.S)
    assert match, f"no row for referral {pk}"
    return match.group(0)


def test_a_social_worker_reads_initials_age_school_concerns_and_time_left(
    client, teacher, child, triage_worker
):
    referral = submit(teacher, child, urgency="urgent")
    client.force_login(triage_worker)
    row = row_of(client.get("/casework/queue/").content.decode(), referral.pk)
    assert "L. B." in row and "Luca" not in row and "Bruno" not in row
    assert f">{child.age}<" in row
    assert "Primary Rodari" in row
    assert "Neglect, Absenteeism" in row
    assert "cw-badge--urgent" in row and "Urgent" in row
    assert re.search(r"\d+ (hours?|days?) left", row)


def test_the_claimer_and_the_coordinator_read_the_full_name(
    client, teacher, child, triage_worker, coordinator
):
    referral = submit(teacher, child)
    client.force_login(coordinator)
    assert "Luca Bruno" in row_of(client.get("/casework/queue/").content.decode(), referral.pk)
    protocol("referral.claim")(actor=triage_worker, referral=referral)
    client.force_login(triage_worker)
    assert "Luca Bruno" in row_of(client.get("/casework/queue/").content.decode(), referral.pk)


def test_an_overdue_referral_says_by_how_much(client, teacher, child, triage_worker):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=30)):
        referral = submit(teacher, child)
    late = timezone.now() - referral.triage_due_at
    client.force_login(triage_worker)
    row = row_of(client.get("/casework/queue/").content.decode(), referral.pk)
    assert f"overdue by {late.days} days" in row and "cw-badge--overdue" in row


def test_the_column_headers_sort_and_reverse_and_keep_the_filters(
    client, teacher, north, school, triage_worker
):
    make_children(teacher, north, school, 4)
    client.force_login(triage_worker)
    page = client.get("/casework/queue/?urgency=routine&sort=age").content.decode()
    # The header of the column sorted by asks for the reverse order, filters kept.
    assert 'aria-sort="ascending"' in page
    assert 'href="?urgency=routine&amp;sort=-age"' in page
    ids = [int(pk) for pk in re.findall(r'href="/casework/referrals/(\d+)/"', page)]
    ages = [Referral.objects.get(pk=pk).child.age for pk in ids]
    assert ages == sorted(ages) and len(ids) == 2
    reverse = client.get("/casework/queue/?urgency=routine&sort=-age").content.decode()
    assert 'aria-sort="descending"' in reverse
    assert [int(pk) for pk in re.findall(r'href="/casework/referrals/(\d+)/"', reverse)] == ids[
        ::-1
    ]


def test_the_api_sorts_the_same_way_and_names_the_child_by_the_same_rule(
    teacher, north, school, triage_worker, coordinator
):
    make_children(teacher, north, school, 4)
    api = APIClient()
    api.force_authenticate(triage_worker)
    body = api.get("/api/v1/queue/?sort=-age").json()
    ages = [item["child_age"] for item in body["results"]]
    assert ages == sorted(ages, reverse=True)
    assert {item["child"] for item in body["results"]} == {"N. C."}
    assert body["results"][0]["concern_labels"] == ["Neglect", "Absenteeism"]
    api.force_authenticate(coordinator)
    assert api.get("/api/v1/queue/").json()["results"][0]["child"].startswith("Nome")
    assert api.get("/api/v1/queue/?sort=-name").status_code == 400


def test_the_queue_rows_are_read_with_the_same_queries_however_long_the_queue(
    teacher, north, school, triage_worker
):
    def rows_queries() -> int:
        now = timezone.now()
        with CaptureQueriesContext(connection) as queries:
            rows = selectors.queue_rows(
                selectors.triage_queue(triage_worker)[:50], user=triage_worker, now=now
            )
        return len(queries), len(rows)

    make_children(teacher, north, school, 3)
    small, three = rows_queries()
    make_children(teacher, north, school, 27, start=3)
    large, thirty = rows_queries()
    assert (three, thirty) == (3, 30)
    assert small == large


def test_the_queue_selector_query_count(
    teacher, north, school, triage_worker, django_assert_num_queries
):
    make_children(teacher, north, school, 12)
    queue = selectors.triage_queue(triage_worker)  # reads the user's districts (1 query)
    # The page of referrals with child, school and claimer (1); the naming rule's triage
    # districts (1, guardian's scope lookup) and the user's naming memberships (1).
    with django_assert_num_queries(3):
        rows = selectors.queue_rows(queue[:50], user=triage_worker, now=timezone.now())
    assert len(rows) == 12


# --- the decision page -----------------------------------------------------------------------


@pytest.fixture
def claimed(teacher, child, triage_worker):
    referral = submit(teacher, child, urgency="priority")
    protocol("referral.claim")(actor=triage_worker, referral=referral)
    return referral


def test_the_decision_page_shows_the_whole_referral_beside_the_form(
    client, teacher, child, claimed, triage_worker
):
    child.tax_code = "BRNLCU16C02F205X"
    child.home_languages = "Arabic, Italian"
    services.audited_save(child, actor=teacher, reason="test.audited.change")
    earlier = submit(teacher, child)
    client.force_login(triage_worker)
    page = client.get(f"/casework/referrals/{claimed.pk}/decide/").content.decode()
    dossier = page[page.index('id="referral-dossier"') : page.index('id="decision-form"')]
    for text in (
        "He asks classmates for food every morning.",
        "Often hungry, asks for food",
        "Talked with the mother on 3 March.",
        "Anna Bruno (mother), +39 000",
        "Arabic, Italian",
        "BRNLCU16C02F205X",
        "Needed: Arabic",
        f'href="/casework/referrals/{earlier.pk}/"',
    ):
        assert text in dossier, text
    assert "Record the decision" in page
    assert 'id="services-panel"' in page


def test_filtering_the_services_keeps_what_was_typed(client, claimed, triage_worker, north):
    ServiceFactory(name="Centro diurno Arcobaleno", kind="educational", district=north)
    ServiceFactory(name="Consultorio familiare", kind="health", district=north)
    client.force_login(triage_worker)
    url = f"/casework/referrals/{claimed.pk}/decide/"
    typed = {
        "decision": "redirect",
        "reason": "Family asks for after-school support",
        "feedback": "We will call the school next week",
        "directory_kind": "educational",
        "_directory": "1",
    }
    response = client.post(url, typed)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Family asks for after-school support" in page
    assert "We will call the school next week" in page
    assert re.search(r'value="redirect"[^>]*checked', page)
    panel = page[page.index('id="services-panel"') :]
    assert "Centro diurno Arcobaleno" in panel and "Consultorio familiare" not in panel
    assert 'class="cw-error"' not in page  # the form was not checked, only brought back
    claimed.refresh_from_db()
    assert claimed.status == "in_triage" and claimed.decision == ""
    # The typed text never travels in an address: the filter posts the form.
    assert 'form="decision-form" name="_directory"' in page


def test_opening_a_case_needs_a_lead(client, claimed, triage_worker):
    client.force_login(triage_worker)
    url = f"/casework/referrals/{claimed.pk}/decide/"
    response = client.post(url, {"decision": "open_case", "risk_level": "medium"})
    assert response.status_code == 422
    assert 'id="id_lead_worker_error"' in response.content.decode()
    claimed.refresh_from_db()
    assert claimed.status == "in_triage" and claimed.case is None
    assert not claimed.history.filter(
        history_change_reason="casework.referral.case_opened"
    ).exists()
    response = client.post(
        url, {"decision": "open_case", "risk_level": "medium", "lead_worker": triage_worker.pk}
    )
    assert response.status_code == 302
    claimed.refresh_from_db()
    assert claimed.case.lead_worker == triage_worker


def test_a_referral_for_a_child_with_an_open_case_links_without_a_lead(
    client, teacher, child, claimed, triage_worker
):
    protocol("referral.decide")(
        actor=triage_worker, referral=claimed, decision="open_case", lead_worker=triage_worker
    )
    second = submit(teacher, child)
    protocol("referral.claim")(actor=triage_worker, referral=second)
    client.force_login(triage_worker)
    response = client.post(
        f"/casework/referrals/{second.pk}/decide/", {"decision": "open_case", "risk_level": "low"}
    )
    assert response.status_code == 302
    second.refresh_from_db()
    claimed.refresh_from_db()
    assert (second.status, second.case_id) == ("linked", claimed.case_id)


def test_the_decision_page_is_refused_outside_the_triage_team(client, claimed, teacher, outsider):
    client.force_login(teacher)
    assert client.get(f"/casework/referrals/{claimed.pk}/decide/").status_code == 403
    client.force_login(outsider)
    assert client.get(f"/casework/referrals/{claimed.pk}/decide/").status_code == 404
