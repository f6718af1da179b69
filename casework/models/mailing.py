"""The helpline's mailing list: subscribers, the categories they follow, mailings and the
per-recipient delivery rows that make each mailing reach each subscriber at most once."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .organisation import District

User = settings.AUTH_USER_MODEL

# Seed 004's four categories; a municipality adds its own (admin, or the import).
DEFAULT_CATEGORIES = {
    "cultural_recreational_sports": _("Cultural, recreational and sports initiatives"),
    "family_support": _("Family support (economic support included)"),
    "education_school": _("Education and school"),
    "socio_economic": _("Social and economic matters"),
}


def new_token() -> str:
    """The subscriber's key in confirmation and unsubscribe links: random, so that a link
    says nothing about who it belongs to."""
    return secrets.token_urlsafe(24)


class MailingCategory(AuditedModel):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("mailing category")
        verbose_name_plural = _("mailing categories")
        ordering = ["name"]

    def __str__(self):
        return str(self.label)

    @property
    def label(self):
        """The default categories in the reader's language; a municipality's own as named."""
        return DEFAULT_CATEGORIES.get(self.code, self.name)


class Subscriber(AuditedModel):
    """A family or an institution on the mailing list. No history table: a subscriber may ask
    for erasure, and an append-only copy of their address would outlive it. What changed and
    why is kept without personal data in SubscriberEvent."""

    class Kind(models.TextChoices):
        FAMILY = "family", _("Family")
        INSTITUTION = "institution", _("Institution")

    class InstitutionType(models.TextChoices):
        EDUCATIONAL_SERVICE = "educational_service", _("Educational service")
        ASSOCIATION = "association", _("Association")
        COOPERATIVE = "cooperative", _("Cooperative")
        LIBRARY = "library", _("Library")
        SCHOOL = "school", _("School")
        MUNICIPAL_OFFICE = "municipal_office", _("Municipal office")
        HEALTH_AUTHORITY = "health_authority", _("Health authority")
        PROFESSIONAL = "professional", _("Professional")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    institution_type = models.CharField(
        _("type of institution"), max_length=32, choices=InstitutionType.choices, blank=True
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subscribers",
    )
    categories = models.ManyToManyField(
        MailingCategory, verbose_name=_("categories of interest"), related_name="subscribers"
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Consent: the words the person agreed to, and when (the double opt-in's confirmation).
    consent_text = models.TextField(_("consent text"), blank=True)
    consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    subscribed_on = models.DateField(_("subscribed on"), null=True, blank=True)
    unsubscribed_on = models.DateField(_("unsubscribed on"), null=True, blank=True)
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~models.Q(email=""), name="subscriber_unique_email"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="institution") | models.Q(institution_type=""),
                name="subscriber_type_only_for_institutions",
            ),
        ]
        indexes = [models.Index(fields=["subscribed_on", "unsubscribed_on"])]

    def __str__(self):
        return _("Subscriber %(pk)s") % {"pk": self.pk}

    @property
    def is_active(self) -> bool:
        return self.subscribed_on is not None and self.unsubscribed_on is None


class SubscriberEvent(models.Model):
    """What happened to a subscription, without personal data: kept after an erasure."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=80)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return self.reason


class Mailing(AuditedModel):
    """A message to the subscribers of one category, written by the helpline staff."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    category = models.ForeignKey(
        MailingCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="mailings",
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mailings",
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    author = models.ForeignKey(
        User, verbose_name=_("author"), on_delete=models.PROTECT, related_name="mailings"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_on = models.DateField(_("sent on"), null=True, blank=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Brought from last years' registers: recorded as sent, nothing was e-mailed from here.
    imported = models.BooleanField(_("imported"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        ordering = ["-created_at"]

    def __str__(self):
        return self.subject


class MailingDelivery(models.Model):
    """One mailing to one subscriber. The unique pair is the "at most once": a row is written
    before anything is sent, claimed (committed) before the send, and a row whose worker died
    after claiming it is never sent again (its outcome is unknown, so it is marked so)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")
        SKIPPED = "skipped", _("Skipped (unsubscribed meanwhile)")

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailing", "subscriber"], name="mailing_delivery_once"),
        ]
        indexes = [models.Index(fields=["mailing", "status"])]

    def __str__(self):
        return f"{self.mailing_id}/{self.subscriber_id}: {self.status}"
