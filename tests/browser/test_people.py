"""Phones: at 390 px the queue, the case page and the decision page do not scroll sideways,
their controls are big enough to touch, and the bell and the language menu stay on screen
(the pages' data: the `world` fixture of tests/browser/conftest.py)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
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
        # Every request of the page answered before the next (and before teardown): a request
        # thread of the live server still running when the test ends breaks the teardown.
        page.wait_for_load_state("networkidle")
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        if name in ("queue", "case", "decision"):
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
    page.wait_for_load_state("networkidle")
    assert problems == {}
