"""The access policy: for every URL pattern, who may get a 2xx, by the rules of DESIGN.md
("Access and audit", "Who uses it").

One row per URL pattern (or per family of patterns: the admin site, the Viewflow task pages),
matched on the pattern's route string. tests/security/test_permission_matrix.py fails for a
pattern that matches no row, or more than one, so that every new URL needs a decision here.

Each row says, for the GET and for the state-changing method (POST, or PATCH where that is
the write), which personas may be answered with a success. Everyone else must be refused:
401/403/404/405/409, or a redirect (to the login page for the anonymous visitor; for a signed-in
user a page that refuses with a message and a redirect), and nothing may change.

Personas: tests/security/world.py. The superuser ("admin") is the installation's
administrator (DESIGN.md: it manages agencies, districts, users and deadlines), not a member of
any district's team: for case data it follows the same rules as everyone else, and since it holds
no membership it reads and changes no referral, case, audit trail or contact log. It keeps the
admin site, Viewflow's read-only pages and flow charts, and the network's yearly indicators
(aggregates, no personal data). Viewflow's management actions (assign, unassign, cancel, undo,
revive, execute) move nothing for anyone: a step is taken only on the project's pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .world import ADMIN, ANONYMOUS, DEAD_CREDENTIALS, NOT_YET_SENT, PERSONAS, REFERRAL_KEYS

# --- who --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a concrete URL points at: the keys of the world's objects, and literals."""

    world: object
    values: dict

    def _key(self, kind: str) -> str | None:
        for value in self.values.values():
            if value.startswith(f"{kind}:"):
                return value.split(":", 1)[1]
        return None

    @property
    def referral(self) -> str | None:
        return self._key("referral")

    @property
    def case(self) -> str | None:
        return self._key("case")

    @property
    def attachment(self) -> str | None:
        return self._key("attachment")

    def literal(self, name: str) -> str | None:
        return self.values.get(name)


@dataclass(frozen=True)
class Who:
    """A set of personas, possibly depending on the object the URL points at."""

    name: str
    test: Callable[[str, Target], bool] = field(compare=False)

    def __call__(self, persona: str, target: Target) -> bool:
        return self.test(persona, target)

    def __or__(self, other: Who) -> Who:
        return Who(f"{self.name} | {other.name}", lambda p, t: self(p, t) or other(p, t))

    def __and__(self, other: Who) -> Who:
        return Who(f"{self.name} & {other.name}", lambda p, t: self(p, t) and other(p, t))


def personas(*names: str) -> Who:
    unknown = set(names) - set(PERSONAS)
    assert not unknown, unknown
    return Who("{" + ",".join(names) + "}", lambda p, t: p in names)


def _state(*states: str) -> Who:
    return Who(
        f"referral in {'/'.join(states)}",
        lambda p, t: t.referral is not None and t.world.referrals[t.referral].state in states,
    )


def _case_open() -> Who:
    return Who("case open", lambda p, t: t.world.cases[t.case].status == "open")


NOBODY = Who("nobody", lambda p, t: False)
EVERYONE = Who("everyone", lambda p, t: True)
AUTHENTICATED = Who("signed in", lambda p, t: p != ANONYMOUS and p not in DEAD_CREDENTIALS)
ADMIN_ONLY = personas(ADMIN)
AUDITOR = personas("auditor")  # a role of the auditors' agency; not the superuser
# Teachers and school referents write referrals for their school.
REFERRER_SIDE = personas("teacher", "school_referent", "other_teacher")
# Members of a district's triage team or supervisors (of any district).
TRIAGE_SIDE = personas("triage_worker", "supervisor", "outsider")
# The yearly indicators: the supervisors (their districts), and the administrator (aggregates).
SUPERVISORS = personas("supervisor", ADMIN)
# The helpline's operators log contacts; none of the personas is one (not even the superuser).
HELPLINE = NOBODY
# The helpline desk's log is read by the operators and by the districts' supervisors (their
# districts' contacts and those with no district); the administrator holds no district.
HELPLINE_DESK = HELPLINE | personas("supervisor")
# The district's network coordinators keep its directory; none of the personas is one.
DIRECTORY_KEEPERS = NOBODY
# Who to call: every member of the network (an active membership), never the public.
MEMBERS = personas(
    "teacher",
    "school_referent",
    "other_teacher",
    "triage_worker",
    "supervisor",
    "psychologist",
    "outsider",
    "auditor",
    "expired_member",
)
# Each agency keeps its own referents: its referents and coordinators (the school's referent,
# the north's supervisor); the world's referent belongs to the north's social services.
REFERENT_KEEPERS = personas("school_referent", "supervisor")
REFERENT_KEEPER_NORTH = personas("supervisor")

# Legal holds: the data protection officer (the auditor role) and the districts' supervisors.
HOLDERS = AUDITOR | personas("supervisor")
# Consultations: the asker (the teacher) and the school's referent on the school's side; the
# north's triage team and supervisor on the social side. Not another teacher, school or
# district, not the auditor. Only the asker turns it into a referral.
CONSULTATION_SIDE = personas("teacher", "school_referent", "triage_worker", "supervisor")
ASKER = personas("teacher")
# Pattern alerts: the north's triage side only (the outsider's list is empty, its alert 404).
NORTH_TRIAGE = personas("triage_worker", "supervisor")
# The north's network tables: its network coordinators (no persona is one) and supervisors.
NETWORK_KEEPERS = personas("supervisor")

