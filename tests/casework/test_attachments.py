"""Documents on cases and draft referrals: who may add them, who may download them, the log."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from casework import services
from casework.models import AccessLog, Attachment
from casework.services import TransitionNotAllowed
from tests.conftest import protocol

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


def pdf(name="Luca Bruno report.pdf", size=10):
    return SimpleUploadedFile(name, b"%PDF-1.4 " + b"x" * size, content_type="application/pdf")


@pytest.fixture
def case(teacher, child, triage_worker):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


def test_team_attaches_a_document_and_history_records_it(client, triage_worker, case):
    client.force_login(triage_worker)
    response = client.post(
        f"/casework/cases/{case.pk}/attachments/", {"title": "School report", "file": pdf()}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.case == case and attachment.content_type == "application/pdf"
    assert "Luca" not in attachment.file.name  # the stored name never carries the child's name
    row = attachment.history.get()
    assert row.history_user == triage_worker
    assert row.history_change_reason == "casework.attachment.added"


def test_download_is_logged_and_refused_to_others(client, triage_worker, outsider, teacher, case):
    attachment = services.attachment_add(
        actor=triage_worker, upload=pdf(), title="Report", case=case
    )
    client.force_login(triage_worker)
    response = client.get(f"/casework/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert 'filename="report.pdf"' in response["Content-Disposition"]
    assert AccessLog.objects.filter(
        user=triage_worker, door="download", object_type="case", object_id=case.pk
    ).exists()
    for person in (outsider, teacher):
        client.force_login(person)
        assert client.get(f"/casework/attachments/{attachment.pk}/").status_code == 404
        assert not AccessLog.objects.filter(user=person, door="download").exists()


def test_wrong_type_or_size_is_refused_with_a_message(triage_worker, case, settings):
    exe = SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")
    with pytest.raises(ValidationError) as error:
        services.attachment_add(actor=triage_worker, upload=exe, title="x", case=case)
    assert "file" in error.value.message_dict
    settings.ATTACHMENT_MAX_BYTES = 5
    with pytest.raises(ValidationError):
        services.attachment_add(actor=triage_worker, upload=pdf(), title="x", case=case)
    assert not Attachment.objects.exists()


def test_referrer_attaches_to_a_draft_only(teacher, other_teacher, child):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    services.attachment_add(actor=teacher, upload=pdf(), title="Drawing", referral=draft)
    with pytest.raises(PermissionDenied):
        services.attachment_add(actor=other_teacher, upload=pdf(), title="x", referral=draft)
    protocol("referral.submit")(referral=draft, actor=teacher)
    with pytest.raises(TransitionNotAllowed):
        services.attachment_add(actor=teacher, upload=pdf(), title="Late", referral=draft)
    assert Attachment.objects.count() == 1


def test_outsider_cannot_upload_to_a_case(client, outsider, case):
    client.force_login(outsider)
    response = client.post(f"/casework/cases/{case.pk}/attachments/", {"title": "x", "file": pdf()})
    assert response.status_code == 404
    assert not Attachment.objects.exists()
