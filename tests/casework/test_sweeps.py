"""The beat sweeps: triage, information requests, reviews and actions past their deadline.

Time is frozen with time_machine. Every sweep is run twice in a row, and twice at once (two
database sessions, on PostgreSQL): each reminder is written once.
"""

import datetime
import threading
import time

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from viewflow.workflow.timers import fire_due_timers

from casework import services
from casework.locks import (
    ACTIONS_LOCK,
    INFORMATION_LOCK,
    OUTBOX_LOCK,
    REVIEWS_LOCK,
    TIMERS_LOCK,
    TRIAGE_LOCK,
    single_sweeper,
)
from casework.models import Action, Case, Membership, Notification, Referral
from casework.tasks import (
    remind_overdue_actions,
    remind_overdue_information_requests,
    remind_overdue_triage,
    remind_reviews,
    requeue_undelivered_notifications,
)
from protocols.tasks import fire_timers
from tests.conftest import protocol
from tests.factories import UserFactory

# 09:00 in Rome. Kept in UTC so that adding weeks is exact across a change of summer time.
# Bringing in another agency shares the file: on a legal basis (services.consent).
SHARED = {"legal_basis": "public_task", "basis_explanation": "Child-protection task"}
START = datetime.datetime(2030, 3, 4, 8, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
Kind = Notification.Kind

FORM = {
    "concern_categories": ["neglect"],
    "observations": "Often hungry in the morning.",
    "family_informed": True,
    "urgency": "priority",
}

SUBMIT = protocol("referral.submit")
CLAIM = protocol("referral.claim")
ASK = protocol("referral.decide", decision="request_information")
CLOSE_NO_ACTION = protocol("referral.decide", decision="no_further_action")
OPEN_CASE = protocol("referral.decide", decision="open_case")
ANSWER = protocol("referral.answer")
PLAN = protocol("case.plan")
REVIEW = protocol("case.review")
DECIDE_CLOSURE = protocol("case.decide_closure")

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two sweepers at once need two database sessions on PostgreSQL; SQLite is the "
    "one-process embedded mode (set DATABASE_URL=postgres://… to run this)",
)


def at(moment, fn, *args, **kwargs):
    with time_machine.travel(moment, tick=False):
        return fn(*args, **kwargs)


def submitted(teacher, child, **form) -> Referral:
    referral = services.referral_create_draft(actor=teacher, child=child, **{**FORM, **form})
    return SUBMIT(actor=teacher, referral=referral)


def open_case(teacher, child, lead, risk_level="high") -> Case:
    referral = submitted(teacher, child)
    CLAIM(actor=lead, referral=referral)
    case = OPEN_CASE(actor=lead, referral=referral, risk_level=risk_level)
    PLAN(actor=lead, case=case, objectives="Regular meals")
    return case


def review(*, actor, case, **fields):
    """The beat sweep opens the due review (its timer fires), then the team records it."""
    fire_due_timers()
    return REVIEW(actor=actor, case=case, **fields)


def recipients(kind, **about) -> list[str]:
    return sorted(
        Notification.objects.filter(kind=kind, **about).values_list(
            "recipient__username", flat=True
        )
    )


# --- triage --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_triage_reminds_the_team_once_then_escalates_to_the_supervisors(
    teacher, child, triage_worker, supervisor, outsider
):
    referral = at(START, submitted, teacher, child, urgency="priority")
    due = referral.triage_due_at
    assert due == START + 5 * DAY

    assert at(due - HOUR, remind_overdue_triage) == 0
    assert at(due + HOUR, remind_overdue_triage) == 1
    assert recipients(Kind.REMINDER, referral=referral) == [triage_worker.username]
    assert recipients(Kind.ESCALATION) == []
    # The next runs find the same overdue referral and write nothing more.
    assert at(due + 2 * HOUR, remind_overdue_triage) == 0
    assert at(due + 23 * HOUR, remind_overdue_triage) == 0
    assert recipients(Kind.ESCALATION) == []

    # Past the grace period (CASEWORK_ESCALATION_GRACE_HOURS = 24): the supervisors.
    assert at(due + 24 * HOUR + datetime.timedelta(minutes=5), remind_overdue_triage) == 1
    assert recipients(Kind.ESCALATION, referral=referral) == [supervisor.username]
    assert at(due + 3 * DAY, remind_overdue_triage) == 0
    assert recipients(Kind.REMINDER) == [triage_worker.username]
    assert outsider.username not in recipients(Kind.REMINDER) + recipients(Kind.ESCALATION)


