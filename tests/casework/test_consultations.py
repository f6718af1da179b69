"""Consultations: a school asks the district's social team about a situation before any
referral, naming no child; the team answers by the protocol's deadline; the asker turns it into
a referral that keeps the thread. Services, pages, API, the overdue sweep, and every refusal."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from casework import services
from casework.models import (
    Consultation,
    ConsultationMessage,
    Membership,
    Municipality,
    Notification,
    ProtocolVersion,
    Referral,
)
from casework.services import TransitionNotAllowed
from casework.services.reminders import consultations_remind_overdue
from tests.conftest import _member, protocol

pytestmark = pytest.mark.django_db

QUESTION = "A pupil of 7 often arrives hungry and tired; the mother seems overwhelmed. Refer?"
ASK = {"age_band": "6-10", "concern_categories": ["neglect"], "question": QUESTION}
CHILD = {"first_name": "Marta", "last_name": "Rossi", "date_of_birth": "2018-05-02"}
START = datetime.datetime(2030, 3, 4, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture
def colleague(school):
    """Another teacher of the same school: not the asker, not a referent."""
    return _member("collega", school, Membership.Role.TEACHER)


@pytest.fixture
def auditor(school):
    return _member("dpo", school, Membership.Role.AUDITOR)


@pytest.fixture
def asked(teacher):
    return services.consultation_ask(actor=teacher, **ASK)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- asking ---------------------------------------------------------------------------------


def test_a_teacher_asks_and_the_districts_team_owes_an_answer_by_the_protocols_deadline(
    teacher, school, north, triage_worker, supervisor, outsider
):
    # The district's protocol (its municipality's version in force) sets the deadline.
    north.municipality = Municipality.objects.create(code="bergamo", name="Bergamo")
    north.save()
    ProtocolVersion.objects.create(
        municipality=north.municipality,
        number=1,
        valid_from=datetime.date(2020, 1, 1),
        consultation_answer_days=3,
    )
    with time_machine.travel(START, tick=False):
        consultation = services.consultation_ask(actor=teacher, **ASK)
    assert consultation.status == Consultation.Status.AWAITING
    assert consultation.school == school and consultation.district == north
    assert consultation.answer_due_at == START + datetime.timedelta(days=3)
    row = consultation.history.get()
    assert row.history_user == teacher
    assert row.history_change_reason == "casework.consultation.asked"
    told = set(
        Notification.objects.filter(kind=Notification.Kind.CONSULTATION_ASKED).values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {triage_worker.username, supervisor.username}
    # The notification names the consultation by id, never its text.
    note = Notification.objects.filter(recipient=triage_worker).get()
    assert note.topic == "consultation" and note.subject_id == consultation.pk


def test_a_district_of_no_municipality_answers_by_the_default_deadline(teacher):
    with time_machine.travel(START, tick=False):
        consultation = services.consultation_ask(actor=teacher, **ASK)
    assert consultation.answer_due_at == START + datetime.timedelta(days=5)


@pytest.mark.parametrize("who", ["triage_worker", "psychologist", "stranger", "auditor"])
def test_only_those_who_may_refer_ask(request, who):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.consultation_ask(actor=user, **ASK)
    assert not Consultation.objects.exists()


def test_bad_input_is_refused_field_by_field_and_nothing_is_written(teacher):
    with pytest.raises(ValidationError) as error:
        services.consultation_ask(actor=teacher, **{**ASK, "concern_categories": ["ghosts"]})
    assert "concern_categories" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.consultation_ask(actor=teacher, **{**ASK, "question": "  "})
    assert "question" in error.value.message_dict
    assert not Consultation.objects.exists()


# --- the thread -----------------------------------------------------------------------------


def test_the_team_answers_then_the_asker_asks_again_with_a_new_deadline(
    asked, teacher, triage_worker
):
    with time_machine.travel(START, tick=False):
        services.consultation_write(actor=triage_worker, consultation=asked, body="Call us.")
    asked.refresh_from_db()
    assert asked.status == Consultation.Status.ANSWERED
    assert asked.answered_by == triage_worker and asked.answered_at == START
    message = asked.messages.get()
    assert message.side == ConsultationMessage.Side.TEAM
    assert message.history.get().history_change_reason == ("casework.consultation_message.written")
    assert asked.history.first().history_change_reason == "casework.consultation.answered"
    assert Notification.objects.filter(
        recipient=teacher, kind=Notification.Kind.CONSULTATION_ANSWERED
    ).exists()

    later = START + datetime.timedelta(days=2)
    with time_machine.travel(later, tick=False):
        services.consultation_write(actor=teacher, consultation=asked, body="And if he cries?")
    asked.refresh_from_db()
    assert asked.status == Consultation.Status.AWAITING
    assert asked.answer_due_at == later + datetime.timedelta(days=5)
    assert asked.history.first().history_change_reason == "casework.consultation.followed_up"


def test_the_schools_referent_takes_part_on_the_schools_side(asked, school_referent):
    message = services.consultation_write(
        actor=school_referent, consultation=asked, body="I know the family."
    )
    assert message.side == ConsultationMessage.Side.ASKER


@pytest.mark.parametrize("who", ["colleague", "other_teacher", "outsider", "auditor", "stranger"])
def test_nobody_else_writes_in_the_thread(request, asked, who):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.consultation_write(actor=user, consultation=asked, body="Hello")
    assert not asked.messages.exists()


def test_an_empty_message_is_refused(asked, triage_worker):
    with pytest.raises(ValidationError):
        services.consultation_write(actor=triage_worker, consultation=asked, body=" ")
    asked.refresh_from_db()
    assert asked.status == Consultation.Status.AWAITING


# --- turning it into a referral -------------------------------------------------------------


def test_the_asker_turns_it_into_a_draft_referral_that_keeps_the_thread(
    asked, teacher, school, triage_worker
):
    services.consultation_write(actor=triage_worker, consultation=asked, body="Please refer.")
    referral = services.consultation_refer(actor=teacher, consultation=asked, child=CHILD)
    asked.refresh_from_db()
    assert asked.status == Consultation.Status.REFERRED and asked.referral == referral
    assert referral.status == Referral.Status.DRAFT and referral.referrer == teacher
    assert referral.school == school
    assert referral.concern_categories == ["neglect"]
    assert referral.observations == QUESTION
    assert referral.child.first_name == "Marta"
    assert asked.history.first().history_change_reason == "casework.consultation.referred"
    # The thread is closed once it became a referral; a second conversion is refused.
    with pytest.raises(TransitionNotAllowed):
        services.consultation_write(actor=triage_worker, consultation=asked, body="More?")
    with pytest.raises(TransitionNotAllowed):
        services.consultation_refer(actor=teacher, consultation=asked, child=CHILD)


@pytest.mark.parametrize("who", ["school_referent", "colleague", "triage_worker", "outsider"])
def test_only_the_asker_turns_it_into_a_referral(request, asked, who):
    with pytest.raises(PermissionDenied):
        services.consultation_refer(
            actor=request.getfixturevalue(who), consultation=asked, child=CHILD
        )
    asked.refresh_from_db()
    assert asked.referral is None
    assert not Referral.objects.exists()


def test_a_bad_child_leaves_the_consultation_as_it_was(asked, teacher):
    with pytest.raises(ValidationError):
        services.consultation_refer(
            actor=teacher, consultation=asked, child={**CHILD, "date_of_birth": "2099-01-01"}
        )
    asked.refresh_from_db()
    assert asked.status == Consultation.Status.AWAITING and asked.referral is None
    assert not Referral.objects.exists()


# --- the overdue sweep ----------------------------------------------------------------------


def test_overdue_consultations_remind_the_team_once_per_deadline(
    teacher, triage_worker, supervisor, outsider
):
    with time_machine.travel(START, tick=False):
        late = services.consultation_ask(actor=teacher, **ASK)
        answered = services.consultation_ask(actor=teacher, **ASK)
        services.consultation_write(actor=triage_worker, consultation=answered, body="Done")
    with time_machine.travel(START + datetime.timedelta(days=4), tick=False):
        assert consultations_remind_overdue() == 0  # not due yet
    with time_machine.travel(START + datetime.timedelta(days=6), tick=False):
        assert consultations_remind_overdue() == 2  # the triage worker and the supervisor
        assert consultations_remind_overdue() == 0  # once
    reminded = Notification.objects.filter(topic="consultation-overdue")
    assert set(reminded.values_list("subject_id", flat=True)) == {late.pk}
    assert set(reminded.values_list("recipient__username", flat=True)) == {
        triage_worker.username,
        supervisor.username,
    }


# --- pages ----------------------------------------------------------------------------------


def test_the_teacher_asks_on_the_page_and_reads_the_answer(client, teacher, triage_worker):
    client.force_login(teacher)
    assert client.get("/casework/consultations/new/").status_code == 200
    response = client.post(
        "/casework/consultations/new/",
        {"age_band": "6-10", "concern_categories": ["neglect"], "question": QUESTION},
    )
    consultation = Consultation.objects.get()
    assert response.status_code == 302 and response.url == consultation.get_absolute_url()
    services.consultation_write(actor=triage_worker, consultation=consultation, body="Call us.")
    page = client.get(consultation.get_absolute_url()).content.decode()
    assert "Call us." in page and QUESTION in page
    assert f"/casework/consultations/{consultation.pk}/refer/" in page


def test_a_form_with_errors_says_which_field_and_writes_nothing(client, teacher):
    client.force_login(teacher)
    response = client.post("/casework/consultations/new/", {"age_band": "6-10"})
    assert response.status_code == 200
    assert b'id="error-summary"' in response.content
    assert not Consultation.objects.exists()


def test_the_team_lists_consultations_by_deadline_and_the_overdue_ones(
    client, teacher, triage_worker
):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=10), tick=False):
        first = services.consultation_ask(actor=teacher, **ASK)
    second = services.consultation_ask(actor=teacher, **ASK)
    client.force_login(triage_worker)
    page = client.get("/casework/consultations/?sort=due").content.decode()
    assert page.index(f"/consultations/{first.pk}/") < page.index(f"/consultations/{second.pk}/")
    overdue = client.get("/casework/consultations/?overdue=1").content.decode()
    assert f"/consultations/{first.pk}/" in overdue
    assert f"/consultations/{second.pk}/" not in overdue


@pytest.mark.parametrize("who", ["colleague", "other_teacher", "outsider", "auditor"])
def test_the_consultation_does_not_exist_for_anyone_else(client, request, asked, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(asked.get_absolute_url()).status_code == 404
    assert (
        client.post(f"/casework/consultations/{asked.pk}/message/", {"body": "x"}).status_code
        == 404
    )
    assert client.get(f"/casework/consultations/{asked.pk}/refer/").status_code == 404
    listed = client.get("/casework/consultations/")
    assert listed.status_code in (200, 403)
    assert f"/consultations/{asked.pk}/" not in listed.content.decode()
    assert not asked.messages.exists()


def test_the_referent_reads_it_but_does_not_refer(client, asked, school_referent):
    client.force_login(school_referent)
    page = client.get(asked.get_absolute_url())
    assert page.status_code == 200 and b"consultation-refer" not in page.content
    assert client.get(f"/casework/consultations/{asked.pk}/refer/").status_code == 403


def test_one_click_from_the_thread_to_the_draft_and_the_thread_follows_the_referral(
    client, asked, teacher, triage_worker
):
    services.consultation_write(actor=triage_worker, consultation=asked, body="Please refer.")
    client.force_login(teacher)
    response = client.post(
        f"/casework/consultations/{asked.pk}/refer/",
        {
            "child-first_name": "Marta",
            "child-last_name": "Rossi",
            "child-date_of_birth": "2018-05-02",
        },
    )
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response.url == f"/casework/referrals/{referral.pk}/edit/"
    # Sent the same form again (Back, Send): the same draft, not a second one.
    client.post(
        f"/casework/consultations/{asked.pk}/refer/",
        {
            "child-first_name": "Marta",
            "child-last_name": "Rossi",
            "child-date_of_birth": "2018-05-02",
        },
    )
    assert Referral.objects.count() == 1
    # The asker completes what the consultation did not say, and sends it.
    services.referral_update_draft(actor=teacher, referral=referral, family_informed=True)
    protocol("referral.submit")(actor=teacher, referral=referral)
    for user in (teacher, triage_worker):
        client.force_login(user)
        page = client.get(f"/casework/referrals/{referral.pk}/").content.decode()
        assert "Please refer." in page, user


# --- API ------------------------------------------------------------------------------------


def test_api_ask_answer_and_refer(teacher, triage_worker):
    created = api(teacher).post("/api/v1/consultations/", ASK, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["status"] == "awaiting"
    answered = api(triage_worker).post(
        f"/api/v1/consultations/{pk}/messages/", {"body": "Call us."}, format="json"
    )
    assert answered.status_code == 201 and answered.json()["status"] == "answered"
    assert answered.json()["messages"][0]["side"] == "team"
    listed = api(triage_worker).get("/api/v1/consultations/?sort=due").json()
    assert [c["id"] for c in listed["results"]] == [pk]
    referred = api(teacher).post(
        f"/api/v1/consultations/{pk}/refer/", {"child": CHILD}, format="json"
    )
    assert referred.status_code == 201 and referred.json()["referral"]
    again = api(triage_worker).post(
        f"/api/v1/consultations/{pk}/messages/", {"body": "More"}, format="json"
    )
    assert again.status_code == 409


def test_api_refusals(asked, triage_worker, outsider, other_teacher, school_referent, auditor):
    assert api(triage_worker).post("/api/v1/consultations/", ASK, format="json").status_code == 403
    bad = api(asked.asker).post("/api/v1/consultations/", {"age_band": "99"}, format="json")
    assert bad.status_code == 400
    assert {"age_band", "concern_categories", "question"} <= set(bad.json())
    for user in (outsider, other_teacher, auditor):
        assert api(user).get(f"/api/v1/consultations/{asked.pk}/").status_code == 404
        assert api(user).get("/api/v1/consultations/").json()["results"] == []
        assert (
            api(user)
            .post(f"/api/v1/consultations/{asked.pk}/messages/", {"body": "x"}, format="json")
            .status_code
            == 404
        )
    refused = api(school_referent).post(
        f"/api/v1/consultations/{asked.pk}/refer/", {"child": CHILD}, format="json"
    )
    assert refused.status_code == 403
    assert not Referral.objects.exists() and not asked.messages.exists()
