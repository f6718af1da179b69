"""A case moving to another lead worker or to another district (the family moved)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .cases import Case
from .organisation import District

User = settings.AUTH_USER_MODEL


class CaseTransfer(AuditedModel):
    """One move of a case. A change of lead worker inside the district is decided by the
    district supervisor and done at once; a move to another district is asked for by the lead
    worker or the supervisor and waits for the receiving district's supervisor, who accepts
    (naming the new lead) or refuses (saying why).

    Once a case has moved, this row is what the sending district keeps of it: the case's
    reference, when, where to and who decided — never the file (docs/operations.md)."""

    class Kind(models.TextChoices):
        LEAD = "lead", _("Change of lead worker")
        DISTRICT = "district", _("Transfer to another district")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Awaiting the receiving district")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Grounds(models.TextChoices):
        FAMILY_MOVED = "family_moved", _("The family moved")
        WORKLOAD = "workload", _("Workload of the team")
        LEAD_LEFT = "lead_left", _("The lead worker left or is absent")
        CONFLICT_OF_INTEREST = "conflict_of_interest", _("Conflict of interest")
        SPECIALISED_TEAM = "specialised_team", _("A specialised team is needed")
        OTHER = "other", _("Other")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="transfers"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.REQUESTED,
        db_index=True,
    )
    grounds = models.CharField(_("grounds"), max_length=32, choices=Grounds.choices)
    reason = models.TextField(_("reason"))
    from_district = models.ForeignKey(
        District,
        verbose_name=_("from district"),
        on_delete=models.PROTECT,
        related_name="transfers_out",
    )
    to_district = models.ForeignKey(
        District,
        verbose_name=_("to district"),
        on_delete=models.PROTECT,
        related_name="transfers_in",
    )
    from_lead = models.ForeignKey(
        User, verbose_name=_("previous lead worker"), on_delete=models.PROTECT, related_name="+"
    )
    to_lead = models.ForeignKey(
        User,
        verbose_name=_("new lead worker"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        User, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    refusal_reason = models.TextField(_("why it was refused"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("case transfer")
        verbose_name_plural = _("case transfers")
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["to_district", "status"]),
            models.Index(fields=["from_district", "status"]),
        ]
        constraints = [
            # One move at a time: a second request waits until the first is decided.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="requested"),
                name="case_transfer_one_pending",
            ),
        ]

    def __str__(self):
        return f"{self.case} · {self.get_kind_display()}"
