"""The child a referral is about, and the child's guardians."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .organisation import Agency, District


class Child(AuditedModel):
    """A child as someone recorded them. A referrer's form always records a new child as typed
    (nothing stored by others is looked up or shown on the referrer's side); at triage the social
    team checks the identity against the children it knows and links the record to one of them
    (``same_as``) or confirms it as a child not known before."""

    class Identity(models.TextChoices):
        AS_TYPED = "as_typed", _("As the referrer typed it, not checked yet")
        KNOWN = "known", _("Checked by the social team")
        LINKED = "linked", _("Linked to a child the service already knew")

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
    identity = models.CharField(
        _("identity"), max_length=10, choices=Identity.choices, default=Identity.AS_TYPED
    )
    same_as = models.ForeignKey(
        "self",
        verbose_name=_("same child as"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="typed_records",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        indexes = [models.Index(fields=["last_name", "first_name", "date_of_birth"])]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    def clean(self):
        """A birth date the protocol can take: not in the future, a child's age (0 to the
        protocol settings' oldest age, 18 by default)."""
        from django.core.exceptions import ValidationError

        from .protocol import ProtocolVersion

        born = self.date_of_birth
        if born is None or isinstance(born, str):
            return
        if born > timezone.localdate():
            raise ValidationError({"date_of_birth": _("The date of birth is in the future.")})
        oldest = ProtocolVersion.objects.for_(
            self.district if self.district_id else None
        ).child_max_age
        if self.age > oldest:
            raise ValidationError(
                {
                    "date_of_birth": _(
                        "The child would be %(age)s: the protocol takes children up to %(max)s."
                    )
                    % {"age": self.age, "max": oldest}
                }
            )

    @property
    def subject(self) -> "Child":
        """The child this record is about: the known child it was linked to, or itself."""
        return self.same_as if self.same_as_id else self

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
