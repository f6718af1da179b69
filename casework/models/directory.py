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

    class EntryType(models.TextChoices):
        SERVICE = "service", _("Service")
        PROJECT = "project", _("Project")
        EVENT = "event", _("Event")

    class Recurrence(models.TextChoices):
        ONGOING = "ongoing", _("Ongoing")
        ONE_OFF = "one_off", _("One-off")
        RECURRING = "recurring", _("Recurring")

    name = models.CharField(_("name"), max_length=200)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="services",
    )
    # Seeds 000/001: besides standing services, the network lists projects and events (an
    # after-school project for a school year, a parents' evening), by neighbourhood.
    entry_type = models.CharField(
        _("type"), max_length=16, choices=EntryType.choices, default=EntryType.SERVICE
    )
    recurrence = models.CharField(
        _("recurrence"), max_length=16, choices=Recurrence.choices, default=Recurrence.ONGOING
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    neighbourhood = models.CharField(_("neighbourhood"), max_length=100, blank=True)
    cost = models.CharField(
        _("cost"), max_length=200, blank=True, help_text=_("Empty when free of charge.")
    )
    how_to_access = models.TextField(_("how to access"), blank=True)
    website = models.URLField(_("web site"), blank=True)
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
            models.CheckConstraint(
                condition=models.Q(starts_on__isnull=True)
                | models.Q(ends_on__isnull=True)
                | models.Q(starts_on__lte=models.F("ends_on")),
                name="service_dates_ordered",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            errors["max_age"] = _("The maximum age cannot be below the minimum age.")
        if self.starts_on and self.ends_on and self.starts_on > self.ends_on:
            errors["ends_on"] = _("The end date cannot be before the start date.")
        if self.recurrence == self.Recurrence.ONE_OFF and not self.starts_on:
            errors["starts_on"] = _("A one-off initiative needs its date.")
        if errors:
            raise ValidationError(errors)


class Referent(AuditedModel):
    """A named person to call in an agency, by topic (and by school where the agency keeps
    one per school): seed 002's map of referents. Work contacts of professionals, kept by
    the agency itself; shown to signed-in users only."""

    class Topic(models.TextChoices):
        CHILD_PROTECTION = "child_protection", _("Child protection (school referent)")
        ON_DUTY = "on_duty", _("On-duty social worker")
        SOCIAL_SERVICE = "social_service", _("Social worker for the school")
        NEUROPSYCHIATRY = "neuropsychiatry", _("Child neuropsychiatry (UONPIA)")
        HEALTH = "health", _("Health")
        INCLUSION = "inclusion", _("Inclusion and special needs")
        HELPLINE = "helpline", _("Helpline and information")
        OTHER = "other", _("Other")

    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="referents"
    )
    topic = models.CharField(_("topic"), max_length=32, choices=Topic.choices, db_index=True)
    school = models.ForeignKey(
        Agency,
        verbose_name=_("for the school"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="referents_for",
        limit_choices_to={"kind": "school"},
        help_text=_("Empty: the referent for every school of the district."),
    )
    name = models.CharField(_("name"), max_length=200)
    role_title = models.CharField(_("role"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    hours = models.CharField(_("when to call"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("referent")
        verbose_name_plural = _("referents")
        ordering = ["agency__name", "topic", "name"]
        indexes = [models.Index(fields=["agency", "topic"])]

    def __str__(self):
        return f"{self.name} · {self.get_topic_display()} · {self.agency}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if not (self.phone or self.email):
            raise ValidationError({"phone": _("Give a phone number or an e-mail address.")})


class HelplineHours(AuditedModel):
    """When the helpline answers (seed 004: Tuesday, Thursday, Friday 10:00–13:30). One row
    per opening; a contact logged outside every opening is flagged."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("helpline opening hours")
        verbose_name_plural = _("helpline opening hours")
        ordering = ["weekday", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens_at__lt=models.F("closes_at")),
                name="helpline_hours_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Contact(AuditedModel):
    """A helpline / information point contact (scheda registrazione contatto)."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        IN_PERSON = "in_person", _("In person")
        OTHER = "other", _("Other")

    class Caller(models.TextChoices):
        FAMILY = "family", _("Family")
        INSTITUTION = "institution", _("Institution")
        PROFESSIONAL = "professional", _("Professional")

    class AgeBand(models.TextChoices):
        UNDER_3 = "0-2", _("0–2 years")
        FROM_3 = "3-5", _("3–5 years")
        FROM_6 = "6-10", _("6–10 years")
        FROM_11 = "11-13", _("11–13 years")
        FROM_14 = "14-17", _("14–17 years")
        ADULT = "18+", _("18 and over")
        UNKNOWN = "", _("Not known")

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
    caller = models.CharField(
        _("who called"), max_length=16, choices=Caller.choices, default=Caller.FAMILY
    )
    age_band = models.CharField(
        _("age of the child"), max_length=8, choices=AgeBand.choices, blank=True
    )
    follow_up = models.TextField(_("follow-up"), blank=True)
    outside_hours = models.BooleanField(
        _("outside opening hours"),
        default=False,
        help_text=_("Logged at a time the helpline is not open."),
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
