"""Phones and every role's pages in a real browser: at 390 px the queue, the case page and the
decision page do not scroll sideways, their controls are big enough to touch, and the bell and
the language menu stay on screen; axe-core finds no serious or critical violation on any page
of any role."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe

from casework import models, services
from tests.conftest import protocol
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
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
    )
    for agency, owner in ((social_north, triage_worker), (school, None)):
        services.case_add_action(
            actor=triage_worker,
            case=case,
            objective="Homework club three afternoons a week with the school educator",
            owning_agency=agency,
            owner=owner,
            due_date=datetime.date.today() + datetime.timedelta(days=20),
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


NO_SIDEWAYS = "() => document.scrollingElement.scrollWidth"
OFF_SCREEN = """(selectors) => selectors.filter(s => {
  const el = document.querySelector(s);
  if (!el) return true;
  const box = el.getBoundingClientRect();
  return box.left < 0 || box.right > window.innerWidth || box.width === 0;
})"""
# What sticks out on the right, for the message when the page scrolls sideways.
WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(el => !el.parentElement || el.parentElement.getBoundingClientRect().right
                 <= window.innerWidth + 1)
  .map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))
  .slice(0, 8)"""
# Controls smaller than 24 x 24 px (WCAG 2.5.8), links inside running text excepted.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'main button, main select, main input:not([type=hidden]), main a.cw-button, main summary, '
    + '.mdc-top-app-bar a, .mdc-top-app-bar button, .mdc-top-app-bar select')]
  .filter(el => el.offsetParent !== null)
  .filter(el => { const b = el.getBoundingClientRect(); return b.width < 24 || b.height < 24; })
  .map(el => el.outerHTML.slice(0, 80))"""


def test_phone_layout_of_the_queue_case_and_decision_pages(
    login, live_server, triage_worker, world, screenshots
):
    page = login(triage_worker)
    page.set_viewport_size(PHONE)
    pages = {
        "queue": "/casework/queue/",
        "case": f"/casework/cases/{world['case'].pk}/",
        "decision": f"/casework/referrals/{world['waiting'].pk}/decide/",
        "trail": f"/casework/cases/{world['case'].pk}/history/",
        "home": "/casework/",
    }
    problems = {}
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        screenshots(page, f"phone-{name}")
        found = {
            "width": max(page.evaluate(NO_SIDEWAYS) - PHONE["width"], 0),
            "off screen": page.evaluate(OFF_SCREEN, [".cw-bell", "#cw-language"]),
            "small targets": page.evaluate(SMALL_TARGETS),
        }
        found["wide"] = page.evaluate(WIDE) if found["width"] else []
        found = {k: v for k, v in found.items() if v}
        if found:
            problems[name] = found
    assert problems == {}


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
                f"/casework/audit/?child=Bruno&date_from={datetime.date.today()}",
                f"/casework/cases/{case.pk}/history/",
                f"/casework/referrals/{first.pk}/history/",
                f"/casework/cases/{case.pk}/access/",
            ],
        ),
    ]
    found = {}
    for user, paths in roles:
        page = login(user)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            violations = _violations(page)
            if violations:
                found[f"{user.username} {path}"] = violations
    anonymous = browser.new_context(locale="en-GB").new_page()
    anonymous.goto(f"{live_server.url}/accounts/login/")
    if _violations(anonymous):
        found["sign-in"] = _violations(anonymous)
    anonymous.context.close()
    assert found == {}
