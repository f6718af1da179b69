from django.conf import settings
from django.utils import timezone

from . import permissions, selectors
from .models import Membership


def navigation(request):
    """What the side menu offers this user, and the unread notifications (a few cheap queries)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def compute():
        roles = permissions.roles_of(user)
        return {
            "writes_referrals": bool(
                roles & {Membership.Role.TEACHER, Membership.Role.SCHOOL_REFERENT}
            ),
            "triages": bool(permissions.district_ids(user)),
            "helpline": permissions.can_log_contacts(user),
            "helpline_desk": permissions.can_log_contacts(user)
            or bool(permissions.district_ids(user, permissions.SUPERVISE)),
            "referents": permissions.reads_referents(user),
            # From the roles and districts already read (no query of their own); the pages
            # ask the predicates.
            "consultations": bool(
                roles & {Membership.Role.TEACHER, Membership.Role.SCHOOL_REFERENT}
            )
            or bool(permissions.district_ids(user)),
            "network_tables": bool(
                roles & {Membership.Role.NETWORK_COORDINATOR, Membership.Role.SUPERVISOR}
            ),
            "supervises": permissions.reads_indicators(user),
            # From the roles already read (no query of its own); the page asks the predicate.
            "audits": Membership.Role.AUDITOR in roles,
            # Legal holds: the data protection officer (auditor) and the supervisors.
            "holds": Membership.Role.AUDITOR in roles
            or bool(permissions.district_ids(user, permissions.SUPERVISE)),
            "protocol": Membership.Role.PROTOCOL_ADMINISTRATOR in roles,
            "school_referent": Membership.Role.SCHOOL_REFERENT in roles,
            "unread": selectors.unread_count(user),
        }

    return {
        "nav": _Lazy(compute),
        "EMERGENCY_NUMBER": settings.EMERGENCY_NUMBER,
        "now": timezone.now(),
    }


class _Lazy:
    """Evaluated on first use only, so pages that do not show the menu pay nothing."""

    def __init__(self, compute):
        self._compute = compute
        self._value = None

    def entries(self) -> tuple:
        """Every value, as a key for the menu rendered once (casework templatetags)."""
        if self._value is None:
            self._value = self._compute()
        return tuple(sorted(self._value.items()))

    def __getattr__(self, name):
        if self._value is None:
            self._value = self._compute()
        try:
            return self._value[name]
        except KeyError:
            raise AttributeError(name) from None
