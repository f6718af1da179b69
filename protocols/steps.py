"""The one way into each step of the protocol.

`run_step(name, obj=..., actor=..., **fields)` finds the open task of the step's node, asks
the node's own rule (its `.Permission`, answered by casework.permissions), claims the task,
runs the casework service that does the work, and completes the task — in one transaction,
under the flow lock. It holds no business rule: what a step needs and who may do it are said
once, in the service and in casework.permissions.

The services listed here refuse to run anywhere else (casework.services.common.flow_owned),
so the referral's or case's status and Viewflow's tasks cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.fsm import TransitionNotAllowed as FsmTransitionNotAllowed
from viewflow.workflow import STATUS
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Process, Task

from casework import permissions, services
from casework.services import TransitionNotAllowed
from casework.services.common import protocol_step

from .flows import CaseFlow, ReferralFlow

ACTIVE = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]

# What the driver does with the task around the service.
START = "start"  # start the flow (a StartHandle node)
DO = "do"  # claim if needed, run the service, complete the task
CLAIM = "claim"  # claim the task and keep it open
RELEASE = "release"  # give a claimed task back to the queue
RESCHEDULE = "reschedule"  # change the date a waiting timer fires on (the service sets it)

# When a step may wake the timer waiting before its node (see Step.wake).
DUE = "due"  # once the timer's date has come, beat or no beat
ANY_TIME = "any_time"  # whenever the timer waits: the step does not wait for the date


@dataclass(frozen=True)
class Step:
    flow_class: type
    node_name: str
    service: Callable
    action: str = DO
    # The plan can be rewritten outside the planning step: then the service runs alone.
    task_optional: bool = False
    # Why the step cannot be taken when no task is open (a callable of the object), if the
    # generic "not allowed in the current state" says too little.
    closed_message: Callable | None = None
    # A rule of casework.permissions this step asks on top of its node's (e.g. proposing
    # closure at a review is for the lead, while the whole team records reviews).
    rule: str | None = None
    # Fields the step always passes to its service.
    fixed: tuple = ()
    # The timer node waiting before this step's node, and when the step may fire it itself
    # (DUE, ANY_TIME): the timer sets the default date, the beat sweep fires it on that date,
    # and a step that finds its date come (or that does not wait for it) opens its task at
    # once — so reviews happen with the beat down as well.
    wake: tuple[str, str] | None = None
    # For a RESCHEDULE step: the node before the timer (e.g. writing the plan) while which
    # the date can be moved too — the timer reads it from the record when the flow gets there.
    before: str | None = None

    def allows(self, actor, process) -> bool:
        node = self.node
        if hasattr(node, "allows"):
            if not node.allows(actor, process=process):
                return False
            obj = node.rule_object(process)
        else:  # a timer: only the step's own rule, asked of the process's object
            obj = process.coerced.artifact
        return self.rule is None or permissions.allows(self.rule, actor, obj)

    @property
    def node(self):
        return getattr(self.flow_class, self.node_name)


def _review_not_due(case) -> str:
    return _("No review is due yet: the next one is on %(date)s.") % {
        "date": case.next_review_at.date() if case.next_review_at else "—"
    }


def _no_review_now(case) -> str:
    if case.status != case.Status.OPEN:
        return _("Not allowed while the case is “%(status)s”.") % {
            "status": case.get_status_display()
        }
    return _("Write the plan first: a review looks at the plan.")


STEPS: dict[str, Step] = {
    "referral.submit": Step(ReferralFlow, "start", services.referral_submit, START),
    "referral.validate": Step(ReferralFlow, "validate", services.referral_validate),
    "referral.claim": Step(ReferralFlow, "triage", services.referral_claim, CLAIM),
    "referral.release": Step(ReferralFlow, "triage", services.referral_release, RELEASE),
    "referral.decide": Step(ReferralFlow, "triage", services.referral_decide),
    "referral.answer": Step(
        ReferralFlow, "await_information", services.referral_answer_information
    ),
    "case.plan": Step(CaseFlow, "plan", services.case_update_plan, task_optional=True),
    "case.review": Step(
        CaseFlow,
        "review",
        services.case_record_review,
        closed_message=lambda case: (
            _("No review is due yet: the next one is on %(date)s.")
            % {"date": case.next_review_at.date() if case.next_review_at else "—"}
        ),
        wake=("wait_review", DUE),
    ),
    "case.propose_closure": Step(
        CaseFlow,
        "review",
        services.case_record_review,
        closed_message=lambda case: (
            _("The closure already awaits the supervisor.")
            if case.status == case.Status.CLOSURE_REQUESTED
            else _review_not_due(case)
        ),
        rule=permissions.CASE_LEAD,
        fixed=(("decision", "close"),),
        wake=("wait_review", DUE),
    ),
    "case.extraordinary_review": Step(
        CaseFlow,
        "review",
        services.case_record_review,
        closed_message=_no_review_now,
        rule=permissions.EXTRAORDINARY_REVIEW,
        fixed=(("kind", "extraordinary"),),
        wake=("wait_review", ANY_TIME),
    ),
    "case.bring_review_forward": Step(
        CaseFlow,
        "wait_review",
        services.case_bring_review_forward,
        RESCHEDULE,
        before="plan",
        closed_message=lambda case: (
            _("The review is already due: the team can record it now.")
            if case.status == case.Status.OPEN
            else _no_review_now(case)
        ),
        rule=permissions.BRING_REVIEW_FORWARD,
    ),
    "case.decide_closure": Step(CaseFlow, "approve_closure", services.case_decide_closure),
}


def _artifact(obj: models.Model) -> dict:
    return {
        "process__artifact_content_type": ContentType.objects.get_for_model(obj),
        "process__artifact_object_id": obj.pk,
    }


def open_task(name: str, obj: models.Model) -> Task | None:
    """The open task of the step's node for this referral or case, if there is one."""
    step = STEPS[name]
    return (
        Task.objects.filter(
            process__flow_class=step.flow_class,
            flow_task=step.node,
            **_artifact(obj),
            status__in=ACTIVE,
        )
        .order_by("-pk")
        .first()
    )


