"""Browser tests: Playwright driving Debian's chromium, headless, against pytest-django's live
server. `make test` installs chromium when missing; without it these tests are skipped with a
message saying how to install it."""

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone

from casework import models, services
from tests.conftest import protocol
from tests.factories import ServiceFactory, UserFactory

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Django's live server closes its request threads' connections as the test ends; with the
# embedded SQLite database a request still in flight then (a page that refreshes itself, a
# late asset) raises in that thread. The browser tests check the pages, not that race.
LIVE_SERVER_TEARDOWN = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnhandledThreadExceptionWarning"
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(LIVE_SERVER_TEARDOWN)
    missing = not Path(CHROMIUM).exists()
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing = True
    if missing:
        skip = pytest.mark.skip(
            reason=f"no chromium at {CHROMIUM}: run `make browsers` (apt-get install chromium)"
        )
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are ordinary synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(tmp_path):
    """shot(page, name): a full-page PNG, into docs/img when SCREENSHOTS names that folder."""
    folder = Path(os.environ.get("SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)

    def shot(page, name):
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return shot


@pytest.fixture
def login(browser, live_server):
    """login(user) → a new page, logged in through the real login form."""
    pages = []

    def make(user, password="pw"):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        pages.append(context)
        return page

    yield make
    for context in pages:
        context.close()


@pytest.fixture
def axe_clean():
    """axe_clean(page, name): axe-core (bundled by axe-playwright-python) finds no serious or
    critical violation on the page as it is now."""
    sync_axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    axe = sync_axe.Axe()

    def check(page, name):
        violations = axe.run(page).response["violations"]
        bad = [v for v in violations if v.get("impact") in ("serious", "critical")]
        assert bad == [], f"{name}: " + "; ".join(
            f"{v['id']} ({v['impact']}) at {[n['target'] for n in v['nodes']][:3]}" for v in bad
        )

    return check


FORM = {
    "concern_categories": ["neglect", "absenteeism"],
    "observations": "Often hungry and tired in the morning; " * 8,
    "family_informed": True,
}


@pytest.fixture
def world(teacher, child, triage_worker, supervisor, psychologist, north, school, social_north):
    """A case with a team, a plan and actions (one with no owner), its referral's history, and
    a second referral claimed and waiting for the decision."""
    ServiceFactory(district=north, name="Centro per le famiglie Nord")
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    first = protocol("referral.submit")(referral=draft, actor=teacher)
    case = protocol("referral.decide")(referral=first, actor=triage_worker, decision="open_case")
    protocol("case.plan")(case=case, actor=triage_worker, objectives="Stay at school. " * 10)
    services.case_add_member(
        actor=triage_worker,
        case=case,
        user=psychologist,
        agency=psychologist.memberships.get().agency,
        role="psychologist",
        reason="Assessment",
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    for agency, owner in ((social_north, triage_worker), (school, None)):
        services.case_add_action(
            actor=triage_worker,
            case=case,
            objective="Homework club three afternoons a week with the school educator",
            owning_agency=agency,
            owner=owner,
            due_date=timezone.localdate() + datetime.timedelta(days=20),
        )
    other = services.child_create(
        actor=teacher,
        first_name="Eva",
        last_name="Riva-Montalcini",
        date_of_birth="2015-05-05",
        district=north,
        school=school,
    )
    draft = services.referral_create_draft(actor=teacher, child=other, **FORM)
    waiting = protocol("referral.submit")(referral=draft, actor=teacher)
    protocol("referral.claim")(referral=waiting, actor=triage_worker)
    return {"case": case, "waiting": waiting, "first": first}


@pytest.fixture
def auditor(school):
    user = UserFactory(username="dpo", first_name="Dora", last_name="Privacy")
    services.membership_create(actor=None, user=user, agency=school, role="auditor")
    return user


@pytest.fixture
def operator(north):
    point = models.Agency.objects.create(name="Info point", kind="community", district=north)
    user = UserFactory(username="operator", first_name="Olga", last_name="Line")
    services.membership_create(actor=None, user=user, agency=point, role="helpline_operator")
    services.contact_record(
        actor=user, channel="phone", category="parenting", question="Nursery?", district=north
    )
    return user
