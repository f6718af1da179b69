"""Family information, consent and objections on a case: services with their history rows,
refusals, the chronology, the case page, the API, and the consent check when the file is
shared with an agency not yet on the team."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from casework import selectors, services
from casework.models import Consent, FamilyInformation, Objection, Sharing
from casework.services import TransitionNotAllowed
from tests.conftest import protocol

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}
TODAY = timezone.localdate


@pytest.fixture
def case(teacher, child, triage_worker):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


def last(obj):
    return obj.history.order_by("-history_id").first()


def consent(case, actor, agency, **extra):
    fields = {
        "purpose": "share_agency",
        "agency": agency,
        "given_by": "The mother",
        "given_on": TODAY(),
        "how_obtained": "signed",
        **extra,
    }
    return services.consent_record(actor=actor, case=case, **fields)


def join(case, actor, user, agency, **extra):
    return services.case_add_member(
        actor=actor,
        case=case,
        user=user,
        agency=agency,
        role="psychologist",
        reason="Assessment",
        **extra,
    )


# --- services --------------------------------------------------------------------------------


def test_family_information_is_recorded_with_its_history_row(case, triage_worker):
    info = services.case_record_family_information(
        actor=triage_worker,
        case=case,
        informed_on=TODAY(),
        informed_whom="The mother",
        what="Why the case was opened and who reads the file",
        channel="in_person",
        language="Arabic",
        interpreter=True,
    )
    assert (info.informed_by, info.interpreter, info.language) == (triage_worker, True, "Arabic")
    row = last(info)
    assert (row.history_user, row.history_change_reason) == (
        triage_worker,
        "casework.family_information.recorded",
    )


def test_family_information_refuses_missing_and_future_fields_writing_nothing(case, triage_worker):
    with pytest.raises(ValidationError) as error:
        services.case_record_family_information(
            actor=triage_worker,
            case=case,
            informed_on=TODAY() + datetime.timedelta(days=1),
            informed_whom=" ",
            what="",
            channel="pigeon",
            language="",
        )
    assert set(error.value.message_dict) == {
        "informed_on",
        "informed_whom",
        "what",
        "channel",
        "language",
    }
    assert not FamilyInformation.objects.exists()


def test_people_off_the_team_cannot_record_anything_about_the_family(
    case, teacher, outsider, psychologist, health_north
):
    for person in (teacher, outsider, psychologist):
        with pytest.raises(PermissionDenied):
            consent(case, person, health_north)
        with pytest.raises(PermissionDenied):
            services.objection_record(
                actor=person, case=case, raised_on=TODAY(), raised_by="Father", about="x"
            )
    assert not Consent.objects.exists() and not Objection.objects.exists()


def test_consent_needs_the_agency_its_purpose_names(case, triage_worker, health_north, school):
    with pytest.raises(ValidationError) as error:
        consent(case, triage_worker, None)
    assert "agency" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        consent(case, triage_worker, health_north, purpose="school_handover")
    assert "agency" in error.value.message_dict
    handover = consent(case, triage_worker, school, purpose="school_handover")
    assert last(handover).history_change_reason == "casework.consent.given"


def test_withdrawing_a_consent_ends_it_once_with_its_history(case, triage_worker, health_north):
    given = consent(case, triage_worker, health_north)
    assert selectors.consent_in_force(case, "share_agency", health_north) == given
    withdrawn = services.consent_withdraw(
        actor=triage_worker,
        consent=given,
        withdrawn_on=TODAY(),
        withdrawn_how="phone",
        note="The mother called",
    )
    assert withdrawn.withdrawal_recorded_by == triage_worker
    assert last(withdrawn).history_change_reason == "casework.consent.withdrawn"
    assert selectors.consent_in_force(case, "share_agency", health_north) is None
    with pytest.raises(TransitionNotAllowed):
        services.consent_withdraw(
            actor=triage_worker, consent=withdrawn, withdrawn_on=TODAY(), withdrawn_how="phone"
        )


def test_consent_in_force_is_for_the_named_agency_only(
    case, triage_worker, health_north, social_south
):
    consent(case, triage_worker, health_north)
    assert selectors.consent_in_force(case, "share_agency", social_south) is None
    assert selectors.consent_in_force(case, "mailing") is None


def test_objection_is_decided_by_the_lead_with_a_reason_once(
    case, triage_worker, psychologist, health_north
):
    join(case, triage_worker, psychologist, health_north, legal_basis="public_task",
         basis_explanation="Court order 12/2026")  # fmt: skip
    objection = services.objection_record(
        actor=psychologist,
        case=case,
        raised_on=TODAY(),
        raised_by="The father",
        about="The school is told too much",
    )
    assert last(objection).history_change_reason == "casework.objection.raised"
    with pytest.raises(PermissionDenied):  # a team member records, the lead decides
        services.objection_handle(
            actor=psychologist, objection=objection, outcome="upheld", reason="Fair"
        )
    with pytest.raises(ValidationError) as error:
        services.objection_handle(actor=triage_worker, objection=objection, outcome="", reason="")
    assert set(error.value.message_dict) == {"outcome", "reason"}
    handled = services.objection_handle(
        actor=triage_worker,
        objection=objection,
        outcome="partly_upheld",
        reason="The school hears only what it must act on",
    )
    assert (handled.handled_by, handled.outcome) == (triage_worker, "partly_upheld")
    assert last(handled).history_change_reason == "casework.objection.handled"
    with pytest.raises(TransitionNotAllowed):
        services.objection_handle(
            actor=triage_worker, objection=handled, outcome="rejected", reason="Again"
        )


# --- sharing outside the team ----------------------------------------------------------------


def test_bringing_in_another_agency_without_consent_or_basis_is_refused(
    case, triage_worker, psychologist, health_north
):
    with pytest.raises(ValidationError) as error:
        join(case, triage_worker, psychologist, health_north)
    assert "legal_basis" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        join(case, triage_worker, psychologist, health_north, legal_basis="vital_interests")
    assert "basis_explanation" in error.value.message_dict
    assert not case.team.filter(user=psychologist).exists()
    assert not Sharing.objects.exists()


def test_bringing_in_another_agency_on_the_familys_consent_records_the_sharing(
    case, triage_worker, psychologist, health_north
):
    given = consent(case, triage_worker, health_north)
    member = join(case, triage_worker, psychologist, health_north)
    sharing = Sharing.objects.get()
    assert (sharing.agency, sharing.member, sharing.basis, sharing.consent) == (
        health_north,
        member,
        "consent",
        given,
    )
    assert last(sharing).history_change_reason == "casework.sharing.recorded"


def test_a_withdrawn_consent_no_longer_opens_the_sharing(
    case, triage_worker, psychologist, health_north
):
    given = consent(case, triage_worker, health_north)
    services.consent_withdraw(
        actor=triage_worker, consent=given, withdrawn_on=TODAY(), withdrawn_how="email"
    )
    with pytest.raises(ValidationError):
        join(case, triage_worker, psychologist, health_north)


def test_another_legal_basis_is_recorded_with_its_explanation(
    case, triage_worker, psychologist, health_north
):
    join(case, triage_worker, psychologist, health_north, legal_basis="legal_obligation",
         basis_explanation="Order of the juvenile court")  # fmt: skip
    sharing = Sharing.objects.get()
    assert (sharing.basis, sharing.consent, sharing.explanation) == (
        "legal_obligation",
        None,
        "Order of the juvenile court",
    )


def test_a_colleague_of_an_agency_already_on_the_team_needs_no_consent(
    case, triage_worker, supervisor, social_north
):
    services.case_add_member(
        actor=triage_worker,
        case=case,
        user=supervisor,
        agency=social_north,
        role="social_worker",
        reason="Second opinion",
    )
    assert not Sharing.objects.exists()


# --- the chronology, the page, the API --------------------------------------------------------


def test_family_records_are_in_the_chronology(case, triage_worker, health_north):
    consent(case, triage_worker, health_north)
    services.objection_record(
        actor=triage_worker, case=case, raised_on=TODAY(), raised_by="Father", about="x"
    )
    reasons = [row["reason"] for row in selectors.case_timeline(case)]
    assert "casework.consent.given" in reasons
    assert "casework.objection.raised" in reasons


def test_case_page_shows_the_family_section_and_its_forms_to_the_team(
    client, case, triage_worker, health_north
):
    consent(case, triage_worker, health_north)
    client.force_login(triage_worker)
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'id="family"' in page
    assert "UONPIA North" in page and "The mother" in page
    assert f"/casework/cases/{case.pk}/family/consent/" in page


def test_web_forms_record_and_refuse(client, case, triage_worker, psychologist, health_north):
    client.force_login(triage_worker)
    url = f"/casework/cases/{case.pk}/family/informed/"
    response = client.post(
        url,
        {
            "informed-informed_on": TODAY().isoformat(),
            "informed-informed_whom": "Both parents",
            "informed-what": "The plan",
            "informed-channel": "phone",
            "informed-language": "Italian",
        },
    )
    assert response.status_code == 302
    assert FamilyInformation.objects.get().informed_whom == "Both parents"
    # Bad input: nothing written, the errors come back as messages.
    client.post(f"/casework/cases/{case.pk}/family/objection/", {"objection-raised_by": "x"})
    assert not Objection.objects.exists()
    # The psychologist is not on the team: the case is not theirs (404).
    client.force_login(psychologist)
    assert client.post(url, {}).status_code == 404
    assert FamilyInformation.objects.count() == 1


def test_web_objection_handling_is_refused_to_a_team_member(
    client, case, triage_worker, psychologist, health_north
):
    join(case, triage_worker, psychologist, health_north, legal_basis="public_task",
         basis_explanation="Task")  # fmt: skip
    objection = services.objection_record(
        actor=triage_worker, case=case, raised_on=TODAY(), raised_by="Father", about="x"
    )
    client.force_login(psychologist)
    url = f"/casework/cases/{case.pk}/family/objection/{objection.pk}/handle/"
    response = client.post(url, {"handle-outcome": "upheld", "handle-reason": "ok"})
    assert response.status_code == 403
    objection.refresh_from_db()
    assert objection.outcome == "pending"


def test_web_member_form_asks_for_the_basis(
    client, case, triage_worker, psychologist, health_north
):
    client.force_login(triage_worker)
    data = {
        "user": psychologist.pk,
        "agency": health_north.pk,
        "role": "psychologist",
        "reason": "Assessment",
    }
    client.post(f"/casework/cases/{case.pk}/member/", data)
    assert not case.team.filter(user=psychologist).exists()
    client.post(
        f"/casework/cases/{case.pk}/member/",
        {**data, "legal_basis": "public_task", "basis_explanation": "Child-protection duty"},
    )
    assert case.team.filter(user=psychologist).exists()
    assert Sharing.objects.get().explanation == "Child-protection duty"


def test_api_lists_creates_withdraws_and_refuses(
    client, case, triage_worker, teacher, outsider, health_north
):
    base = f"/api/v1/cases/{case.pk}"
    client.force_login(triage_worker)
    created = client.post(
        f"{base}/consents/",
        {
            "purpose": "share_agency",
            "agency": health_north.pk,
            "given_by": "The mother",
            "given_on": TODAY().isoformat(),
            "how_obtained": "signed",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["in_force"] is True
    bad = client.post(f"{base}/consents/", {"purpose": "mailing"}, content_type="application/json")
    assert bad.status_code == 400 and "given_by" in bad.json()
    listed = client.get(f"{base}/consents/")
    assert [c["id"] for c in listed.json()] == [pk]
    withdraw = f"{base}/consents/{pk}/withdraw/"
    body = {"withdrawn_on": TODAY().isoformat(), "withdrawn_how": "phone"}
    assert client.post(withdraw, body, content_type="application/json").status_code == 200
    assert client.post(withdraw, body, content_type="application/json").status_code == 409
    # The referrer and a worker of another district never see the case's family records.
    for person in (teacher, outsider):
        client.force_login(person)
        for path in ("consents/", "objections/", "family-information/"):
            answer = client.get(f"{base}/{path}")
            assert answer.status_code in (403, 404)
            assert b"The mother" not in answer.content


def test_api_objection_handling_409_once_decided(client, case, triage_worker):
    base = f"/api/v1/cases/{case.pk}"
    client.force_login(triage_worker)
    created = client.post(
        f"{base}/objections/",
        {"raised_on": TODAY().isoformat(), "raised_by": "Father", "about": "Too much shared"},
        content_type="application/json",
    )
    assert created.status_code == 201
    url = f"{base}/objections/{created.json()['id']}/handle/"
    body = {"outcome": "rejected", "reason": "Legal obligation to share with the court"}
    first = client.post(url, body, content_type="application/json")
    assert first.status_code == 200 and first.json()["outcome"] == "rejected"
    assert client.post(url, body, content_type="application/json").status_code == 409
