"""manage.py backup and restore: the database and the uploaded files together, restored into a
fresh database and an empty media folder, checked against the manifest; on PostgreSQL the
audit triggers survive and the protocol still runs on the restored copy."""

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from casework import services
from ops.backup import BackupError, read_manifest
from tests.conftest import protocol
from tests.ops.test_probes import ROOT

SUBMIT = protocol("referral.submit")
FORM = {
    "concern_categories": ["neglect"],
    "observations": "Often hungry in the morning.",
    "family_informed": True,
    "urgency": "priority",
}

# Run on the restored copy: the protocol goes on (a claim), the audit tables refuse changes.
AFTER = """
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import connection, transaction
from casework.models import Attachment, Referral
from protocols.steps import run_step
referral = Referral.objects.get(status="submitted")
worker = get_user_model().objects.get(username="triage_north")
run_step("referral.claim", obj=referral, actor=worker)
referral.refresh_from_db()
attachment = Attachment.objects.get()
refused = None
if connection.vendor == "postgresql":
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE casework_historicalreferral SET observations = 'x'")
    except Exception as exc:
        refused = str(exc).splitlines()[0]
print(json.dumps({
    "status": referral.status,
    "file": default_storage.open(attachment.file.name).read().decode(),
    "refused": refused,
}))
"""


@pytest.fixture
def journey(tmp_path, settings, teacher, child, triage_worker):
    """A submitted referral with a document, committed (a dump sees only committed rows)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    triage_worker.username = "triage_north"
    triage_worker.save()
    referral = services.referral_create_draft(actor=teacher, child=child, **FORM)
    services.attachment_add(
        actor=teacher,
        referral=referral,
        title="School report",
        upload=SimpleUploadedFile("report.txt", b"the report", content_type="text/plain"),
    )
    return SUBMIT(actor=teacher, referral=referral)


def _manage(*args, env):
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def _env(database_url: str, media) -> dict:
    """The production settings (the test settings pick their own media folder)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "EMAIL_URL": "locmem://",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media),
    }
    env.pop("CELERY_BROKER_URL", None)
    return env


def _database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    )


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip(journey, tmp_path, capsys):
    folder = tmp_path / "backup"
    call_command("backup", output=folder)
    assert "1 uploaded files" in capsys.readouterr().out
    manifest = read_manifest(folder)
    assert manifest["tables"]["casework_referral"] == 1
    assert manifest["tables"]["casework_historicalreferral"] >= 2
    assert manifest["media_files"] == 1
    assert oct(folder.stat().st_mode & 0o777) == "0o700"

    # The same backup twice into one folder: refused, nothing overwritten.
    with pytest.raises(Exception, match="exists"):
        call_command("backup", output=folder)

    media = tmp_path / "restored-media"
    if connection.vendor == "postgresql":
        name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:6]}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        target = _database_url(name)
        assert manifest["append_only_triggers"], "the audit triggers are in the backup"
    else:
        target = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    try:
        env = _env(target, media)
        done = _manage("manage.py", "restore", str(folder), env=env)
        assert done.returncode == 0, done.stderr
        assert "every attachment's file present" in done.stdout
        # A second restore into the now full database is refused.
        again = _manage("manage.py", "restore", str(folder), env=env)
        assert again.returncode != 0 and "is not empty" in again.stderr

        after = _manage("-c", AFTER, env=env)
        assert after.returncode == 0, after.stderr
        result = json.loads(after.stdout.strip().splitlines()[-1])
        assert result["status"] == "in_triage"
        assert result["file"] == "the report"
        if connection.vendor == "postgresql":
            assert "append-only" in result["refused"]
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_damaged_backup_is_refused(tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir()
    with pytest.raises(BackupError, match="manifest.json is missing"):
        read_manifest(folder)
    (folder / "database.dump").write_bytes(b"dump")
    (folder / "manifest.json").write_text(
        json.dumps({"format": 1, "sha256": {"database.dump": "0" * 64}})
    )
    with pytest.raises(BackupError, match="damaged"):
        read_manifest(folder)


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_or_media_folder_in_use(tmp_path, journey):
    folder = tmp_path / "backup"
    call_command("backup", output=folder)
    assert any(settings.MEDIA_ROOT.iterdir())
    with pytest.raises(Exception, match="not empty"):
        call_command("restore", str(folder))
