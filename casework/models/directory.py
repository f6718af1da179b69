"""The service directory and the helpline's contact records."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .organisation import Agency, District

User = settings.AUTH_USER_MODEL


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
