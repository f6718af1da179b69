from django.conf import settings


def session(request):
    """The idle timeout, for the warning the pages show before it (casework.js); whom to call
    and the emergency number, which the sign-in page shows before anyone is signed in."""
    return {
        "session_idle_timeout": settings.SESSION_IDLE_TIMEOUT,
        "SUPPORT_CONTACT": settings.SUPPORT_CONTACT,
        "EMERGENCY_NUMBER": settings.EMERGENCY_NUMBER,
    }