SEES_REFERRAL = Who("sees the referral", lambda p, t: t.world.sees_referral(p, t.referral))
SEES_CASE = Who("sees the case", lambda p, t: t.world.sees_case(p, t.case))
REFERRER = Who(
    "the referrer", lambda p, t: t.world.referrals[t.referral].referrer == p and p != ADMIN
)
SCHOOL_REFERENT = Who(
    "the school's referent",
    lambda p, t: t.world.referent_school.get(p) == t.world.referrals[t.referral].school,
)
# The district's triage team and supervisors, once the referral has reached the district.
TRIAGES = Who(
    "triages the district",
    lambda p, t: (
        t.world.referrals[t.referral].district
        in {t.world.triage_district.get(p), t.world.supervised_district.get(p)}
        and t.world.referrals[t.referral].state not in NOT_YET_SENT
    ),
)
CLAIMER = Who(
    "the worker who claimed it", lambda p, t: t.world.referrals[t.referral].claimed_by == p
)
DISTRICT_SUPERVISOR = Who(
    "the district's supervisor",
    lambda p, t: t.world.supervised_district.get(p) == t.world.referrals[t.referral].district,
)
TEAM_OR_SUPERVISOR = Who(
    "case team or supervisor",
    lambda p, t: (
        p in t.world.cases[t.case].team
        or t.world.supervised_district.get(p) == t.world.cases[t.case].district
    ),
)
LEAD_OR_SUPERVISOR = Who(
    "lead worker or supervisor",
    lambda p, t: (
        p == t.world.cases[t.case].lead
        or t.world.supervised_district.get(p) == t.world.cases[t.case].district
    ),
)
# Reading the audit trail of a referral: the social side that triages it, and the auditors.
REFERRAL_HISTORY = TRIAGES | AUDITOR
# Reading the history of a case and who looked at it: the lead worker, the district's
# supervisors, and the auditors ("the lead worker, the supervisor and the auditor may ask").
CASE_HISTORY = LEAD_OR_SUPERVISOR | AUDITOR
RECIPIENT = Who("the notification's recipient", lambda p, t: p == t.world.notification_recipient)
ATTACHMENT_READER = Who(
    "sees what the document is attached to",
    lambda p, t: (
        t.world.sees_case(p, "open")
        if t.attachment == "case"
        else t.world.sees_referral(p, "draft")
    ),
)
# The referrer acts on the draft and answers questions; the school referent validates.
REFERRER_DRAFT = REFERRER & _state("draft")
TRIAGE_WAITING = TRIAGES & _state("submitted", "in_triage")
# Deciding: an unclaimed referral (the decider claims it in the same step), or one's own claim.
DECIDER = TRIAGES & (_state("submitted") | (CLAIMER & _state("in_triage")))
# Releasing a claim: the worker who claimed it, or a supervisor.
RELEASER = TRIAGES & (CLAIMER | DISTRICT_SUPERVISOR) & _state("in_triage")
CASE_SUPERVISOR = Who(
    "the case's district supervisor",
    lambda p, t: t.world.supervised_district.get(p) == t.world.cases[t.case].district,
)
# The world's transfer: the open case's lead asked South (whose supervisor is no persona) to
# take it over. The lead who asked and the sending district's supervisor read the record and
# may withdraw it; nobody of the matrix may decide it.
TRANSFER_SIDE = personas("triage_worker", "supervisor")
# The world's hand-over went to the Rodari school: its referent reads and acknowledges it.
RECEIVING_REFERENT = personas("school_referent")
CASE_WORK = TEAM_OR_SUPERVISOR & _case_open()
CASE_LEAD = LEAD_OR_SUPERVISOR & _case_open()

# --- what counts as a success ----------------------------------------------------------------

OK = frozenset(range(200, 300))  # the page or the resource
MAY = frozenset(range(200, 500))  # allowed to try: the state of the object decides the answer
REDIRECT = frozenset({302})
PROBE = frozenset({200, 503})  # ready, or not (the answer says which check failed)


@dataclass(frozen=True)
class Access:
    who: Who
    ok: frozenset = OK  # what the allowed personas must get


def may(who: Who, ok: frozenset = OK) -> Access:
    return Access(who, ok)


@dataclass(frozen=True)
class Rule:
    """`route` is a route string, or "re:<regex>" matched against the route string."""

    route: str
    get: Access
    write: Access | None = None  # None: no state-changing method on this URL
    write_method: str = "post"
    per_variant: Callable[[Target], dict] | None = None  # {"get"|"write": Access} by object
    reachable: bool = True  # False: shadowed by an earlier pattern with the same route
    note: str = ""

    def matches(self, route: str) -> bool:
        if self.route.startswith("re:"):
            return re.fullmatch(self.route[3:], route) is not None
        return self.route == route

    def access(self, method: str, target: Target) -> Access | None:
        kind = "get" if method == "get" else "write"
        if self.per_variant is not None:
            chosen = self.per_variant(target)
            if kind in chosen:
                return chosen[kind]
        return self.get if kind == "get" else self.write


API_REFERRAL = "api/v1/^referrals/(?P<pk>[^/.]+)/"
API_CASE = "api/v1/^cases/(?P<pk>[^/.]+)/"

REFERRAL_NODES = (
    "start|needs_validation|validate|triage|decision|await_information|open_case|feedback|end"
)
CASE_NODES = "start|plan|wait_review|review|review_outcome|approve_closure|closure_outcome|end"
TASK_ACTIONS = "assign|unassign|execute|undo|cancel|revive"
# The admin pages that change something: add, change, delete, a password, reverting to a
# historical version (django-simple-history), signing out.
ADMIN_WRITES = (
    r"(?:logout/|password_change/|.+/(?:add|change|delete|password)/|.+/"
    + re.escape("^([^/]+)/history/([^/]+)/$")
    + ")"
)

