"""Hand-overs at school-grade transitions: the case team sends a note with the family's consent
(or the legal basis) to the receiving school's referent, who acknowledges it; the school reads
the note and whom to call, never the case file."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from casework import services
from casework.models import Agency, HandOver, Membership, Note, Notification
from tests.conftest import _member, protocol
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def primary(north):
    return AgencyFactory(name="Primary Manzoni", kind=Agency.Kind.SCHOOL, district=north)


@pytest.fixture
def primary_referent(primary):
    return _member("referent_manzoni", primary, Membership.Role.SCHOOL_REFERENT)


@pytest.fixture
def case(teacher, child, triage_worker, psychologist, health_north):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(actor=teacher, referral=draft)
    case = protocol("referral.decide")(actor=triage_worker, referral=referral, decision="open_case")
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
    note = Note(case=case, author=triage_worker, body="Father's drinking, confidential")
    services.audited_save(note, actor=triage_worker, reason="test.note.added")
    return case


CONSENT = {
    "transition": "preschool_to_primary",
    "note": "Needs a quiet corner in the morning; call the lead worker first.",
    "basis": "consent",
    "consent_given_by": "Anna Bruno (mother)",
}


def test_the_team_sends_a_hand_over_and_the_receiving_referent_acknowledges_it(
    case, psychologist, primary, primary_referent, school_referent, triage_worker
):
    body = {**CONSENT, "to_school": primary.pk, "consent_given_on": str(timezone.localdate())}
    sent = api(psychologist).post(f"/api/v1/cases/{case.pk}/handovers/", body, format="json")
    assert sent.status_code == 201, sent.content
    handover = HandOver.objects.get()
    assert handover.consent_given_by == "Anna Bruno (mother)"
    assert handover.history.get().history_change_reason == "casework.handover.sent"
    assert Notification.objects.filter(
        recipient=primary_referent, kind=Notification.Kind.HANDOVER_RECEIVED, case=None
    ).exists()
    # The receiving referent reads the note and whom to call — nothing of the file.
    seen = api(primary_referent).get(f"/api/v1/handovers/{handover.pk}/")
    assert seen.status_code == 200
    text = seen.content.decode()
    assert "quiet corner" in text and "Luca" in text
    assert "drinking" not in text and "Hungry" not in text and "risk" not in text
    assert api(primary_referent).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    # Another school's referent does not know it exists.
    assert api(school_referent).get(f"/api/v1/handovers/{handover.pk}/").status_code == 404
    assert api(school_referent).get("/api/v1/handovers/").json()["results"] == []
    assert (
        api(school_referent).post(f"/api/v1/handovers/{handover.pk}/acknowledge/").status_code
        == 404
    )
    done = api(primary_referent).post(f"/api/v1/handovers/{handover.pk}/acknowledge/")
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    handover.refresh_from_db()
    assert handover.acknowledged_by == primary_referent
    assert handover.history.order_by("-history_id").first().history_change_reason == (
        "casework.handover.acknowledged"
    )
    assert Notification.objects.filter(
        recipient=triage_worker, kind=Notification.Kind.HANDOVER_ACKNOWLEDGED
    ).exists()
    again = api(primary_referent).post(f"/api/v1/handovers/{handover.pk}/acknowledge/")
    assert again.status_code == 409


def test_nothing_is_shared_without_consent_or_a_legal_basis(
    case, triage_worker, primary, primary_referent
):
    url = f"/api/v1/cases/{case.pk}/handovers/"
    client = api(triage_worker)
    no_consent = client.post(
        url, {**CONSENT, "to_school": primary.pk, "consent_given_by": ""}, format="json"
    )
    assert no_consent.status_code == 400
    assert {"consent_given_by", "consent_given_on"} <= set(no_consent.json())
    future = timezone.localdate() + datetime.timedelta(days=3)
    later = client.post(
        url, {**CONSENT, "to_school": primary.pk, "consent_given_on": str(future)}, format="json"
    )
    assert later.status_code == 400 and "consent_given_on" in later.json()
    thin = client.post(
        url,
        {**CONSENT, "to_school": primary.pk, "basis": "legal_basis", "legal_basis": "law"},
        format="json",
    )
    assert thin.status_code == 400 and "legal_basis" in thin.json()
    assert not HandOver.objects.exists()
    legal = client.post(
        url,
        {
            **CONSENT,
            "to_school": primary.pk,
            "basis": "legal_basis",
            "legal_basis": "Regional child protection law, art. 12: the school is told",
        },
        format="json",
    )
    assert legal.status_code == 201
    handover = HandOver.objects.get()
    assert handover.consent_given_by == "" and handover.consent_given_on is None


def test_who_may_not_send_a_hand_over(
    case, teacher, outsider, school_referent, primary, primary_referent, client
):
    from tests.conftest import _member as member

    auditor = member("dpo", case.referrals.get().school, Membership.Role.AUDITOR)
    body = {**CONSENT, "to_school": primary.pk, "consent_given_on": str(timezone.localdate())}
    for other in (teacher, outsider, school_referent, primary_referent, auditor):
        answer = api(other).post(f"/api/v1/cases/{case.pk}/handovers/", body, format="json")
        assert answer.status_code == 404, other
    client.force_login(outsider)
    web = {f"handover-{k}": v for k, v in body.items()}
    assert client.post(f"/casework/cases/{case.pk}/handover/", web).status_code == 404
    assert not HandOver.objects.exists()


def test_a_hand_over_on_the_pages(client, case, triage_worker, primary, primary_referent):
    client.force_login(triage_worker)
    assert "handover-to_school" in client.get(f"/casework/cases/{case.pk}/").content.decode()
    sent = client.post(
        f"/casework/cases/{case.pk}/handover/",
        {
            "handover-to_school": primary.pk,
            "handover-transition": "preschool_to_primary",
            "handover-note": "Likes drawing; call the lead worker.",
            "handover-basis": "consent",
            "handover-consent_given_by": "Anna Bruno",
            "handover-consent_given_on": str(timezone.localdate()),
        },
    )
    assert sent.status_code == 302
    handover = HandOver.objects.get()
    client.force_login(primary_referent)
    listing = client.get("/casework/handovers/").content.decode()
    assert f"/casework/handovers/{handover.pk}/" in listing
    page = client.get(f"/casework/handovers/{handover.pk}/").content.decode()
    assert "Likes drawing" in page and "drinking" not in page
    assert client.post(f"/casework/handovers/{handover.pk}/acknowledge/").status_code == 302
    handover.refresh_from_db()
    assert handover.status == "acknowledged"
