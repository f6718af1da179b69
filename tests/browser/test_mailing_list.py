"""The mailing list in a real browser: a family subscribes and confirms, the helpline sends a
mailing to each of two categories and watches the progress, the unsubscribe link works."""

import re

import pytest
from django.core import mail

from casework import services
from casework.models import MailingCategory, Subscriber
from tests.factories import AgencyFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("mailing_categories"),
]


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def subscribe(browser, live_server, email, *codes):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/mailing-list/")
    page.check("input[name=kind][value=family]")
    page.fill("input[name=email]", email)
    for code in codes:
        pk = MailingCategory.objects.get(code=code).pk
        page.check(f"input[name=categories][value='{pk}']")
    page.check("input[name=consent]")
    submit(page, "button[type=submit]")
    assert "Check your e-mail" in page.inner_text("main")
    link = re.search(r"http\S+(/mailing-list/confirm/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(live_server.url + link)
    assert Subscriber.objects.get(email=email).subscribed_on is None  # opening is not confirming
    submit(page, "button[value=confirm]")
    assert "You are subscribed" in page.inner_text("main")
    return context


def test_a_mailing_to_each_of_two_categories_with_progress_and_unsubscribe(
    browser, login, live_server, north, screenshots
):
    point = AgencyFactory(name="Family point", kind="other", district=north)
    operator = UserFactory(username="operator")
    operator.set_password("pw")
    operator.save()
    services.membership_create(actor=None, user=operator, agency=point, role="helpline_operator")
    family = subscribe(browser, live_server, "family@example.org", "family_support")
    subscribe(browser, live_server, "school@example.org", "education_school", "family_support")
    mail.outbox.clear()

    page = login(operator)
    for code, subject in (("family_support", "Winter help"), ("education_school", "Summer school")):
        page.goto(f"{live_server.url}/casework/mailings/")
        page.select_option("select[name=category]", str(MailingCategory.objects.get(code=code).pk))
        page.fill("input[name=subject]", subject)
        page.fill("textarea[name=body]", "Details at the family point.")
        submit(page, "form[action$='/mailings/new/'] button[type=submit]")
        submit(page, "form[action$='/send/'] button[type=submit]")
        assert page.inner_text("#mailing-status") == "Sent"
        progress = page.locator("#mailing-progress")
        assert progress.get_attribute("value") == progress.get_attribute("max")
    screenshots(page, "mailing-progress")
    assert sorted((m.subject, m.to[0]) for m in mail.outbox) == [
        ("Summer school", "school@example.org"),
        ("Winter help", "family@example.org"),
        ("Winter help", "school@example.org"),
    ]

    # The family follows the link in its mail and leaves the list.
    message = next(m for m in mail.outbox if m.to == ["family@example.org"])
    link = re.search(r"http\S+(/mailing-list/unsubscribe/\S+/)", message.body).group(1)
    public = family.new_page()
    public.goto(live_server.url + link)
    submit(public, "button[value=unsubscribe]")
    assert "no more mail" in public.inner_text("main")
    assert Subscriber.objects.get(email="family@example.org").unsubscribed_on is not None
    family.close()
