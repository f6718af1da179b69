"""Access that ends when a job ends: a membership's end closes its scopes and its case teams on
the next request; a group joined outside the memberships opens nothing."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from casework import permissions, selectors, services
from casework.models import AccessLog, CaseTeamMember, Child, Membership
from tests.conftest import protocol
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


@pytest.fixture
def case(teacher, child, triage_worker, psychologist, health_north):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(actor=teacher, referral=draft)
    case = protocol("referral.decide")(actor=triage_worker, referral=referral, decision="open_case")
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Regular meals")
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
    return case


def end(user):
    for membership in Membership.objects.filter(user=user, active=True):
        services.membership_deactivate(actor=None, membership=membership)


def test_a_team_member_whose_membership_ends_loses_the_case_at_once(
    case, psychologist, health_north, api
):
    client = api(psychologist)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    end(psychologist)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    response = client.post(
        f"/api/v1/cases/{case.pk}/actions/",
        {"objective": "Assess", "owning_agency": health_north.pk},
        format="json",
    )
    assert response.status_code == 404
    assert not case.plan.actions.exists()
    seat = CaseTeamMember.objects.get(case=case, user=psychologist)
    assert seat.removed_at is not None
    row = seat.history.order_by("-history_id").first()
    assert row.history_change_reason == "casework.case_team.membership_ended"
    assert not psychologist.groups.filter(name=f"case:{case.pk}:team").exists()
    assert not permissions.is_on_team(psychologist, case)


def test_a_lead_whose_membership_ends_leaves_the_case_to_the_supervisor(
    case, triage_worker, supervisor, client
):
    assert not selectors.cases_needing_a_lead(supervisor).exists()
    end(triage_worker)
    client.force_login(triage_worker)
    assert client.get(f"/casework/cases/{case.pk}/").status_code in (403, 404)
    assert client.get(f"/casework/cases/{case.pk}/history/").status_code in (403, 404)
    assert not permissions.can_lead_case(triage_worker, case)
    assert list(selectors.cases_needing_a_lead(supervisor)) == [case]
    # The supervisor still works the case.
    assert permissions.can_lead_case(supervisor, case)


def test_a_membership_in_another_agency_keeps_that_agencys_seat(
    case, psychologist, health_north, social_north
):
    services.membership_create(
        actor=None, user=psychologist, agency=social_north, role=Membership.Role.EDUCATOR
    )
    services.membership_deactivate(
        actor=None, membership=Membership.objects.get(user=psychologist, agency=social_north)
    )
    assert permissions.is_on_team(psychologist, case)


def test_a_group_joined_outside_the_memberships_opens_nothing(stranger, north, school):
    stranger.groups.add(permissions.district_triage_group(north))
    stranger.groups.add(permissions.district_supervisors_group(north))
    stranger.groups.add(permissions.school_referents_group(school))
    assert Group.objects.filter(user=stranger).count() == 3
    assert not permissions.districts_for(stranger).exists()
    assert not permissions.districts_for(stranger, permissions.SUPERVISE).exists()
    assert not permissions.schools_for(stranger).exists()
    assert not permissions.triages_district(stranger, north)
    assert not selectors.referrals_visible_to(stranger).exists()


def test_a_role_ended_then_given_again_opens_the_scope_again(triage_worker, north):
    end(triage_worker)
    assert not permissions.triages_district(triage_worker, north)
    membership = Membership.objects.get(user=triage_worker)
    services.membership_create(
        actor=None, user=triage_worker, agency=membership.agency, role=membership.role
    )
    assert permissions.triages_district(triage_worker, north)
    reasons = list(
        membership.history.order_by("history_id").values_list("history_change_reason", flat=True)
    )
    assert reasons[-2:] == ["casework.membership.deactivated", "casework.membership.reactivated"]


def test_a_deactivated_user_does_not_get_old_sessions_back(client, triage_worker):
    client.force_login(triage_worker)
    assert client.get("/casework/queue/").status_code == 200
    triage_worker.is_active = False
    triage_worker.save()
    triage_worker.is_active = True
    triage_worker.save()
    response = client.get("/casework/queue/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_ending_a_users_sessions_leaves_everyone_elses_and_costs_the_same_however_many(
    triage_worker, supervisor
):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from casework.models import UserSession
    from casework.services.organisation import user_sessions_end

    own = [Client() for _ in range(3)]
    for browser in own:
        browser.force_login(triage_worker)
    other = Client()
    other.force_login(supervisor)
    assert UserSession.objects.filter(user_id=triage_worker.pk).count() == 3

    with CaptureQueriesContext(connection) as few:
        assert user_sessions_end(triage_worker) == 3
    for browser in own:
        answer = browser.get("/casework/queue/")
        assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]
    assert other.get("/casework/queue/").status_code == 200  # the supervisor is still in

    for _ in range(20):
        Client().force_login(supervisor)
    Client().force_login(triage_worker)
    with CaptureQueriesContext(connection) as many:
        assert user_sessions_end(triage_worker) == 1
    assert len(many) == len(few)  # one DELETE by the indexed user id, not a scan of sessions
    assert UserSession.objects.filter(user_id=supervisor.pk).count() == 21


# --- purpose-bound team access -------------------------------------------------------------


def test_a_professional_joins_for_the_protocols_access_period(case, psychologist):
    seat = CaseTeamMember.objects.get(case=case, user=psychologist)
    assert seat.valid_until == services.team_access_limit()
    today = timezone.localdate()
    assert 364 <= (seat.valid_until - today).days <= 366


def test_access_beyond_the_period_or_without_a_reason_is_refused(case, triage_worker, health_north):
    other = UserFactory(username="psy_two")
    services.membership_create(
        actor=None, user=other, agency=health_north, role=Membership.Role.PSYCHOLOGIST
    )
    too_late = services.team_access_limit() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        services.case_add_member(
            actor=triage_worker,
            case=case,
            user=other,
            agency=health_north,
            role="psychologist",
            reason=" ",
            valid_until=too_late,
            legal_basis="public_task",
            basis_explanation="Child-protection task of the municipality",
        )
    assert set(error.value.message_dict) == {"reason", "valid_until"}
    assert not case.team.filter(user=other).exists()


def test_a_professional_of_another_district_joins_only_by_the_supervisor(
    case, triage_worker, supervisor, social_south, outsider
):
    with pytest.raises(ValidationError) as error:
        services.case_add_member(
            actor=triage_worker,
            case=case,
            user=outsider,
            agency=social_south,
            role="social_worker",
            reason="Knows the family",
            legal_basis="public_task",
            basis_explanation="Child-protection task of the municipality",
        )
    assert "another district" in error.value.message_dict["agency"][0]
    assert not case.team.filter(user=outsider).exists()
    services.case_add_member(
        actor=supervisor,
        case=case,
        user=outsider,
        agency=social_south,
        role="social_worker",
        reason="The family moved from the South district",
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    assert permissions.is_on_team(outsider, case)


def test_the_lead_renews_an_access_with_a_reason_and_expiry_removes_the_grant(
    case, triage_worker, psychologist
):
    seat = CaseTeamMember.objects.get(case=case, user=psychologist)
    with pytest.raises(ValidationError):
        services.case_member_renew(actor=triage_worker, member=seat, reason="")
    with pytest.raises(PermissionDenied):
        services.case_member_renew(actor=psychologist, member=seat, reason="I need more time")
    soon = timezone.localdate() + datetime.timedelta(days=10)
    services.case_member_renew(
        actor=triage_worker, member=seat, reason="Second assessment", valid_until=soon
    )
    seat.refresh_from_db()
    assert seat.valid_until == soon and seat.reason == "Second assessment"
    assert (
        seat.history.order_by("-history_id").first().history_change_reason
        == "casework.case_team.access_renewed"
    )
    later = timezone.now() + datetime.timedelta(days=11)
    with time_machine.travel(later, tick=False):
        assert not permissions.is_on_team(psychologist, case)
        assert services.case_team_expire() == 1
        assert services.case_team_expire() == 0
    assert not psychologist.groups.filter(name=f"case:{case.pk}:team").exists()


# --- the admin: reads logged, scopes only through memberships ------------------------------


def test_admin_pages_that_show_a_child_write_the_access_log(admin_client, case, child):
    logged = AccessLog.objects.filter(door=AccessLog.Door.ADMIN)
    assert admin_client.get(f"/admin/casework/child/{child.pk}/change/").status_code == 200
    assert logged.showing("child", [child.pk]).filter(action="admin.view").exists()
    assert admin_client.get("/admin/casework/child/", {"q": "Bruno"}).status_code == 200
    assert logged.showing("child", [child.pk]).filter(action="admin.search").exists()
    assert admin_client.get(f"/admin/casework/case/{case.pk}/change/").status_code == 200
    assert logged.showing("case", [case.pk]).filter(action="admin.view").exists()
    referral = case.referrals.get()
    assert admin_client.get("/admin/casework/referral/").status_code == 200
    assert logged.showing("referral", [referral.pk]).filter(action="admin.list").exists()
    # No deleting case data from the admin.
    assert (
        admin_client.post(f"/admin/casework/child/{child.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )


def test_a_staff_user_admin_cannot_grant_itself_a_scope(client, north):
    from django.contrib.auth.models import Permission

    staff = UserFactory(username="it_staff", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    triage = permissions.district_triage_group(north)
    client.force_login(staff)
    page = client.get(f"/admin/auth/user/{staff.pk}/change/")
    assert page.status_code == 200
    assert b'name="groups"' not in page.content and b'name="is_superuser"' not in page.content
    client.post(
        f"/admin/auth/user/{staff.pk}/change/",
        {"username": "it_staff", "groups": [triage.pk], "is_superuser": "on", "is_active": "on"},
    )
    staff.refresh_from_db()
    assert not staff.groups.exists() and not staff.is_superuser
    assert not permissions.districts_for(staff).exists()


# --- birth dates the protocol can take -----------------------------------------------------


@pytest.mark.parametrize(
    "born, message",
    [("2031-01-01", "future"), ("1900-01-01", "up to 18"), ("0001-01-01", "up to 18")],
)
def test_an_impossible_birth_date_is_refused_with_a_field_message(
    teacher, north, school, born, message
):
    with pytest.raises(ValidationError) as error:
        services.child_create(
            actor=teacher,
            first_name="Ada",
            last_name="Rossi",
            date_of_birth=born,
            district=north,
            school=school,
        )
    assert message in error.value.message_dict["date_of_birth"][0]
    assert not Child.objects.exists()


def test_the_api_refuses_a_birth_date_in_the_future(api, teacher):
    response = api(teacher).post(
        "/api/v1/referrals/",
        {
            "child": {"first_name": "Ada", "last_name": "Rossi", "date_of_birth": "2031-01-01"},
            "concern_categories": ["neglect"],
            "observations": "Hungry",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "future" in str(response.json())
    assert not Child.objects.exists()


def test_the_supervisors_home_lists_the_cases_that_lost_their_lead(
    case, triage_worker, supervisor, client
):
    end(triage_worker)
    client.force_login(supervisor)
    page = client.get("/casework/")
    assert page.status_code == 200
    assert "Cases that need a new lead worker" in page.content.decode()
    assert case.reference in page.content.decode()
    assert AccessLog.objects.showing("case", [case.pk]).filter(user=supervisor).exists()


def test_the_case_page_shows_an_action_owned_by_an_agency_only(case, triage_worker, client):
    services.case_add_action(
        actor=triage_worker,
        case=case,
        objective="After-school club",
        owning_agency=triage_worker.memberships.get().agency,
    )
    client.force_login(triage_worker)
    page = client.get(f"/casework/cases/{case.pk}/")
    assert page.status_code == 200
    assert "After-school club" in page.content.decode()


def test_the_case_pickers_offer_the_districts_people_by_full_name(
    case, triage_worker, supervisor, outsider, client
):
    from casework import forms

    outsider.first_name, outsider.last_name = "Olga", "Outer"
    outsider.save()
    triage_worker.first_name, triage_worker.last_name = "Anna", "Ferri"
    triage_worker.save()
    lead_form = forms.TeamMemberForm(case=case)
    people = list(lead_form.fields["user"].queryset)
    assert triage_worker in people and outsider not in people
    assert lead_form.fields["user"].label_from_instance(triage_worker) == "Anna Ferri"
    assert outsider not in forms.ActionForm(case=case).fields["owner"].queryset
    # The district supervisor may bring in someone from another district.
    assert outsider in forms.TeamMemberForm(case=case, any_district=True).fields["user"].queryset
    client.force_login(triage_worker)
    page = client.get(f"/casework/cases/{case.pk}/").content.decode()
    assert "Anna Ferri" in page and "Olga Outer" not in page
