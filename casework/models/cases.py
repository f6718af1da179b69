"""A case and what hangs on it: the team, the plan and its actions, reviews, notes, files.

Notes and attachments belong to a case or, before one is opened, to a referral.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .children import Child
from .organisation import Agency, District
from .protocol import ProtocolVersion
from .referrals import Referral

User = settings.AUTH_USER_MODEL


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Case(AuditedModel):
    """A presa in carico / obertura d'expedient, opened from one or more referrals."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSURE_REQUESTED = "closure_requested", _("Closure awaiting approval")
        CLOSED = "closed", _("Closed")

    reference = models.CharField(_("reference"), max_length=40, unique=True)
    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.PROTECT, related_name="cases"
    )
    district = models.ForeignKey(
        District, verbose_name=_("district"), on_delete=models.PROTECT, related_name="cases"
    )
    lead_worker = models.ForeignKey(
        User, verbose_name=_("lead worker"), on_delete=models.PROTECT, related_name="led_cases"
    )
    protocol_version = models.ForeignKey(
        ProtocolVersion,
        verbose_name=_("protocol version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The version of the municipality's protocol the case started under."),
    )
    risk_level = models.CharField(
        _("risk level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    next_review_at = models.DateTimeField(_("next review at"), null=True, blank=True)
    closure_reason = models.TextField(_("reason for closing"), blank=True)
    closure_requested_by = models.ForeignKey(
        User,
        verbose_name=_("closure requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closure_approved_by = models.ForeignKey(
        User,
        verbose_name=_("closure approved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["district", "status", "next_review_at"]),
            models.Index(fields=["child", "status"]),
            # The review sweep reads open cases by their review date.
            models.Index(fields=["status", "next_review_at"]),
        ]
        permissions = [
            ("work_case", _("Can work on the case as a team member")),
            ("lead_case", _("Can lead the case: write the plan, change the team, propose closure")),
            ("read_audit_trail", _("Can read the audit trail of referrals and cases")),
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("casework:case_detail", args=[self.pk])


class CaseTeamMember(AuditedModel):
    """A professional on a case team; access ends at `valid_until` or when removed."""

    class CaseRole(models.TextChoices):
        LEAD = "lead", _("Lead professional")
        SOCIAL_WORKER = "social_worker", _("Social worker")
        PSYCHOLOGIST = "psychologist", _("Psychologist")
        EDUCATOR = "educator", _("Educator")
        PEDAGOGICAL_REFERENT = "pedagogical_referent", _("Pedagogical referent")
        HEALTH_PROFESSIONAL = "health_professional", _("Health professional")
        TEACHER = "teacher", _("Teacher")
        OTHER = "other", _("Other")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="team"
    )
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="case_teams"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role on the case"), max_length=32, choices=CaseRole.choices)
    reason = models.CharField(_("reason for access"), max_length=300)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    added_by = models.ForeignKey(
        User, verbose_name=_("added by"), on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("case team member")
        verbose_name_plural = _("case team members")
        indexes = [models.Index(fields=["user", "removed_at", "valid_until"])]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=models.Q(removed_at__isnull=True),
                name="case_team_one_active_membership",
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()})"


class CasePlan(AuditedModel):
    """The progetto di intervento / pla de treball of a case."""

    case = models.OneToOneField(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="plan"
    )
    objectives = models.TextField(_("objectives"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("case plan")
        verbose_name_plural = _("case plans")

    def __str__(self):
        return _("Plan of %(case)s") % {"case": self.case}


class Action(AuditedModel):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    plan = models.ForeignKey(
        CasePlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="actions"
    )
    objective = models.CharField(_("objective"), max_length=300)
    owning_agency = models.ForeignKey(
        Agency, verbose_name=_("owning agency"), on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        User,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_actions",
    )
    due_date = models.DateField(_("due date"), null=True, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    progress_notes = models.TextField(_("progress notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["due_date", "pk"]

    def __str__(self):
        return self.objective


class Review(AuditedModel):
    """A verifica periodica / revisió periòdica of the case plan, or an extraordinary review
    the team holds between two periodic ones (a new incident, a change in the family)."""

    class Kind(models.TextChoices):
        PERIODIC = "periodic", _("Periodic review")
        EXTRAORDINARY = "extraordinary", _("Extraordinary review")

    class Decision(models.TextChoices):
        CONTINUE = "continue", _("Continue the plan")
        UPDATE_PLAN = "update_plan", _("Update the plan")
        CLOSE = "close", _("Propose closure")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="reviews"
    )
    kind = models.CharField(
        _("kind of review"), max_length=20, choices=Kind.choices, default=Kind.PERIODIC
    )
    reason = models.TextField(
        _("why an extraordinary review"),
        blank=True,
        help_text=_("What happened that the team meets before the periodic review."),
    )
    scheduled_for = models.DateTimeField(_("scheduled for"))
    held_on = models.DateTimeField(_("held on"), null=True, blank=True)
    attendees = models.TextField(_("attendees"), blank=True)
    progress = models.JSONField(
        _("progress per action"),
        default=dict,
        blank=True,
        help_text=_("Action id → progress note."),
    )
    risk_level = models.CharField(_("risk level"), max_length=10, choices=RiskLevel.choices)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    notes = models.TextField(_("notes"), blank=True)
    next_review_at = models.DateTimeField(_("next review at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["scheduled_for"]

    def __str__(self):
        return _("Review of %(date)s") % {"date": self.scheduled_for.date()}


class Note(AuditedModel):
    """A chronology entry on a referral or a case."""

    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notes",
    )
    referral = models.ForeignKey(
        Referral,
        verbose_name=_("referral"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notes",
    )
    author = models.ForeignKey(
        User, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(case__isnull=False) | models.Q(referral__isnull=False),
                name="note_belongs_somewhere",
            ),
        ]

    def __str__(self):
        return _("Note %(pk)s") % {"pk": self.pk}


def attachment_path(instance, filename):
    # The stored name never carries the uploaded file name, which may name the child.
    return f"attachments/{timezone.now():%Y/%m}/{instance.token}"


class Attachment(AuditedModel):
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    referral = models.ForeignKey(
        Referral,
        verbose_name=_("referral"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    file = models.FileField(_("file"), upload_to=attachment_path)
    title = models.CharField(_("title"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    uploaded_by = models.ForeignKey(
        User, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(case__isnull=False) | models.Q(referral__isnull=False),
                name="attachment_belongs_somewhere",
            ),
        ]

    def __str__(self):
        return self.title
