"""The permission matrix: every URL pattern the project serves, as every persona.

Every pattern found by walking the URL resolver is filled with the ids of the world's objects
(tests/security/world.py: a referral in each state, an open and a closed case, their Viewflow
processes and tasks, an attachment, a notification, a row of every admin model), requested with
GET and, where it changes something, with its write method, and the answer is compared with the
policy table (tests/security/policy.py):

- a persona the policy allows gets what the row says (a page, or for writes anything but a
  server error: the state of the object decides);
- anyone else never gets a 2xx: 401/403/404/405/409, or a redirect (to the login page for the
  anonymous visitor; a signed-in user may be sent back with a message, never by the API), and
  the database is left exactly as it was (tables' row counts, statuses, owners, passwords);
- a pattern without a row in the policy fails, so that a new URL needs a decision.

Every persona tries every route of the project's own (its pages, its API, the accounts pages).
The frameworks' pages (the admin site, Viewflow's lists, process and task pages) are closed to
whoever is not staff, one rule for all of them: the default run tries each of them as the
anonymous visitor, as the administrator (the only staff persona) and as one signed-in persona
without staff rights, taken in turn. The rest of that cross product is marked `matrix_full`,
left out by default (pyproject.toml) and run with `pytest -m matrix_full`; CI runs it on
PostgreSQL.

The world is built once for the module inside a transaction that is rolled back at the end;
each cell runs in its own savepoint (pytest-django), so that one persona's write is never seen
by the next. The list pages and endpoints are checked separately: the ids they show are a
subset of what the persona may see, computed from the world by the rules of DESIGN.md.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import resolve
from rest_framework.test import APIClient

from .policy import KNOWN_BUGS, MAY, NOBODY, OK, Rule, Target, known_bug, rules_for
from .routes import UNFILLABLE, Route, all_routes, body_for, fill, variants
from .world import ADMIN, ANONYMOUS, DEAD_CREDENTIALS, FLOW_TASKS, PERSONAS, build_world

pytestmark = [
    pytest.mark.django_db,
    # Viewflow's process list paginates an unordered queryset: a warning, not an access matter.
    pytest.mark.filterwarnings("ignore::django.core.paginator.UnorderedObjectListWarning"),
]

REFUSALS = {302, 401, 403, 404, 405, 409}
LOGIN_PAGES = (settings.LOGIN_URL, "/admin/login/")


# --- the world --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_content_types():
    """Keeps the content types' cache from one cell to the next (tests/conftest.py clears it
    before every test, for the tests that follow a flush): nothing flushes the database while
    the world stands, and the world fixture clears the cache once before building it."""


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        assert "test" in name or "memory" in name, f"not a test database: {name}"
        ContentType.objects.clear_cache()
        media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
        media.enable()
        # Thousands of refusals: Django's request log would format a warning for each.
        quiet = logging.getLogger("django.request")
        quiet.disabled = True
        try:
            with transaction.atomic():
                built = build_world()
                staff = {p for p, user in built.users.items() if p in PERSONAS and user.is_staff}
                assert staff == {ADMIN}, f"NOT_STAFF must hold no staff account: {staff}"
                for persona in PERSONAS:
                    if persona != ANONYMOUS and persona not in DEAD_CREDENTIALS:
                        client = Client()
                        client.force_login(built.users[persona])
                        built.sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
                # Every cell starts from this state: it runs in a savepoint that is rolled back.
                built.fingerprint = fingerprint()
                yield built
                transaction.set_rollback(True)
        finally:
            quiet.disabled = False
            media.disable()


def client_for(world, persona: str, url: str):
    """A client signed in as `persona`: DRF's force_authenticate for the API, the persona's
    session (made once with force_login) for the pages."""
    if url.startswith("/api/"):
        client = APIClient()
        if persona in DEAD_CREDENTIALS:
            client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[persona]}")
        elif persona != ANONYMOUS:
            client.force_authenticate(world.user(persona))
        return client
    client = Client()
    if persona != ANONYMOUS:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    return client


def resolved(world, values: dict) -> dict:
    return {name: world.symbols[v] if ":" in v else v for name, v in values.items()}


# The columns that change in place without a history row (Viewflow's tasks and processes, the
# outbox, the accounts); every change of a casework record also adds a history row.
IN_PLACE = {
    "casework.Referral": ["id", "status", "claimed_by", "case"],
    "casework.Case": ["id", "status", "risk_level"],
    "viewflow.Task": ["id", "status", "owner"],
    "viewflow.Process": ["id", "status"],
    "casework.Notification": ["id", "read_at"],
    "auth.User": ["id", "password", "is_active", "is_staff", "is_superuser"],
}


@functools.cache
def _fingerprint_sql() -> str:
    quote = connection.ops.quote_name
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy
        }
        - {"django_session"}
    )
    columns = [f"(SELECT COUNT(*) FROM {quote(table)})" for table in tables]
    concat = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    for label, fields in IN_PLACE.items():
        model = apps.get_model(label)
        parts = " || ':' || ".join(
            f"COALESCE(CAST({quote(model._meta.get_field(f).column)} AS TEXT), '-')" for f in fields
        )
        columns.append(
            f"(SELECT {concat}(v, ',') FROM (SELECT {parts} AS v FROM "
            f"{quote(model._meta.db_table)} ORDER BY {quote(model._meta.pk.column)}) AS rows)"
        )
    return "SELECT " + ", ".join(columns)


def fingerprint() -> tuple:
    """Everything a refused request must leave alone, in one query: the number of rows of every
    table (every history table, the access log, the outbox, guardian's grants, group
    memberships...) and the columns in IN_PLACE."""
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        return tuple(cursor.fetchone())


def test_the_fingerprint_sees_a_change(world):
    from casework import services
    from casework.models import Notification, Referral

    assert fingerprint() == world.fingerprint  # every cell starts from the world as built
    before = fingerprint()
    notification = Notification.objects.filter(read_at__isnull=True).first()
    services.notification_mark_read(actor=notification.recipient, notification=notification)
    assert fingerprint() != before  # a column changed in place, no row added
    before = fingerprint()
    referral = Referral.objects.get(pk=world.referrals["draft"].pk)
    services.referral_update_draft(
        actor=referral.referrer, referral=referral, observations="Changed"
    )
    assert fingerprint() != before  # a history row


# --- the cells --------------------------------------------------------------------------------


def _shadowed(route) -> bool:
    """True when an earlier pattern with the same route answers this pattern's URLs."""
    label, values = variants(route)[0]
    if label == UNFILLABLE:
        return False
    dummy = {name: "1" if ":" in value else value for name, value in values.items()}
    return resolve(fill(route, dummy)).func is not route.callback