@pytest.mark.django_db
def test_escalation_grace_is_a_setting(settings, teacher, child, triage_worker, supervisor):
    settings.CASEWORK_ESCALATION_GRACE_HOURS = 2
    referral = at(START, submitted, teacher, child)
    assert at(referral.triage_due_at + 3 * HOUR, remind_overdue_triage) == 2
    assert recipients(Kind.ESCALATION, referral=referral) == [supervisor.username]


@pytest.mark.django_db
def test_immediate_danger_past_its_deadline_escalates_at_once(
    teacher, child, triage_worker, supervisor
):
    referral = at(START, submitted, teacher, child, urgency="immediate_danger")
    assert referral.triage_due_at == START + 8 * HOUR
    assert at(START + 7 * HOUR, remind_overdue_triage) == 0
    assert at(START + 8 * HOUR + datetime.timedelta(minutes=1), remind_overdue_triage) == 2
    assert recipients(Kind.REMINDER, referral=referral) == [triage_worker.username]
    assert recipients(Kind.ESCALATION, referral=referral) == [supervisor.username]


@pytest.mark.django_db
def test_claimed_referral_reminds_its_claimer_and_decided_or_waiting_ones_are_left_alone(
    teacher, child, triage_worker, supervisor
):
    claimed = at(START, submitted, teacher, child)
    at(START, CLAIM, actor=supervisor, referral=claimed)
    waiting = at(START, submitted, teacher, child)
    at(START, CLAIM, actor=triage_worker, referral=waiting)
    at(START, ASK, actor=triage_worker, referral=waiting,
       question="Since when?")  # fmt: skip
    closed = at(START, submitted, teacher, child)
    at(START, CLAIM, actor=triage_worker, referral=closed)
    at(START, CLOSE_NO_ACTION, actor=triage_worker, referral=closed,
       reason="Handled by the school", feedback="Thank you")  # fmt: skip

    assert at(START + 5 * DAY + HOUR, remind_overdue_triage) == 2
    assert recipients(Kind.REMINDER, referral=claimed) == sorted(
        [triage_worker.username, supervisor.username]
    )
    assert recipients(Kind.REMINDER, referral=waiting) == []
    assert recipients(Kind.REMINDER, referral=closed) == []


@pytest.mark.django_db
def test_a_new_triage_deadline_gets_its_own_reminder(teacher, child, triage_worker):
    referral = at(START, submitted, teacher, child)
    at(START, CLAIM, actor=triage_worker, referral=referral)
    assert at(START + 6 * DAY, remind_overdue_triage) == 1
    at(START + 6 * DAY, ASK, actor=triage_worker,
       referral=referral, question="Since when?")  # fmt: skip
    # The answer restarts the triage clock: a new deadline, a new reminder when it passes.
    referral = at(START + 7 * DAY, ANSWER, actor=teacher,
                  referral=referral, answer="Since September")  # fmt: skip
    assert referral.triage_due_at == START + 12 * DAY
    assert at(START + 11 * DAY, remind_overdue_triage) == 0
    assert at(START + 12 * DAY + HOUR, remind_overdue_triage) == 1
    assert recipients(Kind.REMINDER, referral=referral) == [triage_worker.username] * 2


@pytest.mark.django_db(transaction=True)
def test_a_reminder_is_e_mailed_with_a_link_and_nothing_about_the_child(
    teacher, child, triage_worker
):
    referral = at(START, submitted, teacher, child)
    mail.outbox.clear()  # the submission's own notification
    assert at(referral.triage_due_at + HOUR, remind_overdue_triage) == 1
    [message] = mail.outbox
    assert message.to == [triage_worker.email]
    assert "/casework/notifications/" in message.body
    for private in ("Luca", "Bruno", "2016", "hungry", referral.child.school.name):
        assert private not in message.subject + message.body
    assert Notification.objects.get(kind=Kind.REMINDER).emailed_at is not None


# --- information requests ------------------------------------------------------------------


