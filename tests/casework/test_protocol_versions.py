"""The protocol as each municipality's configuration, versioned: one selector reads it, a
referral or a case keeps the version it started under, the protocol administrator keeps the
versions in the product's own pages, and two municipalities behave differently."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from casework import permissions, selectors, services
from casework.models import (
    Agency,
    Membership,
    Municipality,
    ProtocolSettings,
    ProtocolVersion,
    Referral,
)
from tests.conftest import _member, protocol
from tests.factories import AgencyFactory, DistrictFactory

pytestmark = pytest.mark.django_db

FORM = {
    "concern_categories": ["neglect"],
    "observations": "Hungry",
    "family_informed": True,
    "urgency": "routine",
}
LONG_AGO = datetime.date(2020, 1, 1)


def _municipality(code, **protocol_fields):
    municipality = Municipality.objects.create(code=code, name=code.title())
    version = ProtocolVersion.objects.create(
        municipality=municipality, number=1, valid_from=LONG_AGO, **protocol_fields
    )
    return municipality, version


@pytest.fixture
def bergamo(north):
    municipality, version = _municipality("bergamo", school_validation="always", routine_days=10)
    north.municipality = municipality
    north.save()
    return version


@pytest.fixture
def terrassa(south):
    municipality, version = _municipality(
        "terrassa",
        school_validation="never",
        routine_days=7,
        review_weeks_medium=6,
        child_max_age=6,
        concern_categories=[{"code": "neglect", "signs": ["neglect.hungry"]}],
        feedback_message="L'equip ha obert un expedient.",
    )
    south.municipality = municipality
    south.save()
    return version


@pytest.fixture
def nursery(south):
    # The school asked for its referent's validation; Terrassa's protocol says no one does.
    return AgencyFactory(
        name="Escola bressol",
        kind=Agency.Kind.SCHOOL,
        district=south,
        requires_referent_validation=True,
    )


@pytest.fixture
def educator(nursery):
    return _member("educadora", nursery, Membership.Role.TEACHER)


@pytest.fixture
def south_worker(social_south):
    return _member("ss_south", social_south, Membership.Role.SOCIAL_WORKER)


def _draft(teacher, district, school, first_name="Pau", born="2022-05-01"):
    child = services.child_create(
        actor=teacher,
        first_name=first_name,
        last_name="Example",
        date_of_birth=born,
        district=district,
        school=school,
        guardians=[],
    )
    return services.referral_create_draft(actor=teacher, child=child, **FORM)


def test_without_a_municipality_the_installation_default_applies(north):
    found = selectors.protocol_for(north)
    assert found.pk is None and found.routine_days == 10
    assert (found.consultation_answer_days, found.pattern_window_days) == (5, 90)
    assert found.pattern_threshold == 3
    assert selectors.protocol_for(None).routine_days == 10


def test_each_protocol_setting_has_one_source():
    """The defect of the settings kept twice: what a version carries is nowhere else, and
    the installation's row keeps only the retention of records of no municipality."""
    from casework.models.protocol import SETTING_FIELDS

    on_row = {f.name for f in ProtocolSettings._meta.concrete_fields} - {"id"}
    on_municipality = {f.name for f in Municipality._meta.concrete_fields}
    assert on_row == {
        "retention_subscriber_days",
        "retention_access_log_days",
        "retention_history_days",
    }
    assert not on_row & set(SETTING_FIELDS) and not on_municipality & set(SETTING_FIELDS)
    assert not on_row & on_municipality
    assert {"consultation_answer_days", "pattern_window_days", "pattern_threshold"} <= set(
        SETTING_FIELDS
    )


def test_districts_are_grouped_by_their_protocol_in_one_query(
    django_assert_num_queries, bergamo, terrassa, north, south
):
    terrassa.pattern_threshold = 2
    terrassa.save()
    lone = DistrictFactory(code="lone")
    with django_assert_num_queries(1):
        groups = selectors.districts_by_protocol(("pattern_window_days", "pattern_threshold"))
    assert groups == {(90, 3): [north.pk, lone.pk], (90, 2): [south.pk]}
    # Before Terrassa's version came into force: the default, like protocol_for.
    earlier = selectors.districts_by_protocol(
        ("pattern_threshold",), day=LONG_AGO - datetime.timedelta(days=1)
    )
    assert earlier == {(3,): [north.pk, south.pk, lone.pk]}


