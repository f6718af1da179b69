from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtocolsConfig(AppConfig):
    name = "protocols"
    verbose_name = _("Signalling protocol")

    def ready(self):
        from . import flows  # noqa: F401 - registers the flows and their permissions