POLICY: list[Rule] = [
    # --- sign-in and account pages: public, or the user's own account ---------------------
    Rule("accounts/login/", get=may(EVERYONE), write=may(EVERYONE, MAY)),
    Rule("accounts/logout/", get=may(NOBODY), write=may(AUTHENTICATED, MAY)),
    Rule("accounts/password_change/", get=may(AUTHENTICATED), write=may(AUTHENTICATED, MAY)),
    Rule("accounts/password_change/done/", get=may(AUTHENTICATED)),
    Rule("accounts/password_reset/", get=may(EVERYONE), write=may(EVERYONE, MAY)),
    Rule("accounts/password_reset/done/", get=may(EVERYONE)),
    Rule(
        "accounts/reset/<uidb64>/<token>/",
        get=may(EVERYONE),
        write=may(EVERYONE, MAY),
        note="tried with an invalid link: the page says so",
    ),
    Rule("accounts/reset/done/", get=may(EVERYONE)),
    Rule("accounts/profile/", get=may(AUTHENTICATED)),
    # The second factor and the user's own API tokens (config/accounts.py): each person acts
    # on their own account only; the matrix's sessions have no second factor confirmed.
    Rule("accounts/2fa/", get=may(AUTHENTICATED, MAY), write=may(AUTHENTICATED, MAY)),
    Rule("accounts/2fa/enrol/", get=may(AUTHENTICATED, MAY), write=may(AUTHENTICATED, MAY)),
    Rule("accounts/tokens/", get=may(NOBODY), write=may(AUTHENTICATED, MAY)),
    Rule(
        "accounts/tokens/<str:key>/revoke/",
        get=may(NOBODY),
        write=may(AUTHENTICATED, MAY),
        note="tried with a key that is nobody's: the page asks for the second factor first",
    ),
    Rule("i18n/setlang/", get=may(EVERYONE, MAY), write=may(EVERYONE, MAY)),
    # The mailing list's public pages: no sign-in; a link's random token is the only key.
    Rule("mailing-list/", get=may(EVERYONE), write=may(EVERYONE, MAY)),
    Rule(
        "mailing-list/confirm/<str:token>/",
        get=may(NOBODY),
        write=may(NOBODY, MAY),
        note="tried with a token that is nobody's: 404",
    ),
    Rule(
        "mailing-list/unsubscribe/<str:token>/",
        get=may(NOBODY),
        write=may(NOBODY, MAY),
        note="tried with a token that is nobody's: 404",
    ),
    # --- the site's front door: a redirect to the home page ---------------------------------
    Rule("", get=may(AUTHENTICATED, REDIRECT)),
    # --- API: documentation ---------------------------------------------------------------
    # The API answers 401/403 to anonymous callers (config/middleware.py); its description is
    # part of it.
    Rule("api/schema/", get=may(AUTHENTICATED)),
    Rule("api/docs/", get=may(AUTHENTICATED)),
    # --- API: OAuth2 client credentials for agency systems (casework/api/auth.py) ----------
    # Only an ApiClient's id and secret open them; no persona holds one (a session or a
    # personal token is no client credential): 401 invalid_client. tests/protocols/
    # test_api_signin.py tries them with a client's credentials.
    Rule("api/v1/oauth/token/", get=may(NOBODY), write=may(NOBODY)),
    Rule("api/v1/oauth/revoke/", get=may(NOBODY), write=may(NOBODY)),
    # --- API: lists (filtered by scope; see the list tests) ---------------------------------
    Rule("api/v1/queue/", get=may(TRIAGE_SIDE)),
    Rule("api/v1/services/", get=may(AUTHENTICATED), write=may(DIRECTORY_KEEPERS, MAY)),
    # The keepers' working list, withdrawn entries too (the page services/kept/).
    Rule("api/v1/services/kept/", get=may(DIRECTORY_KEEPERS)),
    # One entry: read by everyone signed in; changed by its district's coordinators (nobody
    # of the personas is one: every PATCH is refused, 403, and nothing changes).
    Rule(
        "api/v1/services/<int:pk>/",
        get=may(AUTHENTICATED),
        write=may(DIRECTORY_KEEPERS, MAY),
        write_method="patch",
    ),
    Rule("api/v1/indicators/", get=may(SUPERVISORS)),
    # The contact log: the desk reads it, only the operators record (casework/api/helpline.py).
    Rule("api/v1/contacts/", get=may(HELPLINE_DESK), write=may(HELPLINE, MAY)),
    # A supervisor's escalations: their districts' (the administrator holds no district).
    Rule("api/v1/escalations/", get=may(personas("supervisor"))),
    # Who to call, as on the pages: every member reads; each agency keeps its own.
    Rule("api/v1/referents/", get=may(MEMBERS), write=may(REFERENT_KEEPERS, MAY)),
    Rule(
        "api/v1/referents/<int:pk>/",
        get=may(MEMBERS),
        write=may(REFERENT_KEEPER_NORTH, MAY),
        write_method="patch",
    ),
    Rule("api/v1/^referrals/$", get=may(AUTHENTICATED), write=may(REFERRER_SIDE, MAY)),
    Rule("api/v1/^cases/$", get=may(AUTHENTICATED)),
    # --- API: one referral --------------------------------------------------------------------
    Rule(
        API_REFERRAL + "$",
        get=may(SEES_REFERRAL),
        write=may(REFERRER_DRAFT, MAY),
        write_method="patch",
    ),
    # Submitting is safe for the author to repeat: a referral already submitted answers 200
    # with its current state, changing nothing (tests/protocols/test_api_faults.py).
    Rule(API_REFERRAL + "submit/$", get=may(NOBODY), write=may(REFERRER, MAY)),
    Rule(
        API_REFERRAL + "validate/$",
        get=may(NOBODY),
        write=may(SCHOOL_REFERENT & _state("awaiting_validation"), MAY),
    ),
    Rule(API_REFERRAL + "claim/$", get=may(NOBODY), write=may(TRIAGES & _state("submitted"), MAY)),
    Rule(API_REFERRAL + "release/$", get=may(NOBODY), write=may(RELEASER, MAY)),
    Rule(API_REFERRAL + "decision/$", get=may(NOBODY), write=may(DECIDER, MAY)),
    Rule(
        API_REFERRAL + "information/$",
        get=may(NOBODY),
        write=may(REFERRER & _state("information_requested"), MAY),
    ),
    Rule(API_REFERRAL + "history/$", get=may(REFERRAL_HISTORY)),
    # Break-glass: an auditor states a purpose to read a trail's values (tests/casework).
    Rule(API_REFERRAL + "history/unlock/$", get=may(NOBODY), write=may(AUDITOR, MAY)),
    # Who the child is: the district's triage side only, never the referrer's side.
    Rule(API_REFERRAL + "matches/$", get=may(TRIAGES)),
    # The author throws a draft away; the documents: those who see the referral read the
    # list, the author adds while it is a draft (multipart).
    Rule(API_REFERRAL + "delete/$", get=may(NOBODY), write=may(REFERRER_DRAFT, MAY)),
    Rule(API_REFERRAL + "attachments/$", get=may(SEES_REFERRAL), write=may(REFERRER_DRAFT, MAY)),
    Rule(API_REFERRAL + "child/link/$", get=may(NOBODY), write=may(TRIAGES, MAY)),
    Rule(API_REFERRAL + "child/new/$", get=may(NOBODY), write=may(TRIAGES, MAY)),
    # --- API: one case ----------------------------------------------------------------------
    Rule(API_CASE + "$", get=may(SEES_CASE)),
    Rule(API_CASE + "history/$", get=may(CASE_HISTORY)),
    Rule(API_CASE + "history/unlock/$", get=may(NOBODY), write=may(AUDITOR, MAY)),
    Rule(API_CASE + "access/$", get=may(CASE_HISTORY)),
    Rule(API_CASE + "plan/$", get=may(NOBODY), write=may(CASE_LEAD, MAY)),
    Rule(API_CASE + "team/$", get=may(NOBODY), write=may(CASE_LEAD, MAY)),
    Rule(API_CASE + "close/$", get=may(NOBODY), write=may(CASE_LEAD, MAY)),
    Rule(API_CASE + "actions/$", get=may(NOBODY), write=may(CASE_WORK, MAY)),
    Rule(API_CASE + "reviews/$", get=may(NOBODY), write=may(CASE_WORK, MAY)),
    # The next periodic review brought forward: the lead or the supervisor (the page's rule).
    Rule(API_CASE + "reviews/forward/$", get=may(NOBODY), write=may(CASE_LEAD, MAY)),
    Rule(
        API_CASE + "actions/(?P<action_pk>[^/.]+)/$",
        get=may(NOBODY),
        write=may(CASE_WORK, MAY),
        write_method="patch",
    ),
    Rule(
        API_CASE + "team/(?P<member_pk>[^/.]+)/$",
        get=may(NOBODY),
        write=may(CASE_LEAD, MAY),
        write_method="delete",
    ),
    # The team's own reading: notes, documents, whom one may name on the case.
    Rule(API_CASE + "notes/$", get=may(TEAM_OR_SUPERVISOR), write=may(CASE_WORK, MAY)),
    Rule(API_CASE + "attachments/$", get=may(TEAM_OR_SUPERVISOR), write=may(CASE_WORK, MAY)),
    Rule(API_CASE + "candidates/$", get=may(TEAM_OR_SUPERVISOR)),
    # What the family was told, their consents and objections: the team and the supervisor
    # read and record; the lead and the supervisor decide an objection. Never the referrer.
    Rule(API_CASE + "family-information/$", get=may(TEAM_OR_SUPERVISOR), write=may(CASE_WORK, MAY)),
    Rule(API_CASE + "consents/$", get=may(TEAM_OR_SUPERVISOR), write=may(CASE_WORK, MAY)),
    Rule(
        API_CASE + "consents/(?P<consent_pk>[^/.]+)/withdraw/$",
        get=may(NOBODY),
        write=may(CASE_WORK, MAY),
    ),
    Rule(API_CASE + "objections/$", get=may(TEAM_OR_SUPERVISOR), write=may(CASE_WORK, MAY)),
    Rule(
        API_CASE + "objections/(?P<objection_pk>[^/.]+)/handle/$",
        get=may(NOBODY),
        write=may(CASE_LEAD, MAY),
    ),
    # --- API: legal holds ------------------------------------------------------------------------
    Rule("api/v1/^holds/$", get=may(HOLDERS), write=may(HOLDERS, MAY)),
    Rule("api/v1/^holds/(?P<pk>[^/.]+)/lift/$", get=may(NOBODY), write=may(HOLDERS, MAY)),
    # --- API: consultations, pattern alerts, network meetings ----------------------------------
    Rule("api/v1/^consultations/$", get=may(AUTHENTICATED), write=may(REFERRER_SIDE, MAY)),
    Rule("api/v1/^consultations/(?P<pk>[^/.]+)/$", get=may(CONSULTATION_SIDE)),
    Rule(
        "api/v1/^consultations/(?P<pk>[^/.]+)/messages/$",
        get=may(NOBODY),
        write=may(CONSULTATION_SIDE, MAY),
    ),
    Rule("api/v1/^consultations/(?P<pk>[^/.]+)/refer/$", get=may(NOBODY), write=may(ASKER, MAY)),
    Rule("api/v1/^alerts/$", get=may(TRIAGE_SIDE)),
    Rule("api/v1/^alerts/(?P<pk>[^/.]+)/$", get=may(NORTH_TRIAGE)),
    Rule(
        "re:" + re.escape("api/v1/^alerts/(?P<pk>[^/.]+)/") + "(acknowledge|dismiss)/\\$",
        get=may(NOBODY),
        write=may(NORTH_TRIAGE, MAY),
    ),
    Rule("api/v1/^meetings/$", get=may(NETWORK_KEEPERS), write=may(NETWORK_KEEPERS, MAY)),
    Rule(
        "api/v1/^meetings/(?P<pk>[^/.]+)/$",
        get=may(NETWORK_KEEPERS),
        write=may(NETWORK_KEEPERS, MAY),
        write_method="patch",
    ),
    Rule(
        "api/v1/^meetings/(?P<pk>[^/.]+)/actions/(?P<action_pk>[^/.]+)/$",
        get=may(NOBODY),
        write=may(NETWORK_KEEPERS, MAY),
        write_method="patch",
    ),
    Rule(
        "api/v1/^meetings/(?P<pk>[^/.]+)/actions/$",
        get=may(NOBODY),
        write=may(NETWORK_KEEPERS, MAY),
    ),
    # A case moving: the supervisor changes the lead; the lead or the supervisor asks another
    # district to take it over; the team reads the case's moves.
    Rule(API_CASE + "lead/$", get=may(NOBODY), write=may(CASE_SUPERVISOR, MAY)),
    Rule(API_CASE + "transfers/$", get=may(TEAM_OR_SUPERVISOR), write=may(CASE_LEAD, MAY)),
    Rule("api/v1/^transfers/$", get=may(AUTHENTICATED)),
    Rule("api/v1/^transfers/(?P<pk>[^/.]+)/$", get=may(TRANSFER_SIDE)),
    Rule("api/v1/^transfers/(?P<pk>[^/.]+)/decide/$", get=may(NOBODY), write=may(NOBODY)),
    Rule(
        "api/v1/^transfers/(?P<pk>[^/.]+)/withdraw/$",
        get=may(NOBODY),
        write=may(TRANSFER_SIDE, MAY),
    ),
    # --- API: the caller's notifications, and documents ---------------------------------------
    Rule("api/v1/^notifications/$", get=may(AUTHENTICATED)),
    Rule("api/v1/^notifications/(?P<pk>[^/.]+)/read/$", get=may(NOBODY), write=may(RECIPIENT, MAY)),
    Rule("api/v1/^attachments/(?P<pk>[^/.]+)/$", get=may(ATTACHMENT_READER)),
    # --- pages: home and lists --------------------------------------------------------------
    Rule("casework/", get=may(AUTHENTICATED)),
    Rule(
        "casework/",
        get=may(NOBODY),
        reachable=False,
        note="the Application's own index, shadowed by casework.web.home.home",
    ),
    Rule("casework/queue/", get=may(TRIAGE_SIDE)),
    Rule("casework/cases/", get=may(AUTHENTICATED)),
    Rule("casework/services/", get=may(AUTHENTICATED)),
    Rule("casework/services/kept/", get=may(DIRECTORY_KEEPERS)),
    Rule(
        "casework/services/new/",
        get=may(DIRECTORY_KEEPERS),
        write=may(DIRECTORY_KEEPERS, MAY),
    ),
    Rule(
        "casework/services/<int:pk>/edit/",
        get=may(DIRECTORY_KEEPERS),
        write=may(DIRECTORY_KEEPERS, MAY),
    ),
    Rule("casework/referents/", get=may(MEMBERS)),
    Rule("casework/referents/new/", get=may(REFERENT_KEEPERS), write=may(REFERENT_KEEPERS, MAY)),
    Rule(
        "casework/referents/<int:pk>/edit/",
        get=may(REFERENT_KEEPER_NORTH),
        write=may(REFERENT_KEEPER_NORTH, MAY),
    ),
    # Legal holds: the list and placing one; lifting one (a POST only).
    Rule("casework/holds/", get=may(HOLDERS), write=may(HOLDERS, MAY)),
    Rule("casework/holds/<int:pk>/lift/", get=may(NOBODY), write=may(HOLDERS, MAY)),
    Rule("casework/notifications/", get=may(AUTHENTICATED)),
    Rule("casework/notifications/<int:pk>/open/", get=may(NOBODY), write=may(RECIPIENT, MAY)),
    Rule("casework/helpline/", get=may(HELPLINE_DESK), write=may(HELPLINE, MAY)),
    Rule("casework/indicators/", get=may(SUPERVISORS)),
    # The auditor's search for a trail (who, when, why; never a file's values).
    Rule("casework/audit/", get=may(AUDITOR)),
    Rule(
        "casework/indicators/export.<str:fmt>",
        get=may(SUPERVISORS),
        per_variant=lambda t: {} if t.literal("fmt") != "json" else {"get": may(NOBODY)},
    ),
    # The data protection officer's pages (the auditors' role): nobody else, not the admin.
    Rule("casework/dpo/", get=may(AUDITOR)),
    Rule("casework/dpo/retention/", get=may(AUDITOR)),
    Rule("casework/dpo/break-glass/", get=may(AUDITOR)),
    Rule("casework/dpo/access-patterns/", get=may(AUDITOR)),
    Rule("casework/dpo/subject-access/", get=may(AUDITOR), write=may(AUDITOR, MAY)),
    Rule("casework/dpo/subject-access/<int:pk>/", get=may(AUDITOR)),
    Rule(
        "casework/dpo/subject-access/<int:pk>/export.<str:fmt>",
        get=may(AUDITOR),
        per_variant=lambda t: {} if t.literal("fmt") in ("json", "pdf") else {"get": may(NOBODY)},
    ),
    Rule("casework/dpo/rectifications/", get=may(AUDITOR), write=may(AUDITOR, MAY)),
    Rule(
        "casework/dpo/rectifications/<int:pk>/decide/",
        get=may(NOBODY),
        write=may(AUDITOR, MAY),
    ),
    # The mailing list: the helpline's pages (tried on objects that do not exist: 404).
    Rule("casework/mailings/", get=may(HELPLINE)),
    Rule("casework/mailings/new/", get=may(NOBODY), write=may(HELPLINE, MAY)),
    Rule("casework/mailings/<int:pk>/", get=may(HELPLINE)),
    Rule("casework/mailings/<int:pk>/send/", get=may(NOBODY), write=may(HELPLINE, MAY)),
    Rule("casework/subscribers/<int:pk>/export/", get=may(HELPLINE)),
    Rule("casework/subscribers/<int:pk>/erase/", get=may(NOBODY), write=may(HELPLINE, MAY)),
    # --- pages: consultations, pattern alerts, network meetings -------------------------------
    Rule("casework/consultations/", get=may(REFERRER_SIDE | TRIAGE_SIDE)),
    Rule(
        "casework/consultations/new/",
        get=may(REFERRER_SIDE),
        write=may(REFERRER_SIDE, MAY),
    ),
    Rule("casework/consultations/<int:pk>/", get=may(CONSULTATION_SIDE)),
    Rule(
        "casework/consultations/<int:pk>/message/",
        get=may(NOBODY),
        write=may(CONSULTATION_SIDE, MAY),
    ),
    Rule("casework/consultations/<int:pk>/refer/", get=may(ASKER), write=may(ASKER, MAY)),
    Rule("casework/alerts/<int:pk>/handle/", get=may(NOBODY), write=may(NORTH_TRIAGE, MAY)),
    Rule("casework/meetings/", get=may(NETWORK_KEEPERS)),
    Rule("casework/meetings/new/", get=may(NETWORK_KEEPERS), write=may(NETWORK_KEEPERS, MAY)),
    Rule("casework/meetings/<int:pk>/", get=may(NETWORK_KEEPERS)),
    Rule(
        "casework/meetings/<int:pk>/edit/",
        get=may(NETWORK_KEEPERS),
        write=may(NETWORK_KEEPERS, MAY),
    ),
    Rule(
        "casework/meetings/<int:pk>/actions/",
        get=may(NOBODY),
        write=may(NETWORK_KEEPERS, MAY),
    ),
    Rule(
        "casework/meetings/<int:pk>/actions/<int:action_pk>/",
        get=may(NOBODY),
        write=may(NETWORK_KEEPERS, MAY),
    ),
    # --- pages: referrals -------------------------------------------------------------------
    # The first visit is redirected to the form's address with its one-time key (?k=...).
    Rule(
        "casework/referrals/new/",
        get=may(REFERRER_SIDE, REDIRECT),
        write=may(REFERRER_SIDE, MAY),
    ),
    Rule("casework/referrals/<int:pk>/", get=may(SEES_REFERRAL)),
    Rule(
        "casework/referrals/<int:pk>/edit/",
        get=may(REFERRER_DRAFT),
        write=may(REFERRER_DRAFT, MAY),
    ),
    # The confirmation step sends the author's draft; confirming a sent one again only
    # redirects to its "what happens next" page (nothing is sent twice).
    Rule(
        "casework/referrals/<int:pk>/confirm/",
        get=may(REFERRER_DRAFT, MAY),
        write=may(REFERRER_DRAFT, MAY),
    ),
    Rule(
        "casework/referrals/<int:pk>/sent/",
        get=may(REFERRER & _state(*(k for k in REFERRAL_KEYS if k != "draft"))),
    ),
    Rule(
        "casework/referrals/<int:pk>/delete/",
        get=may(REFERRER_DRAFT),
        write=may(REFERRER_DRAFT, MAY),
    ),
    Rule(
        "casework/referrals/<int:pk>/attachments/",
        get=may(NOBODY),
        write=may(REFERRER_DRAFT, MAY),
    ),
    Rule(
        "casework/referrals/<int:pk>/decide/",
        get=may(TRIAGE_WAITING),
        # Who may decide is checked exactly by the API row (DECIDER); this page answers a
        # refused decision by showing the form again with the reason (200), so the whole
        # district's triage side may try.
        write=may(TRIAGE_WAITING, MAY),
    ),
    Rule(
        "casework/referrals/<int:pk>/answer/",
        get=may(NOBODY),
        write=may(REFERRER & _state("information_requested"), MAY),
    ),
    Rule("casework/referrals/<int:pk>/history/", get=may(REFERRAL_HISTORY)),
    Rule("casework/referrals/<int:pk>/history/unlock/", get=may(NOBODY), write=may(AUDITOR, MAY)),
    Rule("casework/referrals/<int:pk>/child/link/", get=may(NOBODY), write=may(TRIAGES, MAY)),
    Rule("casework/referrals/<int:pk>/child/new/", get=may(NOBODY), write=may(TRIAGES, MAY)),
    Rule(
        "casework/referrals/<int:pk>/validate/",
        get=may(NOBODY),
        write=may(SCHOOL_REFERENT & _state("awaiting_validation"), MAY),
    ),
    Rule(
        "casework/referrals/<int:pk>/claim/",
        get=may(NOBODY),
        write=may(TRIAGES & _state("submitted"), MAY),
    ),
    Rule("casework/referrals/<int:pk>/release/", get=may(NOBODY), write=may(RELEASER, MAY)),
    # --- pages: cases -----------------------------------------------------------------------
    Rule("casework/cases/<int:pk>/", get=may(SEES_CASE)),
    Rule("casework/cases/<int:pk>/history/", get=may(CASE_HISTORY)),
    Rule("casework/cases/<int:pk>/history/unlock/", get=may(NOBODY), write=may(AUDITOR, MAY)),
    Rule("casework/cases/<int:pk>/access/", get=may(CASE_HISTORY)),
    Rule("casework/cases/<int:pk>/attachments/", get=may(NOBODY), write=may(CASE_WORK, MAY)),
    Rule(
        "casework/cases/<int:pk>/actions/<int:action_pk>/",
        get=may(NOBODY),
        write=may(CASE_WORK, MAY),
    ),
    Rule(
        "casework/cases/<int:pk>/team/<int:member_pk>/remove/",
        get=may(NOBODY),
        write=may(CASE_LEAD, MAY),
    ),
    # The lead's changes (the plan, the team, the closure) and the team's (an action, a review).
    Rule("casework/cases/<int:pk>/plan/", get=may(NOBODY), write=may(CASE_LEAD, MAY)),
    Rule("casework/cases/<int:pk>/member/", get=may(NOBODY), write=may(CASE_LEAD, MAY)),
    Rule("casework/cases/<int:pk>/close/", get=may(NOBODY), write=may(CASE_LEAD, MAY)),
    Rule("casework/cases/<int:pk>/action/", get=may(NOBODY), write=may(CASE_WORK, MAY)),
    Rule("casework/cases/<int:pk>/review/", get=may(NOBODY), write=may(CASE_WORK, MAY)),
    # An extraordinary review: the team, at any time the case is open; bringing the periodic
    # review forward: the lead (and the supervisor).
    Rule(
        "casework/cases/<int:pk>/review/extraordinary/",
        get=may(NOBODY),
        write=may(CASE_WORK, MAY),
    ),
    Rule("casework/cases/<int:pk>/review/forward/", get=may(NOBODY), write=may(CASE_LEAD, MAY)),
    # The family section of the case page: the team records, the lead decides objections.
    Rule("casework/cases/<int:pk>/family/informed/", get=may(NOBODY), write=may(CASE_WORK, MAY)),
    Rule("casework/cases/<int:pk>/family/consent/", get=may(NOBODY), write=may(CASE_WORK, MAY)),
    Rule(
        "casework/cases/<int:pk>/family/consent/<int:consent_pk>/withdraw/",
        get=may(NOBODY),
        write=may(CASE_WORK, MAY),
    ),
    Rule("casework/cases/<int:pk>/family/objection/", get=may(NOBODY), write=may(CASE_WORK, MAY)),
    Rule(
        "casework/cases/<int:pk>/family/objection/<int:objection_pk>/handle/",
        get=may(NOBODY),
        write=may(CASE_LEAD, MAY),
    ),
    Rule("casework/attachments/<int:pk>/", get=may(ATTACHMENT_READER)),
    # --- pages: the protocol administrator's (a role of a municipality; no persona holds it,
    # not even the superuser: tests/casework/test_protocol_versions.py) ---------------------
    Rule("casework/protocol/", get=may(NOBODY)),
    Rule("casework/protocol/<int:pk>/", get=may(NOBODY), write=may(NOBODY)),
    Rule("casework/protocol/<int:pk>/new/", get=may(NOBODY), write=may(NOBODY)),
    Rule("casework/protocol/municipality/<int:pk>/first/", get=may(NOBODY), write=may(NOBODY)),
    # --- hand-overs at school-grade transitions: the team sends (the world's open case sent
    # one to the Rodari school); the receiving school's referent reads and acknowledges ------
    Rule("casework/cases/<int:pk>/handover/", get=may(NOBODY), write=may(CASE_WORK, MAY)),
    Rule("casework/handovers/", get=may(AUTHENTICATED)),
    Rule("casework/handovers/<int:pk>/", get=may(RECEIVING_REFERENT)),
    Rule(
        "casework/handovers/<int:pk>/acknowledge/",
        get=may(NOBODY),
        write=may(RECEIVING_REFERENT, MAY),
    ),
    Rule(API_CASE + "handovers/$", get=may(TEAM_OR_SUPERVISOR), write=may(CASE_WORK, MAY)),
    Rule("api/v1/^handovers/$", get=may(AUTHENTICATED)),
    Rule("api/v1/^handovers/(?P<pk>[^/.]+)/$", get=may(RECEIVING_REFERENT)),
    Rule(
        "api/v1/^handovers/(?P<pk>[^/.]+)/acknowledge/$",
        get=may(NOBODY),
        write=may(RECEIVING_REFERENT, MAY),
    ),
    # --- pages: a case moving (another lead, another district) ------------------------------
    # The supervisor names another lead (the world's open case has a transfer pending: 409 as
    # a message); the lead or the supervisor asks another district to take the case over.
    Rule("casework/cases/<int:pk>/lead/", get=may(NOBODY), write=may(CASE_SUPERVISOR, MAY)),
    Rule("casework/cases/<int:pk>/transfer/", get=may(NOBODY), write=may(CASE_LEAD, MAY)),
    Rule("casework/transfers/", get=may(AUTHENTICATED)),
    Rule("casework/transfers/<int:pk>/", get=may(TRANSFER_SIDE)),
    Rule("casework/transfers/<int:pk>/decide/", get=may(NOBODY), write=may(NOBODY)),
    Rule("casework/transfers/<int:pk>/withdraw/", get=may(NOBODY), write=may(TRANSFER_SIDE, MAY)),
    # --- Viewflow's own pages ---------------------------------------------------------------
    # The work is done on the project's pages through casework.services (protocols/views.py:
    # "never through a bare Viewflow form"); Viewflow's lists, dashboards, process and task
    # pages are for the administrator who manages the flows. Its answers depend on the task's
    # state, hence MAY.
    *[
        Rule(
            rf"re:{flow}/(|inbox/|queue/|archive/|flows/|tasks/|chart/)",
            get=may(ADMIN_ONLY, MAY),
        )
        for flow in ("referral", "case")
    ],
    *[
        Rule(
            rf"re:{flow}/(queue/assign|inbox/unassign)/",
            get=may(NOBODY, MAY),
            write=may(NOBODY),
        )
        for flow in ("referral", "case")
    ],
    *[
        Rule(rf"re:{flow}/<int:process_pk>/(|chart/)", get=may(ADMIN_ONLY, MAY))
        for flow in ("referral", "case")
    ],
    *[
        Rule(
            rf"re:{flow}/<int:process_pk>/cancel/",
            get=may(NOBODY),
            write=may(NOBODY),
        )
        for flow in ("referral", "case")
    ],
    *[
        Rule(
            rf"re:{flow}/<int:process_pk>/({nodes})/<int:task_pk>/(|detail/)",
            get=may(ADMIN_ONLY, MAY),
        )
        for flow, nodes in (("referral", REFERRAL_NODES), ("case", CASE_NODES))
    ],
    *[
        Rule(
            rf"re:{flow}/<int:process_pk>/({nodes})/<int:task_pk>/({TASK_ACTIONS})/",
            get=may(NOBODY),
            write=may(NOBODY),
        )
        for flow, nodes in (("referral", REFERRAL_NODES), ("case", CASE_NODES))
    ],
    # --- the admin site: staff only (the superuser) -----------------------------------------
    Rule("admin/login/", get=may(EVERYONE, MAY), write=may(EVERYONE, MAY)),
    Rule(f"re:admin/{ADMIN_WRITES}", get=may(ADMIN_ONLY, MAY), write=may(ADMIN_ONLY, MAY)),
    Rule(f"re:admin/(?!login/$)(?!{ADMIN_WRITES}$).*", get=may(ADMIN_ONLY, MAY)),
    # --- operations: the probes are public and hold no data (tests/ops) ---------------------
    Rule("healthz", get=may(EVERYONE)),
    # The public directory and its open data: no personal data, no sign-in (casework.web.public).
    Rule("directory/", get=may(EVERYONE)),
    Rule("directory/hsds.json", get=may(EVERYONE)),
    Rule("readyz", get=may(EVERYONE, PROBE), note="the matrix's world has no heartbeat: 503"),
    # Prometheus's scraper holds METRICS_TOKEN (a bearer token); no persona does.
    Rule("metrics", get=may(NOBODY), note="off (404) without METRICS_TOKEN; 401 without it"),
]


