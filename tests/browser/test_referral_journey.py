"""The slips of issue 12, replayed in a real browser: a failed send keeps the child, Back and
"Send" again make one referral, the immediate-danger guidance is in view where the teacher
clicked (desktop and a 390 px phone), and a closure is chosen and confirmed. axe-core checks
each new page."""

import pytest

from casework import services
from casework.models import Case, Referral

pytestmark = pytest.mark.django_db(transaction=True)


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def fill_child(page):
    page.fill("input[name=child-first_name]", "Luca")
    page.fill("input[name=child-last_name]", "Bruno")
    page.fill("input[name=child-date_of_birth]", "2016-03-02")
    page.fill("input[name=child-guardian_name]", "Anna Bruno")


def test_failed_send_keeps_the_child_and_focuses_the_error_summary(
    login, live_server, teacher, axe_clean
):
    page = login(teacher)
    page.goto(f"{live_server.url}/casework/referrals/new/")
    assert page.input_value("select[name=family_informed]") == ""
    fill_child(page)
    page.check("input[name=urgency][value=priority]")
    submit(page, "button[name=submit]")
    # Every error at once, in a summary that has the focus; the child is still there.
    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    links = page.locator("#error-summary a")
    assert links.count() == 3
    assert page.input_value("input[name=child-first_name]") == "Luca"
    assert page.input_value("input[name=child-date_of_birth]") == "2016-03-02"
    assert page.input_value("input[name=child-guardian_name]") == "Anna Bruno"
    assert page.title() == "New referral"
    axe_clean(page, "referral form with errors")
    # A link of the summary takes the focus to its field.
    page.click("#error-summary a[href='#id_family_informed']")
    assert page.evaluate("() => document.activeElement.name") == "family_informed"
    assert not Referral.objects.exists()
    page.select_option("select[name=family_informed]", "yes")
    page.check("input[name=concern_categories][value=neglect]")
    page.fill("textarea[name=observations]", "Often hungry and tired in the morning.")
    submit(page, "button[name=submit]")
    page.wait_for_url("**/confirm/")
    assert "Luca" in page.inner_text("main") and "Anna Bruno" in page.inner_text("main")
    axe_clean(page, "confirmation")
    submit(page, "button[name=confirm]")
    page.wait_for_url("**/sent/")
    assert "What happens next" in page.inner_text("main")
    axe_clean(page, "sent")
    referral = Referral.objects.get()
    assert referral.status == "submitted" and referral.child.first_name == "Luca"


def test_back_and_send_again_makes_one_referral(login, live_server, teacher):
    page = login(teacher)
    page.goto(f"{live_server.url}/casework/referrals/new/")
    fill_child(page)
    page.check("input[name=concern_categories][value=neglect]")
    page.fill("textarea[name=observations]", "Often hungry.")
    page.select_option("select[name=family_informed]", "no")
    submit(page, "button[name=submit]")
    page.wait_for_url("**/confirm/")
    submit(page, "button[name=confirm]")
    page.wait_for_url("**/sent/")
    # Back to the confirmation: it now answers with where the referral went.
    page.go_back()
    assert "/sent/" in page.url, page.url
    # Back to the form, as the browser restores it, and "Send" again.
    for _step in range(3):
        if "/referrals/new/" in page.url:
            break
        page.go_back()
    assert "/referrals/new/" in page.url, page.url
    # The browser restores what was typed; the key is in the address Back returned to.
    assert page.input_value("input[name=child-first_name]") == "Luca"
    submit(page, "button[name=submit]")
    page.wait_for_url("**/sent/")
    assert "not sent twice" in page.inner_text("main")
    assert Referral.objects.count() == 1
    assert Referral.objects.get().status == "submitted"


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_danger_guidance_is_in_view_where_the_teacher_clicked(
    browser, live_server, teacher, viewport
):
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", teacher.username)
        page.fill("input[name=password]", "pw")
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        page.goto(f"{live_server.url}/casework/referrals/new/")
        assert page.locator("#emergency").is_hidden()
        radio = page.locator("input[name=urgency][value=immediate_danger]")
        radio.scroll_into_view_if_needed()
        radio.check()
        guidance = page.locator("#emergency")
        assert guidance.is_visible()
        box = page.locator("#emergency .cw-emergency").bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, box
        assert "Call 112 now." in guidance.inner_text()
        # Also without JavaScript: the stylesheet shows it under the chosen option.
        no_js = browser.new_context(
            viewport={"width": width, "height": height},
            java_script_enabled=False,
            storage_state=context.storage_state(),
        )
        try:
            plain = no_js.new_page()
            plain.goto(f"{live_server.url}/casework/referrals/new/")
            assert plain.locator("#emergency").is_hidden()
            plain.check("input[name=urgency][value=immediate_danger]")
            assert plain.locator("#emergency").is_visible()
        finally:
            no_js.close()
    finally:
        context.close()


def test_closure_is_chosen_and_confirmed(
    login, live_server, supervisor, teacher, case_to_close, axe_clean
):
    boss = login(supervisor)
    boss.goto(f"{live_server.url}/casework/cases/{case_to_close.pk}/")
    boss.click("a:has-text('Decide on the closure')")
    boss.wait_for_url("**/close/")
    assert "Meals are regular, attendance good" in boss.inner_text("main")
    assert boss.locator("input[name=approve]:checked").count() == 0
    axe_clean(boss, "closure decision")
    submit(boss, "button:has-text('Continue')")
    assert boss.evaluate("() => document.activeElement.id") == "error-summary"
    boss.check("input[name=approve][value='1']")
    submit(boss, "button:has-text('Continue')")
    assert Case.objects.get().status == "closure_requested"
    axe_clean(boss, "closure confirmation")
    submit(boss, "button:has-text('Confirm: close the case')")
    assert Case.objects.get().status == "closed"
    school = login(teacher)
    referral = Referral.objects.get()
    school.goto(f"{live_server.url}/casework/referrals/{referral.pk}/")
    assert "The social service has concluded its involvement" in school.inner_text("main")


def test_author_deletes_a_draft_after_confirming(login, live_server, teacher, child, axe_clean):
    draft = services.referral_create_draft(actor=teacher, child=child, observations="x")
    page = login(teacher)
    page.goto(f"{live_server.url}/casework/referrals/{draft.pk}/edit/")
    page.click("a:has-text('Delete this draft')")
    page.wait_for_url("**/delete/")
    axe_clean(page, "delete a draft")
    submit(page, "button:has-text('Delete the draft')")
    assert "The draft is deleted." in page.inner_text("main")
    assert f"/casework/referrals/{draft.pk}/" not in page.content()
    assert Referral.objects.get().deleted_at is not None
