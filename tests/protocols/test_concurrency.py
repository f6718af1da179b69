"""Two triage workers acting on the same referral at the same instant: exactly one wins.

Real concurrency needs real row locks, so these tests run on PostgreSQL only: each worker is a
thread with its own database connection, and a barrier releases both requests together.
"""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from rest_framework.test import APIClient
from viewflow.workflow import STATUS

from casework import services
from casework.models import Case, Membership, Referral
from protocols.flows import ReferralFlow
from tests.protocols.conftest import CHILD

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite has no row locks (SELECT ... FOR UPDATE is a no-op) "
        "and serialises writers, so a race between two connections proves nothing there",
    ),
    pytest.mark.django_db(transaction=True),
]

ROUNDS = 20

DECISION_REASONS = {
    "casework.referral.case_opened",
    "casework.referral.linked_to_case",
    "casework.referral.redirected",
    "casework.referral.closed_no_action",
    "casework.referral.escalated",
    "casework.referral.information_requested",
}

DECISIONS = {
    "no_further_action": (
        {"decision": "no_further_action", "reason": "School support is enough"},
        Referral.Status.NO_FURTHER_ACTION,
    ),
    "open_case": (
        {"decision": "open_case", "risk_level": "medium", "feedback": "We will call you."},
        Referral.Status.CASE_OPENED,
    ),
}


@pytest.fixture
def second_worker(triage_worker):
    """Another social worker of the North triage team."""
    user = get_user_model().objects.create_user(username="as_north_2", password="pw")
    return services.membership_create(
        actor=None,
        user=user,
        agency=triage_worker.memberships.get().agency,
        role=Membership.Role.SOCIAL_WORKER,
    ).user


def race(*requests):
    """Send the (user, path, payload) requests at once, one thread and one connection each;
    → [(status code, body)] in the order given."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index, user_pk, path, payload):
        try:
            client = APIClient()
            # A fresh user per thread: no permission cache shared between the racers.
            client.force_authenticate(get_user_model().objects.get(pk=user_pk))
            barrier.wait(timeout=10)
            response = client.post(path, payload, format="json")
            results[index] = (response.status_code, response.json())
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            results[index] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, user.pk, path, payload))
        for index, (user, path, payload) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def referral_reasons(pk):
    return list(
        Referral.history.filter(id=pk)
        .order_by("history_id")
        .values_list("history_change_reason", flat=True)
    )


def new_referral(file_referral, teacher, round_):
    """A submitted, unclaimed referral for a child of its own (so open_case never links)."""
    return file_referral(
        teacher, child={**CHILD, "first_name": f"Racer{round_}", "last_name": f"Round{round_}"}
    )


# Round by round: both close with no action, or one opens a case while the other closes it
# with no action; who sends which alternates, so that either may be the faster one.
PAIRS = [
    ("no_further_action", "no_further_action"),
    ("open_case", "no_further_action"),
    ("no_further_action", "no_further_action"),
    ("no_further_action", "open_case"),
]


def test_two_workers_deciding_at_once_exactly_one_wins(
    teacher, triage_worker, second_worker, file_referral
):
    workers = [triage_worker, second_worker]
    for round_ in range(ROUNDS):
        decisions = PAIRS[round_ % len(PAIRS)]
        pk = new_referral(file_referral, teacher, round_)
        assert Referral.objects.get(pk=pk).claimed_by is None
        path = f"/api/v1/referrals/{pk}/decision/"
        results = race(
            *[
                (worker, path, DECISIONS[decision][0])
                for worker, decision in zip(workers, decisions, strict=True)
            ]
        )
        codes = sorted(code for code, _body in results)
        assert codes == [200, 409], (round_, results)
        winner_index = [code for code, _body in results].index(200)
        winner, decision = workers[winner_index], decisions[winner_index]

        referral = Referral.objects.get(pk=pk)
        assert referral.status == DECISIONS[decision][1], (round_, referral.status)
        assert referral.decided_by == winner and referral.claimed_by == winner
        reasons = referral_reasons(pk)
        assert len([r for r in reasons if r in DECISION_REASONS]) == 1, (round_, reasons)
        assert reasons.count("casework.referral.claimed") == 1, (round_, reasons)
        assert reasons.count("casework.referral.feedback_sent") == 1, (round_, reasons)
        assert Case.objects.filter(referrals=pk).count() == (decision == "open_case")
        process = ReferralFlow.process_class.objects.get(
            flow_class=ReferralFlow, artifact_object_id=pk
        )
        assert process.status == STATUS.DONE, (round_, process.status)


def test_two_workers_claiming_at_once_exactly_one_wins(
    teacher, triage_worker, second_worker, file_referral
):
    workers = [triage_worker, second_worker]
    for round_ in range(ROUNDS):
        pk = new_referral(file_referral, teacher, round_)
        path = f"/api/v1/referrals/{pk}/claim/"
        results = race(*[(worker, path, None) for worker in workers])
        codes = [code for code, _body in results]
        assert sorted(codes) == [200, 409], (round_, results)
        winner = workers[codes.index(200)]

        referral = Referral.objects.get(pk=pk)
        assert referral.status == Referral.Status.IN_TRIAGE
        assert referral.claimed_by == winner, (round_, referral.claimed_by, results)
        assert results[codes.index(200)][1]["claimed_by"] == winner.username
        assert referral_reasons(pk).count("casework.referral.claimed") == 1
        task = ReferralFlow.process_class.objects.get(
            flow_class=ReferralFlow, artifact_object_id=pk
        ).task_set.get(flow_task=ReferralFlow.triage)
        assert task.status == STATUS.ASSIGNED and task.owner == winner, (round_, task.status)
