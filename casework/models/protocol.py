"""Each municipality's own protocol: its districts, and the versions of its protocol (deadlines,
review rhythm, concern categories and their observed signs, whether schools validate through
their referent, the escalation chain, the wording the school reads)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel

User = settings.AUTH_USER_MODEL


class Municipality(AuditedModel):
    """A comune / ajuntament: owns its districts and its protocol versions. As the data
    controller of its districts' records it also says how long each kind is kept (the
    retention_*_days, read by casework.retention): a records schedule applies to every record
    it holds, whichever protocol version the record started under, so it is set here, not on
    a version (docs/data-protection.md, "Where retention is set")."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # The defaults are placeholders: how long Italian and Catalan social services keep each
    # kind of record is set by regional rules and each municipality's records schedule
    # (massimario di scarto / taula d'avaluació documental), which the project does not know.
    # The DPO must set every one of them (docs/operations.md, "Retention and purge").
    retention_draft_days = models.PositiveIntegerField(
        _("keep a draft never sent (days after its last change)"), default=180
    )
    retention_no_further_action_days = models.PositiveIntegerField(
        _("keep a referral closed with no further action (days after the decision)"),
        default=5 * 365,
    )
    retention_redirected_days = models.PositiveIntegerField(
        _("keep a redirected referral (days after the decision)"), default=5 * 365
    )
    retention_closed_case_days = models.PositiveIntegerField(
        _("keep a closed case and its referrals (days after the closure)"), default=10 * 365
    )
    retention_contact_days = models.PositiveIntegerField(
        _("keep a helpline contact (days after the contact)"), default=2 * 365
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]

    def __str__(self):
        return self.name


# The settings a version carries (copied to the next version, set by the protocol
# administrator). A district that belongs to no municipality, or whose municipality has no
# version in force, follows the fields' defaults (ProtocolVersion.fallback).
SETTING_FIELDS = (
    "immediate_danger_hours",
    "urgent_days",
    "priority_days",
    "routine_days",
    "information_request_days",
    "review_weeks_high",
    "review_weeks_medium",
    "review_weeks_low",
    "team_access_months",
    "child_max_age",
    "consultation_answer_days",
    "pattern_window_days",
    "pattern_threshold",
    "closure_message",
)


class ProtocolVersionQuerySet(models.QuerySet):
    def in_force(self, day=None):
        day = day or timezone.localdate()
        return self.filter(valid_from__lte=day).filter(
            models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=day)
        )

    def current(self, municipality_id, day=None):
        """The version of the municipality in force on `day` (the latest to start)."""
        if municipality_id is None:
            return None
        return (
            self.filter(municipality_id=municipality_id)
            .in_force(day)
            .order_by("-valid_from", "-number")
            .first()
        )

    def for_(self, obj=None, *, day=None) -> "ProtocolVersion":
        """The protocol that governs `obj`: the version a referral or a case started under;
        for a district (or anything with a district), its municipality's version in force;
        else the installation's default (an unsaved version with the fields' defaults).
        Read it through casework.selectors.protocol_for."""
        version_id = getattr(obj, "protocol_version_id", None)
        if version_id is not None:
            return obj.protocol_version
        district = obj if obj is not None and obj._meta.model_name == "district" else None
        if district is None and obj is not None and getattr(obj, "district_id", None):
            district = obj.district
        if district is not None:
            found = self.current(district.municipality_id, day)
            if found is not None:
                return found
        return self.model.fallback()


class ProtocolVersion(AuditedModel):
    """One version of a municipality's protocol, in force from `valid_from` (until
    `valid_until`, or until the next version starts). A version in force is never edited: a
    change is a new version. Referrals and cases keep the version they started under."""

    class SchoolValidation(models.TextChoices):
        PER_SCHOOL = "per_school", _("As each school has chosen")
        ALWAYS = "always", _("Every school validates through its referent")
        NEVER = "never", _("Teachers send straight to the social team")

    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="protocol_versions",
    )
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    valid_from = models.DateField(_("in force from"))
    valid_until = models.DateField(_("in force until"), null=True, blank=True)
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
    team_access_months = models.PositiveIntegerField(
        _("access of a professional brought on a case team (months, renewable)"), default=12
    )
    child_max_age = models.PositiveIntegerField(
        _("oldest age of a child the protocol takes (years)"), default=18
    )
    consultation_answer_days = models.PositiveIntegerField(
        _("days to answer a school's consultation"),
        default=5,
        help_text=_("A consultation not answered by then is shown as overdue to the team."),
    )
    pattern_window_days = models.PositiveIntegerField(
        _("pattern alerts: window (days)"),
        default=90,
        help_text=_("Referrals or helpline contacts about the same child within this window."),
    )
    pattern_threshold = models.PositiveIntegerField(
        _("pattern alerts: how many items raise an alert"),
        default=3,
        validators=[MinValueValidator(2)],
        help_text=_("From this many items in the window, the triage team sees an alert."),
    )
    school_validation = models.CharField(
        _("school referent's validation"),
        max_length=16,
        choices=SchoolValidation.choices,
        default=SchoolValidation.PER_SCHOOL,
    )
    concern_categories = models.JSONField(
        _("concern categories and their observed signs"),
        default=list,
        blank=True,
        help_text=_('A list of {"code", "label", "signs": [...]}; empty: the standard categories.'),
    )
    escalation_chain = models.JSONField(
        _("escalation chain"),
        default=list,
        blank=True,
        help_text=_("Who is told, in order, when a deadline passes (e.g. supervisor, director)."),
    )
    feedback_message = models.TextField(
        _("what the referrer reads when the referral is taken up"), blank=True
    )
    closure_message = models.TextField(
        _("what the referrer reads when the case is closed"), blank=True
    )
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()
    objects = ProtocolVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("protocol version")
        verbose_name_plural = _("protocol versions")
        ordering = ["municipality", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "number"], name="protocol_version_unique_number"
            ),
        ]

    def __str__(self):
        return _("%(municipality)s, protocol v%(number)s") % {
            "municipality": self.municipality,
            "number": self.number,
        }

    def in_force(self, day=None) -> bool:
        day = day or timezone.localdate()
        return self.valid_from <= day and (self.valid_until is None or self.valid_until >= day)

    @classmethod
    def fallback(cls) -> "ProtocolVersion":
        """The installation's default protocol (never saved): every field at its default."""
        return cls(number=0, valid_from=timezone.localdate().replace(year=2000))

    def needs_referent_validation(self, school) -> bool:
        """Whether a teacher's referral from `school` goes to the school referent first."""
        if self.school_validation == self.SchoolValidation.ALWAYS:
            return True
        if self.school_validation == self.SchoolValidation.NEVER:
            return False
        return bool(school is not None and school.requires_referent_validation)

    def triage_period(self, urgency: str) -> dict:
        """{"hours": n} for immediate danger, {"days": n} otherwise."""
        if urgency == "immediate_danger":
            return {"hours": self.immediate_danger_hours}
        return {
            "days": {
                "urgent": self.urgent_days,
                "priority": self.priority_days,
                "routine": self.routine_days,
            }[urgency]
        }

    def review_weeks(self, risk_level: str) -> int:
        return {
            "high": self.review_weeks_high,
            "medium": self.review_weeks_medium,
            "low": self.review_weeks_low,
        }[risk_level]