@pytest.mark.django_db
def test_unanswered_information_request_reminds_the_referrer_once(teacher, child, triage_worker):
    referral = at(START, submitted, teacher, child)
    at(START, CLAIM, actor=triage_worker, referral=referral)
    request = at(START, ASK, actor=triage_worker,
                 referral=referral, question="Since when?")  # fmt: skip
    assert request.due_at == START + 10 * DAY

    assert at(request.due_at - HOUR, remind_overdue_information_requests) == 0
    assert at(request.due_at + HOUR, remind_overdue_information_requests) == 1
    assert at(request.due_at + 2 * HOUR, remind_overdue_information_requests) == 0
    assert recipients(Kind.REMINDER, referral=referral) == [teacher.username]

    # Answered: nothing more, however late.
    at(request.due_at + DAY, ANSWER, actor=teacher,
       referral=referral, answer="Since September")  # fmt: skip
    assert at(request.due_at + 30 * DAY, remind_overdue_information_requests) == 0


# --- reviews -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_review_due_soon_reminds_the_active_team_then_overdue_goes_to_the_supervisors(
    teacher, child, triage_worker, supervisor, psychologist, health_north
):
    case = at(START, open_case, teacher, child, triage_worker, risk_level="high")
    review_at = case.next_review_at
    assert review_at == START + datetime.timedelta(weeks=4)

    def join(user, **extra):
        return at(START, services.case_add_member, actor=triage_worker, case=case, user=user,
                  agency=health_north, role="psychologist", reason="Assessment",
                  **SHARED, **extra)  # fmt: skip

    # On the team: the lead and the psychologist. Off it: one who left, one whose access ended.
    join(psychologist)
    left = join(_colleague("psy_left", health_north))
    at(START + DAY, services.case_remove_member, actor=triage_worker, member=left)
    join(_colleague("psy_ended", health_north), valid_until=(review_at - 3 * DAY).date())

    assert at(review_at - 4 * DAY, remind_reviews) == 0
    assert at(review_at - 2 * DAY, remind_reviews) == 2
    assert recipients(Kind.REVIEW_DUE, case=case) == sorted(
        [triage_worker.username, psychologist.username]
    )
    assert at(review_at - DAY, remind_reviews) == 0
    assert at(review_at + 23 * HOUR, remind_reviews) == 0
    assert recipients(Kind.ESCALATION) == []

    # More than a day late and no review recorded: the district supervisors.
    assert at(review_at + 25 * HOUR, remind_reviews) == 1
    assert recipients(Kind.ESCALATION, case=case) == [supervisor.username]
    assert at(review_at + 5 * DAY, remind_reviews) == 0


def _colleague(username, agency):
    user = UserFactory(username=username)
    services.membership_create(
        actor=None, user=user, agency=agency, role=Membership.Role.PSYCHOLOGIST
    )
    return user


@pytest.mark.django_db
def test_a_recorded_review_moves_the_reminder_to_the_next_review(
    teacher, child, triage_worker, supervisor
):
    case = at(START, open_case, teacher, child, triage_worker, risk_level="high")
    first = case.next_review_at
    assert at(first - DAY, remind_reviews) == 1
    at(first + HOUR, review, actor=triage_worker, case=case,
       risk_level="medium", decision="continue")  # fmt: skip
    case.refresh_from_db()
    assert case.next_review_at == first + HOUR + datetime.timedelta(weeks=8)
    # The old date is done with: no escalation for it, however late the sweep runs.
    assert at(first + 3 * DAY, remind_reviews) == 0
    assert at(case.next_review_at - DAY, remind_reviews) == 1
    assert recipients(Kind.REVIEW_DUE, case=case) == [triage_worker.username] * 2
    assert recipients(Kind.ESCALATION) == []


@pytest.mark.django_db
def test_no_review_reminder_for_a_case_awaiting_closure_or_closed(
    teacher, child, triage_worker, supervisor
):
    case = at(START, open_case, teacher, child, triage_worker, risk_level="high")
    at(case.next_review_at, review, actor=triage_worker, case=case,
       risk_level="low", decision="close", notes="Meals are regular")  # fmt: skip
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSURE_REQUESTED
    assert at(START + 30 * DAY, remind_reviews) == 0
    at(START + 30 * DAY, DECIDE_CLOSURE, actor=supervisor, case=case,
       approve=True)  # fmt: skip
    assert at(START + 60 * DAY, remind_reviews) == 0


