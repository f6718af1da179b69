"""The signalling protocol, read top to bottom as the practice documents describe it.

Nodes are one line each and call casework.services; the domain facts live in casework's models
(Process.artifact points at the Referral or the Case), never in Process.data.
"""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from casework import permissions, services
from casework.models import Case, Referral, Review

from .models import CaseProcess, ReferralProcess
from .nodes import HumanStep


def _referral(activation) -> Referral:
    # Read afresh: the process may hold a copy cached before the service changed the row.
    return Referral.objects.get(pk=activation.process.artifact_object_id)


def _case(activation) -> Case:
    return Case.objects.get(pk=activation.process.artifact_object_id)


class ProtocolFlow(flow.Flow):
    """Viewflow's management actions (cancel, undo, revive, reassign) would change where a
    referral or a case stands without its services and its history: nobody has them."""

    def has_manage_permission(self, user, obj=None) -> bool:
        return False


class ReferralFlow(ProtocolFlow):
    """School detects and submits; the district's social team triages and decides; the
    referrer gets feedback on the outcome."""

    process_class = ReferralProcess
    lock_impl = lock.select_for_update_lock
    process_title = _("Referral")

    start = (
        flow.StartHandle(this.submit)
        .Annotation(title=_("The referrer submits the form"))
        .Next(this.needs_validation)
    )
    needs_validation = (
        flow.If(this.awaits_referent)
        .Annotation(title=_("Does the school validate its referrals?"))
        .Then(this.validate)
        .Else(this.triage)
    )
    validate = (
        HumanStep()
        .Annotation(title=_("The school referent validates and sends"))
        .Permission(permissions.SCHOOL_VALIDATE, obj=lambda process: process.artifact.school)
        .Next(this.triage)
    )
    triage = (
        HumanStep()
        .Annotation(title=_("Triage: the district team claims and decides"))
        .Permission(permissions.TRIAGE, obj=lambda process: process.artifact.district)
        .Assign(this.triage_owner)
        .Next(this.decision)
    )
    decision = (
        flow.Switch()
        .Annotation(title=_("Decision"))
        .Case(this.await_information, this.information_requested)
        .Case(this.open_case, this.case_taken_up)
        .Default(this.feedback)
    )
    await_information = (
        HumanStep()
        .Annotation(title=_("The referrer answers the request for information"))
        .Permission(permissions.REFERRER, obj=lambda process: process.artifact)
        .Assign(lambda activation: _referral(activation).referrer)
        .Next(this.triage)
    )
    open_case = (
        flow.Function(this.start_case_process)
        .Annotation(title=_("Open the case, or link to the child's open case"))
        .Next(this.feedback)
    )
    feedback = (
        flow.Function(this.send_feedback)
        .Annotation(title=_("Feedback to the referrer"))
        .Next(this.end)
    )
    end = flow.End().Annotation(title=_("Referral closed"))

    def submit(self, activation, referral: Referral, actor):
        activation.process.artifact = services.referral_submit(actor=actor, referral=referral)
        return activation.process

    def awaits_referent(self, activation) -> bool:
        return _referral(activation).status == Referral.Status.AWAITING_VALIDATION

    def information_requested(self, activation) -> bool:
        return _referral(activation).status == Referral.Status.INFORMATION_REQUESTED

    def case_taken_up(self, activation) -> bool:
        return _referral(activation).status == Referral.Status.CASE_OPENED

    def triage_owner(self, activation):
        """Back to the worker who asked, when the answer keeps them on it (the service
        decides); otherwise the task waits in the district's queue."""
        return _referral(activation).claimed_by

    def start_case_process(self, activation):
        CaseFlow.start.run(case=_referral(activation).case)

    def send_feedback(self, activation):
        referral = _referral(activation)
        services.referral_send_feedback(actor=referral.decided_by, referral=referral)


class CaseFlow(ProtocolFlow):
    """The case team writes the plan, works it, and meets at periodic reviews (every 4, 8 or
    12 weeks by risk) until a review proposes closure and the district supervisor approves."""

    process_class = CaseProcess
    lock_impl = lock.select_for_update_lock
    process_title = _("Case")

    start = (
        flow.StartHandle(this.open)
        .Annotation(title=_("Case opened from a referral"))
        .Next(this.plan)
    )
    plan = (
        HumanStep()
        .Annotation(title=_("The lead worker writes the plan"))
        .Permission(permissions.CASE_LEAD, obj=lambda process: process.artifact)
        .Next(this.wait_review)
    )
    wait_review = (
        flow.Timer(this.review_due_at)
        .Annotation(title=_("Wait for the next periodic review"))
        .Next(this.review)
    )
    review = (
        HumanStep()
        .Annotation(title=_("Periodic review of the plan"))
        .Permission(permissions.CASE_WORK, obj=lambda process: process.artifact)
        .Next(this.review_outcome)
    )
    review_outcome = (
        flow.Switch()
        .Annotation(title=_("Continue, update the plan, or propose closure"))
        .Case(this.approve_closure, this.closure_proposed)
        .Case(this.plan, this.plan_to_update)
        .Default(this.wait_review)
    )
    approve_closure = (
        HumanStep()
        .Annotation(title=_("The district supervisor approves the closure"))
        .Permission(permissions.SUPERVISE, obj=lambda process: process.artifact.district)
        .Next(this.closure_outcome)
    )
    closure_outcome = (
        flow.If(this.is_closed)
        .Annotation(title=_("Closure approved?"))
        .Then(this.end)
        .Else(this.wait_review)
    )
    end = flow.End().Annotation(title=_("Case closed"))

    def open(self, activation, case: Case):
        activation.process.artifact = case
        return activation.process

    def review_due_at(self, activation):
        return _case(activation).next_review_at

    def closure_proposed(self, activation) -> bool:
        return _case(activation).status == Case.Status.CLOSURE_REQUESTED

    def plan_to_update(self, activation) -> bool:
        last = _case(activation).reviews.order_by("-pk").first()
        return last is not None and last.decision == Review.Decision.UPDATE_PLAN

    def is_closed(self, activation) -> bool:
        return _case(activation).status == Case.Status.CLOSED
