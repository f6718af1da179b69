"""The directory the network keeps (its coordinators, its public page, HSDS in and out), who
to call (each agency's referents), and the helpline desk (opening hours, the contact form,
the log supervisors read)."""

import datetime
import json
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from casework import hsds, selectors, services
from casework.models import Contact, HelplineHours, Referent, Service
from tests.factories import AgencyFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def seed_004_hours(db):
    """Seed 004's opening hours, as migration 0017 creates them (a test that flushes the
    database, elsewhere in the suite, takes them away)."""
    for weekday in (1, 3, 4):
        HelplineHours.objects.get_or_create(
            weekday=weekday, opens_at=datetime.time(10, 0), closes_at=datetime.time(13, 30)
        )


def _member(username, agency, role):
    user = UserFactory(username=username)
    services.membership_create(actor=None, user=user, agency=agency, role=role)
    return user


@pytest.fixture
def family_point(north):
    return AgencyFactory(name="Family point", kind="other", district=north)


@pytest.fixture
def coordinator(family_point):
    """Alice keeps the north's directory."""
    return _member("alice", family_point, "network_coordinator")


@pytest.fixture
def south_coordinator(south):
    point = AgencyFactory(name="Family point South", kind="other", district=south)
    return _member("charlie", point, "network_coordinator")


@pytest.fixture
def operator(family_point):
    return _member("operator", family_point, "helpline_operator")


def _local(*args):
    return datetime.datetime(*args, tzinfo=ZoneInfo(timezone.get_current_timezone_name()))


# --- the directory the network keeps ---------------------------------------------------------

INITIATIVE = {
    "name": "After-school San Rocco",
    "entry_type": "project",
    "kind": "educational",
    "neighbourhood": "San Rocco",
    "description": "Homework and games",
    "recurrence": "recurring",
    "starts_on": "2026-09-14",
    "ends_on": "2099-06-05",
    "hours": "Tue and Thu 15:00-17:30",
    "min_age": "6",
    "max_age": "11",
    "cost": "",
    "languages": "italiano, arabo",
    "how_to_access": "Sign up at the family point",
    "active": "on",
}


