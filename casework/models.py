"""The domain of the signalling protocol: who refers whom, to which district, and what follows.

Every model that holds case data keeps a full history (django-simple-history). Changes are made
by `casework.services`, which sets the actor and a dotted reason code on each save.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

User = settings.AUTH_USER_MODEL


class AuditedQuerySet(models.QuerySet):
    """Tracked models change one object at a time through casework.services, so that every
    change leaves a history row with its actor and reason. A bulk UPDATE would leave none."""

    def update(self, **kwargs):
        raise TypeError(
            f"{self.model.__name__} keeps an audit history: change it through "
            "casework.services (QuerySet.update() would bypass the history)."
        )

    update.queryset_only = True


class AuditedModel(models.Model):
    objects = AuditedQuerySet.as_manager()

    class Meta:
        abstract = True


class District(AuditedModel):
    """An ambito / polo / districte: the territory whose social team triages referrals."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    on_duty_phone = models.CharField(_("on-duty phone"), max_length=40, blank=True)
    on_duty_user = models.ForeignKey(
        User,
        verbose_name=_("on-duty worker"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Alerted at once when a referral reports immediate danger."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["name"]
        permissions = [
            ("triage_district", _("Can triage the referrals of the district")),
            ("supervise_district", _("Can supervise the district")),
        ]

    def __str__(self):
        return self.name


class Agency(AuditedModel):
    class Kind(models.TextChoices):
        SCHOOL = "school", _("School")
        SOCIAL_SERVICES = "social_services", _("Social services")
        HEALTH = "health", _("Health service")
        CHILD_NEUROPSYCHIATRY = "child_neuropsychiatry", _("Child neuropsychiatry")
        THIRD_SECTOR = "third_sector", _("Third sector organisation")
        POLICE = "police", _("Police")
        JUVENILE_COURT = "juvenile_court", _("Juvenile court")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, db_index=True)
    district = models.ForeignKey(
        District, verbose_name=_("district"), on_delete=models.PROTECT, related_name="agencies"
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    requires_referent_validation = models.BooleanField(
        _("referrals need the school referent's validation"),
        default=False,
        help_text=_("When set, a teacher's referral goes to the school referent before triage."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="agency_unique_name"),
        ]
        permissions = [
            ("view_school_referrals", _("Can see the referrals written in the school")),
            ("validate_school_referrals", _("Can validate and send the school's referrals")),
        ]

    def __str__(self):
        return self.name


class Membership(AuditedModel):
    """A user works for an agency in a role; the role decides which scopes they are granted."""

    class Role(models.TextChoices):
        TEACHER = "teacher", _("Teacher")
        SCHOOL_REFERENT = "school_referent", _("School referent")
        SOCIAL_WORKER = "social_worker", _("Social worker")
        TRIAGE_COORDINATOR = "triage_coordinator", _("Triage coordinator")
        PSYCHOLOGIST = "psychologist", _("Psychologist")
        EDUCATOR = "educator", _("Educator")
        PEDAGOGICAL_REFERENT = "pedagogical_referent", _("Pedagogical referent")
        HEALTH_PROFESSIONAL = "health_professional", _("Health professional")
        SUPERVISOR = "supervisor", _("Supervisor")
        HELPLINE_OPERATOR = "helpline_operator", _("Helpline operator")
        AUDITOR = "auditor", _("Auditor")

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, db_index=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "agency", "role"], name="membership_unique_role"
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.agency}"


