"""Identity as typed, matching at triage: a referrer's form never looks up or shows a child
recorded by others; the district's triage team sees the possible matches and links the
referral to a known child or confirms a new one; the referrer corrects the child while the
referral is a draft."""

import re

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from casework import selectors, services
from casework.models import AccessLog, Case, Child, Referral
from tests.conftest import protocol

pytestmark = pytest.mark.django_db

FORM = {
    "concern_categories": ["neglect"],
    "observations": "Often hungry in the morning.",
    "urgency": "priority",
    "family_informed": True,
}


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def draft_by(user, **child):
    body = {
        "child": {"first_name": "Luca", "last_name": "Bruno", "date_of_birth": "2016-03-02"}
        | child,
        **FORM,
    }
    response = api(user).post("/api/v1/referrals/", body, format="json")
    assert response.status_code == 201, response.json()
    return response


def sent_by(user, **child):
    pk = draft_by(user, **child).json()["id"]
    assert api(user).post(f"/api/v1/referrals/{pk}/submit/").status_code == 200
    return Referral.objects.get(pk=pk)


@pytest.fixture
def known(child, teacher, triage_worker):
    """Luca Bruno, class 4B, recorded by the first school, with an open case."""
    child.tax_code = "BRNLCU16C02H501X"
    services.audited_save(child, actor=teacher, reason="casework.child.corrected")
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(actor=teacher, referral=draft)
    protocol("referral.decide")(actor=triage_worker, referral=referral, decision="open_case")
    return Child.objects.get(pk=child.pk)


# --- the referrer's side: nothing stored by others comes back --------------------------------


def test_a_draft_about_a_known_child_records_the_child_as_typed(known, other_teacher):
    response = draft_by(other_teacher, school_class="2A", home_languages="arabic")
    body = response.json()
    assert body["child"]["school_class"] == "2A"
    assert body["child"]["home_languages"] == "arabic"
    assert "4B" not in response.content.decode()
    assert "BRNLCU16C02H501X" not in response.content.decode()
    referral = Referral.objects.get(pk=body["id"])
    assert referral.child_id != known.pk
    assert referral.child.identity == Child.Identity.AS_TYPED
    assert referral.child.same_as is None
    # The known child is untouched by what the other school typed.
    known.refresh_from_db()
    assert (known.school_class, known.home_languages) == ("4B", "")


def test_a_tax_code_with_any_name_reveals_nothing(known, other_teacher):
    response = draft_by(
        other_teacher, first_name="Nobody", last_name="Atall", tax_code="brnlcu16c02h501x"
    )
    text = response.content.decode()
    assert "Luca" not in text and "Bruno" not in text and "4B" not in text
    assert response.json()["child"]["first_name"] == "Nobody"


def test_the_referrer_page_shows_only_what_the_referrer_typed(known, other_teacher, client):
    pk = draft_by(other_teacher, school_class="2A").json()["id"]
    client.force_login(other_teacher)
    page = client.get(f"/casework/referrals/{pk}/").content.decode()
    assert "2A" in page
    # As a word: a page's random CSRF token may hold the letters "4B" (it once did).
    assert not re.search(r"(?<![A-Za-z0-9])4B(?![A-Za-z0-9])", page)
    assert "BRNLCU16C02H501X" not in page


def test_the_referrer_may_not_ask_for_matches(known, other_teacher):
    referral = sent_by(other_teacher)
    response = api(other_teacher).get(f"/api/v1/referrals/{referral.pk}/matches/")
    assert response.status_code in (403, 404)
    assert "4B" not in response.content.decode()
    link = api(other_teacher).post(
        f"/api/v1/referrals/{referral.pk}/child/link/", {"child": known.pk}, format="json"
    )
    assert link.status_code in (403, 404)
    assert Child.objects.get(pk=referral.child_id).same_as is None


# --- the referrer corrects the draft's child ---------------------------------------------------