def test_coordinator_adds_an_initiative_with_history(client, coordinator, north):
    client.force_login(coordinator)
    response = client.post("/casework/services/new/", {**INITIATIVE, "district": north.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = Service.objects.get(name="After-school San Rocco")
    assert (entry.entry_type, entry.neighbourhood, entry.starts_on) == (
        "project",
        "San Rocco",
        datetime.date(2026, 9, 14),
    )
    row = entry.history.get()
    assert (row.history_user, row.history_change_reason) == (
        coordinator,
        "casework.service.created",
    )
    response = client.post(
        f"/casework/services/{entry.pk}/edit/",
        {**INITIATIVE, "district": north.pk, "active": ""},
    )
    assert response.status_code == 302
    latest = entry.history.order_by("-history_id").first()
    assert latest.history_change_reason == "casework.service.withdrawn"
    assert not selectors.services_directory(q="San Rocco").exists()


def test_a_coordinator_keeps_only_their_district(client, south_coordinator, north, teacher):
    entry = ServiceFactory(name="Nursery North", district=north)
    rows = entry.history.count()
    client.force_login(south_coordinator)
    assert client.get(f"/casework/services/{entry.pk}/edit/").status_code == 404
    response = client.post("/casework/services/new/", {**INITIATIVE, "district": north.pk})
    assert response.status_code == 200  # the north is not a district they may choose
    assert "district" in response.context["form"].errors
    entry.description = "Changed"
    with pytest.raises(PermissionDenied):
        services.directory_entry_save(actor=south_coordinator, service=entry)
    client.force_login(teacher)
    assert client.get("/casework/services/new/").status_code == 403
    assert not Service.objects.filter(name="After-school San Rocco").exists()
    assert entry.history.count() == rows


def test_bad_dates_are_refused_field_by_field(coordinator, north):
    one_off = Service(district=north, name="Party", kind="leisure", recurrence="one_off")
    with pytest.raises(ValidationError) as error:
        services.directory_entry_save(actor=coordinator, service=one_off)
    assert "starts_on" in error.value.message_dict
    backwards = Service(
        district=north,
        name="Camp",
        kind="leisure",
        starts_on=datetime.date(2027, 7, 1),
        ends_on=datetime.date(2027, 6, 1),
    )
    with pytest.raises(ValidationError) as error:
        services.directory_entry_save(actor=coordinator, service=backwards)
    assert "ends_on" in error.value.message_dict
    assert not Service.objects.exists()


def test_initiatives_that_are_over_leave_the_directory(north):
    today = datetime.date(2027, 1, 10)
    ServiceFactory(name="Past camp", district=north, ends_on=datetime.date(2026, 8, 1))
    ServiceFactory(
        name="Past party",
        district=north,
        recurrence="one_off",
        starts_on=datetime.date(2026, 12, 20),
    )
    ServiceFactory(name="Coming party", district=north, recurrence="one_off", starts_on=today)
    ServiceFactory(name="Nursery", district=north)
    names = [s.name for s in selectors.services_directory(today=today)]
    assert names == ["Coming party", "Nursery"]


# --- the public page ------------------------------------------------------------------------


def test_anyone_reads_the_public_directory_without_signing_in(client, north, social_north):
    ServiceFactory(name="Nursery", district=north, neighbourhood="Borgo")
    ServiceFactory(name="Closed desk", district=north, active=False)
    Referent.objects.create(
        agency=social_north, topic="on_duty", name="Rosa Private", phone="+39 555"
    )
    response = client.get("/directory/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nursery" in page and "Borgo" in page
    assert "Closed desk" not in page
    assert "Rosa Private" not in page  # named referents stay on the signed-in pages
    assert "10:00" in page and "13:30" in page  # the helpline's hours (seed 004)
    cache = response["Cache-Control"]
    assert "public" in cache and "max-age=300" in cache
    assert "Cookie" in response["Vary"]
    assert not response.cookies  # no session, no CSRF token: nothing personal to keep
    assert "script-src" in response["Content-Security-Policy"]
    assert client.post("/directory/").status_code == 405


def test_a_signed_in_visitor_gets_no_shared_copy(client, teacher):
    client.force_login(teacher)
    response = client.get("/directory/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


# --- HSDS in and out ------------------------------------------------------------------------


def test_the_demo_directory_exported_reimports_unchanged(tmp_path):
    call_command("load_demo", "--force", stdout=StringIO())
    first = tmp_path / "first.json"
    call_command("export_directory_hsds", "-o", str(first), stderr=StringIO())
    rows_before = Service.history.count()
    out = StringIO()
    call_command("import_directory_hsds", str(first), stdout=out)
    services_count = Service.objects.count()
    assert out.getvalue().strip() == f"0 created, 0 updated, {services_count} unchanged"
    assert Service.history.count() == rows_before
    second = tmp_path / "second.json"
    call_command("export_directory_hsds", "-o", str(second), stderr=StringIO())
    assert first.read_bytes() == second.read_bytes()
    document = json.loads(first.read_text())
    assert len(document["services"]) == services_count
    event = next(s for s in document["services"] if s["name"] == "Festa delle famiglie al parco")
    assert event["schedules"][0]["valid_from"] == "2027-05-22"
    assert {"taxonomy": "casework:entry_type", "code": "event"}.items() <= {
        **next(
            a["taxonomy_term"]
            for a in event["attributes"]
            if a["taxonomy_term"]["taxonomy"] == "casework:entry_type"
        )
    }.items()


def test_an_hsds_file_fills_an_empty_directory_as_it_was(north, social_north):
    ServiceFactory(
        name="After-school",
        district=north,
        agency=social_north,
        entry_type="project",
        recurrence="recurring",
        starts_on=datetime.date(2026, 9, 14),
        ends_on=datetime.date(2027, 6, 5),
        neighbourhood="San Rocco",
        cost="5 € a month",
        how_to_access="Ask the school",
        languages="italiano, arabo",
        phone="+39 1",
        address="Piazza 1",
        website="https://example.org/after",
    )
    ServiceFactory(name="Old desk", district=north, active=False)
    document = hsds.document_out(selectors.directory_export())
    Service.objects.all().delete()
    counts = services.directory_import_hsds(actor=None, document=document)
    assert counts == {"created": 2, "updated": 0, "unchanged": 0}
    assert hsds.document_out(selectors.directory_export()) == document
    entry = Service.objects.get(name="After-school")
    assert entry.agency == social_north
    assert entry.history.get().history_change_reason == "casework.service.imported"


def test_a_bad_hsds_entry_names_itself_and_nothing_is_written(tmp_path, north):
    path = tmp_path / "bad.json"
    good = {"name": "Nursery", "attributes": []}
    bad = {"name": "Camp", "minimum_age": "three"}
    path.write_text(json.dumps({"services": [good, bad]}))
    with pytest.raises(CommandError, match=r"Service 2 \(Camp\).*minimum_age"):
        call_command("import_directory_hsds", str(path), "--district", "north")
    assert not Service.objects.exists()
    path.write_text(json.dumps({"services": [good]}))
    with pytest.raises(CommandError, match="Unknown district"):
        call_command("import_directory_hsds", str(path))


def test_the_export_endpoint_is_open_data(client, north):
    ServiceFactory(name="Nursery", district=north)
    response = client.get("/directory/hsds.json?district=north")
    assert response.status_code == 200
    assert [s["name"] for s in response.json()["services"]] == ["Nursery"]


# --- who to call ----------------------------------------------------------------------------


def test_an_agency_keeps_its_own_referents(client, supervisor, social_north, school_referent):
    client.force_login(supervisor)
    response = client.post(
        "/casework/referents/new/",
        {
            "agency": social_north.pk,
            "topic": "on_duty",
            "name": "On-duty worker",
            "phone": "+39 0000 1",
            "hours": "24/7",
            "active": "on",
        },
    )
    assert response.status_code == 302
    referent = Referent.objects.get()
    row = referent.history.get()
    assert (row.history_user, row.history_change_reason) == (
        supervisor,
        "casework.referent.created",
    )
    # The school's referent keeps the school's referents, not the social services'.
    client.force_login(school_referent)
    assert client.get(f"/casework/referents/{referent.pk}/edit/").status_code == 404
    referent.phone = "+39 666"
    with pytest.raises(PermissionDenied):
        services.referent_save(actor=school_referent, referent=referent)
    assert referent.history.count() == 1


def test_referents_need_a_way_to_reach_them(supervisor, social_north):
    with pytest.raises(ValidationError) as error:
        services.referent_save(
            actor=supervisor,
            referent=Referent(agency=social_north, topic="on_duty", name="Nobody"),
        )
    assert "phone" in error.value.message_dict


def test_the_referral_page_shows_who_to_call_for_its_school(
    client, teacher, school, other_school, social_north, child
):
    Referent.objects.create(
        agency=social_north,
        topic="social_service",
        school=school,
        name="Chiara Ferri",
        phone="+39 1",
    )
    Referent.objects.create(
        agency=social_north,
        topic="social_service",
        school=other_school,
        name="Other One",
        phone="+39 2",
    )
    draft = services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="x",
        family_informed=True,
    )
    client.force_login(teacher)
    page = client.get(f"/casework/referrals/{draft.pk}/").content.decode()
    assert "Chiara Ferri" in page
    assert "Other One" not in page


def test_the_public_never_reads_the_referents(client, social_north):
    response = client.get("/casework/referents/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the helpline desk ----------------------------------------------------------------------


def test_contacts_outside_opening_hours_are_flagged(operator):
    # Seed 004: Tuesday, Thursday, Friday 10:00-13:30 (migration 0017's rows).
    tuesday_morning = _local(2026, 12, 8, 11, 0)
    monday = _local(2026, 12, 7, 11, 0)
    tuesday_afternoon = _local(2026, 12, 8, 13, 30)
    flags = [
        services.contact_record(
            actor=operator,
            channel="phone",
            caller="family",
            category="parenting",
            question="?",
            contacted_at=when,
        ).outside_hours
        for when in (tuesday_morning, monday, tuesday_afternoon)
    ]
    assert flags == [False, True, True]


def test_operator_records_a_call_with_caller_age_band_and_follow_up(client, operator, north):
    nursery = ServiceFactory(name="Nursery", district=north)
    client.force_login(operator)
    page = client.get("/casework/helpline/?q=Nurs").content.decode()
    assert "Nursery" in page and "13:30" in page
    response = client.post(
        "/casework/helpline/",
        {
            "channel": "phone",
            "caller": "institution",
            "age_band": "0-2",
            "category": "educational_services",
            "question": "Nursery places?",
            "answer": "Call them",
            "services": [nursery.pk],
            "follow_up": "Call back on Friday",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.caller, contact.age_band, contact.follow_up) == (
        "institution",
        "0-2",
        "Call back on Friday",
    )


def test_supervisors_read_their_districts_contacts_and_those_with_no_district(
    client, operator, supervisor, north, south
):
    for district, question in ((north, "north"), (None, "nowhere"), (south, "south")):
        services.contact_record(
            actor=operator,
            channel="phone",
            category="other",
            question=question,
            district=district,
        )
    seen = {c.question for c in selectors.contacts_for(supervisor)}
    assert seen == {"north", "nowhere"}
    client.force_login(supervisor)
    assert client.get("/casework/helpline/").status_code == 200
    before = Contact.objects.count()
    response = client.post(
        "/casework/helpline/", {"channel": "phone", "category": "other", "question": "x"}
    )
    assert response.status_code == 403
    assert Contact.objects.count() == before
