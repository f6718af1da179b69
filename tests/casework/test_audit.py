"""The read log, the append-only audit tables, revocation on the next request, the auditor."""

import datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from casework import services
from casework.models import AccessLog, AppendOnlyError, Case, Membership, Referral
from tests.conftest import protocol
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


@pytest.fixture
def referral(teacher, child):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    return protocol("referral.submit")(referral=draft, actor=teacher)


@pytest.fixture
def case(referral, triage_worker):
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


@pytest.fixture
def queued(teacher, north, school):
    other = services.child_create(
        actor=teacher,
        first_name="Eva",
        last_name="Riva",
        date_of_birth="2015-05-05",
        district=north,
        school=school,
    )
    draft = services.referral_create_draft(actor=teacher, child=other, **FORM)
    return protocol("referral.submit")(referral=draft, actor=teacher)


@pytest.fixture
def auditor(school):
    user = UserFactory(username="dpo")
    services.membership_create(actor=None, user=user, agency=school, role="auditor")
    return user


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _reads(user, **filters):
    """(door, action, kind, id) of every record the user was shown: a record opened, or
    each line of a list (one row per list page, its ids in object_ids)."""
    rows = AccessLog.objects.filter(user=user, **filters).values_list(
        "door", "action", "object_type", "object_id", "object_ids"
    )
    return [
        (door, action, kind, pk)
        for door, action, kind, one, listed in rows
        for pk in ([one] if one is not None else listed)
    ]


WEB_READS = [
    ("/casework/referrals/{referral}/", "referral.view", "referral"),
    ("/casework/referrals/{referral}/history/", "referral.history", "referral"),
    ("/casework/queue/", "queue", "queued"),
    ("/casework/cases/", "case.list", "case"),
    ("/casework/cases/{case}/", "case.view", "case"),
    ("/casework/cases/{case}/history/", "case.history", "case"),
    ("/casework/cases/{case}/access/", "case.access_report", "case"),
    ("/casework/", "home", "case"),
]


