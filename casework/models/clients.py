"""Agency systems that sign in to the API with OAuth2 client credentials.

An ApiClient binds one OAuth2 application (django-oauth-toolkit) to an agency through a
service user of its own: the service user's memberships decide what the system may see and
do, exactly as a person's would; the client's scopes (`read`, `write`) decide which methods
its tokens may use. Retiring a client ends its membership, its tokens and its service user."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .organisation import Agency

SCOPES = ("read", "write")


class ApiClient(AuditedModel):
    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        verbose_name=_("OAuth2 application"),
        on_delete=models.PROTECT,
        related_name="casework_client",
    )
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service user"),
        on_delete=models.PROTECT,
        related_name="api_client",
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="api_clients"
    )
    scopes = models.CharField(
        _("scopes"), max_length=40, help_text=_("read, or read and write, separated by spaces")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self):
        return f"{self.application.name} · {self.agency}"

    @property
    def scope_list(self) -> list[str]:
        return [scope for scope in self.scopes.split() if scope in SCOPES]
