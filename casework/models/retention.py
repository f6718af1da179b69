"""Retention: legal holds, the purge register, and the figures a purge keeps for the yearly
report (casework.services.purge, docs/operations.md "Retention and purge")."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .organisation import District

User = settings.AUTH_USER_MODEL


class LegalHold(AuditedModel):
    """A record the purge must not touch while the hold is in place (a court case, a complaint,
    a request of an authority), placed and lifted with a reason by a supervisor of the
    record's district or by the data protection officer (auditor role)."""

    class Kind(models.TextChoices):
        CASE = "case", _("Case")
        REFERRAL = "referral", _("Referral")
        CHILD = "child", _("Child")
        CONTACT = "contact", _("Helpline contact")

    kind = models.CharField(_("record type"), max_length=10, choices=Kind.choices)
    object_id = models.PositiveIntegerField(_("record"))
    # The record's district (for the supervisors' lists); empty for a contact with none.
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("reason for the hold"))
    placed_by = models.ForeignKey(
        User, verbose_name=_("placed by"), on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    lifted_by = models.ForeignKey(
        User,
        verbose_name=_("lifted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_reason = models.TextField(_("reason for lifting"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-placed_at", "-pk"]
        indexes = [models.Index(fields=["kind", "object_id", "lifted_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id"],
                condition=models.Q(lifted_at__isnull=True),
                name="legal_hold_one_in_place",
            ),
        ]

    def __str__(self):
        return _("Hold on %(kind)s %(pk)s") % {
            "kind": self.get_kind_display(),
            "pk": self.object_id,
        }

    @property
    def in_place(self) -> bool:
        return self.lifted_at is None


class PurgeRecord(models.Model):
    """The purge register: what kind of record, how many, when, under which rule. No personal
    data, no ids: what was purged is gone, this says only that it was and why."""

    class Rule(models.TextChoices):
        DRAFT = "draft", _("Draft never sent")
        NO_FURTHER_ACTION = "no_further_action", _("Referral closed with no further action")
        REDIRECTED = "redirected", _("Redirected referral")
        CLOSED_CASE = "closed_case", _("Closed case")
        CONTACT = "contact", _("Helpline contact")
        SUBSCRIBER = "subscriber", _("Mailing-list subscriber")
        ACCESS_LOG = "access_log", _("Access log")
        HISTORY = "history", _("History of the organisation's records")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    rule = models.CharField(_("rule"), max_length=20, choices=Rule.choices)
    # What the rule's retention was when it ran, e.g. "730 days".
    retention = models.CharField(_("retention applied"), max_length=40)
    kind = models.CharField(_("kind of record"), max_length=60)
    count = models.PositiveIntegerField(_("how many"))

    class Meta:
        verbose_name = _("purge register entry")
        verbose_name_plural = _("purge register")
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d} {self.rule} {self.kind} {self.count}"


class RetainedFigure(models.Model):
    """What a purged record counted for in the yearly report, without the record: a year, a
    district, a figure of the report and a code (an urgency, a channel, a triage time in
    hours), and how many. The yearly report adds these to what it counts from the records
    still there, so that a past year's figures do not change when its records are purged."""

    year = models.PositiveSmallIntegerField(_("year"))
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    key = models.CharField(_("figure"), max_length=60)
    code = models.CharField(_("code"), max_length=200, blank=True)
    count = models.PositiveIntegerField(_("how many"), default=1)

    class Meta:
        verbose_name = _("figure kept after a purge")
        verbose_name_plural = _("figures kept after purges")
        indexes = [models.Index(fields=["year", "key"])]

    def __str__(self):
        return f"{self.year} {self.key} {self.code}: {self.count}"