@pytest.mark.parametrize(("url", "action", "kind"), WEB_READS)
def test_every_web_read_writes_an_access_record(
    client, triage_worker, referral, case, queued, url, action, kind
):
    client.force_login(triage_worker)
    target = {"referral": referral.pk, "case": case.pk, "queued": queued.pk}[kind]
    kind = "referral" if kind == "queued" else kind
    before = AccessLog.objects.count()
    response = client.get(url.format(referral=referral.pk, case=case.pk), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert ("web", action, kind, target) in _reads(triage_worker)
    row = AccessLog.objects.filter(user=triage_worker, action=action).latest("pk")
    assert row.address == "10.1.2.3"
    assert AccessLog.objects.count() > before


API_READS = [
    ("/api/v1/referrals/{referral}/", "referral.view", "referral"),
    ("/api/v1/referrals/", "referral.list", "referral"),
    ("/api/v1/referrals/{referral}/history/", "referral.history", "referral"),
    ("/api/v1/queue/", "queue", "queued"),
    ("/api/v1/cases/", "case.list", "case"),
    ("/api/v1/cases/{case}/", "case.view", "case"),
    ("/api/v1/cases/{case}/history/", "case.history", "case"),
    ("/api/v1/cases/{case}/access/", "case.access_report", "case"),
]


@pytest.mark.parametrize(("url", "action", "kind"), API_READS)
def test_every_api_read_writes_an_access_record(
    triage_worker, referral, case, queued, url, action, kind
):
    target = {"referral": referral.pk, "case": case.pk, "queued": queued.pk}[kind]
    kind = "referral" if kind == "queued" else kind
    response = _api(triage_worker).get(url.format(referral=referral.pk, case=case.pk))
    assert response.status_code == 200
    assert ("api", action, kind, target) in _reads(triage_worker)


def test_a_list_page_writes_one_row_and_the_report_still_finds_each_referral(
    client, triage_worker, supervisor, referral, case, queued
):
    """The read log grows with the pages read, not with their lines; "who saw this file"
    still finds a referral shown as one line of a list."""
    client.force_login(triage_worker)
    before = AccessLog.objects.count()
    assert client.get("/casework/queue/").status_code == 200
    assert AccessLog.objects.count() == before + 1
    row = AccessLog.objects.latest("pk")
    assert row.action == "queue" and row.object_type == "referral"
    shown = [row.object_id] if row.object_id is not None else row.object_ids
    assert queued.pk in shown
    assert AccessLog.objects.showing("referral", [queued.pk]).filter(pk=row.pk).exists()
    assert not AccessLog.objects.showing("referral", [max(shown) + 1000]).exists()
    listed = _api(triage_worker).get("/api/v1/referrals/")
    assert listed.status_code == 200
    ids = [item["id"] for item in listed.json()["results"]]
    linked = case.referrals.get()
    assert linked.pk in ids and len(ids) > 1
    api_row = AccessLog.objects.latest("pk")
    assert api_row.object_id is None and sorted(api_row.object_ids) == sorted(ids)
    report = _api(supervisor).get(f"/api/v1/cases/{case.pk}/access/").json()["results"]
    assert {
        "user": triage_worker.username,
        "action": "referral.list",
        "object_type": "referral",
        "object_ids": [linked.pk],
    }.items() <= next(r for r in report if r["action"] == "referral.list").items()


def test_a_refused_read_writes_nothing(client, outsider, referral, case):
    client.force_login(outsider)
    assert client.get(f"/casework/referrals/{referral.pk}/").status_code == 404
    assert _api(outsider).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert _reads(outsider) == []


def test_the_access_report_says_who_looked(
    client, triage_worker, supervisor, psychologist, case, health_north
):
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
    _api(psychologist).get(f"/api/v1/cases/{case.pk}/")
    rows = _api(supervisor).get(f"/api/v1/cases/{case.pk}/access/").json()["results"]
    assert (psychologist.username, "case.view", "api") in {
        (r["user"], r["action"], r["door"]) for r in rows
    }
    # A team member who is not the lead cannot read who looked.
    assert _api(psychologist).get(f"/api/v1/cases/{case.pk}/access/").status_code == 403


def test_the_access_log_is_append_only_in_the_application(triage_worker, referral, client):
    client.force_login(triage_worker)
    client.get(f"/casework/referrals/{referral.pk}/")
    row = AccessLog.objects.latest("pk")
    row.action = "edited"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    assert AccessLog.objects.get(pk=row.pk).action == "referral.view"


def test_queryset_update_on_a_tracked_model_is_refused(referral):
    with pytest.raises(TypeError, match="audit history"):
        Referral.objects.filter(pk=referral.pk).update(status="draft")
    with pytest.raises(TypeError):
        Case.objects.all().update(risk_level="low")
    assert Referral.objects.get(pk=referral.pk).status == "submitted"


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_refuses_update_and_delete_on_audit_tables(triage_worker, referral, client):
    client.force_login(triage_worker)
    client.get(f"/casework/referrals/{referral.pk}/")
    for table in ("casework_accesslog", "casework_historicalreferral"):
        for statement in (
            f"UPDATE {table} SET history_id = history_id"
            if "historical" in table
            else f"UPDATE {table} SET action = 'x'",
            f"DELETE FROM {table}",
        ):
            with pytest.raises(Exception, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(statement)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_every_audit_table_has_its_append_only_trigger():
    from django.apps import apps

    tables = {
        m._meta.db_table
        for m in apps.get_app_config("casework").get_models()
        if m.__name__.startswith("Historical") or m.__name__ in ("AccessLog", "TrailUnlock")
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_object_table FROM information_schema.triggers WHERE trigger_name LIKE %s",
            ["%_append_only"],
        )
        guarded = {row[0] for row in cursor.fetchall()}
    assert tables - guarded == set(), "add the trigger in a migration for the new audit table"


def test_removed_team_member_loses_access_on_the_next_request(
    triage_worker, psychologist, case, health_north
):
    member = services.case_add_member(
        actor=triage_worker,
        case=case,
        user=psychologist,
        agency=health_north,
        role="psychologist",
        reason="r",
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    client = _api(psychologist)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    services.case_remove_member(actor=triage_worker, member=member)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert client.get(f"/api/v1/referrals/{case.referrals.get().pk}/").status_code == 404
    row = member.history.latest("history_id")
    assert row.history_change_reason == "casework.case_team.member_removed"
    assert row.history_user == triage_worker


def test_team_access_ends_by_itself_at_the_end_date(
    triage_worker, psychologist, case, health_north
):
    services.case_add_member(
        actor=triage_worker,
        case=case,
        user=psychologist,
        agency=health_north,
        role="psychologist",
        reason="r",
        valid_until=timezone.localdate(),
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    client = _api(psychologist)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2), tick=False):
        assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
        assert case.pk not in [c["id"] for c in client.get("/api/v1/cases/").json()["results"]]


def test_deactivated_user_is_out_on_the_next_request(client, triage_worker, referral):
    client.force_login(triage_worker)
    assert client.get("/casework/queue/").status_code == 200
    triage_worker.is_active = False
    triage_worker.save()
    response = client.get("/casework/queue/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    from knox.models import AuthToken

    _instance, token = AuthToken.objects.create(user=triage_worker)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/queue/").status_code in (401, 403)


def test_ended_membership_closes_the_district_queue(triage_worker, referral):
    client = _api(triage_worker)
    assert client.get("/api/v1/queue/").status_code == 200
    services.membership_deactivate(
        actor=None, membership=Membership.objects.get(user=triage_worker)
    )
    assert client.get("/api/v1/queue/").status_code == 403
    assert client.get(f"/api/v1/referrals/{referral.pk}/").status_code == 404


def test_auditor_reads_the_trails_and_nothing_else(client, auditor, referral, case):
    api = _api(auditor)
    assert api.get(f"/api/v1/referrals/{referral.pk}/history/").status_code == 200
    assert api.get(f"/api/v1/cases/{case.pk}/history/").status_code == 200
    assert api.get(f"/api/v1/cases/{case.pk}/access/").status_code == 200
    assert api.get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
    assert api.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert api.get("/api/v1/referrals/").json()["results"] == []
    assert api.get("/api/v1/cases/").json()["results"] == []
    assert api.get("/api/v1/queue/").status_code == 403
    for url in (
        f"/api/v1/referrals/{referral.pk}/claim/",
        f"/api/v1/referrals/{referral.pk}/decision/",
        f"/api/v1/cases/{case.pk}/close/",
        f"/api/v1/cases/{case.pk}/reviews/",
    ):
        assert api.post(url, {}, format="json").status_code == 404
    client.force_login(auditor)
    assert client.get(f"/casework/cases/{case.pk}/history/").status_code == 200
    assert client.get(f"/casework/cases/{case.pk}/").status_code == 404
    assert ("web", "case.history", "case", case.pk) in _reads(auditor)


def test_auditor_whose_membership_ends_reads_nothing_more(auditor, case):
    api = _api(auditor)
    assert api.get(f"/api/v1/cases/{case.pk}/history/").status_code == 200
    services.membership_deactivate(actor=None, membership=Membership.objects.get(user=auditor))
    # The next request loads the user afresh (no permission cache survives it).
    api = _api(type(auditor).objects.get(pk=auditor.pk))
    assert api.get(f"/api/v1/cases/{case.pk}/history/").status_code == 404


def test_the_auditor_reads_who_when_why_and_which_fields_never_the_values(
    client, auditor, teacher, child, triage_worker
):
    draft = services.referral_create_draft(
        actor=teacher, child=child, **{**FORM, "observations": "Bruises on both arms"}
    )
    api = _api(auditor)
    rows = api.get(f"/api/v1/referrals/{draft.pk}/history/").json()["results"]
    assert rows and rows[0]["reason"] == "casework.referral.drafted"
    fields = {change["field"] for row in rows for change in row["changes"]}
    assert "observations" in fields
    assert "Bruises" not in str(rows)
    assert all(c["old"] is None and c["new"] is None for row in rows for c in row["changes"])
    client.force_login(auditor)
    page = client.get(f"/casework/referrals/{draft.pk}/history/")
    assert page.status_code == 200 and "Bruises" not in page.content.decode()
    # The social side that triages it reads the values once it is sent.
    protocol("referral.submit")(actor=teacher, referral=draft)
    rows = _api(triage_worker).get(f"/api/v1/referrals/{draft.pk}/history/").json()["results"]
    assert "Bruises" in str(rows)


# --- break-glass: the values only for a stated purpose ------------------------------------------

PURPOSE = {
    "purpose": "data_subject",
    "explanation": "Request 2026/114 of the child's mother for a copy.",
}


def test_break_glass_opens_the_values_for_a_while_logged_and_told(
    client, auditor, supervisor, case, triage_worker
):
    from casework.models import Notification, TrailUnlock

    protocol("case.plan")(actor=triage_worker, case=case, objectives="Hot meal at school")
    api = _api(auditor)
    assert "Hot meal" not in str(api.get(f"/api/v1/cases/{case.pk}/history/").json())
    # No purpose, or too short an explanation: refused, nothing recorded.
    for body in (
        {},
        {"purpose": "curiosity", "explanation": PURPOSE["explanation"]},
        {
            "purpose": "complaint",
            "explanation": "because",
        },
    ):
        response = api.post(f"/api/v1/cases/{case.pk}/history/unlock/", body, format="json")
        assert response.status_code == 400, body
    assert not TrailUnlock.objects.exists()
    response = api.post(f"/api/v1/cases/{case.pk}/history/unlock/", PURPOSE, format="json")
    assert response.status_code == 201, response.json()
    assert "Hot meal" in str(api.get(f"/api/v1/cases/{case.pk}/history/").json())
    unlock = TrailUnlock.objects.get()
    assert (unlock.user, unlock.object_type, unlock.object_id) == (auditor, "case", case.pk)
    assert unlock.explanation == PURPOSE["explanation"]
    assert AccessLog.objects.filter(
        user=auditor, action="trail.unlock", object_type="case", object_id=case.pk
    ).exists()
    told = Notification.objects.get(kind=Notification.Kind.TRAIL_UNLOCKED)
    assert (told.recipient, told.case) == (supervisor, case)
    # The reading shows in the case's access report, for the lead and the supervisor.
    report = _api(supervisor).get(f"/api/v1/cases/{case.pk}/access/").json()["results"]
    assert any(row["action"] == "trail.unlock" for row in report)
    # It ends by itself, and the unlock cannot be changed or deleted.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        assert "Hot meal" not in str(api.get(f"/api/v1/cases/{case.pk}/history/").json())
    with pytest.raises(AppendOnlyError):
        unlock.save()
    with pytest.raises(AppendOnlyError):
        unlock.delete()


def test_break_glass_is_one_trail_and_only_for_auditors(
    client, auditor, teacher, triage_worker, referral, queued
):
    from casework.models import TrailUnlock

    _api(auditor).post(f"/api/v1/referrals/{referral.pk}/history/unlock/", PURPOSE, format="json")
    assert "Hungry" in str(_api(auditor).get(f"/api/v1/referrals/{referral.pk}/history/").json())
    other = _api(auditor).get(f"/api/v1/referrals/{queued.pk}/history/").json()["results"]
    assert "Hungry" not in str(other)
    for user in (teacher, triage_worker):
        response = _api(user).post(
            f"/api/v1/referrals/{referral.pk}/history/unlock/", PURPOSE, format="json"
        )
        assert response.status_code in (403, 404)
    assert TrailUnlock.objects.count() == 1


def test_the_auditors_history_page_offers_break_glass(client, auditor, referral):
    client.force_login(auditor)
    page = client.get(f"/casework/referrals/{referral.pk}/history/").content.decode()
    assert "Read the values of this trail" in page and "Hungry" not in page
    response = client.post(f"/casework/referrals/{referral.pk}/history/unlock/", PURPOSE)
    assert response.status_code == 302
    page = client.get(f"/casework/referrals/{referral.pk}/history/").content.decode()
    assert "Hungry" in page and "Read the values of this trail" not in page


def test_a_lead_who_leaves_is_told_to_the_supervisors(case, triage_worker, supervisor):
    from casework.models import Notification

    for membership in Membership.objects.filter(user=triage_worker, active=True):
        services.membership_deactivate(actor=None, membership=membership)
    told = Notification.objects.get(kind=Notification.Kind.LEAD_LEFT)
    assert (told.recipient, told.case) == (supervisor, case)
