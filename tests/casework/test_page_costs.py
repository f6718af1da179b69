"""What a page costs (issue 17, docs/performance.md): the queries of the queue page, the case
page and the API lists, on SQLite and PostgreSQL alike; and that what was made cheaper gives
the same answers as before (the steps a page offers, the chronology's changes, the menu
rendered once per key)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from casework import selectors, services
from casework.models import Case, Membership, Notification, PatternAlert
from protocols import steps
from tests.conftest import protocol

pytestmark = pytest.mark.django_db

FORM = {
    "concern_categories": ["neglect"],
    "observations": "Hungry",
    "family_informed": True,
    "urgency": "priority",
}


def _submitted(teacher, child):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    return protocol("referral.submit")(actor=teacher, referral=draft)


def _open_case(teacher, child, worker) -> Case:
    referral = _submitted(teacher, child)
    return protocol("referral.decide")(actor=worker, referral=referral, decision="open_case")


def _queries(client, url, **extra) -> tuple[int, object]:
    client.get(url, **extra)  # the first request of a session also touches the session row
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200, response.status_code
    return len(captured), response


# --- query budgets ---------------------------------------------------------------------------


def test_queue_page_within_seven_queries(client, teacher, child, triage_worker):
    for _ in range(3):
        _submitted(teacher, child)
    client.force_login(triage_worker)
    count, response = _queries(client, "/casework/queue/")
    assert response.content.count(b'href="/casework/referrals/') == 3
    # Session, user, the user's grants (with the districts that have an open pattern alert),
    # the rows with the count of the list (one query), the read log, the unread count, the
    # schools of the filter; the alerts themselves only when a district has one (+1).
    alerts = PatternAlert.objects.filter(status=PatternAlert.Status.OPEN).exists()
    assert (b'id="pattern-alerts"' in response.content) == alerts
    assert count <= (8 if alerts else 7), count


def test_case_page_budget_for_the_lead_and_for_a_team_member(
    client, teacher, child, triage_worker, psychologist, health_north
):
    case = _open_case(teacher, child, triage_worker)
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Regular meals")
    services.case_add_member(
        actor=triage_worker, case=case, user=psychologist, agency=health_north,
        role="psychologist", reason="Assessment", legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )  # fmt: skip
    client.force_login(triage_worker)
    lead, response = _queries(client, f"/casework/cases/{case.pk}/")
    assert b"Regular meals" in response.content
    client.force_login(psychologist)
    member, response = _queries(client, f"/casework/cases/{case.pk}/")
    assert b'action="/casework/cases/%d/plan/"' % case.pk not in response.content
    # Session, user, grants, the case, its lists and chronology (one read_together query:
    # team, actions, referrals, reviews, attachments, transfers, hand-overs, every history
    # table), the steps open, the family's records and the forms' choices (a second), the read
    # log, the unread count. The same for the lead (more forms) and a team member
    # (docs/performance.md).
    assert lead <= 9, lead
    assert member <= 9, member


@pytest.mark.parametrize("url", ["/api/v1/referrals/", "/api/v1/queue/"])
def test_api_lists_within_budget_with_a_session_and_with_a_token(
    teacher, child, triage_worker, url
):
    for _ in range(3):
        _submitted(teacher, child)
    session = APIClient()
    session.force_login(triage_worker)
    by_session, response = _queries(session, url)
    assert len(response.json()["results"]) == 3
    _token, key = AuthToken.objects.create(triage_worker)
    by_token, response = _queries(APIClient(), url, HTTP_AUTHORIZATION=f"Token {key}")
    assert len(response.json()["results"]) == 3
    # Session (or token) and user, the grants, (the count), the rows, the read log.
    assert by_session <= 6, by_session
    assert by_token <= 7, by_token


# --- the same answers ------------------------------------------------------------------------


def _case_steps():
    return [name for name, step in steps.STEPS.items() if step.flow_class.__name__ == "CaseFlow"]


def _referral_steps():
    return [n for n, step in steps.STEPS.items() if step.flow_class.__name__ == "ReferralFlow"]


def test_open_steps_answers_as_is_open_does(teacher, child, triage_worker):
    referral = _submitted(teacher, child)
    names = _referral_steps()
    assert steps.open_steps(referral, names) == {n: steps.is_open(n, referral) for n in names}
    case = _open_case(teacher, child, triage_worker)
    names = _case_steps()
    before_plan = steps.open_steps(case, names)
    assert before_plan == {n: steps.is_open(n, case) for n in names}
    assert before_plan["case.plan"] is True
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Regular meals")
    after_plan = steps.open_steps(case, names)
    assert after_plan == {n: steps.is_open(n, case) for n in names}
    assert after_plan["case.plan"] is False and after_plan["case.extraordinary_review"] is True


def test_chronology_changes_are_those_of_diff_against(teacher, child, triage_worker):
    case = _open_case(teacher, child, triage_worker)
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Regular meals")
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Meals and homework")
    compared = 0
    for model in (Case, type(case.plan)):
        previous = {}
        for record in model.history.order_by("history_id"):
            before = previous.get(record.id)
            if before is not None:
                expected = [(c.field, c.old, c.new) for c in record.diff_against(before).changes]
                assert selectors._field_changes(record, before) == expected
                compared += 1
            previous[record.id] = record
    assert compared >= 2


def test_menu_rendered_once_follows_the_unread_count_and_the_roles(client, triage_worker):
    client.force_login(triage_worker)
    page = client.get("/casework/").content.decode()
    assert 'href="/casework/queue/"' in page
    assert "Notifications (1)" not in page
    Notification.objects.create(recipient=triage_worker, kind=Notification.Kind.choices[0][0])
    page = client.get("/casework/").content.decode()
    assert "Notifications (1)" in page
    for membership in Membership.objects.filter(user=triage_worker):
        services.membership_deactivate(actor=None, membership=membership)
    page = client.get("/casework/").content.decode()
    assert 'href="/casework/queue/"' not in page


def test_menu_rendered_once_per_language(client, triage_worker):
    client.force_login(triage_worker)
    english = client.get("/casework/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post("/i18n/setlang/", {"language": "it", "next": "/casework/"})
    italian = client.get("/casework/").content.decode()
    assert "Triage queue" in english
    assert "Triage queue" not in italian


@pytest.mark.parametrize("language", ["en", "it"])
def test_referral_list_lines_are_those_of_the_serializer(teacher, child, triage_worker, language):
    from django.utils.translation import override

    from casework.api.serializers import ReferralListItem
    from casework.models import Referral

    _submitted(teacher, child)
    services.referral_create_draft(actor=teacher, child=child, **FORM)  # never submitted
    _open_case(teacher, child, triage_worker)
    referrals = list(Referral.objects.select_related("child", "school").order_by("pk"))
    assert any(r.submitted_at is None for r in referrals)
    with override(language):
        assert ReferralListItem.rows(referrals) == ReferralListItem(referrals, many=True).data


@pytest.mark.parametrize("number", [None, "", "1", "2", "3", "4", "99", "0", "-1", "abc", "2.5"])
def test_counted_page_answers_as_the_paginator_does(number):
    from django.core.paginator import Paginator

    from casework.models import District

    District.objects.bulk_create([District(code=f"p{i}", name=f"P{i}") for i in range(5)])
    districts = District.objects.filter(code__startswith="p").order_by("code")
    expected = Paginator(districts, 2).get_page(number)
    with CaptureQueriesContext(connection) as captured:
        page = selectors.counted_page(districts, number, 2)
        shown = [d.code for d in page]
        total, pages = page.paginator.count, page.paginator.num_pages
    assert shown == [d.code for d in expected]
    assert (page.number, total, pages) == (expected.number, 5, 3)
    assert (page.has_previous(), page.has_next()) == (expected.has_previous(), expected.has_next())
    if number in (None, "", "1", "2", "3", "abc"):
        assert len(captured) == 1  # the rows and the count together


def _timeline_table_by_table(case, referral_ids):
    """The chronology as the case page read it before it was one query: each history table
    on its own (selectors.case_history, selectors.referrals_history)."""
    from casework import trails

    rows = [row for row in selectors.case_history(case) if row["reason"]]
    rows += selectors.referrals_history(referral_ids)
    rows.sort(key=lambda row: row["at"])
    return trails.describe(rows, values=False)


def test_chronology_in_one_query_gives_the_entries_read_table_by_table(
    teacher, child, triage_worker, psychologist, health_north
):
    case = _open_case(teacher, child, triage_worker)
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Regular meals")
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Meals and homework")
    for _n in range(2):  # more referrals about the child: linked to the open case
        assert _open_case(teacher, child, triage_worker) == case
    services.case_add_member(
        actor=triage_worker, case=case, user=psychologist, agency=health_north,
        role="psychologist", reason="Assessment", legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )  # fmt: skip
    services.case_add_action(
        actor=triage_worker, case=case, objective="Meals", owning_agency=health_north
    )
    ids = list(case.referrals.values_list("pk", flat=True))
    expected = _timeline_table_by_table(case, ids)
    with CaptureQueriesContext(connection) as captured:
        timeline = selectors.case_timeline(case, ids)
    assert len(captured) == 1
    assert len(timeline) == len(expected) >= 10
    assert {row["object"] for row in timeline} >= {"case", "referral", "caseteammember", "action"}
    assert timeline == expected
    assert [row["_actor"].username for row in timeline if row["_actor"]] == [
        row["_actor"].username for row in expected if row["_actor"]
    ]


def test_read_together_gives_what_each_queryset_gives(
    teacher, child, triage_worker, psychologist, health_north
):
    case = _open_case(teacher, child, triage_worker)
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Regular meals")
    assert _open_case(teacher, child, triage_worker) == case
    services.case_add_member(
        actor=triage_worker, case=case, user=psychologist, agency=health_north,
        role="psychologist", reason="Assessment", legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )  # fmt: skip
    for objective in ("Meals", "Homework"):
        services.case_add_action(
            actor=triage_worker, case=case, objective=objective, owning_agency=health_north
        )
    reads = {
        **selectors.case_page_reads(case),
        **selectors.family_record_reads(case),
        "candidates": selectors.team_candidates(case),  # distinct()
        "owners": selectors.action_owner_candidates(case),  # Exists() filters
        "nobody": selectors.team_candidates(case).none(),
    }
    with CaptureQueriesContext(connection) as captured:
        read = selectors.read_together(reads)
    assert len(captured) == 1
    assert read["nobody"] == [] and len(read["candidates"]) >= 2 and len(read["actions"]) == 2
    for name, queryset in reads.items():
        expected = list(queryset)
        assert read[name] == expected, name
        for got, want in zip(read[name], expected, strict=True):
            fields = [f.attname for f in type(want)._meta.concrete_fields]
            assert [getattr(got, f) for f in fields] == [getattr(want, f) for f in fields], name
            for related in queryset.query.select_related or {}:
                assert type(want)._meta.get_field(related).is_cached(got), (name, related)
                assert getattr(got, related) == getattr(want, related), (name, related)
