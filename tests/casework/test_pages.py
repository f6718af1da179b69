"""The web pages: query counts that do not grow with the list, refusals, and the forms."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework import services
from casework.models import Case, Referral
from tests.conftest import protocol

pytestmark = pytest.mark.django_db

FORM = {
    "concern_categories": ["neglect"],
    "observations": "Hungry",
    "family_informed": True,
    "urgency": "priority",
}


def _referrals(teacher, district, school, n, start=0):
    for i in range(start, start + n):
        child = services.child_create(
            actor=teacher,
            first_name=f"C{i}",
            last_name="X",
            date_of_birth="2015-01-01",
            district=district,
            school=school,
        )
        referral = services.referral_create_draft(actor=teacher, child=child, **FORM)
        protocol("referral.submit")(actor=teacher, referral=referral)


def _cases(worker, district, n, start=0):
    for i in range(start, start + n):
        child = services.child_create(
            actor=worker,
            first_name=f"K{i}",
            last_name="Y",
            date_of_birth="2014-01-01",
            district=district,
        )
        services.audited_save(
            Case(reference=f"N-{i}", child=child, district=district, lead_worker=worker),
            actor=worker,
            reason="test.case",
        )


def _count(client, url):
    client.get(url)  # the first request of a session also touches the session row
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_queue_page_queries_do_not_grow_with_the_queue(
    client, teacher, triage_worker, north, school
):
    client.force_login(triage_worker)
    _referrals(teacher, north, school, 5)
    small, _ = _count(client, "/casework/queue/")
    _referrals(teacher, north, school, 45, start=5)
    large, response = _count(client, "/casework/queue/")
    assert response.content.count(b'href="/casework/referrals/') == 50
    assert small == large


def test_case_list_queries_do_not_grow_with_the_list(client, supervisor, triage_worker, north):
    client.force_login(supervisor)
    _cases(triage_worker, north, 5)
    small, _ = _count(client, "/casework/cases/")
    _cases(triage_worker, north, 45, start=5)
    large, response = _count(client, "/casework/cases/")
    assert len(re.findall(rb'href="/casework/cases/\d+/"', response.content)) == 50
    assert small == large


def test_queue_filters_and_sorts(client, teacher, triage_worker, north, school):
    _referrals(teacher, north, school, 3)
    urgent = Referral.objects.order_by("pk").last()
    urgent.urgency = "urgent"
    urgent.save()
    client.force_login(triage_worker)
    body = client.get("/casework/queue/?urgency=urgent").content.decode()
    assert re.findall(r'href="/casework/referrals/(\d+)/"', body) == [str(urgent.pk)]
    body = client.get("/casework/queue/").content.decode()
    assert re.findall(r'href="/casework/referrals/(\d+)/"', body)[0] == str(urgent.pk)


@pytest.mark.parametrize("url", ["/casework/queue/", "/casework/referrals/{pk}/decide/"])
def test_teacher_cannot_triage_pages(client, teacher, north, school, url):
    _referrals(teacher, north, school, 1)
    client.force_login(teacher)
    response = client.get(url.format(pk=Referral.objects.get().pk))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/casework/referrals/{pk}/",
        "/casework/referrals/{pk}/decide/",
        "/casework/referrals/{pk}/history/",
        "/casework/referrals/{pk}/edit/",
    ],
)
def test_outsider_gets_404_on_referral_pages(client, teacher, outsider, north, school, url):
    _referrals(teacher, north, school, 1)
    client.force_login(outsider)
    response = client.get(url.format(pk=Referral.objects.get().pk))
    assert response.status_code == 404


@pytest.mark.parametrize("verb", ["claim", "release", "validate"])
def test_outsider_cannot_change_a_referral_by_post(client, teacher, outsider, north, school, verb):
    _referrals(teacher, north, school, 1)
    referral = Referral.objects.get()
    client.force_login(outsider)
    assert client.post(f"/casework/referrals/{referral.pk}/{verb}/").status_code == 404
    assert Referral.objects.get().status == referral.status


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/casework/queue/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_incomplete_submit_saves_nothing_and_marks_every_field(client, teacher, north, school):
    client.force_login(teacher)
    response = client.post(
        "/casework/referrals/new/",
        {
            "child-first_name": "Ada",
            "child-last_name": "Neri",
            "child-date_of_birth": "2015-01-01",
            "urgency": "routine",
            "submit": "1",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Choose at least one area of concern." in body
    assert "Describe what you observed." in body
    assert "Say whether the family was informed." in body
    # Nothing half-written: the child's data is still in the form, no orphan draft is left.
    assert 'value="Ada"' in body and 'value="2015-01-01"' in body
    assert not Referral.objects.exists()


# --- what a page costs: query counts asserted (docs/performance.md) ------------------------


def _open_case(teacher, child, worker):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(actor=teacher, referral=draft)
    return protocol("referral.decide")(actor=worker, referral=referral, decision="open_case")


def test_queue_page_reads_the_scopes_once_and_stays_within_its_budget(
    client, teacher, triage_worker, north, school
):
    client.force_login(triage_worker)
    _referrals(teacher, north, school, 5)
    count, response = _count(client, "/casework/queue/")
    assert response.content.count(b"cw-badge--priority") == 5
    # Session, user, the user's grants (memberships, scopes, model-wide permissions: one
    # query for the page, the menu and Viewflow's menu), the page with the count of the list
    # (one query), the read log (one INSERT, no BEGIN/COMMIT), the unread count, the schools
    # of the filter; the open pattern alerts only when a district has one (a flag read with
    # the grants).
    assert count <= 7, count


def test_case_page_queries_do_not_grow_with_linked_referrals_team_and_actions(
    client, teacher, child, triage_worker, psychologist, health_north
):
    case = _open_case(teacher, child, triage_worker)
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Regular meals")
    client.force_login(triage_worker)
    small, _ = _count(client, f"/casework/cases/{case.pk}/")
    for _n in range(3):  # three more referrals about the child: linked to the open case
        linked = _open_case(teacher, child, triage_worker)
        assert linked == case
    services.case_add_member(
        actor=triage_worker, case=case, user=psychologist, agency=health_north,
        role="psychologist", reason="Assessment", legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )  # fmt: skip
    for objective in ("Meals", "Homework"):
        services.case_add_action(
            actor=triage_worker, case=case, objective=objective, owning_agency=health_north
        )
    large, response = _count(client, f"/casework/cases/{case.pk}/")
    assert case.referrals.count() == 4
    assert large == small, (small, large)
    # Session, user, grants, the case, its lists and its chronology (one query, whatever the
    # number of referrals, members, actions, reviews), the steps open, the family's records
    # and the forms' choices (one query), the read log, the unread count.
    # docs/performance.md.
    assert large <= 9, large


def test_case_page_builds_only_the_forms_the_reader_may_use(
    client, teacher, child, triage_worker, psychologist, health_north
):
    case = _open_case(teacher, child, triage_worker)
    services.case_add_member(
        actor=triage_worker, case=case, user=psychologist, agency=health_north,
        role="psychologist", reason="Assessment", legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )  # fmt: skip
    client.force_login(triage_worker)
    lead = client.get(f"/casework/cases/{case.pk}/")
    assert "plan_form" in lead.context and "member_form" in lead.context
    assert b'action="/casework/cases/%d/plan/"' % case.pk in lead.content
    client.force_login(psychologist)
    member = client.get(f"/casework/cases/{case.pk}/")
    assert member.status_code == 200
    assert "plan_form" not in member.context and "member_form" not in member.context
    assert "closure_form" not in member.context and "review_form" not in member.context
    assert b'action="/casework/cases/%d/plan/"' % case.pk not in member.content
    assert "action_form" in member.context  # the team records actions