def rules_for(route: str, *, shadowed: bool = False) -> list[Rule]:
    """The rows for a pattern; a pattern shadowed by an earlier one with the same route (it can
    never be reached) matches only a row that says so."""
    return [rule for rule in POLICY if rule.matches(route) and rule.reachable != shadowed]


# --- known application bugs ------------------------------------------------------------------
# Cells where the application answers with a success the policy above does not allow. They run
# as xfail(strict=True): when the bug is fixed the cell passes, the xfail turns into a failure,
# and the entry must be removed from here.


@dataclass(frozen=True)
class KnownBug:
    route: str
    method: str
    personas: tuple[str, ...]
    reason: str
    variants: tuple[str, ...] = ()  # empty: every variant

    def matches(self, route: str, method: str, persona: str, label: str) -> bool:
        return (
            route == self.route
            and method == self.method
            and persona in self.personas
            and (not self.variants or label in self.variants)
        )


# Found by this matrix and since fixed: /api/schema/ and /api/docs/ answered 200 to anonymous
# callers (drf-spectacular's SERVE_PERMISSIONS defaulted to AllowAny); fixed in config/settings.py
# SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]. Add an entry here for a bug that is not fixed yet:
#     KnownBug("api/schema/", "get", (ANONYMOUS,), "why, where, and the proposed fix"),
KNOWN_BUGS: list[KnownBug] = []


def known_bug(route: str, method: str, persona: str, label: str) -> KnownBug | None:
    for bug in KNOWN_BUGS:
        if bug.matches(route, method, persona, label):
            return bug
    return None
