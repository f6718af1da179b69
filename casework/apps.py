from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = _("Casework")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401
        from .db_roles import regrant_after_migrate

        post_migrate.connect(regrant_after_migrate, sender=self)
