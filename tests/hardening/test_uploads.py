"""Uploads are judged by their bytes, not by what the browser declares; the profile page takes
no avatar."""

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from casework import services
from casework.models import Attachment
from tests.conftest import protocol

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}
# The start of a Windows program: the DOS header, then the PE signature.
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 46 + b"PE\x00\x00"
REFUSED = "Attach a PDF, an image (JPEG, PNG), a text or a word-processor file."


def stored_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {path for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def case(teacher, child, triage_worker):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


def odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def test_an_executable_declared_as_pdf_is_refused_and_nothing_is_stored(
    client, triage_worker, case
):
    before = stored_files()
    disguised = SimpleUploadedFile("report.pdf", EXECUTABLE, content_type="application/pdf")
    client.force_login(triage_worker)
    response = client.post(
        f"/casework/cases/{case.pk}/attachments/",
        {"title": "Report", "file": disguised},
        follow=True,
    )
    assert response.redirect_chain == [(f"/casework/cases/{case.pk}/", 302)]
    assert REFUSED in response.content.decode()  # the case page, with the field's message
    assert "Document attached." not in response.content.decode()
    assert not Attachment.objects.exists()
    assert stored_files() == before
    assert not case.history.filter(history_change_reason="casework.attachment.added").exists()

    # The API and the service say the same, on the field.
    disguised.seek(0)
    with pytest.raises(ValidationError) as error:
        services.attachment_add(actor=triage_worker, upload=disguised, title="x", case=case)
    assert error.value.message_dict == {"file": [REFUSED]}
    assert stored_files() == before


@pytest.mark.parametrize(
    "content",
    [
        b"\x7fELF\x02\x01\x01" + b"\x00" * 60,  # a Linux program
        b"PK\x03\x04" + b"\x00" * 40,  # a bare ZIP archive
        b"plain text with a \x00 byte",  # binary posing as text
    ],
    ids=["elf", "zip", "nul"],
)
def test_other_disguises_are_refused(triage_worker, case, content):
    upload = SimpleUploadedFile("notes.txt", content, content_type="text/plain")
    with pytest.raises(ValidationError):
        services.attachment_add(actor=triage_worker, upload=upload, title="x", case=case)
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("content", "declared", "stored_as"),
    [
        (b"%PDF-1.7\n" + b"x" * 50, "application/octet-stream", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "application/pdf", "image/png"),
        ("Appunti: è andata bene.\n".encode(), "", "text/plain"),
        (odt(), "application/zip", "application/vnd.oasis.opendocument.text"),
    ],
    ids=["pdf", "png", "text", "odt"],
)
def test_the_stored_type_is_what_the_content_is(triage_worker, case, content, declared, stored_as):
    upload = SimpleUploadedFile("file", content, content_type=declared)
    attachment = services.attachment_add(actor=triage_worker, upload=upload, title="x", case=case)
    assert attachment.content_type == stored_as
    with attachment.file.open("rb") as stored:
        assert stored.read() == content


def test_the_profile_page_takes_no_avatar(client, teacher):
    before = stored_files()
    client.force_login(teacher)
    page = client.get("/accounts/profile/")
    assert page.status_code == 200
    assert 'name="avatar"' not in page.content.decode()
    png = SimpleUploadedFile("me.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png")
    response = client.post("/accounts/profile/", {"avatar": png})
    assert response.status_code == 405
    assert stored_files() == before
