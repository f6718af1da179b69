"""Every state change of the domain. Views, API, flows and tasks call these functions only.

Each service is keyword-only with an explicit actor, runs in one transaction, validates with
full_clean(), and saves with a dotted reason code that django-simple-history records beside
the actor. Transitions lock the row they change (real on PostgreSQL) and refuse with
TransitionNotAllowed (HTTP 409) when the current state does not allow them.
"""

from .cases import *  # noqa: F403
from .common import TransitionNotAllowed, audited_save  # noqa: F401
from .notifications import notification_mark_read  # noqa: F401
from .organisation import *  # noqa: F403
from .referrals import *  # noqa: F403
from .reminders import *  # noqa: F403
