"""Pattern alerts: several referrals (or helpline contacts of one family) about the same child
within the protocol's window, none alarming on its own, raise one alert for the district's
triage team — found in SQL by the sweep, once per cluster and window, handled with history,
and never shown to a referrer."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from casework import services
from casework.models import Contact, Membership, Municipality, PatternAlert, ProtocolVersion
from casework.services import TransitionNotAllowed
from casework.services.prevention import pattern_alerts_raise
from tests.conftest import _member, protocol

pytestmark = pytest.mark.django_db

FORM = {
    "concern_categories": ["absenteeism"],
    "observations": "Absent on Mondays.",
    "family_informed": True,
    "urgency": "routine",
}
SUBMIT = protocol("referral.submit")
CLAIM = protocol("referral.claim")
NO_ACTION = protocol("referral.decide", decision="no_further_action")
OPEN_CASE = protocol("referral.decide", decision="open_case")


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def refer(author, north, *, first="Luca", last="Bruno", born="2016-03-02"):
    """A referral as its author types the child: a new record every time."""
    school = author.memberships.get().agency
    child = services.child_create(
        actor=author,
        first_name=first,
        last_name=last,
        date_of_birth=born,
        district=north,
        school=school,
    )
    referral = services.referral_create_draft(actor=author, child=child, **FORM)
    return SUBMIT(actor=author, referral=referral)


@pytest.fixture
def nursery_teacher(north):
    from tests.factories import AgencyFactory

    nursery = AgencyFactory(name="Nursery Munari", kind="school", district=north)
    return _member("educatrice", nursery, Membership.Role.TEACHER)


@pytest.fixture
def three_worries(north, teacher, other_teacher, nursery_teacher, triage_worker):
    """Three schools each refer the same child once; triage closed one with no action."""
    first = refer(teacher, north)
    CLAIM(actor=triage_worker, referral=first)
    NO_ACTION(actor=triage_worker, referral=first, reason="The school copes")
    # Typed differently (case, spaces) by another school: the same child all the same.
    second = refer(other_teacher, north, first="LUCA ", last="bruno")
    third = refer(nursery_teacher, north)
    return [first, second, third]


def test_three_low_worries_about_one_child_raise_one_alert_for_the_district(
    three_worries, north, triage_worker
):
    assert pattern_alerts_raise() == 1
    alert = PatternAlert.objects.get()
    assert alert.district == north and alert.status == PatternAlert.Status.OPEN
    assert set(alert.referrals.all()) == set(three_worries)
    assert alert.item_count == 3 and alert.cluster.startswith("child:")
    assert "Luca" not in alert.cluster and "Bruno" not in alert.cluster
    row = alert.history.earliest()
    assert row.history_change_reason == "casework.pattern_alert.raised"
    # Idempotent: the sweep run again (or a second sweeper) raises nothing more.
    assert pattern_alerts_raise() == 0
    assert PatternAlert.objects.count() == 1


def _protocol(district, **fields) -> ProtocolVersion:
    """The district's municipality, with a version in force since 2020."""
    district.municipality = Municipality.objects.create(code=f"m-{district.code}", name="Town")
    district.save()
    return ProtocolVersion.objects.create(
        municipality=district.municipality,
        number=1,
        valid_from=datetime.date(2020, 1, 1),
        **fields,
    )


def test_below_the_threshold_or_outside_the_window_nothing_is_raised(
    three_worries, north, triage_worker
):
    version = _protocol(north, pattern_threshold=4)
    assert pattern_alerts_raise() == 0
    ProtocolVersion.objects.filter(pk=version.pk).update(
        pattern_threshold=3, pattern_window_days=30
    )
    later = timezone.now() + datetime.timedelta(days=31)
    assert pattern_alerts_raise(now=later) == 0
    assert pattern_alerts_raise() == 1


def _contacts(district, operator, reference):
    for channel in ("phone", "email", "in_person"):
        contact = Contact(
            operator=operator,
            channel=channel,
            district=district,
            category="parenting",
            question="Worried about the children at home.",
            family_reference=reference,
        )
        services.audited_save(contact, actor=operator, reason="test.contact.added")


def test_each_district_follows_its_own_protocols_threshold(
    three_worries, north, south, triage_worker
):
    """North's municipality asks for four items; South (no municipality) has the default
    three: one sweep raises South's alert and not North's."""
    _protocol(north, pattern_threshold=4)
    _contacts(north, triage_worker, "FAM-1")
    _contacts(south, triage_worker, "FAM-2")
    assert pattern_alerts_raise() == 1
    alert = PatternAlert.objects.get()
    assert alert.district == south and alert.kind == "family"


def test_a_referral_that_already_led_to_a_case_is_not_a_low_worry(
    north, teacher, other_teacher, triage_worker
):
    first = refer(teacher, north)
    CLAIM(actor=triage_worker, referral=first)
    OPEN_CASE(actor=triage_worker, referral=first, risk_level="medium")
    refer(other_teacher, north)
    refer(teacher, north)
    assert pattern_alerts_raise() == 0


def test_different_children_do_not_make_a_pattern(north, teacher, other_teacher):
    refer(teacher, north)
    refer(other_teacher, north, born="2016-03-03")
    refer(teacher, north, first="Luigi")
    assert pattern_alerts_raise() == 0


