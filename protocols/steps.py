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

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
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

    def allows(self, actor, process) -> bool:
        node = self.node
        if not node.allows(actor, process=process):
            return False
        return self.rule is None or permissions.allows(self.rule, actor, node.rule_object(process))

    @property
    def node(self):
        return getattr(self.flow_class, self.node_name)


def _review_not_due(case) -> str:
    return _("No review is due yet: the next one is on %(date)s.") % {
        "date": case.next_review_at.date() if case.next_review_at else "—"
    }


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


def is_open(name: str, obj: models.Model) -> bool:
    """Whether the step can be taken now (e.g. a periodic review is due)."""
    return open_task(name, obj) is not None


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
            task = open_task(name, obj)
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