ROUTES = [(route, _shadowed(route)) for route in all_routes()]


# Writes are tried on a referral at each step of the protocol where something can be done, and on
# one decided referral; reads on every state.
WRITE_STATES_SKIPPED = {"referral:no_further_action", "referral:case_closed"}


def _tried(route, rule, method):
    tried = variants(route)
    if method == "get":
        # An endpoint that only writes answers a GET the same way whatever it points at.
        write_only = rule.write is not None and rule.get.who is NOBODY
        return tried[:1] if write_only else tried
    return [(label, v) for label, v in tried if not set(v.values()) & WRITE_STATES_SKIPPED]


@dataclass(frozen=True)
class Cell:
    route: Route
    rule: Rule
    label: str  # which objects the URL points at
    values: dict  # parameter -> symbol or literal
    method: str
    persona: str


# The frameworks' pages: the admin site and Viewflow's pages of each flow.
FRAMEWORK_PREFIXES = ("admin/", *(f"{flow}/" for flow in FLOW_TASKS))
# Signed in, not staff: every persona but the anonymous visitor and the administrator.
NOT_STAFF = [p for p in PERSONAS if p not in (ANONYMOUS, ADMIN)]


def _default_personas(route, turn: int) -> set[str]:
    """Who tries `route` in the default run: everyone on the project's routes; on a framework
    route the anonymous visitor, the administrator and the turn-th persona without staff rights
    (taken in turn, so that each of them meets its share of the framework's pages)."""
    if not route.route.startswith(FRAMEWORK_PREFIXES):
        return set(PERSONAS)
    return {ANONYMOUS, ADMIN, NOT_STAFF[turn % len(NOT_STAFF)]}