def waiting_timer(name: str, obj: models.Model) -> Task | None:
    """The timer waiting before the step's node for this referral or case, if it waits: the
    step's own node for a RESCHEDULE step, the node named by Step.wake otherwise."""
    step = STEPS[name]
    if step.action == RESCHEDULE:
        node = step.node
    elif step.wake is not None:
        node = getattr(step.flow_class, step.wake[0])
    else:
        return None
    return (
        Task.objects.filter(
            process__flow_class=step.flow_class,
            flow_task=node,
            **_artifact(obj),
            status=STATUS.SCHEDULED,
        )
        .order_by("-pk")
        .first()
    )


def _may_wake(step: Step, timer: Task | None) -> bool:
    if timer is None or step.wake is None:
        return False
    return step.wake[1] == ANY_TIME or timer.scheduled <= timezone.now()


def _before_timer(step: Step, obj: models.Model) -> bool:
    """The flow has not reached the timer yet (the plan is being written): the date the
    timer will read is on the record, so it can be moved with no timer to move."""
    if step.before is None:
        return False
    return Task.objects.filter(
        process__flow_class=step.flow_class,
        flow_task=getattr(step.flow_class, step.before),
        **_artifact(obj),
        status__in=ACTIVE,
    ).exists()


def is_open(name: str, obj: models.Model) -> bool:
    """Whether the step can be taken now: its task is open, or the timer before it may be
    woken (a periodic review whose date has come, with or without the timer sweep), or — for
    a RESCHEDULE step — there is a date still to come that can be moved."""
    step = STEPS[name]
    if step.action == RESCHEDULE:
        return waiting_timer(name, obj) is not None or _before_timer(step, obj)
    if open_task(name, obj) is not None:
        return True
    return _may_wake(step, waiting_timer(name, obj))


def open_steps(obj: models.Model, names) -> dict[str, bool]:
    """`is_open` for several steps of one referral or case, from ONE read of its tasks that
    are open or waiting (a page that offers several steps asks this instead of `is_open` for
    each: the answers are the same)."""
    wanted = [STEPS[name] for name in names]
    tasks = list(
        Task.objects.filter(**_artifact(obj), status__in=[*ACTIVE, STATUS.SCHEDULED])
        .order_by("-pk")
        .values_list("process__flow_class", "flow_task", "status", "scheduled")
    )

    def newest(flow_class, node, statuses):
        for task_flow, task_node, status, scheduled in tasks:
            if task_flow == flow_class and task_node == node and status in statuses:
                return scheduled
        return _NONE

    answers = {}
    for name, step in zip(names, wanted, strict=True):
        if step.action == RESCHEDULE:
            timer = newest(step.flow_class, step.node, [STATUS.SCHEDULED])
            before = step.before is not None and (
                newest(step.flow_class, getattr(step.flow_class, step.before), ACTIVE) is not _NONE
            )
            answers[name] = timer is not _NONE or before
        elif newest(step.flow_class, step.node, ACTIVE) is not _NONE:
            answers[name] = True
        elif step.wake is None:
            answers[name] = False
        else:
            node = getattr(step.flow_class, step.wake[0])
            scheduled = newest(step.flow_class, node, [STATUS.SCHEDULED])
            answers[name] = scheduled is not _NONE and (
                step.wake[1] == ANY_TIME or scheduled <= timezone.now()
            )
    return answers


_NONE = object()  # no such task (a task's `scheduled` may itself be None)


