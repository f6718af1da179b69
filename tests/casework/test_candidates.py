"""Whom a form field may name comes from one place (casework.selectors): the page's forms and
the API's inputs accept and refuse the same people, and the API answers 400 on the field where
the page shows the field's error."""

import pytest
from rest_framework.test import APIClient

from casework import forms, services
from casework.api import serializers
from casework.models import CaseTeamMember, Membership, Referral
from tests.conftest import protocol
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}
PERSONAS = ["triage_worker", "supervisor", "psychologist", "outsider", "teacher", "stranger"]


@pytest.fixture
def referral(teacher, child):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    return protocol("referral.submit")(actor=teacher, referral=draft)


@pytest.fixture
def case(referral, triage_worker):
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


@pytest.fixture
def departed(social_north):
    """A social worker of North whose membership has ended."""
    user = UserFactory(username="departed")
    membership = services.membership_create(
        actor=None, user=user, agency=social_north, role=Membership.Role.SOCIAL_WORKER
    )
    services.membership_deactivate(actor=None, membership=membership)
    return user


# --- the lead worker of a new case ------------------------------------------------------------


def _decision(user):
    return {
        "decision": "open_case",
        "lead_worker": user.pk,
        "risk_level": "medium",
        "reason": "Neglect",
        "feedback": "We take it up.",
    }


@pytest.mark.parametrize("persona", [*PERSONAS, "departed"])
def test_the_decision_form_and_input_accept_the_same_lead_workers(request, referral, persona):
    data = _decision(request.getfixturevalue(persona))
    form = forms.DecisionForm(data, referral=referral)
    given = serializers.DecisionInput(data=data, referral=referral)
    assert form.is_valid() == given.is_valid()
    assert form.is_valid() == (persona == "triage_worker")
    if persona != "triage_worker":
        assert "lead_worker" in form.errors and "lead_worker" in given.errors


def test_the_api_refuses_a_lead_worker_the_page_refuses(
    client, referral, triage_worker, supervisor
):
    """The supervisor triages the district but is not on its triage team: the page does not
    offer them as lead worker, and the API no longer takes them either."""
    rows = referral.history.count()
    api = APIClient()
    api.force_authenticate(triage_worker)
    response = api.post(
        f"/api/v1/referrals/{referral.pk}/decision/", _decision(supervisor), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["lead_worker"]
    client.force_login(triage_worker)
    page = client.post(f"/casework/referrals/{referral.pk}/decide/", _decision(supervisor))
    assert page.status_code == 422
    assert "lead_worker" in page.context["form"].errors
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SUBMITTED and referral.case_id is None
    assert referral.history.count() == rows


# --- a member of the case team ---------------------------------------------------------------


def _member(user, agency):
    return {"user": user.pk, "agency": agency.pk, "role": "psychologist", "reason": "Assessment"}


@pytest.mark.parametrize("persona", [*PERSONAS, "departed"])
def test_the_team_form_and_input_accept_the_same_people(request, health_north, persona):
    data = _member(request.getfixturevalue(persona), health_north)
    form = forms.TeamMemberForm(data)
    given = serializers.TeamMemberInput(data=data)
    assert form.is_valid() == given.is_valid()
    assert form.is_valid() == (persona not in ("stranger", "departed"))
    if not form.is_valid():
        assert list(form.errors) == ["user"] and list(given.errors) == ["user"]


def test_the_api_refuses_a_team_member_the_page_refuses(
    client, case, triage_worker, departed, social_north
):
    rows = CaseTeamMember.history.count()
    api = APIClient()
    api.force_authenticate(triage_worker)
    data = _member(departed, social_north)
    response = api.post(f"/api/v1/cases/{case.pk}/team/", data, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["user"]
    client.force_login(triage_worker)
    page = client.post(f"/casework/cases/{case.pk}/member/", data, follow=True)
    assert any("Professional" in str(m) for m in page.context["messages"])
    assert not case.team.filter(user=departed).exists()
    assert CaseTeamMember.history.count() == rows
