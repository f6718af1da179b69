"""Every state change of the domain. Views, API, flows and tasks call these functions only;
the ones that move a referral or a case along the protocol (`@flow_owned`) run only inside
their step, through protocols.steps.run_step.

- drafts: the child and the teacher's form; referrals: the way into the district's queue and
  what the referral services share; triage: claim, decisions, the referrer's answer, feedback;
- cases: team, plan, actions, reviews, closure, documents; organisation: memberships, the
  directory, helpline contacts; notifications: the bell; reminders: the beat sweeps' findings;
  trails: an auditor's break-glass reading of a trail's values; transfers: a case moving to
  another lead worker or another district.

Each service is keyword-only with an explicit actor, runs in one transaction, validates with
full_clean(), and saves with a dotted reason code that django-simple-history records beside
the actor. Transitions lock the row they change (real on PostgreSQL) and refuse with
TransitionNotAllowed (HTTP 409) when the current state does not allow them.
"""

from .api_clients import api_client_create, api_client_retire  # noqa: F401
from .cases import *  # noqa: F403
from .common import TransitionNotAllowed, audited_save  # noqa: F401
from .consent import *  # noqa: F403
from .directory import *  # noqa: F403
from .drafts import *  # noqa: F403
from .handovers import *  # noqa: F403
from .mailing import *  # noqa: F403
from .notifications import notification_mark_read  # noqa: F401
from .organisation import *  # noqa: F403
from .prevention import *  # noqa: F403
from .protocol import *  # noqa: F403
from .referrals import *  # noqa: F403
from .reminders import *  # noqa: F403
from .retention import *  # noqa: F403
from .trails import *  # noqa: F403
from .transfers import *  # noqa: F403
from .triage import *  # noqa: F403