def run_step(name: str, *, obj: models.Model, actor, **fields):
    """Run the protocol step `name` on `obj` (a referral or a case) as `actor`."""
    step = STEPS[name]
    target = {obj._meta.model_name: obj}
    fields = {**fields, **dict(step.fixed)}
    try:
        with transaction.atomic(), protocol_step(name):
            if step.action == START:
                process = step.flow_class.start.run(actor=actor, **target, **fields)
                return process.artifact
            if step.action == RESCHEDULE:
                return _reschedule(name, step, obj, actor, target, fields)
            task = open_task(name, obj)
            if task is None:
                timer = waiting_timer(name, obj)
                if _may_wake(step, timer):
                    task = _wake(name, step, timer, actor)
            if task is None:
                if step.task_optional:
                    return step.service(actor=actor, **target, **fields)
                _refuse_closed_step(step, obj, actor)
            # Wait for the process row here, in this transaction: two people taking the same
            # step queue up, and the second finds the task done (409). Viewflow's own lock
            # (nowait, retried) then succeeds at once; on its own, inside this transaction, a
            # failed nowait attempt would leave the transaction aborted.
            Process.objects.select_for_update().filter(pk=task.process_id).exists()
            task = Task.objects.get(pk=task.pk)
            with task.activation() as activation:
                return _drive(
                    step, activation, actor, lambda: step.service(actor=actor, **target, **fields)
                )
    except (FsmTransitionNotAllowed, FlowLockFailed) as exc:
        raise TransitionNotAllowed() from exc


def submit_referral(*, referral, actor):
    """`referral.submit`, safe for its author to repeat (an answer lost on the way back, a
    client that retries): a referral this person has already submitted is returned as it is
    now, with False (nothing done), rather than refused. Anyone else is refused as before."""
    try:
        return run_step("referral.submit", obj=referral, actor=actor), True
    except TransitionNotAllowed:
        current = type(referral).objects.get(pk=referral.pk)
        if current.referrer_id == actor.pk and current.submitted_at is not None:
            return current, False
        raise


def _fire(timer: Task) -> None:
    """Fire one waiting timer now, as the sweep would on its date, under the flow lock."""
    Process.objects.select_for_update().filter(pk=timer.process_id).exists()
    timer = Task.objects.get(pk=timer.pk)
    if timer.status != STATUS.SCHEDULED:
        return  # the sweep fired it meanwhile: the task it opened is found below
    with timer.activation() as activation:
        activation.start()
        activation.execute()


def _wake(name: str, step: Step, timer: Task, actor) -> Task | None:
    """Open the step's task by firing the timer that waits before it — only for someone the
    step allows (a refusal must not move the case)."""
    if not step.allows(actor, timer.process):
        raise PermissionDenied(_("You are not allowed to do this."))
    _fire(timer)
    return open_task(name, timer.process.coerced.artifact)


def _reschedule(name: str, step: Step, obj, actor, target: dict, fields: dict):
    """Move the date of a waiting timer: the service changes the date kept on the record,
    then the timer is set to it (and fired at once when the new date has come)."""
    timer = waiting_timer(name, obj)
    if timer is None and not _before_timer(step, obj):
        _refuse_closed_step(step, obj, actor)
    if timer is not None and not step.allows(actor, timer.process):
        raise PermissionDenied(_("You are not allowed to do this."))
    result = step.service(actor=actor, **target, **fields)
    if timer is not None:
        due = step.node._delay(SimpleNamespace(process=timer.process))
        Task.objects.filter(pk=timer.pk, status=STATUS.SCHEDULED).update(scheduled=due)
        if due <= timezone.now():
            _fire(timer)
    return result


def _refuse_closed_step(step: Step, obj: models.Model, actor):
    """No task is open: someone the node's rule would not let in is refused (403) before
    learning anything about the state; the others are told the step is not open (409)."""
    process = (
        step.flow_class.process_class.objects.filter(
            flow_class=step.flow_class,
            artifact_content_type=ContentType.objects.get_for_model(obj),
            artifact_object_id=obj.pk,
        )
        .order_by("-pk")
        .first()
    )
    if process is not None and not step.allows(actor, process):
        raise PermissionDenied(_("You are not allowed to do this."))
    raise TransitionNotAllowed(step.closed_message(obj) if step.closed_message else None)


def closure(*, case, actor, approve: bool = True, reason: str = "", **review):
    """The case page's and the API's close button: a proposed closure is decided by whoever
    may decide it; otherwise the button proposes closure at the due review."""
    if case.status == case.Status.CLOSURE_REQUESTED and permissions.can_decide_closure(actor, case):
        return run_step(
            "case.decide_closure", obj=case, actor=actor, approve=approve, reason=reason
        )
    review.setdefault("risk_level", case.risk_level)
    return run_step("case.propose_closure", obj=case, actor=actor, notes=reason, **review)


def _drive(step: Step, activation, actor, work: Callable):
    task = activation.task
    if task.status not in ACTIVE:
        raise TransitionNotAllowed(_("Someone else has just completed this step; reload the page."))
    if not step.allows(actor, task.process):
        raise PermissionDenied(_("You are not allowed to do this."))
    if step.action == RELEASE:
        if task.status == STATUS.NEW:
            raise TransitionNotAllowed(_("This referral is not claimed."))
        result = work()
        activation.unassign()
        return result
    if task.status == STATUS.NEW:
        activation.assign(actor)
    elif task.owner_id != actor.pk:
        raise TransitionNotAllowed(_("Another worker has already claimed this."))
    result = work()
    if step.action == DO:
        activation.start(None)
        activation.execute()
    return result