# --- actions -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_action_reminds_its_owner_once(
    teacher, child, triage_worker, psychologist, health_north
):
    case = at(START, open_case, teacher, child, triage_worker)
    at(START, services.case_add_member, actor=triage_worker, case=case, user=psychologist,
       agency=health_north, role="psychologist", reason="Assessment",
       **SHARED)  # fmt: skip
    due = START.date() + datetime.timedelta(days=7)

    def action(owner, status=Action.Status.PLANNED):
        made = at(START, services.case_add_action, actor=triage_worker, case=case,
                  objective="Assessment", owning_agency=health_north, owner=owner,
                  due_date=due)  # fmt: skip
        if status != Action.Status.PLANNED:
            at(START, services.action_update, actor=triage_worker, action=made, status=status)
        return made

    overdue = action(psychologist)
    action(psychologist, Action.Status.DONE)
    action(psychologist, Action.Status.DROPPED)
    action(None)  # owned by the agency only: nobody to remind by name
    started = action(psychologist, Action.Status.IN_PROGRESS)

    assert at(START + 7 * DAY, remind_overdue_actions) == 0  # due today is not overdue
    assert at(START + 8 * DAY, remind_overdue_actions) == 2
    assert at(START + 9 * DAY, remind_overdue_actions) == 0
    reminded = Notification.objects.filter(kind=Kind.REMINDER, recipient=psychologist)
    assert {n.dedup_key.split(":")[1] for n in reminded} == {str(overdue.pk), str(started.pk)}
    assert all(n.case == case for n in reminded)


# --- twice in a row, twice at once: every sweep ------------------------------------------


SWEEPS = ["triage", "information", "reviews", "actions"]


def _scenario(name, request):
    """One overdue item for the sweep `name`: (service, task, moment, rows it must write)."""
    teacher = request.getfixturevalue("teacher")
    child = request.getfixturevalue("child")
    worker = request.getfixturevalue("triage_worker")
    request.getfixturevalue("supervisor")
    if name == "triage":
        referral = at(START, submitted, teacher, child)
        moment = referral.triage_due_at + 25 * HOUR  # reminder and escalation
        return services.triage_remind_overdue, remind_overdue_triage, moment, 2
    if name == "information":
        referral = at(START, submitted, teacher, child)
        at(START, CLAIM, actor=worker, referral=referral)
        at(START, ASK, actor=worker, referral=referral,
           question="Since when?")  # fmt: skip
        moment = START + 11 * DAY
        return (
            services.information_requests_remind_overdue,
            remind_overdue_information_requests,
            moment,
            1,
        )
    case = at(START, open_case, teacher, child, worker)
    if name == "reviews":
        moment = case.next_review_at + 2 * DAY  # reminder and escalation
        return services.reviews_remind_due, remind_reviews, moment, 2
    health = request.getfixturevalue("health_north")
    psychologist = request.getfixturevalue("psychologist")
    at(START, services.case_add_member, actor=worker, case=case, user=psychologist,
       agency=health, role="psychologist", reason="Assessment",
       **SHARED)  # fmt: skip
    at(START, services.case_add_action, actor=worker, case=case, objective="Assessment",
       owning_agency=health, owner=psychologist, due_date=START.date())  # fmt: skip
    return services.actions_remind_overdue, remind_overdue_actions, START + 2 * DAY, 1


def _reminders():
    return Notification.objects.filter(kind__in=[Kind.REMINDER, Kind.ESCALATION, Kind.REVIEW_DUE])


@pytest.mark.django_db
@pytest.mark.parametrize("name", SWEEPS)
def test_each_sweep_run_twice_in_a_row_reminds_once(name, request):
    _service, task, moment, expected = _scenario(name, request)
    assert at(moment, task) == expected
    assert at(moment, task) == 0
    assert at(moment + DAY, task) == 0
    assert _reminders().count() == expected


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        # Statistics are read once per transaction unless the snapshot is dropped.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", SWEEPS)
def test_each_sweep_run_twice_at_once_reminds_once(name, request):
    """Sweeper A has written its reminders and not committed yet when sweeper B, in another
    session, finds the same overdue items: B's inserts wait on A's dedup keys, and once A
    commits B writes nothing."""
    service, _task, moment, expected = _scenario(name, request)
    outcome = {}

    def sweeper_b():
        try:
            outcome["b"] = service(now=moment)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["b"] = exc
        finally:
            connection.close()

    b = threading.Thread(target=sweeper_b)
    with transaction.atomic():
        outcome["a"] = service(now=moment)
        b.start()
        deadline = time.monotonic() + 30
        while not _waiting_on_a_lock():
            assert b.is_alive(), f"sweeper B did not wait for A: {outcome.get('b')!r}"
            assert time.monotonic() < deadline, "sweeper B never reached A's reminders"
            b.join(0.02)
    b.join(30)
    assert not b.is_alive()
    assert outcome == {"a": expected, "b": 0}
    rows = list(_reminders().values_list("dedup_key", flat=True))
    assert len(rows) == expected == len(set(rows))


