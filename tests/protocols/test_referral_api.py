"""The signalling protocol driven end to end through the REST API with the personas."""

import datetime

import pytest
import time_machine
from django.utils import timezone
from viewflow.workflow import STATUS
from viewflow.workflow.timers import fire_due_timers

from casework.models import Case, InformationRequest, Notification, Referral
from protocols.flows import CaseFlow, ReferralFlow
from tests.protocols.conftest import CHILD as CHILD_TEMPLATE

pytestmark = pytest.mark.django_db


def reasons(history):
    return [row["reason"] for row in history]


def test_submitted_referral_enters_the_district_queue_with_its_deadline(
    api, teacher, triage_worker, file_referral
):
    before = timezone.now()
    pk = file_referral(teacher, urgency="priority")
    referral = Referral.objects.get(pk=pk)
    assert referral.status == Referral.Status.SUBMITTED
    assert before + datetime.timedelta(days=5) <= referral.triage_due_at
    assert referral.triage_due_at <= timezone.now() + datetime.timedelta(days=5)
    queue = api(triage_worker).get("/api/v1/queue/").json()["results"]
    assert [item["id"] for item in queue] == [pk]
    assert queue[0]["overdue"] is False
    assert Notification.objects.filter(
        recipient=triage_worker, kind="referral_submitted", referral_id=pk
    ).exists()


def test_queue_orders_by_urgency_then_deadline(api, teacher, triage_worker, file_referral):
    routine = file_referral(teacher, urgency="routine")
    urgent = file_referral(teacher, urgency="urgent")
    priority = file_referral(teacher, urgency="priority")
    queue = api(triage_worker).get("/api/v1/queue/").json()["results"]
    assert [item["id"] for item in queue] == [urgent, priority, routine]


