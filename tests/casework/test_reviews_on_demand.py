"""Reviews when the team needs them: an extraordinary review at any time while the case is
open, the lead bringing the periodic review forward, and due reviews (and closures) that
happen with the timer sweep down. The timer only sets the default rhythm."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from casework import services
from casework.models import Case, Review
from casework.services import TransitionNotAllowed
from protocols import steps
from protocols.flows import CaseFlow
from tests.conftest import protocol

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}
EXTRAORDINARY = protocol("case.extraordinary_review")
FORWARD = protocol("case.bring_review_forward")


@pytest.fixture
def case(teacher, child, triage_worker):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    return protocol("referral.decide")(
        referral=referral, actor=triage_worker, decision="open_case", lead_worker=triage_worker
    )


@pytest.fixture
def planned(case, triage_worker, psychologist, health_north):
    """The plan is written: the flow waits on the review timer. The psychologist is on the
    team but does not lead."""
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Regular meals")
    services.case_add_member(
        actor=triage_worker,
        case=case,
        user=psychologist,
        agency=health_north,
        role="psychologist",
        reason="Assessment",
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    case.refresh_from_db()
    return case


def timer(case):
    return Task.objects.filter(
        flow_task=CaseFlow.wait_review,
        process__artifact_object_id=case.pk,
        status="SCHEDULED",
    ).first()


def reasons(model_history):
    return list(
        model_history.order_by("history_id").values_list("history_change_reason", flat=True)
    )


def test_the_team_holds_an_extraordinary_review_before_the_periodic_one(planned, psychologist):
    due = planned.next_review_at
    review = EXTRAORDINARY(
        actor=psychologist,
        case=planned,
        reason="The child came to school with a bruise on Monday",
        risk_level="high",
        decision="continue",
        attendees="Psychologist, social worker",
    )
    assert (review.kind, review.reason) == (
        "extraordinary",
        "The child came to school with a bruise on Monday",
    )
    assert review.history.get().history_change_reason == "casework.review.extraordinary_recorded"
    row = planned.history.order_by("-history_id").first()
    assert (row.history_user, row.history_change_reason) == (
        psychologist,
        "casework.case.extraordinary_review",
    )
    planned.refresh_from_db()
    # The periodic rhythm is kept: the next periodic review stays where it was, and the flow
    # waits for it again.
    assert planned.next_review_at == due and planned.risk_level == "high"
    assert timer(planned).scheduled == due
    assert not steps.is_open("case.review", planned)


def test_an_extraordinary_review_says_why_or_nothing_moves(planned, psychologist):
    waiting = timer(planned)
    with pytest.raises(ValidationError) as error:
        EXTRAORDINARY(
            actor=psychologist, case=planned, reason=" ", risk_level="low", decision="continue"
        )
    assert "reason" in error.value.message_dict
    assert not Review.objects.exists()
    assert timer(planned) == waiting  # the timer was not fired by the refused attempt


def test_someone_off_the_team_cannot_hold_an_extraordinary_review(planned, outsider, teacher):
    for person in (outsider, teacher):
        with pytest.raises(PermissionDenied):
            EXTRAORDINARY(
                actor=person, case=planned, reason="x", risk_level="low", decision="continue"
            )
    assert not Review.objects.exists() and timer(planned) is not None


def test_no_extraordinary_review_before_the_plan_or_while_closure_awaits(
    case, triage_worker, supervisor
):
    with pytest.raises(TransitionNotAllowed, match="plan"):
        EXTRAORDINARY(
            actor=triage_worker, case=case, reason="x", risk_level="low", decision="continue"
        )
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Meals")
    EXTRAORDINARY(
        actor=triage_worker, case=case, reason="Police called", risk_level="low", decision="close"
    )
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSURE_REQUESTED
    with pytest.raises(TransitionNotAllowed):
        EXTRAORDINARY(
            actor=triage_worker, case=case, reason="x", risk_level="low", decision="continue"
        )


def test_the_lead_brings_the_review_forward_to_today_and_it_is_due_at_once(
    planned, triage_worker, psychologist
):
    FORWARD(actor=triage_worker, case=planned, review_on=timezone.localdate())
    row = planned.history.order_by("-history_id").first()
    assert (row.history_user, row.history_change_reason) == (
        triage_worker,
        "casework.case.review_brought_forward",
    )
    # No sweep ran: the review task is open because its date has come.
    assert timer(planned) is None
    assert steps.is_open("case.review", planned)
    review = protocol("case.review")(
        actor=psychologist, case=planned, risk_level="medium", decision="continue"
    )
    assert review.kind == "periodic"


def test_bringing_forward_to_a_later_day_moves_the_timer(planned, triage_worker):
    day = timezone.localdate() + datetime.timedelta(days=3)
    FORWARD(actor=triage_worker, case=planned, review_on=day)
    planned.refresh_from_db()
    assert timezone.localdate(planned.next_review_at) == day
    assert timer(planned).scheduled == planned.next_review_at
    assert not steps.is_open("case.review", planned)


def test_only_the_lead_brings_the_review_forward_and_only_earlier(
    planned, psychologist, triage_worker
):
    before = planned.history.count()
    with pytest.raises(PermissionDenied):
        FORWARD(actor=psychologist, case=planned, review_on=timezone.localdate())
    with pytest.raises(ValidationError) as error:
        FORWARD(
            actor=triage_worker,
            case=planned,
            review_on=timezone.localdate(planned.next_review_at) + datetime.timedelta(days=1),
        )
    assert "review_on" in error.value.message_dict
    with pytest.raises(ValidationError):
        FORWARD(
            actor=triage_worker,
            case=planned,
            review_on=timezone.localdate() - datetime.timedelta(days=1),
        )
    assert planned.history.count() == before


def test_the_lead_may_bring_it_forward_while_the_plan_is_written(case, triage_worker):
    day = timezone.localdate() + datetime.timedelta(days=2)
    FORWARD(actor=triage_worker, case=case, review_on=day)
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Meals")
    case.refresh_from_db()
    assert timezone.localdate(timer(case).scheduled) == day


def test_a_due_review_and_a_closure_happen_with_the_timer_sweep_down(
    planned, triage_worker, supervisor
):
    with time_machine.travel(planned.next_review_at + datetime.timedelta(hours=1), tick=False):
        assert steps.is_open("case.review", planned)  # no fire_due_timers() anywhere here
        protocol("case.propose_closure")(
            actor=triage_worker, case=planned, risk_level="low", notes="Meals are regular"
        )
        protocol("case.decide_closure")(actor=supervisor, case=planned, approve=True)
    planned.refresh_from_db()
    assert planned.status == Case.Status.CLOSED


# --- the case page ---------------------------------------------------------------------------


def test_the_case_page_offers_each_member_what_they_may_do(
    client, planned, psychologist, triage_worker
):
    client.force_login(psychologist)
    page = client.get(planned.get_absolute_url()).content.decode()
    assert "Record an extraordinary review" in page
    assert "Bring the next periodic review forward" not in page
    client.force_login(triage_worker)
    page = client.get(planned.get_absolute_url()).content.decode()
    assert "Record an extraordinary review" in page
    assert "Bring the next periodic review forward" in page


def test_an_extraordinary_review_posted_from_the_case_page(client, planned, psychologist):
    client.force_login(psychologist)
    url = reverse("casework:case_extraordinary_review", args=[planned.pk])
    response = client.post(
        url,
        {
            "extra-reason": "A new incident at home",
            "extra-risk_level": "high",
            "extra-decision": "continue",
        },
    )
    assert response.status_code == 302
    review = Review.objects.get(case=planned)
    assert (review.kind, review.recorded_by) == ("extraordinary", psychologist)
    page = client.get(planned.get_absolute_url()).content.decode()
    assert "Extraordinary review" in page and "A new incident at home" in page


def test_a_member_who_is_not_the_lead_cannot_bring_the_review_forward_from_the_page(
    client, planned, psychologist, outsider
):
    url = reverse("casework:case_review_forward", args=[planned.pk])
    data = {"forward-review_on": timezone.localdate().isoformat()}
    client.force_login(outsider)
    assert client.post(url, data).status_code == 404
    client.force_login(psychologist)
    client.post(url, data)
    planned.refresh_from_db()
    assert timer(planned) is not None
    assert "casework.case.review_brought_forward" not in reasons(planned.history)


def test_the_api_records_an_extraordinary_review_and_refuses_one_without_reason(
    planned, psychologist
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(psychologist)
    url = f"/api/v1/cases/{planned.pk}/reviews/"
    body = {"kind": "extraordinary", "risk_level": "high", "decision": "continue"}
    response = api.post(url, body, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = api.post(url, {**body, "reason": "New incident"}, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["kind"], response.json()["reason"]) == ("extraordinary", "New incident")
    # The periodic review is not due: the plain review is refused as before.
    response = api.post(url, {"risk_level": "low", "decision": "continue"}, format="json")
    assert response.status_code == 409