def test_the_two_municipalities_differ_where_their_protocols_differ(
    bergamo, terrassa, north, south, school, teacher, nursery, educator, school_referent
):
    # Bergamo: every school validates through its referent (even one that did not ask to).
    assert not school.requires_referent_validation
    in_bergamo = _draft(teacher, north, school, first_name="Luca", born="2016-03-02")
    assert in_bergamo.protocol_version == bergamo
    sent = protocol("referral.submit")(actor=teacher, referral=in_bergamo)
    assert sent.status == Referral.Status.AWAITING_VALIDATION
    sent = protocol("referral.validate")(actor=school_referent, referral=sent)
    assert (sent.triage_due_at - sent.submitted_at).days == 10
    # Terrassa: educators send straight to the social team, with its shorter deadline.
    in_terrassa = _draft(educator, south, nursery)
    assert in_terrassa.protocol_version == terrassa
    sent = protocol("referral.submit")(actor=educator, referral=in_terrassa)
    assert sent.status == Referral.Status.SUBMITTED
    assert (sent.triage_due_at - sent.submitted_at).days == 7


def test_terrassa_takes_children_up_to_six_and_offers_its_own_categories(
    terrassa, south, nursery, educator, client
):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        _draft(educator, south, nursery, born="2015-01-01")
    assert "date_of_birth" in refused.value.message_dict
    client.force_login(educator)
    page = client.get("/casework/referrals/new/", follow=True).content.decode()
    assert 'value="neglect"' in page and 'value="physical"' not in page
    assert 'value="neglect.hungry"' in page and 'value="neglect.tired"' not in page


def test_a_case_reviews_on_its_protocols_rhythm(terrassa, south, nursery, educator, south_worker):
    referral = protocol("referral.submit")(
        actor=educator, referral=_draft(educator, south, nursery)
    )
    before = timezone.now()
    case = protocol("referral.decide")(
        actor=south_worker, referral=referral, decision="open_case", risk_level="medium"
    )
    assert case.protocol_version == terrassa
    referral.refresh_from_db()
    assert referral.feedback == "L'equip ha obert un expedient."
    assert case.next_review_at - before >= datetime.timedelta(weeks=6)
    assert case.next_review_at - before < datetime.timedelta(weeks=6, minutes=5)


@pytest.fixture
def protocol_admin(social_south, terrassa):
    return _member("protocol_admin", social_south, Membership.Role.PROTOCOL_ADMINISTRATOR)


def test_a_referral_keeps_the_version_it_started_under(
    terrassa, south, nursery, educator, protocol_admin
):
    old_draft = _draft(educator, south, nursery)
    newer = services.protocol_version_create(actor=protocol_admin, from_version=terrassa)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    services.protocol_version_update(
        actor=protocol_admin, version=newer, routine_days=20, valid_from=tomorrow
    )
    terrassa.refresh_from_db()
    assert terrassa.valid_until == timezone.localdate()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2)):
        assert selectors.protocol_for(south) == newer
        sent = protocol("referral.submit")(actor=educator, referral=old_draft)
        assert (sent.triage_due_at - sent.submitted_at).days == 7
        fresh = _draft(educator, south, nursery, first_name="Nil")
        assert fresh.protocol_version == newer
        sent = protocol("referral.submit")(actor=educator, referral=fresh)
        assert (sent.triage_due_at - sent.submitted_at).days == 20


