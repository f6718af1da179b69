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
PostgreSQL. The frameworks' pages are tried in test_permission_matrix_frameworks.py, the
machinery is in matrix.py.

The world is built once for the module inside a transaction that is rolled back at the end;
each cell runs in its own savepoint (pytest-django), so that one persona's write is never seen
by the next. The list pages and endpoints are checked separately: the ids they show are a
subset of what the persona may see, computed from the world by the rules of DESIGN.md.
"""

from __future__ import annotations

import json
import re

import pytest

from .matrix import ROUTES, cells, check_cell, client_for, fingerprint
from .policy import KNOWN_BUGS, rules_for
from .routes import UNFILLABLE, variants
from .world import ANONYMOUS, DEAD_CREDENTIALS, PERSONAS

pytestmark = [
    pytest.mark.django_db,
    # Viewflow's process list paginates an unordered queryset: a warning, not an access matter.
    pytest.mark.filterwarnings("ignore::django.core.paginator.UnorderedObjectListWarning"),
]


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


@pytest.mark.parametrize("cell", cells(frameworks=False))
def test_permission_matrix(world, cell):
    check_cell(world, cell)


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