def _cells():
    cells = []
    turn = 0
    for route, shadowed in ROUTES:
        rules = rules_for(route.route, shadowed=shadowed)
        rule = rules[0] if len(rules) == 1 else None
        if rule is None or shadowed:
            continue  # see test_every_url_pattern_has_one_policy_row
        default = _default_personas(route, turn)
        turn += route.route.startswith(FRAMEWORK_PREFIXES)
        methods = ["get"] + ([rule.write_method] if rule.write is not None else [])
        for method in methods:
            for label, values in _tried(route, rule, method):
                for persona in PERSONAS:
                    bug = known_bug(route.route, method, persona, label)
                    marks = [pytest.mark.xfail(strict=True, reason=bug.reason)] if bug else []
                    if persona not in default:
                        marks.append(pytest.mark.matrix_full)
                    cells.append(
                        pytest.param(
                            Cell(route, rule, label, values, method, persona),
                            marks=marks,
                            id=f"{method.upper()} /{route.route} [{label}] {persona}",
                        )
                    )
    return cells


def test_every_url_pattern_has_one_policy_row():
    missing, ambiguous = [], []
    for route, shadowed in ROUTES:
        rules = rules_for(route.route, shadowed=shadowed)
        where = f"/{route.route} ({route.name or 'unnamed'}{', shadowed' if shadowed else ''})"
        if not rules:
            missing.append(where)
        elif len(rules) > 1:
            ambiguous.append(f"{where}: {[r.route for r in rules]}")
    assert not missing, "URL patterns with no row in tests/security/policy.py:\n" + "\n".join(
        missing
    )
    assert not ambiguous, "URL patterns matching several rows:\n" + "\n".join(ambiguous)


def test_every_url_pattern_is_tried_with_objects():
    unfillable = [
        f"/{route.route}: {values['error']}"
        for route, _shadowed_ in ROUTES
        for label, values in variants(route)
        if label == UNFILLABLE
    ]
    assert not unfillable, "give these parameters objects in tests/security/routes.py:\n" + (
        "\n".join(unfillable)
    )


def test_every_policy_row_is_used():
    from .policy import POLICY

    used = {
        id(rule) for route, shadowed in ROUTES for rule in rules_for(route.route, shadowed=shadowed)
    }
    stale = [rule.route for rule in POLICY if id(rule) not in used]
    assert not stale, f"rows of tests/security/policy.py that match no URL pattern: {stale}"
    bugs = {(bug.route, bug.method) for bug in KNOWN_BUGS}
    routes = {route.route for route, _shadowed_ in ROUTES}
    assert {route for route, _method in bugs} <= routes


@pytest.mark.parametrize("cell", _cells())
def test_permission_matrix(world, cell):
    route, rule, values, method, persona = (
        cell.route,
        cell.rule,
        cell.values,
        cell.method,
        cell.persona,
    )
    target = Target(world, values)
    access = rule.access(method, target)
    url = fill(route, resolved(world, values))
    assert resolve(url).func is route.callback, f"{url} does not reach /{route.route}"
    allowed = access.who(persona, target)
    client = client_for(world, persona, url)
    if method == "get":
        response = client.get(url)
    else:
        data, form = body_for(route, resolved(world, values), world)
        send = getattr(client, method)
        response = send(url, data, format=form) if form else send(url, data)
    status, location = response.status_code, response.get("Location", "")
    if response.streaming:
        # Read to the end: the test client then closes the file without closing the
        # connection (a second close() would fire request_finished and drop it on PostgreSQL).
        b"".join(response.streaming_content)
    where = f"{method.upper()} {url} as {persona}"
    if allowed:
        expected = {OK: "a 2xx", MAY: "any answer but a server error"}.get(access.ok, access.ok)
        assert status in access.ok, (
            f"{where}: {status}, but the policy lets {access.who.name} through: expected {expected}"
        )
        return
    assert not 200 <= status < 300, (
        f"{where}: unexpected {status}; the policy allows only {access.who.name}"
    )
    assert status in REFUSALS, f"{where}: {status} is not a refusal ({sorted(REFUSALS)})"
    if status == 302:
        assert not url.startswith("/api/"), f"{where}: the API answers, it does not redirect"
        if persona == ANONYMOUS or persona in DEAD_CREDENTIALS:
            assert location.startswith(LOGIN_PAGES), f"{where}: redirects to {location}"
    assert fingerprint() == world.fingerprint, f"{where}: refused with {status}, but data changed"


