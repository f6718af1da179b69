"""Case services: each writes one history row with its actor and reason, and refuses cleanly."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from viewflow.workflow.timers import fire_due_timers

from casework import services
from casework.services import TransitionNotAllowed
from tests.conftest import protocol

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


@pytest.fixture
def case(teacher, child, triage_worker):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


def last(obj):
    return obj.history.order_by("-history_id").first()


def test_plan_member_action_and_progress_each_leave_their_row(
    case, triage_worker, psychologist, health_north
):
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Meals")
    assert last(case.plan).history_change_reason == "casework.case_plan.updated"
    member = services.case_add_member(
        actor=triage_worker,
        case=case,
        user=psychologist,
        agency=health_north,
        role="psychologist",
        reason="Assessment",
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    assert (last(member).history_user, last(member).history_change_reason) == (
        triage_worker,
        "casework.case_team.member_added",
    )
    action = services.case_add_action(
        actor=psychologist,
        case=case,
        objective="Assess",
        owning_agency=health_north,
        owner=psychologist,
    )
    assert last(action).history_change_reason == "casework.action.added"
    services.action_update(
        actor=psychologist, action=action, status="in_progress", progress_note="First meeting"
    )
    row = last(action)
    assert (row.history_user, row.history_change_reason) == (
        psychologist,
        "casework.action.updated",
    )
    assert row.status == "in_progress" and "First meeting" in row.progress_notes


def test_only_lead_or_supervisor_changes_the_team_and_the_plan(
    case, psychologist, health_north, triage_worker
):
    services.case_add_member(
        actor=triage_worker,
        case=case,
        user=psychologist,
        agency=health_north,
        role="psychologist",
        reason="r",
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    rows = case.team.model.history.count()
    with pytest.raises(PermissionDenied):
        protocol("case.plan")(actor=psychologist, case=case, objectives="x")
    with pytest.raises(PermissionDenied):
        services.case_add_member(
            actor=psychologist,
            case=case,
            user=triage_worker,
            agency=health_north,
            role="other",
            reason="r",
            legal_basis="public_task",
            basis_explanation="Child-protection task of the municipality",
        )
    assert case.team.model.history.count() == rows


def test_a_member_must_work_for_the_agency_named(case, triage_worker, psychologist, school):
    with pytest.raises(ValidationError) as error:
        services.case_add_member(
            actor=triage_worker,
            case=case,
            user=psychologist,
            agency=school,
            role="psychologist",
            reason="r",
            legal_basis="public_task",
            basis_explanation="Child-protection task of the municipality",
        )
    assert "agency" in error.value.message_dict
    assert not case.team.filter(user=psychologist).exists()


def propose_closure(case, lead):
    """As the protocol does it: the plan, the review that comes due, closure proposed there."""
    protocol("case.plan")(actor=lead, case=case, objectives="Meals")
    case.refresh_from_db()
    with time_machine.travel(case.next_review_at + datetime.timedelta(hours=1), tick=False):
        assert fire_due_timers() == 1
        protocol("case.review")(
            actor=lead, case=case, risk_level="low", decision="close", notes="Meals are regular"
        )


def test_supervisor_refuses_a_closure_with_a_reason(case, triage_worker, supervisor):
    propose_closure(case, triage_worker)
    with pytest.raises(ValidationError):
        protocol("case.decide_closure")(actor=supervisor, case=case, approve=False)
    protocol("case.decide_closure")(
        actor=supervisor, case=case, approve=False, reason="Not yet: attendance still irregular"
    )
    case.refresh_from_db()
    assert case.status == "open" and case.next_review_at is not None
    assert last(case).history_change_reason == "casework.case.closure_rejected"
    with pytest.raises(TransitionNotAllowed):
        protocol("case.decide_closure")(actor=supervisor, case=case, approve=True)
