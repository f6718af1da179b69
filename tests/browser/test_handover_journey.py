"""A hand-over at a school-grade transition, in a real browser: the lead worker sends a note to
the receiving school's referent with the family's consent recorded; the referent finds it in
the list, reads the child's name, the note and whom to call — never the case file — and
acknowledges it; the case page then shows it acknowledged. axe-core checks each page."""

import pytest
from django.utils import timezone

from casework import services
from casework.models import Agency, HandOver, Membership, Note
from tests.conftest import _member, protocol
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = "Needs a quiet corner in the morning; call the lead worker before any meeting."
CONFIDENTIAL = "Father's drinking, confidential"


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def test_a_hand_over_note_sent_read_and_acknowledged(
    login, live_server, teacher, child, triage_worker, north, axe_clean, screenshots
):
    primary = AgencyFactory(name="Primary Manzoni", kind=Agency.Kind.SCHOOL, district=north)
    referent = _member("referent_manzoni", primary, Membership.Role.SCHOOL_REFERENT)
    draft = services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="Hungry",
        family_informed=True,
    )
    referral = protocol("referral.submit")(actor=teacher, referral=draft)
    case = protocol("referral.decide")(actor=triage_worker, referral=referral, decision="open_case")
    services.audited_save(
        Note(case=case, author=triage_worker, body=CONFIDENTIAL),
        actor=triage_worker,
        reason="test.note.added",
    )

    # The lead worker sends the note from the case page, with the mother's consent.
    lead = login(triage_worker)
    lead.goto(f"{live_server.url}{case.get_absolute_url()}")
    lead.click("#handover summary")
    lead.select_option("select[name=handover-to_school]", str(primary.pk))
    lead.select_option("select[name=handover-transition]", "preschool_to_primary")
    lead.fill("textarea[name=handover-note]", NOTE)
    lead.check("input[name=handover-basis][value=consent]")
    lead.fill("input[name=handover-consent_given_by]", "Anna Bruno (mother)")
    lead.fill("input[name=handover-consent_given_on]", str(timezone.localdate()))
    submit(lead, "#handover button[type=submit]")
    handover = HandOver.objects.get()
    assert handover.to_school == primary and handover.note == NOTE
    assert handover.consent_given_by == "Anna Bruno (mother)"
    assert "Primary Manzoni" in lead.inner_text("#handovers")
    axe_clean(lead, "case page with a hand-over")

    # The receiving referent finds it, reads the note and whom to call, not the file.
    school = login(referent)
    school.goto(f"{live_server.url}/casework/handovers/")
    axe_clean(school, "hand-over list")
    submit(school, f"a[href='/casework/handovers/{handover.pk}/']")
    body = school.inner_text("main")
    assert NOTE in body and "Luca Bruno" in body
    assert CONFIDENTIAL not in body and "Hungry" not in body
    axe_clean(school, "hand-over note")
    screenshots(school, "handover-note")
    submit(school, "main form button[type=submit]")
    handover.refresh_from_db()
    assert handover.status == HandOver.Status.ACKNOWLEDGED
    assert handover.acknowledged_at is not None

    # The school cannot open the case itself.
    response = school.goto(f"{live_server.url}{case.get_absolute_url()}")
    assert response.status in (403, 404)

    lead.reload()
    assert "acknowledged on" in lead.inner_text("#handovers")
