"""Legal holds: a supervisor (their district's records) or the data protection officer (any
record) places and lifts them with a reason, leaving history rows; everyone else is refused,
on the pages and in the API, and nothing is written."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from casework import services
from casework.models import LegalHold, Membership
from casework.services import TransitionNotAllowed
from tests.conftest import _member, protocol

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


@pytest.fixture
def auditor(school):
    return _member("dpo", school, Membership.Role.AUDITOR)


@pytest.fixture
def south_supervisor(social_south):
    return _member("coord_south", social_south, Membership.Role.SUPERVISOR)


@pytest.fixture
def referral(teacher, child):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    return protocol("referral.submit")(referral=draft, actor=teacher)


def test_a_supervisor_places_and_lifts_a_hold_with_history(supervisor, referral):
    hold = services.legal_hold_place(
        actor=supervisor, kind="referral", object_id=referral.pk, reason="Court 12/2026"
    )
    assert hold.in_place and hold.district == referral.district
    row = hold.history.get()
    assert (row.history_user, row.history_change_reason) == (
        supervisor,
        "casework.legal_hold.placed",
    )
    services.legal_hold_lift(actor=supervisor, hold=hold, reason="Judgment final")
    hold.refresh_from_db()
    assert not hold.in_place and hold.lift_reason == "Judgment final"
    last = hold.history.order_by("-history_id").first()
    assert last.history_change_reason == "casework.legal_hold.lifted"
    with pytest.raises(TransitionNotAllowed):
        services.legal_hold_lift(actor=supervisor, hold=hold, reason="again")


def test_the_data_protection_officer_holds_any_record(auditor, child):
    hold = services.legal_hold_place(
        actor=auditor, kind="child", object_id=child.pk, reason="Subject access request"
    )
    assert hold.placed_by == auditor


@pytest.mark.parametrize("who", ["triage_worker", "teacher", "south_supervisor", "stranger"])
def test_others_cannot_place_a_hold_and_nothing_is_written(request, who, referral):
    user = request.getfixturevalue(who)
    with pytest.raises((PermissionDenied, ValidationError)):
        services.legal_hold_place(
            actor=user, kind="referral", object_id=referral.pk, reason="Because"
        )
    assert not LegalHold.objects.exists() and not LegalHold.history.exists()


def test_a_supervisor_of_another_district_cannot_lift(supervisor, south_supervisor, referral):
    hold = services.legal_hold_place(
        actor=supervisor, kind="referral", object_id=referral.pk, reason="Court"
    )
    with pytest.raises(PermissionDenied):
        services.legal_hold_lift(actor=south_supervisor, hold=hold, reason="No")
    hold.refresh_from_db()
    assert hold.in_place and hold.history.count() == 1


def test_bad_input_gets_field_errors_and_a_second_hold_a_conflict(supervisor, referral):
    with pytest.raises(ValidationError) as error:
        services.legal_hold_place(actor=supervisor, kind="referral", object_id=999999, reason="")
    assert set(error.value.message_dict) == {"object_id", "reason"}
    services.legal_hold_place(actor=supervisor, kind="referral", object_id=referral.pk, reason="A")
    with pytest.raises(TransitionNotAllowed):
        services.legal_hold_place(
            actor=supervisor, kind="referral", object_id=referral.pk, reason="B"
        )
    assert LegalHold.objects.count() == 1


# --- the pages ----------------------------------------------------------------------------------


def test_the_holds_page_places_lists_and_lifts(client, supervisor, referral):
    client.force_login(supervisor)
    assert client.get("/casework/holds/").status_code == 200
    answer = client.post(
        "/casework/holds/",
        {"kind": "referral", "object_id": referral.pk, "reason": "Complaint 4/2026"},
    )
    assert answer.status_code == 302
    hold = LegalHold.objects.get()
    page = client.get("/casework/holds/").content.decode()
    assert "Complaint 4/2026" in page
    answer = client.post(f"/casework/holds/{hold.pk}/lift/", {"reason": "Closed"})
    assert answer.status_code == 302
    hold.refresh_from_db()
    assert hold.lifted_by == supervisor


def test_the_holds_page_shows_field_errors(client, supervisor):
    client.force_login(supervisor)
    answer = client.post("/casework/holds/", {"kind": "referral", "object_id": 99999})
    assert answer.status_code == 400
    assert not LegalHold.objects.exists()


@pytest.mark.parametrize("who", ["triage_worker", "teacher", "stranger"])
def test_the_holds_pages_refuse_everyone_else(client, request, who, supervisor, referral):
    hold = services.legal_hold_place(
        actor=supervisor, kind="referral", object_id=referral.pk, reason="Court"
    )
    client.force_login(request.getfixturevalue(who))
    assert client.get("/casework/holds/").status_code == 403
    assert (
        client.post(
            "/casework/holds/", {"kind": "referral", "object_id": referral.pk, "reason": "x"}
        ).status_code
        == 403
    )
    assert client.post(f"/casework/holds/{hold.pk}/lift/", {"reason": "x"}).status_code == 403
    hold.refresh_from_db()
    assert hold.in_place and LegalHold.objects.count() == 1


def test_a_supervisor_reads_only_their_districts_holds(
    client, supervisor, south_supervisor, referral
):
    hold = services.legal_hold_place(
        actor=supervisor, kind="referral", object_id=referral.pk, reason="North court"
    )
    client.force_login(south_supervisor)
    assert "North court" not in client.get("/casework/holds/").content.decode()
    assert client.post(f"/casework/holds/{hold.pk}/lift/", {"reason": "x"}).status_code == 404


# --- the API ------------------------------------------------------------------------------------


def test_the_api_places_lists_and_lifts(client, auditor, referral):
    client.force_login(auditor)
    answer = client.post(
        "/api/v1/holds/",
        {"kind": "referral", "object_id": referral.pk, "reason": "Authority request"},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    pk = answer.json()["id"]
    listed = client.get("/api/v1/holds/").json()
    assert [h["id"] for h in listed["results"]] == [pk]
    assert listed["results"][0]["in_place"] is True
    answer = client.post(
        f"/api/v1/holds/{pk}/lift/", {"reason": "Answered"}, content_type="application/json"
    )
    assert answer.status_code == 200 and answer.json()["in_place"] is False
    again = client.post(
        f"/api/v1/holds/{pk}/lift/", {"reason": "Again"}, content_type="application/json"
    )
    assert again.status_code == 409


def test_the_api_answers_bad_input_with_field_errors(client, auditor):
    client.force_login(auditor)
    answer = client.post(
        "/api/v1/holds/", {"kind": "bogus", "object_id": 0}, content_type="application/json"
    )
    assert answer.status_code == 400
    assert {"kind", "object_id", "reason"} <= set(answer.json())
    answer = client.post(
        "/api/v1/holds/",
        {"kind": "case", "object_id": 424242, "reason": "x"},
        content_type="application/json",
    )
    assert answer.status_code == 400 and "object_id" in answer.json()
    assert not LegalHold.objects.exists()


@pytest.mark.parametrize("who", ["triage_worker", "teacher", "stranger"])
def test_the_api_refuses_everyone_else(client, request, who, supervisor, referral):
    hold = services.legal_hold_place(
        actor=supervisor, kind="referral", object_id=referral.pk, reason="Court"
    )
    client.force_login(request.getfixturevalue(who))
    assert client.get("/api/v1/holds/").status_code == 403
    answer = client.post(
        "/api/v1/holds/",
        {"kind": "referral", "object_id": referral.pk, "reason": "x"},
        content_type="application/json",
    )
    assert answer.status_code == 403
    answer = client.post(
        f"/api/v1/holds/{hold.pk}/lift/", {"reason": "x"}, content_type="application/json"
    )
    assert answer.status_code == 403
    hold.refresh_from_db()
    assert hold.in_place and LegalHold.objects.count() == 1
