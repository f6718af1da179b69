"""Reviews when the team needs them, in a real browser: a team member records an
extraordinary review after a new incident, and the lead brings the periodic review forward
to today — with no timer sweep running."""

import pytest
from django.utils import timezone

from casework import services
from casework.models import Case, Review
from tests.conftest import protocol

pytestmark = pytest.mark.django_db(transaction=True)

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


@pytest.fixture
def case(teacher, child, triage_worker, psychologist, health_north):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(actor=teacher, referral=draft)
    case = protocol("referral.decide")(
        actor=triage_worker, referral=referral, decision="open_case", lead_worker=triage_worker
    )
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Regular meals")
    services.case_add_member(
        actor=triage_worker,
        case=case,
        user=psychologist,
        agency=health_north,
        role="psychologist",
        reason="Assessment",
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    return case


def test_a_team_member_records_an_extraordinary_review(
    login, live_server, case, psychologist, screenshots
):
    page = login(psychologist)
    page.goto(f"{live_server.url}/casework/cases/{case.pk}/")
    # No periodic review is due: only the extraordinary one is offered.
    assert page.locator("#review-form").count() == 0
    page.click("summary:has-text('Record an extraordinary review')")
    page.fill("textarea[name=extra-reason]", "The child arrived with a bruise and fears going home")
    page.fill("textarea[name=extra-attendees]", "Conti, Ferri")
    page.select_option("select[name=extra-risk_level]", "high")
    page.check("input[name=extra-decision][value=continue]")
    screenshots(page, "case-extraordinary-review")
    submit(page, "button:has-text('Record the extraordinary review')")
    assert "Extraordinary review recorded." in page.inner_text("body")
    review = Review.objects.get(case=case)
    assert (review.kind, review.recorded_by, review.risk_level) == (
        "extraordinary",
        psychologist,
        "high",
    )
    text = page.inner_text("#h-reviews >> xpath=..")
    assert "Extraordinary review" in text and "fears going home" in text


def test_the_lead_brings_the_review_forward_and_the_team_records_it(
    login, live_server, case, triage_worker
):
    page = login(triage_worker)
    page.goto(f"{live_server.url}/casework/cases/{case.pk}/")
    page.click("summary:has-text('Bring the next periodic review forward')")
    page.fill("input[name=forward-review_on]", timezone.localdate().isoformat())
    submit(page, "button:has-text('Bring it forward')")
    # Due at once, with no timer sweep: the periodic review form is there.
    assert page.locator("#review-form").count() == 1
    page.select_option("#review-form select[name=risk_level]", "medium")
    page.check("#review-form input[name=decision][value=continue]")
    submit(page, "#review-form button[type=submit]")
    assert Review.objects.get(case=case).kind == "periodic"
    assert Case.objects.get(pk=case.pk).next_review_at > timezone.now()
