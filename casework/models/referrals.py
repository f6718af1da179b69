"""The referral form, its urgency and concerns, and triage's questions to the referrer."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .children import Child
from .organisation import Agency, District
from .protocol import ProtocolVersion

User = settings.AUTH_USER_MODEL


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    PRIORITY = "priority", _("Priority")
    URGENT = "urgent", _("Urgent")
    IMMEDIATE_DANGER = "immediate_danger", _("Immediate danger")


# Sorting the queue by urgency needs an order that is not alphabetical.
URGENCY_RANK = {
    Urgency.IMMEDIATE_DANGER: 0,
    Urgency.URGENT: 1,
    Urgency.PRIORITY: 2,
    Urgency.ROUTINE: 3,
}


class ConcernCategory(models.TextChoices):
    NEGLECT = "neglect", _("Neglect")
    PHYSICAL = "physical", _("Physical abuse")
    EMOTIONAL = "emotional", _("Emotional abuse")
    SEXUAL = "sexual", _("Sexual abuse")
    DOMESTIC_VIOLENCE = "domestic_violence", _("Exposure to domestic violence")
    BEHAVIOUR = "behaviour", _("Behaviour")
    ABSENTEEISM = "absenteeism", _("Absenteeism")
    LEARNING = "learning", _("Learning difficulties")
    FAMILY_HARDSHIP = "family_hardship", _("Family hardship")
    CHILD_DISCLOSURE = "child_disclosure", _("The child's own words")


class Referral(AuditedModel):
    """The referral form (scheda di segnalazione / full de notificació)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AWAITING_VALIDATION = "awaiting_validation", _("Awaiting the school referent")
        SUBMITTED = "submitted", _("Submitted, waiting for triage")
        IN_TRIAGE = "in_triage", _("In triage")
        INFORMATION_REQUESTED = "information_requested", _("More information requested")
        CASE_OPENED = "case_opened", _("Case opened")
        LINKED = "linked", _("Linked to an open case")
        REDIRECTED = "redirected", _("Redirected to a service")
        NO_FURTHER_ACTION = "no_further_action", _("Closed with no further action")
        ESCALATED = "escalated", _("Escalated")

    class Decision(models.TextChoices):
        OPEN_CASE = "open_case", _("Open a case")
        REQUEST_INFORMATION = "request_information", _("Request more information")
        REDIRECT = "redirect", _("Redirect to a service")
        NO_FURTHER_ACTION = "no_further_action", _("No further action")
        ESCALATE = "escalate", _("Escalate")

    class EscalationTarget(models.TextChoices):
        CHILD_PROTECTION = "child_protection", _("Child protection service")
        JUVENILE_COURT = "juvenile_court", _("Juvenile court / public prosecutor")
        POLICE = "police", _("Police")

    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.PROTECT, related_name="referrals"
    )
    referrer = models.ForeignKey(
        User, verbose_name=_("referrer"), on_delete=models.PROTECT, related_name="referrals"
    )
    school = models.ForeignKey(
        Agency,
        verbose_name=_("referring agency"),
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="referrals",
        help_text=_("The child's district, whose social team triages the referral."),
    )
    protocol_version = models.ForeignKey(
        ProtocolVersion,
        verbose_name=_("protocol version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The version of the municipality's protocol the referral started under."),
    )
    concern_categories = models.JSONField(_("concern categories"), default=list, blank=True)
    indicators = models.JSONField(_("observed indicators"), default=list, blank=True)
    observations = models.TextField(_("observations"), blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=20, choices=Urgency.choices, default=Urgency.ROUTINE
    )
    urgency_rank = models.PositiveSmallIntegerField(_("urgency rank"), default=3, editable=False)
    school_actions = models.TextField(_("actions the school already took"), blank=True)
    family_informed = models.BooleanField(_("the family was informed"), null=True, blank=True)
    family_response = models.TextField(_("the family's response"), blank=True)
    interpreter_needed = models.BooleanField(_("an interpreter is needed"), default=False)
    interpreter_language = models.CharField(_("interpreter language"), max_length=60, blank=True)

    status = models.CharField(
        _("status"), max_length=32, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    triage_due_at = models.DateTimeField(_("triage due at"), null=True, blank=True)
    claimed_by = models.ForeignKey(
        User,
        verbose_name=_("claimed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="claimed_referrals",
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=32, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decided_referrals",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    redirected_to = models.ForeignKey(
        "Service",
        verbose_name=_("redirected to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    escalated_to = models.CharField(
        _("escalated to"), max_length=32, choices=EscalationTarget.choices, blank=True
    )
    case = models.ForeignKey(
        "Case",
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    feedback = models.TextField(
        _("feedback to the referrer"),
        blank=True,
        help_text=_("What the referrer is told: never the content of the social file."),
    )
    contact_person = models.ForeignKey(
        User,
        verbose_name=_("contact person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    feedback_sent_at = models.DateTimeField(_("feedback sent at"), null=True, blank=True)
    concluded_at = models.DateTimeField(
        _("social service's involvement concluded at"), null=True, blank=True
    )
    closing_feedback = models.TextField(
        _("what the referrer was told at the closure"),
        blank=True,
        help_text=_("The protocol's wording at the time: never the content of the social file."),
    )
    # A retried or repeated creation (the form sent twice, an API call retried) finds the
    # referral the first one made: one per author and key.
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=64, blank=True, default="", editable=False
    )
    # A draft its author deleted: kept, with its history, but out of every list and page.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["district", "status", "urgency_rank", "triage_due_at"]),
            # The triage queue reads its first page in order from this index.
            models.Index(
                fields=["district", "urgency_rank", "triage_due_at", "id"],
                condition=models.Q(status__in=["submitted", "in_triage", "information_requested"]),
                name="referral_queue_idx",
            ),
            models.Index(fields=["school", "status"]),
            models.Index(fields=["status", "triage_due_at"]),
            # The visible referrals, newest first: one index per scope
            # (selectors.referrals_visible_page).
            models.Index(fields=["district", "created_at"], name="referral_district_newest"),
            models.Index(fields=["school", "created_at"], name="referral_school_newest"),
            models.Index(fields=["referrer", "created_at"], name="referral_referrer_newest"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["referrer", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="referral_idempotency_key_once",
            ),
        ]

    def __str__(self):
        return _("Referral %(pk)s") % {"pk": self.pk}

    def save(self, *args, **kwargs):
        self.urgency_rank = URGENCY_RANK[Urgency(self.urgency)]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("casework:referral_detail", args=[self.pk])

    def clean(self):
        errors = {}
        unknown = set(self.concern_categories or []) - set(ConcernCategory.values)
        if unknown:
            errors["concern_categories"] = _("Unknown concern category: %(names)s") % {
                "names": ", ".join(sorted(unknown))
            }
        if self.interpreter_needed and not self.interpreter_language:
            errors["interpreter_language"] = _("Say which language the interpreter must speak.")
        if errors:
            raise ValidationError(errors)

    def concern_labels(self) -> list[str]:
        labels = dict(ConcernCategory.choices)
        return [str(labels.get(code, code)) for code in self.concern_categories]

    def status_for_referrer(self) -> str:
        """The status as the school reads it: once the case it led to is closed, that the
        social service has concluded its involvement (not "case opened" for ever)."""
        if self.concluded_at is not None:
            return str(_("The social service has concluded its involvement"))
        return self.get_status_display()

    def closing_message(self) -> str:
        """What the school was told at the closure: the protocol's wording at the time, or the
        standard one."""
        if self.concluded_at is None:
            return ""
        return self.closing_feedback or str(
            _(
                "The social service has concluded its involvement with this referral. Thank you "
                "for raising it: if you are worried about the child again, send a new referral."
            )
        )

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class InformationRequest(AuditedModel):
    """A question from triage to the referrer; the referral waits for the answer."""

    referral = models.ForeignKey(
        Referral,
        verbose_name=_("referral"),
        on_delete=models.CASCADE,
        related_name="information_requests",
    )
    question = models.TextField(_("question"))
    requested_by = models.ForeignKey(
        User, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due at"), db_index=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        User,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("information request")
        verbose_name_plural = _("information requests")
        ordering = ["requested_at"]

    def __str__(self):
        return _("Information request %(pk)s") % {"pk": self.pk}
