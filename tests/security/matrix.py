"""The permission matrix's machinery, shared by its two modules: test_permission_matrix.py (the
project's own routes, the lists) and test_permission_matrix_frameworks.py (the admin site and
Viewflow's pages). Two modules so that pytest-xdist (`--dist loadfile`) runs them in two
processes at once; each builds its world once (tests/security/conftest.py)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import resolve
from rest_framework.test import APIClient

from .policy import MAY, NOBODY, OK, Rule, Target, known_bug, rules_for
from .routes import UNFILLABLE, Route, all_routes, body_for, fill, variants
from .world import ADMIN, ANONYMOUS, DEAD_CREDENTIALS, FLOW_TASKS, PERSONAS

REFUSALS = {302, 401, 403, 404, 405, 409}
LOGIN_PAGES = (settings.LOGIN_URL, "/admin/login/")


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
        - {"django_session", "casework_usersession"}
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


def cells(frameworks: bool) -> list:
    """The cells of the project's own routes, or of the frameworks' pages (`frameworks`)."""
    cells = []
    turn = 0
    for route, shadowed in ROUTES:
        rules = rules_for(route.route, shadowed=shadowed)
        rule = rules[0] if len(rules) == 1 else None
        if rule is None or shadowed:
            continue  # see test_every_url_pattern_has_one_policy_row
        default = _default_personas(route, turn)
        framework = route.route.startswith(FRAMEWORK_PREFIXES)
        turn += framework
        if framework != frameworks:
            continue
        methods = ["get"] + ([rule.write_method] if rule.write is not None else [])
        for method in methods:
            for label, values in _tried(route, rule, method):
                for persona in PERSONAS:
                    bug = known_bug(route.route, method, persona, label)
                    marks = [pytest.mark.xfail(strict=True, reason=bug.reason)] if bug else []
                    if persona not in default:
                        marks.append(pytest.mark.matrix_full)
                        if route.route.startswith("admin/"):
                            marks.append(pytest.mark.matrix_admin)
                    cells.append(
                        pytest.param(
                            Cell(route, rule, label, values, method, persona),
                            marks=marks,
                            id=f"{method.upper()} /{route.route} [{label}] {persona}",
                        )
                    )
    return cells


def check_cell(world, cell: Cell) -> None:
    """Requests the cell's URL as its persona and compares the answer with the policy."""
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
