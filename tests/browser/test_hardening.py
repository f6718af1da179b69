"""The hardening as a person meets it: the idle warning appears before the timeout, and the
pages run under the Content-Security-Policy without a refusal in the console."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_idle_warning_appears_before_the_sign_out(login, triage_worker, settings):
    settings.SESSION_IDLE_TIMEOUT = 122  # the warning comes two minutes before: after 2 s
    page = login(triage_worker)
    refusals = []
    page.on("console", lambda m: refusals.append(m.text) if "Content Security" in m.text else None)
    page.goto(page.url.split("/casework/")[0] + "/casework/queue/")
    warning = page.locator("#cw-idle-warning")
    assert warning.is_hidden()
    warning.wait_for(state="visible", timeout=10_000)
    assert "signed out for inactivity" in warning.inner_text()
    # The language menu works from the script file (no inline handler under the policy).
    with page.expect_navigation():
        page.select_option("#cw-language", "it")
    assert page.locator("html").get_attribute("lang") == "it"
    assert refusals == []
