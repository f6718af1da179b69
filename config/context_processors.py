from django.conf import settings


def session(request):
    """The idle timeout, for the warning the pages show before it (casework.js)."""
    return {"session_idle_timeout": settings.SESSION_IDLE_TIMEOUT}
