"""Hand-overs at school-grade transitions: the case team tells the receiving school's referent
what helps the child, with the family's consent (or the legal basis) recorded."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .cases import Case
from .organisation import Agency

User = settings.AUTH_USER_MODEL


class HandOver(AuditedModel):
    """A hand-over note from a case team to the referent of the school the child moves to.
    Minimal disclosure: the school reads the child's name, the note and whom to call — never
    the case file, its notes or documents."""

    class Transition(models.TextChoices):
        NURSERY_TO_PRESCHOOL = "nursery_to_preschool", _("From nursery to preschool")
        PRESCHOOL_TO_PRIMARY = "preschool_to_primary", _("From preschool to primary school")
        PRIMARY_TO_SECONDARY = "primary_to_secondary", _("From primary to secondary school")
        CHANGE_OF_SCHOOL = "change_of_school", _("To another school")

    class Basis(models.TextChoices):
        CONSENT = "consent", _("The family consented")
        LEGAL_BASIS = "legal_basis", _("No consent needed: a legal basis")

    class Status(models.TextChoices):
        SENT = "sent", _("Sent to the school")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged by the school")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="handovers"
    )
    from_school = models.ForeignKey(
        Agency,
        verbose_name=_("from school"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_school = models.ForeignKey(
        Agency,
        verbose_name=_("receiving school"),
        on_delete=models.PROTECT,
        related_name="handovers_received",
    )
    transition = models.CharField(_("transition"), max_length=32, choices=Transition.choices)
    note = models.TextField(
        _("hand-over note"),
        help_text=_(
            "What helps the child at the new school: needs, what works, whom to call. No "
            "case notes, no family history beyond what the school needs."
        ),
    )
    basis = models.CharField(_("grounds for sharing"), max_length=16, choices=Basis.choices)
    consent_given_by = models.CharField(_("consent given by"), max_length=200, blank=True)
    consent_given_on = models.DateField(_("consent given on"), null=True, blank=True)
    legal_basis = models.TextField(_("legal basis and why consent is not asked"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SENT, db_index=True
    )
    sent_by = models.ForeignKey(
        User, verbose_name=_("sent by"), on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    acknowledged_by = models.ForeignKey(
        User,
        verbose_name=_("acknowledged by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["to_school", "status"])]

    def __str__(self):
        return f"{self.case} → {self.to_school}"
