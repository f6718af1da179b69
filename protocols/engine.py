"""Drive the protocol's tasks from the API and the pages: find the task, check that the user
may act on it (Viewflow transitions do not check permissions), run the casework service under
the flow lock, and complete the task — all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from viewflow.fsm import TransitionNotAllowed as FsmTransitionNotAllowed
from viewflow.workflow import STATUS
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task

from casework import services
from casework.models import Case, Referral
from casework.services import TransitionNotAllowed

from .flows import CaseFlow, ReferralFlow

ACTIVE = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]


def _open_task(flow_class, artifact, node) -> Task | None:
    return (
        Task.objects.filter(
            process__flow_class=flow_class,
            process__artifact_content_type=ContentType.objects.get_for_model(artifact),
            process__artifact_object_id=artifact.pk,
            flow_task=node,
            status__in=ACTIVE,
        )
        .order_by("-pk")
        .first()
    )


def _run(task: Task | None, user, apply: Callable, *, complete: bool = True, claim: bool = True):
    """Claim the task if needed, apply the service, complete the task; one transaction."""
    if task is None:
        raise TransitionNotAllowed()
    try:
        with task.activation() as activation:
            node = activation.flow_task
            if activation.task.status not in ACTIVE:
                raise TransitionNotAllowed(
                    _("Someone else has just completed this step; reload the page.")
                )
            if activation.task.status == STATUS.NEW:
                if not claim or not node.can_assign(user, activation.task):
                    raise PermissionDenied
                activation.assign(user)
            elif activation.task.owner_id != user.pk:
                raise TransitionNotAllowed(_("Another worker has already claimed this."))
            result = apply()
            if complete:
                activation.start(None)
                activation.execute()
            return result
    except (FsmTransitionNotAllowed, FlowLockFailed) as exc:
        raise TransitionNotAllowed() from exc


# --- referral -----------------------------------------------------------------------------


@transaction.atomic
def referral_submit(*, referral: Referral, user) -> Referral:
    if referral.status != Referral.Status.DRAFT:
        raise TransitionNotAllowed(_("Only a draft can be submitted."))
    process = ReferralFlow.start.run(referral=referral, actor=user)
    return process.artifact


def referral_validate(*, referral: Referral, user) -> Referral:
    task = _open_task(ReferralFlow, referral, ReferralFlow.validate)
    return _run(task, user, lambda: services.referral_validate(actor=user, referral=referral))


def referral_claim(*, referral: Referral, user) -> Referral:
    task = _open_task(ReferralFlow, referral, ReferralFlow.triage)
    return _run(
        task,
        user,
        lambda: services.referral_claim(actor=user, referral=referral),
        complete=False,
    )


def referral_release(*, referral: Referral, user) -> Referral:
    task = _open_task(ReferralFlow, referral, ReferralFlow.triage)
    if task is None or task.status == STATUS.NEW:
        raise TransitionNotAllowed(_("This referral is not claimed."))
    try:
        with task.activation() as activation:
            result = services.referral_release(actor=user, referral=referral)
            activation.unassign()
            return result
    except (FsmTransitionNotAllowed, FlowLockFailed) as exc:
        raise TransitionNotAllowed() from exc


DECISIONS = {
    Referral.Decision.OPEN_CASE: services.referral_open_case,
    Referral.Decision.REQUEST_INFORMATION: services.referral_request_information,
    Referral.Decision.REDIRECT: services.referral_redirect,
    Referral.Decision.NO_FURTHER_ACTION: services.referral_close_no_action,
    Referral.Decision.ESCALATE: services.referral_escalate,
}


def referral_decide(*, referral: Referral, user, decision: str, **fields):
    """Decide on a referral; an unclaimed one is claimed by the decider in the same step, so
    that of two workers deciding at once exactly one wins and the other gets a conflict."""
    service = DECISIONS[decision]
    task = _open_task(ReferralFlow, referral, ReferralFlow.triage)

    def apply():
        fresh = Referral.objects.get(pk=referral.pk)
        if fresh.status == Referral.Status.SUBMITTED:
            services.referral_claim(actor=user, referral=fresh)
        return service(actor=user, referral=fresh, **fields)

    return _run(task, user, apply)


def referral_answer(*, referral: Referral, user, answer: str) -> Referral:
    task = _open_task(ReferralFlow, referral, ReferralFlow.await_information)
    if task is None:
        raise TransitionNotAllowed(_("No question is waiting for an answer."))
    if referral.referrer_id != user.pk:
        raise PermissionDenied
    try:
        with transaction.atomic():
            ReferralFlow.await_information.run(task, actor=user, answer=answer)
            # The referral returns to the worker who asked.
            triage = _open_task(ReferralFlow, referral, ReferralFlow.triage)
            referral.refresh_from_db()
            if triage is not None and referral.claimed_by_id:
                with triage.activation() as activation:
                    activation.assign(referral.claimed_by)
    except (FsmTransitionNotAllowed, FlowLockFailed) as exc:
        raise TransitionNotAllowed() from exc
    return referral


# --- case ---------------------------------------------------------------------------------


def case_write_plan(*, case: Case, user, objectives: str) -> Case:
    """Write the plan; the first time, this completes the planning step and starts the
    review clock. Later rewrites (outside a plan update) just save the plan."""
    task = _open_task(CaseFlow, case, CaseFlow.plan)
    if task is None:
        return services.case_update_plan(actor=user, case=case, objectives=objectives)
    return _run_case_task(
        task, user, lambda: services.case_update_plan(actor=user, case=case, objectives=objectives)
    )


def _run_case_task(task: Task, user, apply):
    """Case tasks are done by the person entitled by the service (lead, team, supervisor):
    the service checks the user, then the task is completed in their name."""
    try:
        with task.activation() as activation:
            result = apply()
            if activation.task.status == STATUS.NEW:
                activation.assign(user)
            elif activation.task.owner_id != user.pk:
                activation.reassign(user)
            activation.start(None)
            activation.execute()
            return result
    except (FsmTransitionNotAllowed, FlowLockFailed) as exc:
        raise TransitionNotAllowed() from exc


def case_review_due(case: Case) -> bool:
    return _open_task(CaseFlow, case, CaseFlow.review) is not None


def case_record_review(*, case: Case, user, **fields):
    task = _open_task(CaseFlow, case, CaseFlow.review)
    if task is None:
        services.require_team(user, case)
        raise TransitionNotAllowed(
            _("No review is due yet: the next one is on %(date)s.")
            % {"date": case.next_review_at.date() if case.next_review_at else "—"}
        )
    return _run_case_task(
        task, user, lambda: services.case_record_review(actor=user, case=case, **fields)
    )


def case_close(*, case: Case, user, approve: bool = True, reason: str = "", **review):
    """The close button: the supervisor approves (or refuses) a proposed closure; the lead
    worker proposes one at a due review."""
    if services.is_supervisor(user, case) and case.status == Case.Status.CLOSURE_REQUESTED:
        task = _open_task(CaseFlow, case, CaseFlow.approve_closure)
        if task is None:
            raise TransitionNotAllowed()
        return _run_case_task(
            task,
            user,
            lambda: services.case_decide_closure(
                actor=user, case=case, approve=approve, reason=reason
            ),
        )
    if services.is_lead(user, case) or services.is_supervisor(user, case):
        if case.status != Case.Status.OPEN:
            raise TransitionNotAllowed(_("The closure already awaits the supervisor."))
        review.setdefault("risk_level", case.risk_level)
        return case_record_review(case=case, user=user, decision="close", notes=reason, **review)
    raise PermissionDenied(_("Only the lead worker or the district supervisor closes a case."))
