"""WCAG 2.1 AA basics that a test can hold: every control has a label, the page has a language
and a heading, focus is visible and reaches the main actions by keyboard; and axe-core (the
rules engine, bundled by axe-playwright-python) finds no serious or critical violation on any
page of any role."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from casework import services
from tests.conftest import protocol

pytestmark = pytest.mark.django_db(transaction=True)

UNLABELLED = """
() => [...document.querySelectorAll('main input, main select, main textarea')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)
"""


@pytest.fixture
def case(teacher, child, triage_worker):
    draft = services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="Hungry",
        family_informed=True,
    )
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


def test_every_form_control_has_a_label(login, live_server, teacher, triage_worker, case):
    checks = [
        (teacher, ["/casework/", "/casework/referrals/new/", "/casework/services/"]),
        (
            triage_worker,
            [
                "/casework/queue/",
                "/casework/cases/",
                f"/casework/cases/{case.pk}/",
                "/casework/notifications/",
            ],
        ),
    ]
    for user, paths in checks:
        page = login(user)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            assert page.evaluate(UNLABELLED) == [], path
            assert page.get_attribute("html", "lang"), path
            assert page.locator("h1").count() >= 1, path


def test_the_referral_form_works_by_keyboard(login, live_server, teacher):
    page = login(teacher)
    page.goto(f"{live_server.url}/casework/referrals/new/")
    page.focus("input[name=child-first_name]")
    page.keyboard.type("Ada")
    page.keyboard.press("Tab")
    page.keyboard.type("Neri")
    assert page.input_value("input[name=child-last_name]") == "Neri"
    page.focus("input[name=interpreter_language]")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.name") == "save"
    assert page.evaluate("() => document.activeElement.matches(':focus-visible')")
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") == "solid"


def _violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_nothing_serious_on_any_page_of_any_role(
    login,
    live_server,
    browser,
    world,
    teacher,
    school_referent,
    triage_worker,
    supervisor,
    psychologist,
    auditor,
    operator,
    screenshots,
):
    case, waiting, first = world["case"], world["waiting"], world["first"]
    roles = [
        (
            teacher,
            [
                "/casework/",
                "/casework/referrals/new/",
                f"/casework/referrals/{first.pk}/",
                "/casework/services/",
                "/casework/notifications/",
                "/accounts/profile/",
            ],
        ),
        (school_referent, ["/casework/", f"/casework/referrals/{first.pk}/"]),
        (
            triage_worker,
            [
                "/casework/",
                "/casework/queue/",
                f"/casework/referrals/{waiting.pk}/",
                f"/casework/referrals/{waiting.pk}/decide/",
                f"/casework/referrals/{first.pk}/history/",
                "/casework/cases/",
                f"/casework/cases/{case.pk}/",
                f"/casework/cases/{case.pk}/history/",
                f"/casework/cases/{case.pk}/access/",
                "/accounts/profile/",
            ],
        ),
        (supervisor, ["/casework/", "/casework/indicators/", f"/casework/cases/{case.pk}/"]),
        (psychologist, ["/casework/", f"/casework/cases/{case.pk}/"]),
        (operator, ["/casework/", "/casework/helpline/", "/casework/services/?kind=other"]),
        (
            auditor,
            [
                "/casework/",
                f"/casework/audit/?child=Bruno&date_from={timezone.localdate()}",
                f"/casework/cases/{case.pk}/history/",
                f"/casework/referrals/{first.pk}/history/",
                f"/casework/cases/{case.pk}/access/",
            ],
        ),
    ]
    shots = {(auditor, "/casework/"): "home-auditor", (operator, "/casework/"): "home-helpline"}
    found = {}
    for user, paths in roles:
        page = login(user)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            if (user, path) in shots:
                screenshots(page, shots[(user, path)])
            violations = _violations(page)
            if violations:
                found[f"{user.username} {path}"] = violations
    anonymous = browser.new_context(locale="en-GB").new_page()
    anonymous.goto(f"{live_server.url}/accounts/login/")
    screenshots(anonymous, "sign-in")
    if _violations(anonymous):
        found["sign-in"] = _violations(anonymous)
    anonymous.context.close()
    assert found == {}
