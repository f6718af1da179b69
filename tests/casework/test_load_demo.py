"""`manage.py load_demo` loads the demo municipality, and a second run changes nothing."""

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from casework import permissions
from casework.models import Agency, Child, District, Membership, Referral, Service
from fixtures import demo

REQUIRED_ROLES = {
    "maestra.rossi": "teacher",
    "referente.bianchi": "school_referent",
    "as.ferri": "social_worker",
    "coord.galli": "supervisor",
    "psicologa.conti": "psychologist",
    "as.marino": "social_worker",
    "operatrice.call": "helpline_operator",
    "dpo.audit": "auditor",
    "coord.sud": "supervisor",
    "edu.russo": "educator",
    "maestro.verdi": "teacher",
    "referente.neri": "school_referent",
    "triage.longo": "triage_coordinator",
}


def _load():
    out = StringIO()
    call_command("load_demo", "--force", stdout=out)
    return out.getvalue()


def _counts():
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
    }


@pytest.fixture
def loaded(db):
    _load()


@pytest.mark.django_db
def test_second_run_changes_no_count_of_any_model():
    _load()
    first = _counts()
    _load()
    assert _counts() == first
    # The run did load something in every part.
    assert first["casework.District"] == len(demo.DISTRICTS)
    assert first["casework.Agency"] == len(demo.AGENCIES)
    assert first["casework.Service"] == len(demo.SERVICES)
    assert first["casework.Child"] == len(demo.CHILDREN)
    assert first["casework.Referral"] == len(demo.DRAFT_REFERRALS)
    assert first["casework.HistoricalService"] == len(demo.SERVICES)


@pytest.mark.django_db
def test_second_run_keeps_a_changed_password():
    _load()
    user = get_user_model().objects.get(username="maestra.rossi")
    user.set_password("changed-by-the-user")
    user.save()
    _load()
    user.refresh_from_db()
    assert user.check_password("changed-by-the-user")


def test_required_users_have_their_role(loaded):
    for username, role in REQUIRED_ROLES.items():
        user = get_user_model().objects.get(username=username)
        assert user.check_password(demo.DEMO_PASSWORD), username
        assert user.email.endswith("@example.org"), username
        assert Membership.objects.filter(user=user, role=role, active=True).exists(), username


def test_admin_is_a_superuser_without_membership(loaded):
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert not Membership.objects.filter(user=admin).exists()


def test_schools_and_districts(loaded):
    rossi_school = Membership.objects.get(user__username="maestra.rossi").agency
    verdi_school = Membership.objects.get(user__username="maestro.verdi").agency
    assert rossi_school.district.code == "nord"
    assert not rossi_school.requires_referent_validation
    assert verdi_school.district.code == "nord"
    assert verdi_school.requires_referent_validation
    assert Membership.objects.get(user__username="referente.bianchi").agency == rossi_school
    assert Membership.objects.get(user__username="referente.neri").agency == verdi_school
    assert set(District.objects.values_list("code", flat=True)) == {"nord", "sud", "centre"}
    assert set(District.objects.values_list("municipality__code", flat=True)) == {
        "vallebruna",
        "vallserena",
    }
    assert not District.objects.filter(on_duty_user=None).exists()
    assert set(Service.objects.values_list("kind", flat=True)) == set(Service.Kind.values)


def test_each_demo_municipality_has_its_own_settings(loaded):
    """Consultations and pattern alerts on each protocol, retention on each municipality."""
    from casework import selectors

    nord, centre = District.objects.get(code="nord"), District.objects.get(code="centre")
    bruna, serena = selectors.protocol_for(nord), selectors.protocol_for(centre)
    assert (bruna.consultation_answer_days, bruna.pattern_threshold) == (5, 3)
    assert (serena.consultation_answer_days, serena.pattern_window_days) == (3, 60)
    assert serena.pattern_threshold == 2
    assert nord.municipality.retention_contact_days == 730
    assert centre.municipality.retention_contact_days == 365


