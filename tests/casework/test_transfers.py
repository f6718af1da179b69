"""A case moving: the supervisor changes the lead worker; a district asks another to take the
case over and the receiving supervisor accepts or refuses. The grants follow the lead, the
Viewflow tasks follow it too, and the sending side keeps only the transfer record."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from casework import permissions, selectors, services
from casework.models import (
    Action,
    Case,
    CaseTeamMember,
    CaseTransfer,
    CaseUserObjectPermission,
    Membership,
    Notification,
)
from protocols import steps
from protocols.flows import CaseFlow
from tests.conftest import _member, protocol

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def second_worker(social_north):
    return _member("as_north_2", social_north, Membership.Role.SOCIAL_WORKER)


@pytest.fixture
def south_supervisor(social_south):
    return _member("coord_south", social_south, Membership.Role.SUPERVISOR)


@pytest.fixture
def auditor(school):
    return _member("dpo", school, Membership.Role.AUDITOR)


@pytest.fixture
def referral_and_case(teacher, child, triage_worker, psychologist, health_north, social_north):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(actor=teacher, referral=draft)
    case = protocol("referral.decide")(actor=triage_worker, referral=referral, decision="open_case")
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
    services.case_add_action(
        actor=triage_worker,
        case=case,
        objective="Home visit",
        owning_agency=social_north,
        owner=triage_worker,
    )
    services.case_add_action(
        actor=triage_worker,
        case=case,
        objective="Assessment",
        owning_agency=health_north,
        owner=psychologist,
    )
    referral.refresh_from_db()
    return referral, Case.objects.get(pk=case.pk)


@pytest.fixture
def case(referral_and_case):
    return referral_and_case[1]


def _case_tasks(case, **filters):
    return Task.objects.filter(
        process__flow_class=CaseFlow,
        process__artifact_content_type=ContentType.objects.get_for_model(case),
        process__artifact_object_id=case.pk,
        **filters,
    )


def _review_task_held_by(case, user):
    """Open the periodic review now (the lead brings it forward to today) and leave its task
    claimed by `user`, as a task claimed before a hand-over would be."""
    steps.run_step(
        "case.bring_review_forward", obj=case, actor=user, review_on=timezone.localdate()
    )
    task = _case_tasks(case, flow_task=CaseFlow.review, status=STATUS.NEW).get()
    Task.objects.filter(pk=task.pk).update(owner=user, status=STATUS.ASSIGNED)
    return task


def _reasons(obj):
    return list(obj.history.order_by("history_id").values_list("history_change_reason", flat=True))


# --- a new lead worker ------------------------------------------------------------------------


def test_supervisor_changes_the_lead_on_the_case_page_and_access_follows(
    client, case, supervisor, triage_worker, second_worker, referral_and_case
):
    referral = referral_and_case[0]
    client.force_login(supervisor)
    page = client.get(f"/casework/cases/{case.pk}/")
    assert "lead-lead" in page.content.decode()
    response = client.post(
        f"/casework/cases/{case.pk}/lead/",
        {"lead-lead": second_worker.pk, "lead-grounds": "workload", "lead-reason": "Rebalancing"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.lead_worker == second_worker
    # The old lead loses the case at once, on the pages and in the API.
    client.force_login(triage_worker)
    assert client.get(f"/casework/cases/{case.pk}/").status_code == 404
    assert api(triage_worker).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert (
        api(triage_worker)
        .post(f"/api/v1/cases/{case.pk}/plan/", {"objectives": "x"}, format="json")
        .status_code
        == 404
    )
    assert not permissions.can_lead_case(triage_worker, case)
    assert not triage_worker.groups.filter(name=f"case:{case.pk}:team").exists()
    # The new lead opens it and leads it.
    client.force_login(second_worker)
    assert client.get(f"/casework/cases/{case.pk}/").status_code == 200
    assert api(second_worker).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    answer = api(second_worker).post(
        f"/api/v1/cases/{case.pk}/plan/", {"objectives": "New plan"}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert permissions.is_lead(second_worker, case)
    assert CaseUserObjectPermission.objects.filter(
        user=second_worker, content_object=case, permission__codename="lead_case"
    ).exists()
    assert not CaseUserObjectPermission.objects.filter(
        user=triage_worker, content_object=case, permission__codename="lead_case"
    ).exists()
    # History: the case, both seats, the action handed over, the school's contact person.
    assert _reasons(case)[-1] == "casework.case.lead_changed"
    old_seat = CaseTeamMember.objects.get(case=case, user=triage_worker)
    assert old_seat.removed_at is not None
    assert _reasons(old_seat)[-1] == "casework.case_team.lead_handed_over"
    new_seat = CaseTeamMember.objects.get(case=case, user=second_worker, removed_at__isnull=True)
    assert new_seat.role == CaseTeamMember.CaseRole.LEAD
    visit = Action.objects.get(plan__case=case, objective="Home visit")
    assert visit.owner == second_worker
    assert _reasons(visit)[-1] == "casework.action.reassigned"
    # The psychologist's action is theirs still; they stay on the team.
    assert Action.objects.get(plan__case=case, objective="Assessment").owner.username == "psy_north"
    referral.refresh_from_db()
    assert referral.contact_person == second_worker
    assert _reasons(referral)[-1] == "casework.referral.contact_person_changed"
    transfer = CaseTransfer.objects.get(case=case)
    assert (transfer.kind, transfer.status) == ("lead", "accepted")
    assert (transfer.from_lead, transfer.to_lead) == (triage_worker, second_worker)
    assert _reasons(transfer) == ["casework.case_transfer.lead_changed"]
    assert Notification.objects.filter(
        recipient=second_worker, kind=Notification.Kind.CASE_ASSIGNED, case=case
    ).exists()


def test_the_case_tasks_follow_the_new_lead(case, supervisor, triage_worker, second_worker):
    task = _review_task_held_by(case, triage_worker)
    answer = api(supervisor).post(
        f"/api/v1/cases/{case.pk}/lead/",
        {"lead": second_worker.pk, "grounds": "lead_left", "reason": "Long leave"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["to_lead"] == (second_worker.get_full_name() or "as_north_2")
    task.refresh_from_db()
    assert task.owner == second_worker and task.status == STATUS.ASSIGNED
    node = CaseFlow.review
    assert node.allows(second_worker, process=task.process)
    assert not node.allows(triage_worker, process=task.process)
    assert node.can_execute(second_worker, task) and not node.can_execute(triage_worker, task)
    # Viewflow's own task page leads nobody but the administrator anywhere; the old lead is
    # refused there as on the case page.
    url = f"/case/{task.process_id}/review/{task.pk}/"
    client = APIClient()
    client.force_login(triage_worker)
    assert client.get(url).status_code in (302, 403, 404)
    # The new lead records the review the old one had claimed; the old lead cannot.
    review = {"risk_level": "low", "decision": "continue", "attendees": "Team"}
    refused = api(triage_worker).post(f"/api/v1/cases/{case.pk}/reviews/", review, format="json")
    assert refused.status_code == 404
    done = api(second_worker).post(f"/api/v1/cases/{case.pk}/reviews/", review, format="json")
    assert done.status_code == 201, done.content
    task.refresh_from_db()
    assert task.status == STATUS.DONE and task.owner == second_worker


def test_only_the_supervisor_changes_the_lead(
    client, case, triage_worker, second_worker, psychologist, outsider, teacher, auditor
):
    body = {"lead": second_worker.pk, "grounds": "workload", "reason": "x"}
    # On the team but not the supervisor: 403; not on the case: 404.
    assert (
        api(triage_worker).post(f"/api/v1/cases/{case.pk}/lead/", body, format="json").status_code
        == 403
    )
    assert (
        api(psychologist).post(f"/api/v1/cases/{case.pk}/lead/", body, format="json").status_code
        == 403
    )
    for other in (outsider, teacher, auditor):
        answer = api(other).post(f"/api/v1/cases/{case.pk}/lead/", body, format="json")
        assert answer.status_code == 404, other
    client.force_login(triage_worker)
    page = client.get(f"/casework/cases/{case.pk}/").content.decode()
    assert "lead-lead" not in page
    web = {"lead-lead": second_worker.pk, "lead-grounds": "workload", "lead-reason": "x"}
    assert client.post(f"/casework/cases/{case.pk}/lead/", web).status_code == 403
    client.force_login(outsider)
    assert client.post(f"/casework/cases/{case.pk}/lead/", web).status_code == 404
    case.refresh_from_db()
    assert case.lead_worker == triage_worker
    assert not CaseTransfer.objects.exists()


def test_a_lead_from_another_district_or_without_a_reason_is_refused_field_by_field(
    case, supervisor, outsider, psychologist, triage_worker
):
    before = case.history.count()
    client = api(supervisor)
    url = f"/api/v1/cases/{case.pk}/lead/"
    answer = client.post(
        url, {"lead": outsider.pk, "grounds": "workload", "reason": "x"}, format="json"
    )
    assert answer.status_code == 400 and "lead" in answer.json()
    answer = client.post(
        url, {"lead": psychologist.pk, "grounds": "workload", "reason": "x"}, format="json"
    )
    assert answer.status_code == 400 and "lead" in answer.json()
    answer = client.post(
        url, {"lead": triage_worker.pk, "grounds": "nope", "reason": ""}, format="json"
    )
    assert answer.status_code == 400 and {"grounds", "reason"} <= set(answer.json())
    assert case.history.count() == before
    assert permissions.is_lead(triage_worker, case)


def test_changing_the_lead_outside_the_driver_is_refused(case, supervisor, second_worker):
    from casework.services.common import OutsideProtocolStep

    with pytest.raises(OutsideProtocolStep):
        services.case_change_lead(
            actor=supervisor, case=case, lead=second_worker, grounds="workload", reason="x"
        )


# --- to another district --------------------------------------------------------------------


def _request(case, actor, district="south"):
    return api(actor).post(
        f"/api/v1/cases/{case.pk}/transfers/",
        {"to_district": district, "grounds": "family_moved", "reason": "Moved to South"},
        format="json",
    )


def test_a_transfer_accepted_moves_the_case_and_its_access(
    case,
    referral_and_case,
    triage_worker,
    supervisor,
    psychologist,
    outsider,
    south_supervisor,
    teacher,
    school_referent,
):
    referral = referral_and_case[0]
    review_at = case.next_review_at
    asked = _request(case, triage_worker)
    assert asked.status_code == 201, asked.content
    transfer = CaseTransfer.objects.get(pk=asked.json()["id"])
    assert transfer.status == "requested"
    assert Notification.objects.filter(
        recipient=south_supervisor, kind=Notification.Kind.TRANSFER_REQUESTED, case=None
    ).exists()
    # Until accepted, the receiving side reads the request, not the file.
    south = api(south_supervisor)
    assert south.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert [t["id"] for t in south.get("/api/v1/transfers/").json()["results"]] == [transfer.pk]
    decided = south.post(
        f"/api/v1/transfers/{transfer.pk}/decide/",
        {"accept": True, "lead": outsider.pk},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    case.refresh_from_db()
    assert case.district.code == "south" and case.lead_worker == outsider
    assert case.next_review_at == review_at
    assert _reasons(case)[-1] == "casework.case.transferred"
    assert (
        _reasons(CaseTransfer.objects.get(pk=transfer.pk))[-1] == "casework.case_transfer.accepted"
    )
    # Access follows the case: the receiving lead and supervisor in, the sending side out.
    assert api(outsider).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert south.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    for gone in (triage_worker, supervisor, psychologist):
        assert api(gone).get(f"/api/v1/cases/{case.pk}/").status_code == 404, gone
        assert not permissions.can_work_case(gone, case)
    seats = CaseTeamMember.objects.filter(case=case, user__in=[triage_worker, psychologist])
    assert all(seat.removed_at is not None for seat in seats)
    assert {_reasons(seat)[-1] for seat in seats} == {"casework.case_team.left_with_transfer"}
    # Open actions carry over, handed to the new lead.
    actions = Action.objects.filter(plan__case=case)
    assert actions.count() == 2 and {a.owner for a in actions} == {outsider}
    # The sending district keeps the transfer record (and nothing of the file).
    record = api(supervisor).get(f"/api/v1/transfers/{transfer.pk}/")
    assert record.status_code == 200
    assert record.json()["to_district"] == "south"
    assert "objectives" not in record.json() and "Hungry" not in record.content.decode()
    # The school keeps its referrer's view, with the new lead as contact person.
    seen = api(teacher).get(f"/api/v1/referrals/{referral.pk}/")
    assert seen.status_code == 200
    assert seen.json()["contact_person"] == (outsider.get_full_name() or outsider.username)
    assert "Regular meals" not in seen.content.decode()
    assert api(school_referent).get(f"/api/v1/referrals/{referral.pk}/").status_code == 200
    assert api(teacher).get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_a_transfer_refused_says_why_and_leaves_the_case_where_it_was(
    case, triage_worker, south_supervisor, psychologist
):
    transfer = CaseTransfer.objects.get(pk=_request(case, triage_worker).json()["id"])
    url = f"/api/v1/transfers/{transfer.pk}/decide/"
    no_reason = api(south_supervisor).post(url, {"accept": False}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    refused = api(south_supervisor).post(
        url, {"accept": False, "reason": "The family is not resident here"}, format="json"
    )
    assert refused.status_code == 200
    transfer.refresh_from_db()
    assert transfer.status == "refused"
    assert transfer.refusal_reason == "The family is not resident here"
    assert _reasons(transfer)[-1] == "casework.case_transfer.refused"
    case.refresh_from_db()
    assert case.district.code == "north" and case.lead_worker == triage_worker
    assert permissions.is_on_team(psychologist, case)
    assert Notification.objects.filter(
        recipient=triage_worker, kind=Notification.Kind.TRANSFER_DECIDED
    ).exists()
    # Decided once: a second answer is a conflict.
    again = api(south_supervisor).post(
        url, {"accept": True, "lead": south_supervisor.pk}, format="json"
    )
    assert again.status_code == 409


def test_who_may_not_decide_a_transfer(
    case, triage_worker, supervisor, outsider, teacher, auditor, south_supervisor, stranger
):
    transfer = CaseTransfer.objects.get(pk=_request(case, triage_worker).json()["id"])
    url = f"/api/v1/transfers/{transfer.pk}/decide/"
    body = {"accept": True, "lead": outsider.pk}
    # The sending side reads the request but does not decide it.
    assert api(supervisor).post(url, body, format="json").status_code == 403
    assert api(triage_worker).post(url, body, format="json").status_code == 403
    # A worker of the receiving district who is not its supervisor, a teacher, the auditor:
    # the request does not exist for them.
    for other in (outsider, teacher, auditor, stranger):
        assert api(other).post(url, body, format="json").status_code == 404, other
        assert api(other).get(f"/api/v1/transfers/{transfer.pk}/").status_code == 404, other
        assert api(other).get("/api/v1/transfers/").json()["results"] == [], other
    transfer.refresh_from_db()
    assert transfer.status == "requested"
    case.refresh_from_db()
    assert case.district.code == "north"


def test_who_may_ask_for_a_transfer(
    case, psychologist, outsider, teacher, supervisor, triage_worker
):
    assert _request(case, psychologist).status_code == 403
    assert _request(case, outsider).status_code == 404
    assert _request(case, teacher).status_code == 404
    same = _request(case, supervisor, district="north")
    assert same.status_code == 400 and "to_district" in same.json()
    # No supervisor in South yet: nobody could accept.
    nobody = _request(case, triage_worker)
    assert nobody.status_code == 400 and "to_district" in nobody.json()
    assert not CaseTransfer.objects.exists()


def test_one_request_at_a_time_and_withdrawing_it(
    case, triage_worker, south_supervisor, psychologist
):
    first = _request(case, triage_worker)
    assert first.status_code == 201
    assert _request(case, triage_worker).status_code == 409
    pk = first.json()["id"]
    assert api(psychologist).post(f"/api/v1/transfers/{pk}/withdraw/").status_code == 404
    assert api(south_supervisor).post(f"/api/v1/transfers/{pk}/withdraw/").status_code == 403
    withdrawn = api(triage_worker).post(f"/api/v1/transfers/{pk}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert _request(case, triage_worker).status_code == 201


def test_a_transfer_on_the_pages(
    client, case, triage_worker, outsider, south_supervisor, supervisor, teacher
):
    client.force_login(triage_worker)
    page = client.get(f"/casework/cases/{case.pk}/").content.decode()
    assert "transfer-to_district" in page
    south = selectors.transfer_districts(case).get()
    response = client.post(
        f"/casework/cases/{case.pk}/transfer/",
        {
            "transfer-to_district": south.pk,
            "transfer-grounds": "family_moved",
            "transfer-reason": "Moved",
        },
    )
    assert response.status_code == 302
    transfer = CaseTransfer.objects.get()
    # The receiving supervisor reads whom they take over, and decides.
    client.force_login(south_supervisor)
    assert client.get("/casework/transfers/").status_code == 200
    detail = client.get(f"/casework/transfers/{transfer.pk}/")
    assert detail.status_code == 200 and "Luca" in detail.content.decode()
    missing = client.post(f"/casework/transfers/{transfer.pk}/decide/", {"accept": "1"})
    assert missing.status_code == 422
    transfer.refresh_from_db()
    assert transfer.status == "requested"
    accepted = client.post(
        f"/casework/transfers/{transfer.pk}/decide/", {"accept": "1", "lead": outsider.pk}
    )
    assert accepted.status_code == 302 and accepted.url == f"/casework/cases/{case.pk}/"
    assert client.get(accepted.url).status_code == 200
    # The sending side: the record, not the file (nor the child's name).
    client.force_login(supervisor)
    record = client.get(f"/casework/transfers/{transfer.pk}/")
    assert record.status_code == 200 and "Luca" not in record.content.decode()
    assert client.get(f"/casework/cases/{case.pk}/").status_code == 404
    client.force_login(triage_worker)
    assert client.get(f"/casework/cases/{case.pk}/").status_code == 404
    # Others: nothing.
    client.force_login(teacher)
    assert client.get(f"/casework/transfers/{transfer.pk}/").status_code == 404
    assert (
        client.post(f"/casework/transfers/{transfer.pk}/decide/", {"accept": "0"}).status_code
        == 404
    )


def test_on_acceptance_the_tasks_held_by_the_sending_side_go_to_the_new_lead(
    case, triage_worker, south_supervisor, outsider
):
    transfer = CaseTransfer.objects.get(pk=_request(case, triage_worker).json()["id"])
    task = _review_task_held_by(case, triage_worker)
    steps.move_lead(
        "case.transfer_decide",
        case=case,
        actor=south_supervisor,
        transfer=transfer,
        accept=True,
        lead=outsider,
    )
    task.refresh_from_db()
    assert task.owner == outsider  # the review: the new lead may take it
    assert _case_tasks(case, owner=triage_worker, status__in=steps.ACTIVE).count() == 0
