"""The district's network tables: coordination meetings of its agencies (date, agencies
present, agenda, minutes, agreed actions with owners and due dates), kept by the district's
network coordinators and supervisors, holding no child's data, counted in the yearly report."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from casework import selectors, services
from casework.models import MeetingAction, Membership, NetworkMeeting
from tests.conftest import _member

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def coordinator(health_north):
    return _member("rete_north", health_north, Membership.Role.NETWORK_COORDINATOR)


@pytest.fixture
def meeting(coordinator, north, school, social_north):
    return services.meeting_save(
        actor=coordinator,
        meeting=NetworkMeeting(
            district=north, held_on=TODAY, title="0–6 network table", agenda="Nursery to school"
        ),
        agencies=[school, social_north],
    )


def test_a_coordinator_records_a_meeting_and_its_agreed_actions(
    meeting, coordinator, school, social_north
):
    assert set(meeting.agencies.all()) == {school, social_north}
    assert meeting.recorded_by == coordinator
    assert meeting.history.earliest().history_change_reason == "casework.network_meeting.recorded"
    action = services.meeting_action_add(
        actor=coordinator,
        meeting=meeting,
        description="Map the nurseries' referents",
        owner_agency=school,
        owner_name="Ms Verdi",
        due_on=TODAY + datetime.timedelta(days=30),
    )
    assert action.history.get().history_change_reason == "casework.meeting_action.agreed"
    services.meeting_action_update(actor=coordinator, action=action, status="done")
    action.refresh_from_db()
    assert action.status == MeetingAction.Status.DONE
    assert action.history.latest().history_user == coordinator


def test_the_supervisor_keeps_the_districts_tables_too(supervisor, north):
    meeting = services.meeting_save(
        actor=supervisor, meeting=NetworkMeeting(district=north, held_on=TODAY, title="T")
    )
    assert meeting.pk


@pytest.mark.parametrize(
    "who", ["teacher", "school_referent", "triage_worker", "outsider", "psychologist", "stranger"]
)
def test_nobody_else_records_a_meeting(request, north, meeting, school, who):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.meeting_save(
            actor=user, meeting=NetworkMeeting(district=north, held_on=TODAY, title="T")
        )
    with pytest.raises(PermissionDenied):
        services.meeting_action_add(
            actor=user, meeting=meeting, description="x", owner_agency=school
        )
    assert NetworkMeeting.objects.count() == 1


def test_only_the_districts_own_agencies_attend_and_own_actions(
    coordinator, north, meeting, social_south
):
    with pytest.raises(ValidationError):
        services.meeting_save(
            actor=coordinator,
            meeting=NetworkMeeting(district=north, held_on=TODAY, title="T"),
            agencies=[social_south],
        )
    with pytest.raises(ValidationError):
        services.meeting_action_add(
            actor=coordinator, meeting=meeting, description="x", owner_agency=social_south
        )
    assert not MeetingAction.objects.exists()


def test_pages_for_the_keeper_and_refusals_for_the_others(
    client, coordinator, meeting, north, school, teacher, triage_worker, outsider
):
    client.force_login(coordinator)
    assert "0–6 network table" in client.get("/casework/meetings/").content.decode()
    response = client.post(
        "/casework/meetings/new/",
        {"district": north.pk, "held_on": TODAY.isoformat(), "title": "Second table"},
    )
    assert response.status_code == 302
    second = NetworkMeeting.objects.get(title="Second table")
    response = client.post(
        f"/casework/meetings/{second.pk}/actions/",
        {"description": "Invite the library", "owner_agency": school.pk},
    )
    assert response.status_code == 302 and second.actions.count() == 1
    bad = client.post("/casework/meetings/new/", {"district": north.pk, "title": ""})
    assert bad.status_code == 200 and NetworkMeeting.objects.count() == 2
    for user in (teacher, triage_worker, outsider):
        client.force_login(user)
        assert client.get("/casework/meetings/").status_code == 403
        assert client.get(f"/casework/meetings/{meeting.pk}/").status_code == 403
        assert (
            client.post(
                f"/casework/meetings/{meeting.pk}/actions/",
                {"description": "x", "owner_agency": school.pk},
            ).status_code
            == 403
        )
    assert MeetingAction.objects.count() == 1


def test_api_and_the_yearly_report(coordinator, meeting, school, teacher, supervisor, north):
    created = api(coordinator).post(
        f"/api/v1/meetings/{meeting.pk}/actions/",
        {"description": "Shared calendar", "owner_agency": school.pk},
        format="json",
    )
    assert (
        created.status_code == 201 and created.json()["actions"][0]["owner_agency"] == school.name
    )
    bad = api(coordinator).post(
        "/api/v1/meetings/", {"district": "nowhere", "held_on": "x"}, format="json"
    )
    assert bad.status_code == 400 and {"held_on", "title"} <= set(bad.json())
    assert api(teacher).get("/api/v1/meetings/").status_code == 403
    report = selectors.yearly_indicators(TODAY.year, [north])
    assert report["network"] == {"meetings": 1, "actions_agreed": 1, "actions_done": 0}
    assert "consultations" in report and "pattern_alerts" in report


def test_api_corrects_a_meeting_and_an_actions_status(
    coordinator, meeting, school, health_north, social_south, teacher
):
    url = f"/api/v1/meetings/{meeting.pk}/"
    response = api(coordinator).patch(
        url, {"minutes": "  Agreed a shared calendar.\n", "agencies": [health_north.pk]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json()["minutes"] == "  Agreed a shared calendar.\n"  # kept as sent
    assert response.json()["agencies"] == [health_north.name]
    meeting.refresh_from_db()
    assert meeting.title == "0–6 network table"  # what was not sent is kept
    assert meeting.history.latest().history_change_reason == "casework.network_meeting.updated"
    # Refused: a field the endpoint does not take, an agency of another district, a teacher
    # (not a keeper: 403), a keeper of another district (the meeting is not theirs: 404).
    response = api(coordinator).patch(url, {"recorded_by": teacher.pk}, format="json")
    assert response.status_code == 400 and "recorded_by" in response.json()
    for agencies in ([999999], [social_south.pk]):
        response = api(coordinator).patch(url, {"agencies": agencies}, format="json")
        assert response.status_code == 400 and "agencies" in response.json()
    assert api(teacher).patch(url, {"title": "x"}, format="json").status_code == 403
    south_keeper = _member("rete_south", social_south, Membership.Role.NETWORK_COORDINATOR)
    response = api(south_keeper).patch(url, {"title": "x"}, format="json")
    assert response.status_code == 404 and response.json()["detail"]
    meeting.refresh_from_db()
    assert meeting.title == "0–6 network table"

    action = services.meeting_action_add(
        actor=coordinator, meeting=meeting, description="Map the referents", owner_agency=school
    )
    action_url = f"/api/v1/meetings/{meeting.pk}/actions/{action.pk}/"
    response = api(coordinator).patch(action_url, {"status": "done"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "done"
    action.refresh_from_db()
    assert action.status == MeetingAction.Status.DONE
    assert action.history.latest().history_change_reason == "casework.meeting_action.updated"
    response = api(coordinator).patch(action_url, {"status": "bogus"}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    missing = f"/api/v1/meetings/{meeting.pk}/actions/999999/"
    assert api(coordinator).patch(missing, {"status": "done"}, format="json").status_code == 404
    assert api(teacher).patch(action_url, {"status": "open"}, format="json").status_code == 403
    assert api(south_keeper).patch(action_url, {"status": "open"}, format="json").status_code == 404
    action.refresh_from_db()
    assert action.status == MeetingAction.Status.DONE