def test_as_marino_is_in_no_north_group(loaded):
    marino = get_user_model().objects.get(username="as.marino")
    north_agencies = Agency.objects.filter(district__code="nord").values_list("pk", flat=True)
    north_prefixes = ("district:nord:", *(f"agency:{pk}:" for pk in north_agencies))
    names = list(marino.groups.values_list("name", flat=True))
    assert "district:sud:triage" in names
    assert not [name for name in names if name.startswith(north_prefixes)]
    assert list(permissions.districts_for(marino)) == [District.objects.get(code="sud")]


def test_history_rows_carry_a_reason(loaded):
    service = Service.objects.get(name="Numero Verde famiglie 0-6")
    assert service.history.filter(history_change_reason="casework.service.created").exists()
    child = Child.objects.get(first_name="Amina", last_name="El Idrissi")
    row = child.history.earliest()
    assert row.history_change_reason == "casework.child.created"
    assert row.history_user.username == "maestra.rossi"
    guardian_rows = [guardian.history.get() for guardian in child.guardians.all()]
    assert guardian_rows
    assert {row.history_change_reason for row in guardian_rows} == {"casework.guardian.created"}
    district = District.objects.get(code="nord")
    assert district.history.filter(history_change_reason="casework.demo.loaded").exists()


def test_referrals_reach_their_demo_stage_through_the_protocol(loaded):
    from casework.models import Case

    assert Referral.objects.count() == len(demo.DRAFT_REFERRALS)
    stages = sorted(Referral.objects.values_list("status", flat=True))
    # The stages past "case_opened" are the case's, not the referral's.
    case_stages = {"review_due": "case_opened", "closure_requested": "case_opened"}
    assert stages == sorted(case_stages.get(d["stage"], d["stage"]) for d in demo.DRAFT_REFERRALS)
    case = Case.objects.get(child__first_name="Amina")
    assert case.lead_worker.username == "as.ferri"
    assert case.team.filter(user__username="psicologa.conti").exists()
    assert case.plan.actions.count() == 1
    for referral in Referral.objects.select_related("referrer", "school"):
        assert referral.school == Membership.objects.get(user=referral.referrer).agency
        assert referral.district == referral.child.district
        assert referral.observations


@pytest.mark.django_db
def test_demo_refuses_to_load_without_debug_unless_forced():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("load_demo", stdout=StringIO())
    assert not get_user_model().objects.filter(username="admin").exists()


def test_every_case_journey_can_be_tried_on_the_first_run(loaded, client):
    """A case whose review is due now (no timer sweep needed), one whose closure waits for the
    supervisor, and one between two reviews where an extraordinary review can be held."""
    from casework.models import Case
    from protocols import steps

    due = Case.objects.get(child__first_name="Elia")
    assert due.status == Case.Status.OPEN and steps.is_open("case.review", due)
    assert due.history.filter(history_change_reason="casework.case.review_brought_forward")
    closing = Case.objects.get(child__first_name="Noemi")
    assert closing.status == Case.Status.CLOSURE_REQUESTED
    assert steps.is_open("case.decide_closure", closing)
    between = Case.objects.get(child__first_name="Amina")
    assert not steps.is_open("case.review", between)
    assert steps.is_open("case.extraordinary_review", between)
    # The supervisor sees the closure waiting on the home page; the lead sees the due review.
    supervisor = get_user_model().objects.get(username="coord.galli")
    assert permissions.can_decide_closure(supervisor, closing)
    client.force_login(get_user_model().objects.get(username="as.ferri"))
    page = client.get(due.get_absolute_url()).content.decode()
    assert 'id="review-form"' in page


def test_the_demo_has_consultations_a_pattern_alert_and_a_network_meeting(loaded):
    from casework.models import Consultation, NetworkMeeting, PatternAlert

    statuses = sorted(Consultation.objects.values_list("status", flat=True))
    assert statuses == ["answered", "awaiting"]
    alert = PatternAlert.objects.get()
    assert alert.district.code == "nord" and alert.status == "open"
    assert {r.child.first_name for r in alert.referrals.all()} == {"Matteo"}
    assert alert.referrals.count() == 3
    meeting = NetworkMeeting.objects.get()
    assert meeting.actions.count() == 2 and meeting.agencies.count() == 5