def test_the_author_corrects_the_child_of_a_draft(teacher):
    pk = draft_by(teacher, guardians=[{"name": "Anna", "relationship": "mother"}]).json()["id"]
    response = api(teacher).patch(
        f"/api/v1/referrals/{pk}/",
        {
            "child": {
                "first_name": " Lucas ",
                "date_of_birth": "2016-03-12",
                "guardians": [{"name": "Anna Bruno", "relationship": "mother", "phone": "1"}],
            },
            "observations": "Hungry every morning.",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    child = Referral.objects.get(pk=pk).child
    assert (child.first_name, str(child.date_of_birth)) == ("Lucas", "2016-03-12")
    assert [g.name for g in child.guardians.all()] == ["Anna Bruno"]
    assert response.json()["child"]["first_name"] == "Lucas"
    assert response.json()["child"]["guardians"][0]["phone"] == "1"
    row = child.history.latest()
    assert (row.history_change_reason, row.history_user_id) == (
        "casework.child.corrected",
        teacher.pk,
    )


def test_a_bad_correction_changes_nothing(teacher):
    pk = draft_by(teacher).json()["id"]
    before = Referral.objects.get(pk=pk).child.history.count()
    for body in (
        {"child": {"date_of_birth": "2099-01-01"}, "observations": "changed"},
        {"child": {"district": "south"}, "observations": "changed"},
        {"child": {"first_name": ""}},
    ):
        response = api(teacher).patch(f"/api/v1/referrals/{pk}/", body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()) & {"child", "date_of_birth"}, response.json()
    referral = Referral.objects.get(pk=pk)
    assert referral.observations == FORM["observations"]
    assert referral.child.first_name == "Luca"
    assert referral.child.history.count() == before


def test_the_child_of_a_sent_referral_or_of_someone_else_is_not_corrected(teacher, other_teacher):
    referral = sent_by(teacher)
    response = api(teacher).patch(
        f"/api/v1/referrals/{referral.pk}/", {"child": {"first_name": "X"}}, format="json"
    )
    assert response.status_code == 409
    pk = draft_by(teacher).json()["id"]
    response = api(other_teacher).patch(
        f"/api/v1/referrals/{pk}/", {"child": {"first_name": "X"}}, format="json"
    )
    assert response.status_code == 404
    assert Child.objects.filter(first_name="X").count() == 0


# --- the triage team settles who the child is --------------------------------------------------


def test_triage_sees_the_matches_with_what_matched_and_their_cases(
    known, other_teacher, triage_worker, client
):
    referral = sent_by(other_teacher, first_name="Lucca", tax_code="BRNLCU16C02H501X")
    [match] = selectors.child_matches(referral)
    assert match["child"] == known
    assert match["matched"] == ["tax_code", "last_name", "date_of_birth"]
    assert [c.status for c in match["child"].match_cases] == [Case.Status.OPEN]
    client.force_login(triage_worker)
    page = client.get(f"/casework/referrals/{referral.pk}/decide/").content.decode()
    assert "Who the child is" in page
    assert "Luca Bruno" in page  # the match, beside the record as typed ("Lucca")
    assert Case.objects.get(child=known).reference in page
    log = AccessLog.objects.filter(user=triage_worker, action="referral.decide")
    assert set(log.filter(object_type="child").values_list("object_id", flat=True)) == {known.pk}


def test_matches_stay_in_the_referrals_district(known, other_teacher, south, triage_worker):
    known.district = south
    services.audited_save(known, actor=triage_worker, reason="casework.child.corrected")
    referral = sent_by(other_teacher)
    assert selectors.child_matches(referral) == []


def test_linking_keeps_what_the_referrer_sees(known, other_teacher, triage_worker):
    referral = sent_by(other_teacher, school_class="2A")
    before = api(other_teacher).get(f"/api/v1/referrals/{referral.pk}/").json()
    response = api(triage_worker).post(
        f"/api/v1/referrals/{referral.pk}/child/link/", {"child": known.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    after = api(other_teacher).get(f"/api/v1/referrals/{referral.pk}/").json()
    assert after["child"] == before["child"]
    typed = Child.objects.get(pk=referral.child_id)
    assert (typed.identity, typed.same_as_id) == (Child.Identity.LINKED, known.pk)
    row = typed.history.latest()
    assert (row.history_change_reason, row.history_user_id) == (
        "casework.child.linked",
        triage_worker.pk,
    )
    # Settled once: a second link or a "new child" is refused and changes nothing.
    again = api(triage_worker).post(f"/api/v1/referrals/{referral.pk}/child/new/")
    assert again.status_code == 409
    assert Child.objects.get(pk=typed.pk).identity == Child.Identity.LINKED


def test_only_a_match_may_be_linked(known, other_teacher, triage_worker, south):
    stranger_child = services.child_create(
        actor=triage_worker,
        first_name="Someone",
        last_name="Else",
        date_of_birth="2015-01-01",
        district=south,
    )
    referral = sent_by(other_teacher)
    for target in (stranger_child.pk, referral.child_id, 999999):
        with pytest.raises(ValidationError):
            services.child_link(actor=triage_worker, referral=referral, known=target)
    assert Child.objects.get(pk=referral.child_id).identity == Child.Identity.AS_TYPED


def test_a_case_is_not_opened_blind_while_a_match_is_unsettled(known, other_teacher, triage_worker):
    referral = sent_by(other_teacher)
    decide = protocol("referral.decide")
    with pytest.raises(ValidationError) as refused:
        decide(actor=triage_worker, referral=referral, decision="open_case")
    assert "child" in refused.value.message_dict
    assert Case.objects.count() == 1
    services.child_confirm_new(actor=triage_worker, referral=referral)
    referral.refresh_from_db()
    case = decide(actor=triage_worker, referral=referral, decision="open_case")
    assert case.child_id == referral.child_id
    assert Case.objects.count() == 2


def test_with_no_match_opening_a_case_confirms_the_child(teacher, triage_worker):
    referral = sent_by(teacher)
    case = protocol("referral.decide")(actor=triage_worker, referral=referral, decision="open_case")
    child = Child.objects.get(pk=case.child_id)
    assert child.identity == Child.Identity.KNOWN
    assert child.history.latest().history_change_reason == "casework.child.confirmed_new"


def test_the_decision_page_links_and_confirms(known, other_teacher, triage_worker, client):
    client.force_login(triage_worker)
    first = sent_by(other_teacher)
    response = client.post(f"/casework/referrals/{first.pk}/child/link/", {"child": str(known.pk)})
    assert response.status_code == 302
    assert Child.objects.get(pk=first.child_id).same_as_id == known.pk
    second = sent_by(other_teacher, first_name="Marta", last_name="Verdi")
    assert client.post(f"/casework/referrals/{second.pk}/child/new/").status_code == 302
    assert Child.objects.get(pk=second.child_id).identity == Child.Identity.KNOWN
    # The referrer's side may not settle it.
    refused = sent_by(other_teacher)
    client.force_login(other_teacher)
    assert client.post(f"/casework/referrals/{refused.pk}/child/new/").status_code in (403, 404)
    assert Child.objects.get(pk=refused.child_id).identity == Child.Identity.AS_TYPED
