"""Around the referral: a school's consultation before any referral (no child named), the
pattern alerts that put several low-level worries about one child together for the triage
team, and the district's network tables (coordination meetings holding no child's data).

Seeds 000 (Terrassa's 0–6 network) and 001 (Bergamo's protocol) put prevention and early
guidance first: a school referent talks a worry through with the district's social team before
a formal referral, and the district's agencies meet to coordinate.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .cases import Case
from .directory import Contact
from .organisation import Agency, District
from .referrals import ConcernCategory, Referral

User = settings.AUTH_USER_MODEL


class AgeBand(models.TextChoices):
    """How old the child is, without a date of birth that would help name them."""

    UNDER_3 = "0-2", _("0–2 years")
    FROM_3 = "3-5", _("3–5 years")
    FROM_6 = "6-10", _("6–10 years")
    FROM_11 = "11-13", _("11–13 years")
    FROM_14 = "14-17", _("14–17 years")


class Consultation(AuditedModel):
    """A question to the district's social team about a situation, without naming the child
    (consulenza / consulta prèvia): the team answers within the protocol's deadline, and the
    asker may turn it into a referral that keeps the thread."""

    class Status(models.TextChoices):
        AWAITING = "awaiting", _("Waiting for the social team's answer")
        ANSWERED = "answered", _("Answered")
        REFERRED = "referred", _("Turned into a referral")
        CLOSED = "closed", _("Closed")

    asker = models.ForeignKey(
        User, verbose_name=_("asked by"), on_delete=models.PROTECT, related_name="consultations"
    )
    school = models.ForeignKey(
        Agency,
        verbose_name=_("school or agency"),
        on_delete=models.PROTECT,
        related_name="consultations",
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="consultations",
        help_text=_("The district whose social team answers: the school's."),
    )
    age_band = models.CharField(_("age of the child"), max_length=8, choices=AgeBand.choices)
    concern_categories = models.JSONField(_("areas of concern"), default=list, blank=True)
    question = models.TextField(
        _("the situation and the question"),
        help_text=_("Describe the situation without the child's or the family's names."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.AWAITING
    )
    asked_at = models.DateTimeField(_("asked at"), default=timezone.now)
    answer_due_at = models.DateTimeField(_("answer due at"))
    answered_at = models.DateTimeField(_("first answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        User,
        verbose_name=_("answered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    referral = models.OneToOneField(
        Referral,
        verbose_name=_("referral it became"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultation",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-asked_at"]
        indexes = [
            # The team's list and the overdue sweep read by deadline.
            models.Index(fields=["district", "status", "answer_due_at"]),
            models.Index(fields=["status", "answer_due_at"]),
            models.Index(fields=["school", "asked_at"]),
            models.Index(fields=["asker", "asked_at"]),
        ]

    def __str__(self):
        return _("Consultation %(pk)s") % {"pk": self.pk}

    def get_absolute_url(self):
        return reverse("casework:consultation_detail", args=[self.pk])

    def clean(self):
        from django.core.exceptions import ValidationError

        unknown = set(self.concern_categories or []) - set(ConcernCategory.values)
        if unknown:
            raise ValidationError(
                {
                    "concern_categories": _("Unknown concern category: %(names)s")
                    % {"names": ", ".join(sorted(unknown))}
                }
            )

    def concern_labels(self) -> list[str]:
        labels = dict(ConcernCategory.choices)
        return [str(labels.get(code, code)) for code in self.concern_categories]

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.AWAITING and self.answer_due_at < timezone.now()


class ConsultationMessage(AuditedModel):
    """One message of a consultation's thread: the asker's side or the social team's."""

    class Side(models.TextChoices):
        ASKER = "asker", _("School")
        TEAM = "team", _("Social team")

    consultation = models.ForeignKey(
        Consultation,
        verbose_name=_("consultation"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    author = models.ForeignKey(
        User, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    side = models.CharField(_("side"), max_length=8, choices=Side.choices)
    body = models.TextField(_("message"))
    written_at = models.DateTimeField(_("written at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("consultation message")
        verbose_name_plural = _("consultation messages")
        ordering = ["written_at", "pk"]

    def __str__(self):
        return _("Message %(pk)s") % {"pk": self.pk}


class PatternAlert(AuditedModel):
    """Several referrals or helpline contacts about the same child (or family) within the
    protocol's window, none alarming on its own: shown to the district's triage team only.

    One alert per cluster and window: `cluster` names the child (``child:<id of the first
    record of that child>``) or the family (``family:<pseudonymous reference>``), never a
    name; `window_start` is the day of the cluster's first item in the window."""

    class Status(models.TextChoices):
        OPEN = "open", _("To look at")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        DISMISSED = "dismissed", _("Dismissed")

    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="pattern_alerts",
    )
    cluster = models.CharField(_("cluster"), max_length=120)
    window_start = models.DateField(_("window from"))
    window_end = models.DateField(_("window to"))
    item_count = models.PositiveSmallIntegerField(_("items"))
    referrals = models.ManyToManyField(
        Referral, verbose_name=_("referrals"), blank=True, related_name="pattern_alerts"
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("helpline contacts"), blank=True, related_name="pattern_alerts"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    handled_by = models.ForeignKey(
        User,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The case the team opened or linked for this child."),
    )
    history = HistoricalRecords(m2m_fields=[referrals, contacts])

    class Meta:
        verbose_name = _("pattern alert")
        verbose_name_plural = _("pattern alerts")
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["district", "status", "raised_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "cluster", "window_start"], name="pattern_alert_once"
            ),
        ]

    def __str__(self):
        return _("Pattern alert %(pk)s") % {"pk": self.pk}

    @property
    def kind(self) -> str:
        return self.cluster.split(":", 1)[0]


class NetworkMeeting(AuditedModel):
    """A coordination meeting of the district's agencies (taula de xarxa / tavolo di rete):
    never about a named child, so it holds no child's data and no case."""

    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="network_meetings",
    )
    held_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200)
    agencies = models.ManyToManyField(
        Agency, verbose_name=_("agencies present"), blank=True, related_name="network_meetings"
    )
    agenda = models.TextField(_("agenda"), blank=True)
    minutes = models.TextField(
        _("minutes"),
        blank=True,
        help_text=_("What was said and decided. Never name a child or a family here."),
    )
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[agencies])

    class Meta:
        verbose_name = _("network meeting")
        verbose_name_plural = _("network meetings")
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["district", "held_on"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("casework:meeting_detail", args=[self.pk])


class MeetingAction(AuditedModel):
    """An action agreed at a network meeting, with the agency (and person) who carries it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    meeting = models.ForeignKey(
        NetworkMeeting,
        verbose_name=_("meeting"),
        on_delete=models.CASCADE,
        related_name="actions",
    )
    description = models.CharField(_("action"), max_length=300)
    owner_agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+"
    )
    owner_name = models.CharField(_("person"), max_length=120, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("agreed action")
        verbose_name_plural = _("agreed actions")
        ordering = ["due_on", "pk"]

    def __str__(self):
        return self.description
