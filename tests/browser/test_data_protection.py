"""Data protection in a real browser: the lead records what the family was told and their
consent on the case page; the data protection officer reads the register of processing and
answers a subject access request. With SCREENSHOTS=docs/img the pages are saved for
docs/data-protection.md."""

import pytest
from django.utils import timezone

from casework import services
from casework.models import Consent, FamilyInformation, SubjectAccessRequest
from tests.conftest import protocol

pytestmark = pytest.mark.django_db(transaction=True)

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


@pytest.fixture
def case(teacher, child, triage_worker, health_north):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(actor=teacher, referral=draft)
    case = protocol("referral.decide")(
        actor=triage_worker, referral=referral, decision="open_case", lead_worker=triage_worker
    )
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Regular meals")
    return case


def test_the_lead_records_what_the_family_was_told_and_their_consent(
    login, live_server, case, triage_worker, health_north, screenshots
):
    page = login(triage_worker)
    page.goto(f"{live_server.url}/casework/cases/{case.pk}/#family")
    today = timezone.localdate().isoformat()
    page.click("summary:has-text('Record that the family was informed')")
    page.fill("input[name=informed-informed_on]", today)
    page.fill("input[name=informed-informed_whom]", "The mother")
    page.fill("textarea[name=informed-what]", "Why the case was opened and who reads the file")
    page.select_option("select[name=informed-channel]", "in_person")
    page.fill("input[name=informed-language]", "Arabic")
    page.check("input[name=informed-interpreter]")
    submit(page, "button:has-text('Record'):visible")
    assert FamilyInformation.objects.get(case=case).interpreter is True
    page.click("summary:has-text('Record a consent')")
    page.select_option("select[name=consent-purpose]", "share_agency")
    page.select_option("select[name=consent-agency]", str(health_north.pk))
    page.fill("input[name=consent-given_by]", "The mother")
    page.fill("input[name=consent-given_on]", today)
    page.select_option("select[name=consent-how_obtained]", "signed")
    submit(page, "button:has-text('Record the consent')")
    assert Consent.objects.get(case=case).agency == health_north
    family = page.inner_text("#family")
    assert "In force" in family and "UONPIA North" in family and "Arabic" in family
    page.locator("#family").scroll_into_view_if_needed()
    screenshots(page, "case-family-consent")


def test_the_dpo_reads_the_register_and_answers_a_subject_access_request(
    login, live_server, case, child, dpo, screenshots
):
    page = login(dpo)
    page.goto(f"{live_server.url}/casework/dpo/")
    assert "Case management by the multi-agency team" in page.inner_text("body")
    screenshots(page, "dpo-register")
    page.goto(f"{live_server.url}/casework/dpo/subject-access/")
    page.fill("input[name=q]", "Bruno")
    submit(page, "button:has-text('Find')")
    submit(page, "a:has-text('Luca Bruno')")
    page.fill("input[name=requested_by]", "Anna Bruno, mother")
    page.fill("input[name=received_on]", timezone.localdate().isoformat())
    submit(page, "button:has-text('Record the request')")
    sar = SubjectAccessRequest.objects.get()
    assert sar.child == child
    with page.expect_download() as download:
        page.click("a:has-text('Download the readable copy (PDF)')")
    assert download.value.suggested_filename == f"subject-access-{sar.pk}.pdf"
    page.reload()
    assert "Exports produced" in page.inner_text("body")
    screenshots(page, "dpo-subject-access")
    page.goto(f"{live_server.url}/casework/dpo/access-patterns/")
    screenshots(page, "dpo-access-patterns")