def test_the_protocol_administrator_keeps_the_versions_on_the_products_pages(
    client, terrassa, bergamo, protocol_admin
):
    client.force_login(protocol_admin)
    listing = client.get("/casework/protocol/")
    assert listing.status_code == 200
    assert "Terrassa" in listing.content.decode() and "Bergamo" not in listing.content.decode()
    # Another municipality's version does not exist for them.
    assert client.get(f"/casework/protocol/{bergamo.pk}/").status_code == 404
    assert client.post(f"/casework/protocol/{bergamo.pk}/new/").status_code == 404
    # The version in force is read, never changed.
    page = client.get(f"/casework/protocol/{terrassa.pk}/")
    assert page.status_code == 200 and 'name="routine_days"' not in page.content.decode()
    client.post(f"/casework/protocol/{terrassa.pk}/", {"routine_days": "1"})
    terrassa.refresh_from_db()
    assert terrassa.routine_days == 7
    # A new version from the current one, changed and scheduled.
    created = client.post(f"/casework/protocol/{terrassa.pk}/new/")
    newer = ProtocolVersion.objects.get(municipality=terrassa.municipality, number=2)
    assert created.url == f"/casework/protocol/{newer.pk}/"
    assert newer.routine_days == 7 and newer.concern_categories == terrassa.concern_categories
    start = timezone.localdate() + datetime.timedelta(days=10)
    form = {
        field: getattr(newer, field)
        for field in (
            "immediate_danger_hours",
            "urgent_days",
            "priority_days",
            "information_request_days",
            "review_weeks_high",
            "review_weeks_medium",
            "review_weeks_low",
            "team_access_months",
            "child_max_age",
            "consultation_answer_days",
            "pattern_window_days",
            "pattern_threshold",
            "school_validation",
        )
    }
    form.update(
        title="2027",
        valid_from=start.isoformat(),
        routine_days="0",
        categories=["neglect", "emotional"],
        signs=["neglect.hungry", "emotional.anxious"],
        escalation="Coordinator\nDirector",
    )
    bad = client.post(f"/casework/protocol/{newer.pk}/", form)
    assert bad.status_code == 422 and "At least 1." in bad.content.decode()
    newer.refresh_from_db()
    assert newer.routine_days == 7
    # A pattern is two items at least.
    form.update(routine_days="4", pattern_threshold="1")
    bad = client.post(f"/casework/protocol/{newer.pk}/", form)
    assert bad.status_code == 422 and "greater than or equal to 2" in bad.content.decode()
    form.update(consultation_answer_days="3", pattern_window_days="60", pattern_threshold="2")
    saved = client.post(f"/casework/protocol/{newer.pk}/", form)
    assert saved.status_code == 302
    newer.refresh_from_db()
    assert newer.routine_days == 4 and newer.valid_from == start
    assert (newer.consultation_answer_days, newer.pattern_window_days) == (3, 60)
    assert newer.pattern_threshold == 2
    assert newer.escalation_chain == ["Coordinator", "Director"]
    assert newer.concern_categories == [
        {"code": "neglect", "signs": ["neglect.hungry"]},
        {"code": "emotional", "signs": ["emotional.anxious"]},
    ]
    terrassa.refresh_from_db()
    assert terrassa.valid_until == start - datetime.timedelta(days=1)
    reasons = list(newer.history.values_list("history_change_reason", flat=True))
    assert "casework.protocol_version.created" in reasons
    assert "casework.protocol_version.updated" in reasons
    assert terrassa.history.filter(
        history_change_reason="casework.protocol_version.superseded"
    ).exists()
    # Today nothing changed: the version in force is still the first.
    assert selectors.protocol_for(terrassa.municipality.districts.get()) == terrassa


def test_who_may_not_administer_the_protocol(
    client, terrassa, supervisor, triage_worker, teacher, outsider, stranger
):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    for user in (supervisor, triage_worker, teacher, outsider, stranger, admin):
        client.force_login(user)
        assert client.get("/casework/protocol/").status_code == 403, user
        assert client.get(f"/casework/protocol/{terrassa.pk}/").status_code == 404, user
        assert client.post(f"/casework/protocol/{terrassa.pk}/new/").status_code == 404, user
        assert not permissions.administers_protocol(user, terrassa.municipality)
    assert ProtocolVersion.objects.count() == 1


def test_a_version_in_force_is_refused_by_the_service(terrassa, protocol_admin):
    from casework.services import TransitionNotAllowed

    with pytest.raises(TransitionNotAllowed):
        services.protocol_version_update(actor=protocol_admin, version=terrassa, routine_days=3)