@needs_postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("task", "lock"),
    [
        (remind_overdue_triage, TRIAGE_LOCK),
        (remind_overdue_information_requests, INFORMATION_LOCK),
        (remind_reviews, REVIEWS_LOCK),
        (remind_overdue_actions, ACTIONS_LOCK),
        (requeue_undelivered_notifications, OUTBOX_LOCK),
        (fire_timers, TIMERS_LOCK),
    ],
    ids=["triage", "information", "reviews", "actions", "outbox", "timers"],
)
def test_a_second_sweeper_skips_while_another_machine_sweeps(task, lock, caplog):
    holding, done = threading.Event(), threading.Event()

    def other_machine():
        try:
            with single_sweeper(lock) as mine:
                assert mine
                holding.set()
                done.wait(30)
        finally:
            connection.close()

    other = threading.Thread(target=other_machine)
    other.start()
    try:
        assert holding.wait(30)
        with caplog.at_level("INFO"):
            assert task() == 0
        assert "skipped: another sweeper is running" in caplog.text
    finally:
        done.set()
        other.join(30)
    with single_sweeper(lock) as mine:
        assert mine  # released when the other sweeper finished


def test_the_sweep_command_runs_every_sweep_once(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sweep", stdout=out)
    assert "timers: 0" in out.getvalue() and "outbox: 0" in out.getvalue()


# --- the cost of a sweep: decided in SQL, bounded ------------------------------------------


def _another_child(teacher, child, n):
    return services.child_create(
        actor=teacher, first_name=f"Child{n}", last_name=f"Bruno{n}", date_of_birth="2016-03-02",
        district=child.district, school=child.school, school_class="4B", guardians=[],
    )  # fmt: skip


def _sweep_statements(moment) -> int:
    """Every sweep once at `moment`, when all there was to do is done (the timers fired, the
    reminders written and e-mailed): the statements of the run."""
    from django.test.utils import CaptureQueriesContext

    from casework.tasks import run_sweeps

    at(moment, run_sweeps)
    Notification.objects.update(emailed_at=moment)
    with CaptureQueriesContext(connection) as queries, time_machine.travel(moment, tick=False):
        results = run_sweeps()
    assert results["reviews"] == results["triage"] == results["actions"] == 0, results
    return len(queries)


@pytest.mark.django_db
def test_a_sweep_with_nothing_due_costs_the_same_few_statements_however_many_cases(
    teacher, child, triage_worker, supervisor
):
    """Every case overdue and already reminded: nothing is due, and the sweeps find that in
    SQL (one query each), not case by case (they used to cost two statements per case)."""
    cases = [at(START, open_case, teacher, child, triage_worker)]
    moment = cases[0].next_review_at + 3 * DAY
    assert at(moment, remind_reviews) == 2  # the team, then the supervisors
    few = _sweep_statements(moment + HOUR)
    for n in range(3):
        cases.append(
            at(START, open_case, teacher, _another_child(teacher, child, n), triage_worker)
        )
    assert at(moment, remind_reviews) == 6
    many = _sweep_statements(moment + HOUR)
    assert many == few and many <= 50, (few, many)


@pytest.mark.django_db
def test_a_backlog_is_caught_up_in_bounded_batches(
    monkeypatch, teacher, child, triage_worker, supervisor
):
    from casework.services import reminders

    monkeypatch.setattr(reminders, "SWEEP_BATCH", 2)
    cases = [
        at(START, open_case, teacher, _another_child(teacher, child, n), triage_worker)
        for n in range(3)
    ]
    moment = max(case.next_review_at for case in cases) - DAY
    assert at(moment, remind_reviews) == 2  # the two oldest reviews
    assert at(moment, remind_reviews) == 1  # then the third
    assert at(moment, remind_reviews) == 0
    assert sorted(recipients(Kind.REVIEW_DUE)) == [triage_worker.username] * 3