def test_accept_plan_two_timer_reviews_and_approved_closure(
    api, teacher, triage_worker, supervisor, psychologist, health_north, file_referral
):
    pk = file_referral(teacher)
    worker = api(triage_worker)
    assert worker.post(f"/api/v1/referrals/{pk}/claim/").json()["status"] == "in_triage"
    response = worker.post(
        f"/api/v1/referrals/{pk}/decision/",
        {"decision": "open_case", "risk_level": "high", "feedback": "We will contact you."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    case_id = response.json()["case"]["id"]
    case = Case.objects.get(pk=case_id)
    assert case.lead_worker == triage_worker and case.risk_level == "high"

    # The referrer sees the outcome and the contact person, never the case file.
    seen = api(teacher).get(f"/api/v1/referrals/{pk}/").json()
    assert seen["status"] == "case_opened"
    assert seen["feedback"] == "We will contact you."
    assert seen["feedback_sent_at"] is not None
    assert seen["contact_person"] == triage_worker.username
    assert "case" not in seen and "decision_reason" not in seen
    assert api(teacher).get(f"/api/v1/cases/{case_id}/").status_code == 404
    assert Notification.objects.filter(recipient=teacher, kind="feedback").count() == 1

    # The lead writes the plan; the review clock starts (4 weeks for high risk).
    response = worker.post(
        f"/api/v1/cases/{case_id}/plan/", {"objectives": "Regular meals"}, format="json"
    )
    assert response.status_code == 200, response.json()
    timer = CaseFlow.wait_review
    assert case.next_review_at - timezone.now() > datetime.timedelta(weeks=4) - datetime.timedelta(
        minutes=5
    )
    response = worker.post(
        f"/api/v1/cases/{case_id}/team/",
        {
            "user": psychologist.pk,
            "agency": health_north.pk,
            "role": "psychologist",
            "reason": "Assessment of the child's wellbeing",
            "legal_basis": "public_task",
            "basis_explanation": "Child-protection task",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    response = api(psychologist).post(
        f"/api/v1/cases/{case_id}/actions/",
        {
            "objective": "Psychological assessment",
            "owning_agency": health_north.pk,
            "owner": psychologist.pk,
            "due_date": "2030-01-31",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    action_id = response.json()["id"]

    # No review before the timer fires.
    review = {
        "risk_level": "medium",
        "decision": "continue",
        "attendees": "Team",
        "progress": {str(action_id): "First meeting held"},
    }
    response = api(psychologist).post(f"/api/v1/cases/{case_id}/reviews/", review, format="json")
    assert response.status_code == 409

    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(weeks=4, hours=1), tick=False):
        assert fire_due_timers() == 1
        assert api(psychologist).get(f"/api/v1/cases/{case_id}/").json()["review_due"] is True
        response = api(psychologist).post(
            f"/api/v1/cases/{case_id}/reviews/", review, format="json"
        )
        assert response.status_code == 201, response.json()
        case.refresh_from_db()
        # Medium risk now: the next review in 8 weeks.
        assert case.next_review_at > timezone.now() + datetime.timedelta(weeks=8) - (
            datetime.timedelta(minutes=1)
        )

    with time_machine.travel(start + datetime.timedelta(weeks=13), tick=False):
        assert fire_due_timers() == 1
        # A team member who is neither lead nor supervisor cannot close.
        assert api(psychologist).post(f"/api/v1/cases/{case_id}/close/").status_code == 403
        response = worker.post(
            f"/api/v1/cases/{case_id}/close/",
            {"reason": "Meals are regular now"},
            format="json",
        )
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "closure_requested"
        # The lead cannot approve their own proposal; the supervisor does.
        assert worker.post(f"/api/v1/cases/{case_id}/close/").status_code == 409
        response = api(supervisor).post(
            f"/api/v1/cases/{case_id}/close/", {"approve": True}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "closed"

    case.refresh_from_db()
    assert case.closure_approved_by == supervisor
    process = CaseFlow.process_class.objects.get(flow_class=CaseFlow, artifact_object_id=case.pk)
    assert process.status == "DONE"
    assert timer  # the timer node exists on the flow
    history = worker.get(f"/api/v1/cases/{case_id}/history/").json()["results"]
    case_rows = [row for row in history if row["object"] == "case"]
    assert reasons(case_rows) == [
        "casework.case.opened",
        "casework.case.reviewed",
        "casework.case.closure_requested",
        "casework.case.closed",
    ]
    assert case_rows[-1]["actor"] == supervisor.username
    assert {"field": "status", "old": "closure_requested", "new": "closed"} in (
        case_rows[-1]["changes"]
    )
    assert reasons(row for row in history if row["object"] == "review") == [
        "casework.review.recorded",
        "casework.review.recorded",
    ]
    assert Notification.objects.filter(recipient=teacher, kind="case_closed").count() == 1


def test_information_loop_twice_then_no_further_action(api, teacher, triage_worker, file_referral):
    pk = file_referral(teacher)
    worker, school = api(triage_worker), api(teacher)
    worker.post(f"/api/v1/referrals/{pk}/claim/")
    for round_ in (1, 2):
        response = worker.post(
            f"/api/v1/referrals/{pk}/decision/",
            {"decision": "request_information", "question": f"Question {round_}?"},
            format="json",
        )
        assert response.status_code == 200, response.json()
        seen = school.get(f"/api/v1/referrals/{pk}/").json()
        assert seen["status"] == "information_requested"
        assert seen["information_requests"][-1]["question"] == f"Question {round_}?"
        # Only the referrer answers.
        assert (
            worker.post(f"/api/v1/referrals/{pk}/information/", {"answer": "x"}).status_code == 403
        )
        response = school.post(f"/api/v1/referrals/{pk}/information/", {"answer": f"A{round_}"})
        assert response.status_code == 200, response.json()
        referral = Referral.objects.get(pk=pk)
        assert referral.status == "in_triage" and referral.claimed_by == triage_worker
    # Answering when nothing is asked is a conflict.
    assert (
        school.post(f"/api/v1/referrals/{pk}/information/", {"answer": "more"}).status_code == 409
    )
    response = worker.post(
        f"/api/v1/referrals/{pk}/decision/", {"decision": "no_further_action"}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    response = worker.post(
        f"/api/v1/referrals/{pk}/decision/",
        {"decision": "no_further_action", "reason": "School support is enough"},
        format="json",
    )
    assert response.status_code == 200
    assert school.get(f"/api/v1/referrals/{pk}/").json()["status"] == "no_further_action"
    assert InformationRequest.objects.filter(referral_id=pk, answered_at__isnull=False).count() == 2
    history = worker.get(f"/api/v1/referrals/{pk}/history/").json()["results"]
    referral_reasons = reasons(row for row in history if row["object"] == "referral")
    assert referral_reasons == [
        "casework.referral.drafted",
        "casework.referral.submitted",
        "casework.referral.claimed",
        "casework.referral.information_requested",
        "casework.referral.information_received",
        "casework.referral.information_requested",
        "casework.referral.information_received",
        "casework.referral.closed_no_action",
        "casework.referral.feedback_sent",
    ]
    process = ReferralFlow.process_class.objects.get(flow_class=ReferralFlow, artifact_object_id=pk)
    assert process.status == "DONE"


def test_redirect_to_a_service(api, teacher, triage_worker, service, file_referral):
    pk = file_referral(teacher)
    response = api(triage_worker).post(
        f"/api/v1/referrals/{pk}/decision/",
        {"decision": "redirect", "service": service.pk, "feedback": "Contact the family centre."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    seen = api(teacher).get(f"/api/v1/referrals/{pk}/").json()
    assert seen["status"] == "redirected"
    assert seen["redirected_to"] == service.name
    assert seen["feedback"] == "Contact the family centre."
    row = Referral.history.filter(id=pk).order_by("-history_id")[1]
    assert row.history_change_reason == "casework.referral.redirected"
    assert row.history_user == triage_worker


def test_escalation_records_who_when_why(api, teacher, triage_worker, supervisor, file_referral):
    pk = file_referral(teacher, urgency="urgent")
    response = api(triage_worker).post(
        f"/api/v1/referrals/{pk}/decision/",
        {"decision": "escalate", "target": "juvenile_court", "reason": "Suspected abuse"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "escalated" and body["escalated_to"] == "juvenile_court"
    assert body["decided_by"] == triage_worker.username and body["decided_at"]
    assert body["decision_reason"] == "Suspected abuse"
    assert Notification.objects.filter(recipient=supervisor, kind="escalation").exists()
    assert api(teacher).get(f"/api/v1/referrals/{pk}/").json()["status"] == "escalated"


def test_escalation_needs_a_target_and_a_reason(api, teacher, triage_worker, file_referral):
    pk = file_referral(teacher)
    response = api(triage_worker).post(
        f"/api/v1/referrals/{pk}/decision/", {"decision": "escalate"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"target", "reason"}
    assert Referral.objects.get(pk=pk).status == "submitted"


def test_second_referral_for_a_child_with_an_open_case_is_linked(
    api, teacher, other_teacher, triage_worker, file_referral
):
    first = file_referral(teacher)
    worker = api(triage_worker)
    case_id = worker.post(
        f"/api/v1/referrals/{first}/decision/", {"decision": "open_case"}, format="json"
    ).json()["case"]["id"]
    second = file_referral(other_teacher, observations="Absent for two weeks.")
    # The triage team is shown the child it knows, with what matched and the open case ...
    matches = worker.get(f"/api/v1/referrals/{second}/matches/").json()
    assert len(matches) == 1
    known = Referral.objects.get(pk=first).child
    assert matches[0]["child"]["id"] == known.pk
    assert matches[0]["matched"] == ["first_name", "last_name", "date_of_birth"]
    assert [c["id"] for c in matches[0]["cases"]] == [case_id]
    assert [r["id"] for r in matches[0]["referrals"]] == [first]
    # ... a case is not opened blind while the identity is unsettled ...
    refused = worker.post(
        f"/api/v1/referrals/{second}/decision/", {"decision": "open_case"}, format="json"
    )
    assert refused.status_code == 400
    assert "child" in refused.json()
    assert Referral.objects.get(pk=second).status == Referral.Status.SUBMITTED
    # ... the worker links it, and "open a case" links the referral to the open case.
    linked = worker.post(
        f"/api/v1/referrals/{second}/child/link/", {"child": known.pk}, format="json"
    )
    assert linked.status_code == 200, linked.json()
    assert linked.json()["child"]["same_as"] == known.pk
    response = worker.post(
        f"/api/v1/referrals/{second}/decision/", {"decision": "open_case"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "linked"
    assert response.json()["case"]["id"] == case_id
    assert Case.objects.count() == 1
    typed = Referral.objects.get(pk=second).child
    assert typed.pk != known.pk and typed.same_as_id == known.pk
    assert sorted(worker.get(f"/api/v1/cases/{case_id}/").json()["referrals"]) == [first, second]


def test_school_referent_validates_before_triage(
    api, validating_school, triage_worker, file_referral
):
    from casework import services

    teacher = services.membership_create(
        actor=None,
        user=__import__("tests.factories", fromlist=["UserFactory"]).UserFactory(username="t2"),
        agency=validating_school,
        role="teacher",
    ).user
    referent = services.membership_create(
        actor=None,
        user=__import__("tests.factories", fromlist=["UserFactory"]).UserFactory(username="r2"),
        agency=validating_school,
        role="school_referent",
    ).user
    pk = file_referral(teacher)
    assert Referral.objects.get(pk=pk).status == "awaiting_validation"
    assert api(triage_worker).get(f"/api/v1/referrals/{pk}/").status_code == 404
    assert api(teacher).post(f"/api/v1/referrals/{pk}/validate/").status_code == 403
    response = api(referent).post(f"/api/v1/referrals/{pk}/validate/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    assert api(triage_worker).get(f"/api/v1/referrals/{pk}/").status_code == 200


def test_immediate_danger_alerts_on_duty_and_shows_the_emergency_number(
    api, teacher, triage_worker, supervisor, north, file_referral
):
    north.on_duty_user = triage_worker
    north.on_duty_phone = "+39 0000 111"
    north.save()
    client = api(teacher)
    created = client.post(
        "/api/v1/referrals/",
        {
            "child": {"first_name": "Ada", "last_name": "Neri", "date_of_birth": "2015-01-01"},
            "concern_categories": ["physical"],
            "observations": "Bruises, afraid to go home",
            "urgency": "immediate_danger",
            "family_informed": False,
        },
        format="json",
    ).json()
    body = client.post(f"/api/v1/referrals/{created['id']}/submit/").json()
    assert body["emergency"]["emergency_number"] == "112"
    assert "112" in body["emergency"]["message"]
    assert body["emergency"]["on_duty_phone"] == "+39 0000 111"
    alerted = set(
        Notification.objects.filter(kind="immediate_danger").values_list("recipient", flat=True)
    )
    assert alerted == {triage_worker.pk, supervisor.pk}
    referral = Referral.objects.get(pk=created["id"])
    assert referral.triage_due_at - referral.submitted_at == datetime.timedelta(hours=8)


def test_incomplete_form_cannot_be_submitted(api, teacher):
    client = api(teacher)
    pk = client.post(
        "/api/v1/referrals/",
        {"child": {"first_name": "Ada", "last_name": "Neri", "date_of_birth": "2015-01-01"}},
        format="json",
    ).json()["id"]
    response = client.post(f"/api/v1/referrals/{pk}/submit/")
    assert response.status_code == 400
    assert set(response.json()) == {"concern_categories", "observations", "family_informed"}
    assert Referral.objects.get(pk=pk).status == "draft"
    assert not ReferralFlow.process_class.objects.filter(flow_class=ReferralFlow).exists()


def test_bad_field_values_answer_400_with_field_messages(api, teacher):
    response = api(teacher).post(
        "/api/v1/referrals/",
        {"child": {"first_name": "Ada"}, "urgency": "tomorrow", "concern_categories": ["x"]},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert {"child", "urgency", "concern_categories"} <= set(body)
    assert "last_name" in body["child"]
    assert not Referral.objects.exists()


def test_draft_changes_until_submitted_then_conflict(api, teacher, file_referral):
    pk = file_referral(teacher, submit=False)
    client = api(teacher)
    response = client.patch(f"/api/v1/referrals/{pk}/", {"observations": "More"}, format="json")
    assert response.status_code == 200
    assert response.json()["observations"] == "More"
    assert client.post(f"/api/v1/referrals/{pk}/submit/").status_code == 200
    response = client.patch(f"/api/v1/referrals/{pk}/", {"observations": "Late"}, format="json")
    assert response.status_code == 409
    # Submitting again is safe for the author: the current state, nothing changed.
    response = client.post(f"/api/v1/referrals/{pk}/submit/")
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert Referral.objects.get(pk=pk).observations == "More"


def test_transitions_not_allowed_in_the_state_answer_409_and_change_nothing(
    api, teacher, triage_worker, file_referral
):
    from casework import services
    from casework.models import District
    from tests.factories import UserFactory

    colleague = services.membership_create(
        actor=None,
        user=UserFactory(username="colleague"),
        agency=triage_worker.memberships.get().agency,
        role="social_worker",
    ).user
    assert District.objects.count() >= 1
    pk = file_referral(teacher)
    worker = api(triage_worker)
    assert worker.post(f"/api/v1/referrals/{pk}/claim/").status_code == 200
    # Claimed by someone else: the colleague can neither claim nor decide.
    assert api(colleague).post(f"/api/v1/referrals/{pk}/claim/").status_code == 409
    response = api(colleague).post(
        f"/api/v1/referrals/{pk}/decision/",
        {"decision": "no_further_action", "reason": "x"},
        format="json",
    )
    assert response.status_code == 409
    rows = Referral.history.filter(id=pk).count()
    worker.post(
        f"/api/v1/referrals/{pk}/decision/",
        {"decision": "no_further_action", "reason": "Fine"},
        format="json",
    )
    assert worker.post(f"/api/v1/referrals/{pk}/claim/").status_code == 409
    assert worker.post(f"/api/v1/referrals/{pk}/release/").status_code == 409
    assert Referral.history.filter(id=pk).count() == rows + 2  # decision + feedback, no more


def test_release_puts_the_referral_back_in_the_queue(api, teacher, triage_worker, file_referral):
    pk = file_referral(teacher)
    worker = api(triage_worker)
    worker.post(f"/api/v1/referrals/{pk}/claim/")
    response = worker.post(f"/api/v1/referrals/{pk}/release/")
    assert response.status_code == 200
    assert response.json()["status"] == "submitted" and response.json()["claimed_by"] is None
    task = ReferralFlow.process_class.objects.get(artifact_object_id=pk).task_set.get(
        flow_task=ReferralFlow.triage
    )
    assert task.status == STATUS.NEW and task.owner is None


def test_deciding_an_unclaimed_referral_claims_it_and_starts_the_case_process(
    api, teacher, triage_worker, file_referral
):
    pk = file_referral(teacher)
    response = api(triage_worker).post(
        f"/api/v1/referrals/{pk}/decision/", {"decision": "open_case"}, format="json"
    )
    assert response.status_code == 200, response.json()
    case_id = response.json()["case"]["id"]
    assert Referral.objects.get(pk=pk).claimed_by == triage_worker
    process = CaseFlow.process_class.objects.get(flow_class=CaseFlow, artifact_object_id=case_id)
    assert process.task_set.filter(flow_task=CaseFlow.plan, status=STATUS.NEW).exists()


def test_referral_list_queries_do_not_grow_with_the_list(
    api, teacher, triage_worker, file_referral
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(user):
        client = api(user)
        client.get("/api/v1/referrals/")
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/referrals/")
        return len(queries), len(response.json()["results"])

    for _ in range(2):
        file_referral(teacher, child={**CHILD_TEMPLATE, "first_name": f"A{_}"})
    small = {user.username: count(user) for user in (teacher, triage_worker)}
    for _ in range(2, 12):
        file_referral(teacher, child={**CHILD_TEMPLATE, "first_name": f"A{_}"})
    large = {user.username: count(user) for user in (teacher, triage_worker)}
    for name in small:
        assert large[name][1] == 12 and small[name][1] == 2
        assert large[name][0] == small[name][0], name
        # Session, user, the scopes, the page, the read log (docs/performance.md).
        assert large[name][0] <= 8, (name, large[name][0])


def test_the_referral_list_is_light_and_pages_without_counting(api, teacher, file_referral):
    """The list carries the summary; the long texts are in the detail. No count of every
    visible referral: the next page is a cursor."""
    pk = file_referral(teacher)
    body = api(teacher).get("/api/v1/referrals/").json()
    assert "count" not in body and body["next"] is None
    (item,) = body["results"]
    assert item["id"] == pk and item["child"] == {"first_name": "Luca", "last_name": "Bruno"}
    assert "observations" not in item and "information_requests" not in item
    assert "observations" in api(teacher).get(f"/api/v1/referrals/{pk}/").json()


def test_the_referral_list_pages_by_cursor_without_gaps_or_repeats(
    api, teacher, file_referral, monkeypatch
):
    from casework.api.referrals import NewestFirst

    monkeypatch.setattr(NewestFirst, "page_size", 2)
    filed = [
        file_referral(teacher, child={**CHILD_TEMPLATE, "first_name": f"P{n}"}) for n in range(5)
    ]
    client, url, seen, pages = api(teacher), "/api/v1/referrals/", [], 0
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 2
        seen += [item["id"] for item in body["results"]]
        url, pages = body["next"], pages + 1
    assert seen == sorted(filed, reverse=True) and pages == 3
    response = client.get("/api/v1/referrals/", {"cursor": "not-a-cursor"})
    assert response.status_code == 400 and "cursor" in response.json()
