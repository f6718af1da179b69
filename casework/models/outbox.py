"""The notification outbox."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import Case
from .referrals import Referral

User = settings.AUTH_USER_MODEL


class Notification(models.Model):
    """The outbox: written in the same transaction as the change, delivered after commit.

    The message is a code and ids, never the child's personal data: the text is rendered at
    delivery in the recipient's language, and e-mails carry only a link.
    """

    class Kind(models.TextChoices):
        IMMEDIATE_DANGER = "immediate_danger", _("A referral reports immediate danger")
        REFERRAL_SUBMITTED = "referral_submitted", _("A new referral is waiting for triage")
        REFERRAL_TO_VALIDATE = "referral_to_validate", _("A referral is waiting for validation")
        INFORMATION_REQUESTED = "information_requested", _("More information is requested")
        INFORMATION_ANSWERED = "information_answered", _("The referrer answered")
        FEEDBACK = "feedback", _("There is news about your referral")
        CASE_ASSIGNED = "case_assigned", _("You are on a case team")
        REVIEW_DUE = "review_due", _("A case review is due")
        CLOSURE_REQUESTED = "closure_requested", _("A case closure awaits approval")
        CASE_CLOSED = "case_closed", _("A case was closed")
        REMINDER = "reminder", _("Reminder")
        ESCALATION = "escalation", _("A deadline has passed")
        LEAD_LEFT = "lead_left", _("A case has lost its lead worker")
        TRAIL_UNLOCKED = "trail_unlocked", _("An auditor opened the values of a trail")
        CONSULTATION_ASKED = "consultation_asked", _("A school asks the social team for advice")
        CONSULTATION_ANSWERED = "consultation_answered", _("The social team answered you")
        PATTERN_ALERT = "pattern_alert", _("Several worries about one child: a pattern alert")
        TRANSFER_REQUESTED = "transfer_requested", _("A case transfer awaits your decision")
        TRANSFER_DECIDED = "transfer_decided", _("A case transfer was decided")
        HANDOVER_RECEIVED = "handover_received", _("A hand-over note for a new pupil")
        HANDOVER_ACKNOWLEDGED = "handover_acknowledged", _("The school acknowledged a hand-over")

    recipient = models.ForeignKey(
        User, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    dedup_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    # A reminder names what it is about and for which deadline, so that the sweeps find in
    # SQL what has not been reminded yet (casework.services.reminders): the topic
    # ("review-due"), the id of the referral, request, case or action, and its deadline.
    topic = models.CharField(max_length=40, blank=True, default="")
    subject_id = models.PositiveIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    # One per try at handing the e-mail to the mail server (casework.outbox).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the outbox sweep queues the next try; empty once e-mailed or given up.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # A worker that claimed the row to send it holds it until then: a copy of the task run
    # meanwhile does not send (the first may have handed the e-mail over already).
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    gave_up_at = models.DateTimeField(_("given up at"), null=True, blank=True)
    # Set by an operator's "retry": the outbox tries for another full period from then.
    retried_by_hand_at = models.DateTimeField(_("retried by hand at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["emailed_at", "created_at"]),
            models.Index(fields=["next_attempt_at"]),
            models.Index(
                fields=["topic", "subject_id", "due_at"],
                condition=models.Q(subject_id__isnull=False),
                name="notification_reminder_idx",
            ),
        ]

    def __str__(self):
        return self.get_kind_display()
