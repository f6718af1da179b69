"""What the family was told and agreed to, and the data subject's requests.

On a case: each time the family was informed (what, by whom, how, in which language, with an
interpreter or not), the consents given and withdrawn for a purpose (sharing with a named
agency, a hand-over to a school, mailings), the objections and how they were handled, and the
legal basis recorded each time the file was shared with an agency not yet on the team.

About a child (or a guardian): the subject access requests the data protection officer
answered, and the rectification requests with their decision.

Every row keeps a history (django-simple-history) written by casework.services with a reason.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .cases import Case, CaseTeamMember
from .children import Child, Guardian
from .organisation import Agency

User = settings.AUTH_USER_MODEL


class ConsentPurpose(models.TextChoices):
    SHARE_AGENCY = "share_agency", _("Sharing the file with a named agency")
    SCHOOL_HANDOVER = "school_handover", _("A hand-over to a school")
    MAILING = "mailing", _("Mailings to the family")


class HowObtained(models.TextChoices):
    SIGNED = "signed", _("Signed form")
    IN_PERSON = "in_person", _("Said in person, noted by the professional")
    PHONE = "phone", _("By phone")
    EMAIL = "email", _("By e-mail or letter from the family")


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("The family's consent")
    LEGAL_OBLIGATION = "legal_obligation", _("A legal obligation of the service (GDPR art. 6.1.c)")
    PUBLIC_TASK = (
        "public_task",
        _("The child-protection task of the municipality (GDPR art. 6.1.e and 9.2.g/h)"),
    )
    VITAL_INTERESTS = "vital_interests", _("The child's vital interests (GDPR art. 6.1.d, 9.2.c)")


class FamilyInformation(AuditedModel):
    """One time the family was informed about the case (seed documents: "informare la
    famiglia", "informar la família")."""

    class Channel(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        PHONE = "phone", _("By phone")
        VIDEO = "video", _("By video call")
        LETTER = "letter", _("By letter")
        EMAIL = "email", _("By e-mail")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="family_information"
    )
    informed_on = models.DateField(_("informed on"))
    informed_by = models.ForeignKey(
        User, verbose_name=_("informed by"), on_delete=models.PROTECT, related_name="+"
    )
    informed_whom = models.CharField(
        _("who was informed"),
        max_length=200,
        help_text=_("For example: the mother; both parents and the child."),
    )
    what = models.TextField(_("what the family was told"))
    channel = models.CharField(_("how"), max_length=20, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=60)
    interpreter = models.BooleanField(_("with an interpreter"), default=False)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("family information")
        verbose_name_plural = _("family information")
        ordering = ["informed_on", "pk"]

    def __str__(self):
        return _("Family informed on %(date)s") % {"date": self.informed_on}


class Consent(AuditedModel):
    """A consent the family gave for one purpose, and its withdrawal. A consent is in force
    from the day it was given until the day it was withdrawn."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The agency the file may be shared with, or the school of the hand-over."),
    )
    given_by = models.CharField(
        _("given by"), max_length=200, help_text=_("Who in the family gave it.")
    )
    given_on = models.DateField(_("given on"))
    how_obtained = models.CharField(_("how obtained"), max_length=20, choices=HowObtained.choices)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawn_how = models.CharField(
        _("how withdrawn"), max_length=20, choices=HowObtained.choices, blank=True
    )
    withdrawal_note = models.TextField(_("about the withdrawal"), blank=True)
    withdrawal_recorded_by = models.ForeignKey(
        User,
        verbose_name=_("withdrawal recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["given_on", "pk"]
        indexes = [models.Index(fields=["case", "purpose", "withdrawn_on"])]

    def __str__(self):
        return _("Consent: %(purpose)s") % {"purpose": self.get_purpose_display()}

    @property
    def in_force(self) -> bool:
        return self.withdrawn_on is None and self.given_on <= timezone.localdate()


class Objection(AuditedModel):
    """The family objects to a processing (GDPR art. 21); the team or the supervisor records
    how it was handled, with the reason."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Being considered")
        UPHELD = "upheld", _("Upheld: the processing stops or changes")
        PARTLY_UPHELD = "partly_upheld", _("Partly upheld")
        REJECTED = "rejected", _("Not upheld: compelling grounds or a legal obligation")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="objections"
    )
    raised_on = models.DateField(_("raised on"))
    raised_by = models.CharField(_("raised by"), max_length=200)
    about = models.TextField(_("what the family objects to"))
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.PENDING
    )
    outcome_reason = models.TextField(_("reason for the outcome"), blank=True)
    handled_by = models.ForeignKey(
        User,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["raised_on", "pk"]

    def __str__(self):
        return _("Objection of %(date)s") % {"date": self.raised_on}


class Sharing(AuditedModel):
    """The file was shared with an agency that was not on the team yet (a professional of it
    joined): on the family's consent in force, or on another legal basis, explained."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="sharings"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        CaseTeamMember,
        verbose_name=_("team member"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    consent = models.ForeignKey(
        Consent,
        verbose_name=_("consent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sharings",
    )
    explanation = models.TextField(_("why this basis"), blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("sharing with an agency")
        verbose_name_plural = _("sharings with agencies")
        ordering = ["recorded_at", "pk"]

    def __str__(self):
        return _("Shared with %(agency)s") % {"agency": self.agency}


class SubjectAccessRequest(AuditedModel):
    """A person asked for everything the service holds about them (GDPR art. 15): the data
    protection officer records the request and produces the export (each export is a read in
    the access log)."""

    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.CASCADE, related_name="+"
    )
    guardian = models.ForeignKey(
        Guardian,
        verbose_name=_("parent or guardian"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the request is about the child; else about this guardian."),
    )
    requested_by = models.CharField(_("requested by"), max_length=200)
    received_on = models.DateField(_("received on"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("subject access request")
        verbose_name_plural = _("subject access requests")
        ordering = ["-recorded_at", "-pk"]

    def __str__(self):
        return _("Subject access request %(pk)s") % {"pk": self.pk}


# The fields a rectification may change: (model, field).
RECTIFIABLE = {
    "child": (
        "first_name",
        "last_name",
        "date_of_birth",
        "tax_code",
        "school_class",
        "home_languages",
    ),
    "guardian": ("name", "relationship", "phone", "email"),
}


class RectificationRequest(AuditedModel):
    """A person asks that data about them be corrected (GDPR art. 16); accepted, the change
    is made through the services (with its history row); refused, with the reason."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To decide")
        ACCEPTED = "accepted", _("Accepted and corrected")
        REFUSED = "refused", _("Refused")

    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.CASCADE, related_name="+"
    )
    guardian = models.ForeignKey(
        Guardian,
        verbose_name=_("parent or guardian"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    field = models.CharField(_("what to correct"), max_length=40)
    requested_value = models.CharField(_("the correct value"), max_length=300)
    requested_by = models.CharField(_("requested by"), max_length=200)
    received_on = models.DateField(_("received on"))
    explanation = models.TextField(_("explanation"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rectification request")
        verbose_name_plural = _("rectification requests")
        ordering = ["-recorded_at", "-pk"]

    def __str__(self):
        return _("Rectification request %(pk)s") % {"pk": self.pk}