def test_the_demo_municipalities_behave_differently(django_capture_on_commit_callbacks):
    from django.core.management import call_command

    from fixtures import demo

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", force=True, stdout=__import__("io").StringIO())
    vallebruna = selectors.protocol_for(DistrictFactory(code=demo.NORTH))
    vallserena = selectors.protocol_for(DistrictFactory(code=demo.CENTRE))
    assert (vallebruna.school_validation, vallserena.school_validation) == ("always", "never")
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    rossi, puig = users.get(username="maestra.rossi"), users.get(username="educadora.puig")
    north_school = rossi.memberships.get().agency
    centre_school = puig.memberships.get().agency
    a = _draft(rossi, north_school.district, north_school, first_name="Ada", born="2017-01-01")
    b = _draft(puig, centre_school.district, centre_school, first_name="Biel", born="2023-01-01")
    a = protocol("referral.submit")(actor=rossi, referral=a)
    b = protocol("referral.submit")(actor=puig, referral=b)
    assert a.status == Referral.Status.AWAITING_VALIDATION
    assert b.status == Referral.Status.SUBMITTED
    assert (b.triage_due_at - b.submitted_at).days == 7
    assert permissions.administers_protocol(
        users.get(username="protocol.ferrer"), centre_school.district.municipality
    )
    assert not permissions.administers_protocol(
        users.get(username="protocollo.gatti"), centre_school.district.municipality
    )


def test_a_new_municipality_gets_its_first_version_from_the_default(client, south, social_south):
    municipality = Municipality.objects.create(code="new", name="New town")
    south.municipality = municipality
    south.save()
    admin = _member("protocol_new", social_south, Membership.Role.PROTOCOL_ADMINISTRATOR)
    client.force_login(admin)
    page = client.get("/casework/protocol/").content.decode()
    assert f"/casework/protocol/municipality/{municipality.pk}/first/" in page
    created = client.post(f"/casework/protocol/municipality/{municipality.pk}/first/")
    first = ProtocolVersion.objects.get(municipality=municipality)
    assert created.url == f"/casework/protocol/{first.pk}/"
    assert first.number == 1 and first.routine_days == ProtocolVersion.fallback().routine_days
    assert first.pattern_threshold == ProtocolVersion.fallback().pattern_threshold
    assert first.valid_from > timezone.localdate()
    # Once is enough; and not for someone else's municipality.
    client.post(f"/casework/protocol/municipality/{municipality.pk}/first/")
    assert ProtocolVersion.objects.filter(municipality=municipality).count() == 1
    other = Municipality.objects.create(code="other", name="Other town")
    assert client.post(f"/casework/protocol/municipality/{other.pk}/first/").status_code == 404
    assert not other.protocol_versions.exists()


def test_an_area_of_concern_outside_the_protocol_is_refused_by_the_service_and_the_api(
    terrassa, south, nursery, educator
):
    """Terrassa's protocol offers neglect only: the form shows only neglect, and the API (or
    anything else that sends a form) gets a field-level refusal for the others, on a new
    referral and on a draft's change, and nothing is written."""
    from django.core.exceptions import ValidationError
    from rest_framework.test import APIClient

    from casework.models import Child

    draft = _draft(educator, south, nursery)
    with pytest.raises(ValidationError) as refused:
        services.referral_update_draft(
            actor=educator, referral=draft, concern_categories=["neglect", "physical"]
        )
    assert "physical" in refused.value.message_dict["concern_categories"][0]
    draft.refresh_from_db()
    assert draft.concern_categories == ["neglect"]

    api = APIClient()
    api.force_authenticate(educator)
    before = (Referral.objects.count(), Child.objects.count())
    child = {"first_name": "Nil", "last_name": "Example", "date_of_birth": "2022-03-01"}
    answer = api.post(
        "/api/v1/referrals/",
        {"child": child, **FORM, "concern_categories": ["physical"]},
        format="json",
    )
    assert answer.status_code == 400, answer.content
    assert "physical" in str(answer.json()["concern_categories"])
    assert (Referral.objects.count(), Child.objects.count()) == before  # no child either
    accepted = api.post("/api/v1/referrals/", {"child": child, **FORM}, format="json")
    assert accepted.status_code == 201, accepted.content


def test_a_pattern_needs_two_items_at_least(terrassa, south, social_south):
    from django.core.exceptions import ValidationError

    admin = _member("protocol_t", social_south, Membership.Role.PROTOCOL_ADMINISTRATOR)
    newer = services.protocol_version_create(actor=admin, from_version=terrassa)
    with pytest.raises(ValidationError) as refused:
        services.protocol_version_update(
            actor=admin, version=newer, pattern_threshold=1, consultation_answer_days=0
        )
    assert refused.value.message_dict == {
        "pattern_threshold": ["At least 2."],
        "consultation_answer_days": ["At least 1."],
    }
    newer.refresh_from_db()
    assert newer.pattern_threshold == 3 and newer.consultation_answer_days == 5
