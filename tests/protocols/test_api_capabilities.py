"""What the pages do, through the API: notes, action updates, team removal, draft deletion,
documents, notifications and the people one may name — each with its refusals."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casework import services
from casework.models import AccessLog, Attachment, CaseTeamMember, Note, Notification, Referral
from tests.conftest import protocol

pytestmark = pytest.mark.django_db


def pdf(name="Luca Bruno.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 " + b"x" * 32, content_type="application/pdf")


@pytest.fixture
def case(teacher, child, triage_worker):
    draft = services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="Hungry",
        family_informed=True,
    )
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


def last_reason(obj):
    return obj.history.order_by("-history_id").first().history_change_reason


def test_the_team_writes_a_note_kept_as_written_with_its_history(api, case, triage_worker):
    body = "  Met the mother.\n\tShe will call back. "
    response = api(triage_worker).post(
        f"/api/v1/cases/{case.pk}/notes/", {"body": body}, format="json"
    )
    assert response.status_code == 201, response.json()
    note = Note.objects.get()
    assert (note.body, note.case, note.author) == (body, case, triage_worker)
    assert last_reason(note) == "casework.note.added"
    listed = api(triage_worker).get(f"/api/v1/cases/{case.pk}/notes/").json()["results"]
    assert [row["body"] for row in listed] == [body]


def test_outsiders_and_the_referrer_cannot_read_or_write_notes(api, case, outsider, teacher):
    for user in (outsider, teacher):
        client = api(user)
        assert client.get(f"/api/v1/cases/{case.pk}/notes/").status_code == 404
        response = client.post(f"/api/v1/cases/{case.pk}/notes/", {"body": "x"}, format="json")
        assert response.status_code == 404
    assert not Note.objects.exists()


def test_an_empty_note_is_refused(api, case, triage_worker):
    response = api(triage_worker).post(
        f"/api/v1/cases/{case.pk}/notes/", {"body": "   "}, format="json"
    )
    assert response.status_code == 400
    assert "body" in response.json()


def test_the_team_updates_an_action(api, case, triage_worker, social_north):
    action = services.case_add_action(
        actor=triage_worker, case=case, objective="Home visit", owning_agency=social_north
    )
    url = f"/api/v1/cases/{case.pk}/actions/{action.pk}/"
    response = api(triage_worker).patch(
        url, {"status": "in_progress", "progress_note": "Met"}, format="json"
    )
    assert response.status_code == 200, response.json()
    action.refresh_from_db()
    assert action.status == "in_progress" and action.progress_notes.endswith(": Met")
    assert last_reason(action) == "casework.action.updated"
    assert api(triage_worker).patch(url, {"status": "bogus"}, format="json").status_code == 400
    assert api(triage_worker).patch(url, {"owner": 1}, format="json").status_code == 400


def test_an_action_of_another_case_is_not_found(api, case, triage_worker):
    response = api(triage_worker).patch(
        f"/api/v1/cases/{case.pk}/actions/999999/", {"status": "done"}, format="json"
    )
    assert response.status_code == 404


def test_the_lead_removes_a_member_and_cannot_remove_the_lead(
    api, case, triage_worker, psychologist, health_north
):
    member = services.case_add_member(
        actor=triage_worker,
        case=case,
        user=psychologist,
        agency=health_north,
        role="psychologist",
        reason="Assessment",
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    # A team member who is not the lead may not change the team.
    assert api(psychologist).delete(f"/api/v1/cases/{case.pk}/team/{member.pk}/").status_code == 403
    client = api(triage_worker)
    assert client.delete(f"/api/v1/cases/{case.pk}/team/{member.pk}/").status_code == 204
    member.refresh_from_db()
    assert member.removed_at is not None
    assert last_reason(member) == "casework.case_team.member_removed"
    assert client.delete(f"/api/v1/cases/{case.pk}/team/{member.pk}/").status_code == 409
    lead = CaseTeamMember.objects.get(case=case, role=CaseTeamMember.CaseRole.LEAD)
    assert client.delete(f"/api/v1/cases/{case.pk}/team/{lead.pk}/").status_code == 409


def test_the_author_deletes_a_draft_and_nothing_else(api, teacher, other_teacher, file_referral):
    draft = file_referral(teacher, submit=False)
    sent = file_referral(teacher)
    assert api(other_teacher).post(f"/api/v1/referrals/{draft}/delete/").status_code == 404
    assert api(teacher).post(f"/api/v1/referrals/{sent}/delete/").status_code == 409
    assert api(teacher).post(f"/api/v1/referrals/{draft}/delete/").status_code == 204
    assert Referral.objects.get(pk=draft).deleted_at is not None
    assert last_reason(Referral.objects.get(pk=draft)) == "casework.referral.draft_deleted"
    assert api(teacher).get(f"/api/v1/referrals/{draft}/").status_code == 404


def test_case_documents_upload_list_and_logged_download(api, case, triage_worker, outsider):
    client = api(triage_worker)
    url = f"/api/v1/cases/{case.pk}/attachments/"
    response = client.post(url, {"title": "School report", "file": pdf()}, format="multipart")
    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get()
    assert last_reason(attachment) == "casework.attachment.added"
    assert "Luca" not in attachment.file.name  # the stored name is a random token
    assert [row["title"] for row in client.get(url).json()["results"]] == ["School report"]
    download = client.get(response.json()["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert AccessLog.objects.filter(
        user=triage_worker, action="attachment.download", object_id=case.pk
    ).exists()
    assert api(outsider).get(response.json()["download"]).status_code == 404
    assert api(outsider).get(url).status_code == 404


def test_a_document_of_the_wrong_type_or_with_extra_fields_is_refused(api, case, triage_worker):
    client = api(triage_worker)
    url = f"/api/v1/cases/{case.pk}/attachments/"
    fake = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(url, {"title": "Report", "file": fake}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    response = client.post(url, {"title": "Report", "file": pdf(), "case": 3}, format="multipart")
    assert response.status_code == 400 and "case" in response.json()
    assert not Attachment.objects.exists()


def test_referral_documents_while_a_draft_by_its_author(api, teacher, other_teacher, file_referral):
    draft = file_referral(teacher, submit=False)
    url = f"/api/v1/referrals/{draft}/attachments/"
    response = api(teacher).post(url, {"title": "Note", "file": pdf()}, format="multipart")
    assert response.status_code == 201, response.json()
    assert api(teacher).get(url).json()["count"] == 1
    assert (
        api(other_teacher).post(url, {"title": "N", "file": pdf()}, format="multipart").status_code
        == 404
    )
    api(teacher).post(f"/api/v1/referrals/{draft}/submit/")
    response = api(teacher).post(url, {"title": "Late", "file": pdf()}, format="multipart")
    assert response.status_code == 409
    assert Attachment.objects.count() == 1


def test_notifications_are_the_callers_own(api, teacher, other_teacher):
    mine = Notification.objects.create(recipient=teacher, kind=Notification.Kind.FEEDBACK)
    Notification.objects.create(recipient=other_teacher, kind=Notification.Kind.FEEDBACK)
    client = api(teacher)
    rows = client.get("/api/v1/notifications/").json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]
    assert client.get("/api/v1/notifications/?unread=1").json()["results"][0]["read_at"] is None
    assert api(other_teacher).post(f"/api/v1/notifications/{mine.pk}/read/").status_code == 404
    response = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"]
    assert client.get("/api/v1/notifications/?unread=1").json()["results"] == []
    assert client.get("/api/v1/notifications/?unread=x").status_code == 400


def test_candidates_are_for_the_team_and_scoped_to_the_district(
    api, case, triage_worker, psychologist, outsider, teacher
):
    response = api(triage_worker).get(f"/api/v1/cases/{case.pk}/candidates/")
    assert response.status_code == 200
    body = response.json()
    team = {row["id"] for row in body["team"]}
    assert psychologist.pk in team and outsider.pk not in team
    assert {row["district"] for row in body["agencies"]} == {"north"} or all(
        row["district"] in ("north", None) for row in body["agencies"]
    )
    assert api(outsider).get(f"/api/v1/cases/{case.pk}/candidates/").status_code == 404
    assert api(teacher).get(f"/api/v1/cases/{case.pk}/candidates/").status_code == 404


def test_the_lead_brings_the_review_forward_and_the_team_may_review_at_once(
    api, case, triage_worker, supervisor, psychologist, health_north, outsider, teacher
):
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Meals")
    case.refresh_from_db()
    set_for = case.next_review_at
    services.case_add_member(
        actor=triage_worker, case=case, user=psychologist, agency=health_north,
        role="psychologist", reason="Assessment", legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )  # fmt: skip
    url = f"/api/v1/cases/{case.pk}/reviews/forward/"
    today = timezone.localdate().isoformat()
    # A team member who does not lead: 403, said why; outside the case: 404 as for any case.
    response = api(psychologist).post(url, {"review_on": today}, format="json")
    assert response.status_code == 403 and response.json()["detail"]
    for user in (outsider, teacher):
        response = api(user).post(url, {"review_on": today}, format="json")
        assert response.status_code == 404 and response.json()["detail"]
    # A day in the past, or later than the one set: 400 on the field.
    response = api(triage_worker).post(url, {"review_on": "2020-01-01"}, format="json")
    assert response.status_code == 400 and "review_on" in response.json()
    later = (set_for + datetime.timedelta(days=3)).date().isoformat()
    response = api(triage_worker).post(url, {"review_on": later}, format="json")
    assert response.status_code == 400 and "review_on" in response.json()
    case.refresh_from_db()
    assert case.next_review_at == set_for  # nothing changed by the refusals

    response = api(supervisor).post(url, {"review_on": today}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["review_due"] is True
    case.refresh_from_db()
    assert timezone.localdate(case.next_review_at) == timezone.localdate()
    assert last_reason(case) == "casework.case.review_brought_forward"
    # Due already: bringing it forward again is not allowed in this state.
    response = api(triage_worker).post(url, {"review_on": today}, format="json")
    assert response.status_code == 409
    assert "already due" in response.json()["detail"]
    review = {"risk_level": "medium", "decision": "continue", "attendees": "Team"}
    response = api(psychologist).post(f"/api/v1/cases/{case.pk}/reviews/", review, format="json")
    assert response.status_code == 201, response.json()