class Child(AuditedModel):
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    tax_code = models.CharField(_("tax code"), max_length=32, blank=True, db_index=True)
    district = models.ForeignKey(
        District,
        verbose_name=_("district of residence"),
        on_delete=models.PROTECT,
        related_name="children",
    )
    school = models.ForeignKey(
        Agency,
        verbose_name=_("school"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pupils",
        limit_choices_to={"kind": Agency.Kind.SCHOOL},
    )
    school_class = models.CharField(_("class"), max_length=40, blank=True)
    home_languages = models.CharField(_("languages spoken at home"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        indexes = [models.Index(fields=["last_name", "first_name", "date_of_birth"])]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def age(self) -> int:
        today = timezone.localdate()
        born = self.date_of_birth
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class Guardian(AuditedModel):
    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.CASCADE, related_name="guardians"
    )
    name = models.CharField(_("name"), max_length=200)
    relationship = models.CharField(_("relationship"), max_length=60)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")

    def __str__(self):
        return self.name


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
    """A verifica periodica / revisió periòdica of the case plan."""

    class Decision(models.TextChoices):
        CONTINUE = "continue", _("Continue the plan")
        UPDATE_PLAN = "update_plan", _("Update the plan")
        CLOSE = "close", _("Propose closure")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="reviews"
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


class Service(AuditedModel):
    """An entry of the service directory (mappa dei servizi / catàleg de serveis)."""

    class Kind(models.TextChoices):
        EARLY_CHILDHOOD = "early_childhood", _("Early childhood and nursery")
        FAMILY_CENTRE = "family_centre", _("Family centre and parenting support")
        PSYCHOLOGICAL = "psychological", _("Psychological support")
        HEALTH = "health", _("Health")
        NEUROPSYCHIATRY = "neuropsychiatry", _("Child neuropsychiatry")
        EDUCATIONAL = "educational", _("Educational support and after-school")
        ANTI_VIOLENCE = "anti_violence", _("Anti-violence centre")
        ECONOMIC = "economic", _("Economic and housing support")
        LEISURE = "leisure", _("Leisure, sport and culture")
        MEDIATION = "mediation", _("Cultural and language mediation")
        HELPLINE = "helpline", _("Helpline")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="services",
    )
    district = models.ForeignKey(
        District, verbose_name=_("district"), on_delete=models.PROTECT, related_name="services"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, db_index=True)
    description = models.TextField(_("description"), blank=True)
    min_age = models.PositiveSmallIntegerField(
        _("minimum age"), default=0, validators=[MaxValueValidator(25)]
    )
    max_age = models.PositiveSmallIntegerField(
        _("maximum age"), default=18, validators=[MinValueValidator(0), MaxValueValidator(25)]
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    languages = models.CharField(_("languages"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        indexes = [models.Index(fields=["district", "kind", "min_age", "max_age"])]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="service_unique_name"),
            models.CheckConstraint(
                condition=models.Q(min_age__lte=models.F("max_age")),
                name="service_age_range_ordered",
            ),
        ]

    def __str__(self):
        return self.name


class Contact(AuditedModel):
    """A helpline / information point contact (scheda registrazione contatto)."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        IN_PERSON = "in_person", _("In person")
        OTHER = "other", _("Other")

    class Category(models.TextChoices):
        EDUCATIONAL_SERVICES = "educational_services", _("Educational and school services")
        SOCIAL_SUPPORT = "social_support", _("Social and economic support")
        HEALTH = "health", _("Health")
        LEISURE = "leisure", _("Cultural, leisure and sport initiatives")
        PARENTING = "parenting", _("Parenting")
        OTHER = "other", _("Other")

    operator = models.ForeignKey(
        User, verbose_name=_("operator"), on_delete=models.PROTECT, related_name="contacts"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    contacted_at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
    )
    family_reference = models.CharField(
        _("family reference"),
        max_length=100,
        blank=True,
        help_text=_("A pseudonymous reference, never a name."),
    )
    category = models.CharField(_("question category"), max_length=32, choices=Category.choices)
    question = models.TextField(_("question"))
    answer = models.TextField(_("answer"), blank=True)
    services = models.ManyToManyField(
        Service, verbose_name=_("services pointed to"), blank=True, related_name="contacts"
    )
    history = HistoricalRecords(m2m_fields=[services])

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-contacted_at"]

    def __str__(self):
        return _("Contact %(pk)s") % {"pk": self.pk}


class ProtocolSettings(AuditedModel):
    """Deadlines of the protocol, edited by an administrator (one row)."""

    immediate_danger_hours = models.PositiveIntegerField(
        _("triage deadline for immediate danger (hours)"), default=8
    )
    urgent_days = models.PositiveIntegerField(_("triage deadline for urgent (days)"), default=2)
    priority_days = models.PositiveIntegerField(_("triage deadline for priority (days)"), default=5)
    routine_days = models.PositiveIntegerField(_("triage deadline for routine (days)"), default=10)
    information_request_days = models.PositiveIntegerField(
        _("days to answer an information request"), default=10
    )
    review_weeks_high = models.PositiveIntegerField(
        _("review interval, high risk (weeks)"), default=4
    )
    review_weeks_medium = models.PositiveIntegerField(
        _("review interval, medium risk (weeks)"), default=8
    )
    review_weeks_low = models.PositiveIntegerField(
        _("review interval, low risk (weeks)"), default=12
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("protocol settings")
        verbose_name_plural = _("protocol settings")

    def __str__(self):
        return str(_("Protocol deadlines"))

    @classmethod
    def current(cls) -> "ProtocolSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


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
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["emailed_at", "created_at"]),
        ]

    def __str__(self):
        return self.get_kind_display()


class AppendOnlyError(Exception):
    """The audit tables are written once and never changed or deleted."""


class AccessLog(models.Model):
    """The read log: who saw which referral or case, when, from where and through which door.

    One row per record shown (a list of 50 writes 50 rows in one INSERT), so that "who has
    looked at this file" is an indexed lookup. Ids only: the log holds no personal data.
    """

    class Door(models.TextChoices):
        WEB = "web", _("Web page")
        API = "api", _("API")
        DOWNLOAD = "download", _("Download")
        EXPORT = "export", _("Export")

    class Kind(models.TextChoices):
        REFERRAL = "referral", _("Referral")
        CASE = "case", _("Case")

    at = models.DateTimeField(_("when"), default=timezone.now)
    user = models.ForeignKey(
        User, verbose_name=_("who"), on_delete=models.PROTECT, related_name="+"
    )
    door = models.CharField(_("door"), max_length=10, choices=Door.choices)
    action = models.CharField(_("what"), max_length=40)
    object_type = models.CharField(_("record type"), max_length=10, choices=Kind.choices)
    object_id = models.PositiveIntegerField(_("record"))
    address = models.GenericIPAddressField(_("from"), null=True, blank=True)
    path = models.CharField(_("page visited"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("access record")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"]),
            models.Index(fields=["user", "at"]),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("the access log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the access log is append-only")


# Object permissions live in direct-foreign-key tables, granted to groups for whole scopes.
class DistrictUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(District, on_delete=models.CASCADE)


class DistrictGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(District, on_delete=models.CASCADE)


class AgencyUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Agency, on_delete=models.CASCADE)


class AgencyGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Agency, on_delete=models.CASCADE)


class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)
