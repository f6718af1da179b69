import sys

from django.core.exceptions import ImproperlyConfigured


def load_settings_or_exit() -> None:
    """Read the settings now, so that a bad variable stops start-up with one clear line."""
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - forces the settings module to load
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.exit(2)