def test_helpline_contacts_about_one_family_raise_an_alert(north, triage_worker):
    for channel in ("phone", "email", "in_person"):
        contact = Contact(
            operator=triage_worker,
            channel=channel,
            district=north,
            category="parenting",
            question="Worried about the children at home.",
            family_reference="FAM-17",
        )
        services.audited_save(contact, actor=triage_worker, reason="test.contact.added")
    assert pattern_alerts_raise() == 1
    alert = PatternAlert.objects.get()
    assert alert.kind == "family" and alert.contacts.count() == 3


# --- handling -------------------------------------------------------------------------------


def test_the_team_acknowledges_with_a_note_and_the_history_keeps_it(three_worries, triage_worker):
    pattern_alerts_raise()
    alert = PatternAlert.objects.get()
    with pytest.raises(ValidationError):
        services.pattern_alert_acknowledge(actor=triage_worker, alert=alert, note=" ")
    services.pattern_alert_acknowledge(
        actor=triage_worker, alert=alert, note="Home visit this week."
    )
    alert.refresh_from_db()
    assert alert.status == PatternAlert.Status.ACKNOWLEDGED
    assert alert.handled_by == triage_worker and alert.note == "Home visit this week."
    row = alert.history.latest()
    assert row.history_user == triage_worker
    assert row.history_change_reason == "casework.pattern_alert.acknowledged"
    with pytest.raises(TransitionNotAllowed):
        services.pattern_alert_dismiss(actor=triage_worker, alert=alert, reason="No")


def test_dismissing_needs_a_reason(three_worries, supervisor):
    pattern_alerts_raise()
    alert = PatternAlert.objects.get()
    with pytest.raises(ValidationError):
        services.pattern_alert_dismiss(actor=supervisor, alert=alert, reason="")
    services.pattern_alert_dismiss(actor=supervisor, alert=alert, reason="Two children")
    alert.refresh_from_db()
    assert alert.status == PatternAlert.Status.DISMISSED
    assert alert.history.latest().history_change_reason == "casework.pattern_alert.dismissed"


@pytest.mark.parametrize("who", ["outsider", "teacher", "school_referent", "psychologist"])
def test_only_the_districts_triage_team_handles_an_alert(request, three_worries, who):
    pattern_alerts_raise()
    alert = PatternAlert.objects.get()
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.pattern_alert_acknowledge(actor=user, alert=alert, note="Seen")
    with pytest.raises(PermissionDenied):
        services.pattern_alert_dismiss(actor=user, alert=alert, reason="No")
    alert.refresh_from_db()
    assert alert.status == PatternAlert.Status.OPEN


# --- where it is shown, and where never -----------------------------------------------------


def test_the_alert_sits_at_the_top_of_the_queue_with_its_items_side_by_side(
    client, three_worries, triage_worker
):
    pattern_alerts_raise()
    alert = PatternAlert.objects.get()
    client.force_login(triage_worker)
    page = client.get("/casework/queue/").content.decode()
    assert 'id="pattern-alerts"' in page
    assert page.index('id="pattern-alerts"') < page.index('id="queue-table"')
    for referral in three_worries:
        assert f"/casework/referrals/{referral.pk}/" in page
    response = client.post(
        f"/casework/alerts/{alert.pk}/handle/",
        {"action": "acknowledge", "note": "Home visit this week."},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == PatternAlert.Status.ACKNOWLEDGED
    assert 'id="pattern-alerts"' not in client.get("/casework/queue/").content.decode()


def test_no_referrer_ever_sees_an_alert(
    client, three_worries, teacher, other_teacher, school_referent
):
    pattern_alerts_raise()
    alert = PatternAlert.objects.get()
    for user in (teacher, other_teacher, school_referent):
        client.force_login(user)
        for url in ["/casework/", "/casework/consultations/", "/casework/notifications/"] + [
            f"/casework/referrals/{r.pk}/" for r in three_worries
        ]:
            response = client.get(url)
            text = response.content.decode()
            assert "pattern-alerts" not in text and "Pattern alert" not in text, (user, url)
        assert client.get("/casework/queue/").status_code == 403
        assert (
            client.post(
                f"/casework/alerts/{alert.pk}/handle/", {"action": "dismiss", "note": "x"}
            ).status_code
            == 404
        )
        assert api(user).get("/api/v1/alerts/").status_code == 403
        assert api(user).get(f"/api/v1/alerts/{alert.pk}/").status_code == 403
        for referral in three_worries:
            body = api(user).get(f"/api/v1/referrals/{referral.pk}/")
            assert "alert" not in body.content.decode().lower()
    alert.refresh_from_db()
    assert alert.status == PatternAlert.Status.OPEN


def test_api_lists_and_handles_the_districts_alerts(three_worries, triage_worker, outsider):
    pattern_alerts_raise()
    alert = PatternAlert.objects.get()
    listed = api(triage_worker).get("/api/v1/alerts/").json()
    assert [a["id"] for a in listed["results"]] == [alert.pk]
    assert {r["id"] for r in listed["results"][0]["referrals"]} == {r.pk for r in three_worries}
    assert "child" not in listed["results"][0]["referrals"][0]
    assert api(outsider).get("/api/v1/alerts/").json()["results"] == []
    assert (
        api(outsider)
        .post(f"/api/v1/alerts/{alert.pk}/dismiss/", {"note": "x"}, format="json")
        .status_code
        == 404
    )
    assert (
        api(triage_worker)
        .post(f"/api/v1/alerts/{alert.pk}/acknowledge/", {}, format="json")
        .status_code
        == 400
    )
    done = api(triage_worker).post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/", {"note": "Visit"}, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    again = api(triage_worker).post(
        f"/api/v1/alerts/{alert.pk}/dismiss/", {"note": "No"}, format="json"
    )
    assert again.status_code == 409
