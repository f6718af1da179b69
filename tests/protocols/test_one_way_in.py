"""One way into each protocol step: the driver (protocols.steps) is the only caller of the
services that move a referral or a case along the flow; the admin and Viewflow's own pages
cannot move them; superusers follow the same rules as everyone for case data."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from simple_history.models import registered_models
from viewflow.workflow import STATUS
from viewflow.workflow.models import Process, Task

from casework import permissions, services
from casework.models import Membership, Notification, Referral
from casework.services.common import OutsideProtocolStep
from protocols import steps
from protocols.flows import ReferralFlow
from tests.conftest import protocol

pytestmark = pytest.mark.django_db

FORM = {
    "concern_categories": ["neglect"],
    "observations": "Often hungry in the morning.",
    "family_informed": True,
}

FLOW_OWNED = sorted(
    name for name in dir(services) if getattr(getattr(services, name), "flow_owned", None) is True
)


def fingerprint() -> tuple:
    """Every history row and every Viewflow row: what a stray write would add or change."""
    histories = tuple(
        model.history.count() for model in registered_models.values() if hasattr(model, "history")
    )
    tasks = tuple(Task.objects.order_by("pk").values_list("pk", "status", "owner_id"))
    processes = tuple(Process.objects.order_by("pk").values_list("pk", "status"))
    return histories, tasks, processes


def submitted(teacher, child) -> Referral:
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    return protocol("referral.submit")(actor=teacher, referral=draft)


def triage_task(referral) -> Task:
    return steps.open_task("referral.claim", referral)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.org", "pw")


def test_every_step_of_the_table_runs_a_flow_owned_service():
    assert FLOW_OWNED, "the guard is on no service"
    for name, step in steps.STEPS.items():
        assert getattr(step.service, "flow_owned", False), name
    # And every flow-owned service is reached by a step (directly or through a decision).
    reached = {step.service.__name__ for step in steps.STEPS.values()}
    reached |= {service.__name__ for service in services.DECISIONS.values()}
    # The lead's moves (a new lead, an accepted transfer): their driver hands the tasks over.
    reached |= {service.__name__ for service, _case in steps.LEAD_MOVES.values()}
    reached.add("referral_send_feedback")  # the flow's feedback node
    assert set(FLOW_OWNED) <= reached


@pytest.mark.parametrize("name", FLOW_OWNED)
def test_a_direct_call_of_a_flow_owned_service_raises_and_writes_nothing(
    name, teacher, child, triage_worker
):
    referral = submitted(teacher, child)
    before = fingerprint()
    service = getattr(services, name)
    # The guard refuses before it reads its arguments.
    target = {"case": None} if name.startswith("case_") else {"referral": referral}
    with pytest.raises(OutsideProtocolStep, match="run_step"):
        service(actor=triage_worker, **target)
    assert fingerprint() == before
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SUBMITTED and referral.claimed_by is None


def test_claim_through_the_driver_keeps_status_and_task_in_step(teacher, child, triage_worker):
    referral = submitted(teacher, child)
    assert steps.open_task("referral.claim", referral).status == STATUS.NEW
    protocol("referral.claim")(actor=triage_worker, referral=referral)
    referral.refresh_from_db()
    task = steps.open_task("referral.claim", referral)
    assert referral.status == Referral.Status.IN_TRIAGE
    assert (task.status, task.owner) == (STATUS.ASSIGNED, triage_worker)
    protocol("referral.release")(actor=triage_worker, referral=referral)
    referral.refresh_from_db()
    task = steps.open_task("referral.claim", referral)
    assert referral.status == Referral.Status.SUBMITTED
    assert (task.status, task.owner) == (STATUS.NEW, None)


def test_a_refused_step_changes_nothing(teacher, child, outsider, psychologist):
    referral = submitted(teacher, child)
    before = fingerprint()
    for user in (outsider, psychologist, teacher):
        with pytest.raises(PermissionDenied):
            protocol("referral.decide")(
                actor=user, referral=referral, decision="no_further_action", reason="x"
            )
    assert fingerprint() == before


def test_a_superuser_is_refused_a_triage_decision_not_crashed(teacher, child, superuser, api):
    referral = submitted(teacher, child)
    before = fingerprint()
    with pytest.raises(PermissionDenied):
        protocol("referral.decide")(actor=superuser, referral=referral, decision="open_case")
    # Through the API the superuser does not even see the referral (no team, no case data).
    response = api(superuser).post(
        f"/api/v1/referrals/{referral.pk}/decision/", {"decision": "open_case"}, format="json"
    )
    assert response.status_code == 404
    assert fingerprint() == before


def test_the_answer_goes_back_to_the_worker_who_asked(teacher, child, triage_worker):
    referral = submitted(teacher, child)
    protocol("referral.decide")(
        actor=triage_worker,
        referral=referral,
        decision="request_information",
        question="Since when?",
    )
    asked = steps.open_task("referral.answer", referral)
    assert (asked.status, asked.owner) == (STATUS.ASSIGNED, teacher)
    protocol("referral.answer")(actor=teacher, referral=referral, answer="Since September")
    referral.refresh_from_db()
    task = steps.open_task("referral.claim", referral)
    assert referral.status == Referral.Status.IN_TRIAGE
    assert referral.claimed_by == triage_worker
    assert (task.status, task.owner) == (STATUS.ASSIGNED, triage_worker)
    assert Notification.objects.filter(
        kind=Notification.Kind.INFORMATION_ANSWERED, recipient=triage_worker
    ).exists()


def test_the_answer_goes_to_the_queue_when_the_asker_has_left(
    teacher, child, triage_worker, supervisor
):
    referral = submitted(teacher, child)
    protocol("referral.decide")(
        actor=triage_worker,
        referral=referral,
        decision="request_information",
        question="Since when?",
    )
    services.membership_deactivate(
        actor=None, membership=Membership.objects.get(user=triage_worker)
    )
    protocol("referral.answer")(actor=teacher, referral=referral, answer="Since September")
    referral.refresh_from_db()
    task = steps.open_task("referral.claim", referral)
    assert referral.status == Referral.Status.SUBMITTED and referral.claimed_by is None
    assert (task.status, task.owner) == (STATUS.NEW, None)
    told = Notification.objects.filter(kind=Notification.Kind.INFORMATION_ANSWERED)
    assert list(told.values_list("recipient__username", flat=True)) == [supervisor.username]
    # The queue can take it up again.
    protocol("referral.claim")(actor=supervisor, referral=referral)


def test_only_the_referrer_answers(teacher, other_teacher, child, triage_worker):
    referral = submitted(teacher, child)
    protocol("referral.decide")(
        actor=triage_worker,
        referral=referral,
        decision="request_information",
        question="Since when?",
    )
    before = fingerprint()
    for user in (other_teacher, triage_worker):
        with pytest.raises(PermissionDenied):
            protocol("referral.answer")(actor=user, referral=referral, answer="x")
    assert fingerprint() == before


# --- the admin and Viewflow's own pages -------------------------------------------------------


def test_the_admin_shows_protocol_records_but_cannot_change_them(client, superuser, teacher, child):
    referral = submitted(teacher, child)
    client.force_login(superuser)
    page = client.get(f"/admin/casework/referral/{referral.pk}/change/")
    assert page.status_code == 200
    assert b'name="status"' not in page.content  # shown, not a form field
    before = fingerprint()
    response = client.post(
        f"/admin/casework/referral/{referral.pk}/change/", {"status": "in_triage"}
    )
    assert response.status_code == 403
    for path in (
        f"/admin/casework/referral/{referral.pk}/delete/",
        "/admin/casework/referral/add/",
        f"/admin/viewflow/task/{triage_task(referral).pk}/change/",
        f"/admin/viewflow/process/{triage_task(referral).process_id}/delete/",
    ):
        assert client.post(path, {"post": "yes", "status": "DONE"}).status_code == 403, path
    assert fingerprint() == before


def test_viewflow_management_pages_move_nothing(client, superuser, teacher, child, triage_worker):
    referral = submitted(teacher, child)
    task = triage_task(referral)
    flow = "/referral"
    before = fingerprint()
    for user in (superuser, triage_worker):
        client.force_login(user)
        for path in (
            f"{flow}/{task.process_id}/cancel/",
            f"{flow}/{task.process_id}/triage/{task.pk}/assign/",
            f"{flow}/{task.process_id}/triage/{task.pk}/execute/",
            f"{flow}/queue/assign/",
        ):
            response = client.post(path, {"tasks": [task.pk], "_continue": "1"})
            assert response.status_code in (302, 403, 404, 405), (user, path, response)
    assert fingerprint() == before
    task.refresh_from_db()
    assert (task.status, task.owner) == (STATUS.NEW, None)
    assert ReferralFlow.instance.has_manage_permission(superuser) is False


def test_memberships_made_and_ended_in_the_admin_go_through_the_services(
    client, superuser, social_north, north
):
    worker = get_user_model().objects.create_user("nuovo", password="pw")
    client.force_login(superuser)
    response = client.post(
        "/admin/casework/membership/add/",
        {"user": worker.pk, "agency": social_north.pk, "role": "social_worker", "active": "on"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    membership = Membership.objects.get(user=worker)
    assert membership.history.get().history_change_reason == "casework.membership.created"
    assert permissions.triages_district(worker, north)
    response = client.post(f"/admin/casework/membership/{membership.pk}/change/", {})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.active is False
    assert (
        membership.history.order_by("-history_id").first().history_change_reason
        == "casework.membership.deactivated"
    )
    assert not permissions.triages_district(worker, north)