# --- lists: only what the persona may see ---------------------------------------------------

LIST_URLS = [
    "/api/v1/referrals/",
    "/api/v1/cases/",
    "/api/v1/queue/",
    "/casework/queue/",
    "/casework/cases/",
    "/casework/",
]
SEE_NOTHING = {"outsider", "stranger", "auditor", "former_worker", "expired_member"}
REFERRAL_LINK = re.compile(r"/casework/referrals/(\d+)/")
CASE_LINK = re.compile(r"/casework/cases/(\d+)/")


def listed(response, url: str) -> tuple[set[int], set[int]]:
    """(referral ids, case ids) a list shows: the items of an API page, the links of a page."""
    if url.startswith("/api/"):
        items = {item["id"] for item in json.loads(response.content)["results"]}
        return (set(), items) if "/cases/" in url else (items, set())
    html = response.content.decode()
    if url == "/casework/queue/" and 'id="queue-table"' in html:
        # The pattern alerts above the table link to referrals of the district that left the
        # queue (test_queue_alerts_link_only_what_the_persona_may_see); the list is the table.
        html = html[html.index('id="queue-table"') :]
    return (
        {int(pk) for pk in REFERRAL_LINK.findall(html)},
        {int(pk) for pk in CASE_LINK.findall(html)},
    )


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != ANONYMOUS])
def test_queue_alerts_link_only_what_the_persona_may_see(world, persona):
    """The pattern alerts at the top of the queue: the north's triage side only, and every
    item they link is a referral the persona may open."""
    response = client_for(world, persona, "/casework/queue/").get("/casework/queue/")
    html = response.content.decode() if response.status_code == 200 else ""
    if 'id="pattern-alerts"' not in html:
        assert persona not in ("triage_worker", "supervisor"), persona
        return
    assert persona in ("triage_worker", "supervisor"), persona
    panel = html[html.index('id="pattern-alerts"') : html.index('id="queue-table"')]
    linked = {int(pk) for pk in REFERRAL_LINK.findall(panel)}
    assert linked and linked <= world.visible_referral_ids(persona), (persona, linked)


@pytest.mark.parametrize("url", LIST_URLS)
@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != ANONYMOUS])
def test_lists_show_only_what_the_persona_may_see(world, persona, url):
    response = client_for(world, persona, url).get(url)
    if persona in DEAD_CREDENTIALS:
        assert response.status_code in (302, 401), (url, persona, response.status_code)
        return
    if response.status_code == 403:
        assert "queue" in url, f"{url} refused to {persona}"
        referrals, cases = set(), set()
    else:
        assert response.status_code == 200, (url, persona, response.status_code)
        referrals, cases = listed(response, url)
    may_see_referrals = (
        world.queue_ids(persona) if "queue" in url else world.visible_referral_ids(persona)
    )
    names = {r.pk: key for key, r in world.referrals.items()}
    assert referrals <= may_see_referrals, (
        f"{url} as {persona} lists referrals it may not see: "
        f"{sorted(names[pk] for pk in referrals - may_see_referrals)}"
    )
    assert cases <= world.visible_case_ids(persona), (
        f"{url} as {persona} lists cases it may not see: {cases - world.visible_case_ids(persona)}"
    )
    if persona in SEE_NOTHING:
        assert referrals == set() and cases == set(), f"{url} as {persona}: {referrals}, {cases}"
    elif url.startswith("/api/v1/referrals/") or url.startswith("/api/v1/cases/"):
        # Not vacuous: whoever may see something is shown something.
        visible = (world.visible_case_ids if "cases" in url else world.visible_referral_ids)(
            persona
        )
        assert bool(referrals | cases) == bool(visible), (url, persona)
