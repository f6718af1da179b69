"""Districts, agencies, who works where, and the installation's own retention."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .protocol import Municipality

User = settings.AUTH_USER_MODEL


class District(AuditedModel):
    """An ambito / polo / districte: the territory whose social team triages referrals."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="districts",
        help_text=_("Whose protocol the district follows."),
    )
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
            ("keep_directory", _("Can keep the district's directory of services")),
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
        NETWORK_COORDINATOR = "network_coordinator", _("Network coordinator")
        PROTOCOL_ADMINISTRATOR = "protocol_administrator", _("Protocol administrator")
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


class ProtocolSettings(AuditedModel):
    """The installation's own retention (one row): the records that belong to no municipality
    — the mailing list, the access log, the history of the organisation's records. Everything
    else is set per municipality: its protocol (ProtocolVersion: deadlines, consultations,
    pattern alerts) and the retention of its records (Municipality.retention_*_days)."""

    # The defaults are placeholders (see Municipality): the DPO sets them (docs/operations.md).
    retention_subscriber_days = models.PositiveIntegerField(
        _("keep an unsubscribed mailing-list subscriber (days after leaving)"), default=30
    )
    retention_access_log_days = models.PositiveIntegerField(
        _("keep the access log (days)"), default=2 * 365
    )
    retention_history_days = models.PositiveIntegerField(
        _("keep the history of the organisation's records (days)"),
        default=10 * 365,
        help_text=_(
            "Districts, agencies, roles, the directory, settings: older versions are deleted, "
            "the latest version of each record is kept. A case's history goes with the case."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("installation retention")
        verbose_name_plural = _("installation retention")

    def __str__(self):
        return str(_("Installation retention"))

    @classmethod
    def value(cls, name: str):
        """One setting, read without creating the row (its default when there is none)."""
        stored = cls.objects.filter(pk=1).values_list(name, flat=True).first()
        return stored if stored is not None else cls._meta.get_field(name).default

    @classmethod
    def current(cls) -> "ProtocolSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
