"""Backups of the database and the uploaded files together, and their restore.

A backup is a folder: `database.dump` (pg_dump's custom format: tables, data, triggers,
owners and grants) or `database.sqlite3`, `media.tar.gz` (MEDIA_ROOT), and `manifest.json`
(when, which migrations, how many rows in each table, the append-only triggers, a checksum of
each file). The database is dumped first, in one snapshot; the files are copied after it, so
every attachment the dump knows is in the archive (a file uploaded in between is one more,
harmless).

A restore goes into an empty database and an empty MEDIA_ROOT, then checks the result against
the manifest: the same migrations, the same number of rows in every table, every attachment's
file present, and on PostgreSQL the audit tables' append-only triggers in place.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.recorder import MigrationRecorder

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media.tar.gz"
DUMPS = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}


class BackupError(Exception):
    """Something an operator must fix; the message says what, in plain words."""


def _connection():
    return connections[DEFAULT_DB_ALIAS]


def _pg_env_and_args() -> tuple[dict, list[str]]:
    db = _connection().settings_dict
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])  # never on the command line
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return env, [*args, "--no-password"]


def _run(command: list[str], env: dict) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(
            f"{command[0]} is not installed: install the PostgreSQL client tools of the "
            "server's major version (Debian: apt-get install postgresql-client)."
        )
    done = subprocess.run([tool, *command[1:]], env=env, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed:\n{done.stderr.strip()}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- what a database holds -------------------------------------------------------------------


def _tables() -> list[str]:
    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy
        }
    )


def table_counts(cursor=None, existing=None) -> dict[str, int]:
    """Rows in every table the project's models own (history, audit and outbox included)."""
    connection = _connection()
    quote = connection.ops.quote_name
    if cursor is None:
        existing = set(connection.introspection.table_names())
        with connection.cursor() as cursor:
            return table_counts(cursor, existing)
    counts = {}
    for table in _tables():
        if table in existing:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 - model tables
            counts[table] = cursor.fetchone()[0]
    return counts


def _describe_sqlite_file(path: Path) -> dict:
    db = sqlite3.connect(path)
    try:
        cursor = db.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        existing = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT app, name FROM django_migrations")
        migrations = sorted(f"{app}.{name}" for app, name in cursor.fetchall())
        return {
            "migrations": migrations,
            "tables": table_counts(cursor, existing),
            "append_only_triggers": [],
        }
    finally:
        db.close()


def applied_migrations() -> list[str]:
    recorder = MigrationRecorder(_connection())
    return sorted(f"{app}.{name}" for app, name in recorder.applied_migrations())


def append_only_triggers() -> list[str]:
    """The triggers that make the audit tables append-only (casework migration 0005)."""
    connection = _connection()
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s "
            "ORDER BY tgname",
            ["%_append_only"],
        )
        return [row[0] for row in cursor.fetchall()]


def missing_attachment_files() -> list[str]:
    from casework.selectors import attachment_file_names

    return [name for name in attachment_file_names() if not default_storage.exists(name)]


def describe() -> dict:
    return {
        "migrations": applied_migrations(),
        "tables": table_counts(),
        "append_only_triggers": append_only_triggers(),
    }


# --- backup ------------------------------------------------------------------------------------


def backup(folder: Path) -> dict:
    connection = _connection()
    vendor = connection.vendor
    if vendor not in DUMPS:
        raise BackupError(f"Backups of a {vendor} database are not supported.")
    folder.mkdir(parents=True, exist_ok=False)
    os.chmod(folder, 0o700)  # case data: readable by the operator only
    dump = folder / DUMPS[vendor]
    if vendor == "postgresql":
        # pg_dump reads the snapshot of this transaction: the manifest's counts are exactly
        # those of the dump, however busy the site is.
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            state = describe()
            env, args = _pg_env_and_args()
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--file",
                    str(dump),
                    *args,
                ],
                env,
            )
    else:
        connection.ensure_connection()
        target = sqlite3.connect(dump)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        state = _describe_sqlite_file(dump)
    media_root = Path(settings.MEDIA_ROOT)
    media_files = 0
    with tarfile.open(folder / MEDIA, "w:gz") as archive:
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                relative = path.relative_to(media_root)
                if path.is_file() and relative.parts[0] != ".readyz":
                    archive.add(path, arcname=str(relative))
                    media_files += 1
    manifest = {
        "format": FORMAT,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "vendor": vendor,
        "database": DUMPS[vendor],
        "media": MEDIA,
        "media_files": media_files,
        **state,
        "sha256": {name: _sha256(folder / name) for name in (DUMPS[vendor], MEDIA)},
    }
    for path in folder.iterdir():
        os.chmod(path, 0o600)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    os.chmod(folder / MANIFEST, 0o600)
    return manifest


# --- restore -----------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} is not a backup: {MANIFEST} is missing.")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: unknown backup format {manifest.get('format')!r}.")
    for name, expected in manifest["sha256"].items():
        if _sha256(folder / name) != expected:
            raise BackupError(
                f"{folder / name} is damaged: its checksum differs from the manifest."
            )
    return manifest


def _require_empty_target(manifest: dict) -> None:
    connection = _connection()
    if connection.vendor != manifest["vendor"]:
        raise BackupError(
            f"This backup is of a {manifest['vendor']} database; DATABASE_URL points at "
            f"{connection.vendor}."
        )
    if connection.vendor == "postgresql" and connection.introspection.table_names():
        raise BackupError(
            f"The database {connection.settings_dict['NAME']} is not empty. Restore into a new "
            "database (createdb), or drop and create this one first (dropdb, createdb)."
        )
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.exists() and any(media_root.iterdir()):
        raise BackupError(
            f"MEDIA_ROOT ({media_root}) is not empty: restore into an empty folder "
            "(move the old one aside first)."
        )


def _restore_sqlite(source: Path) -> None:
    connection = _connection()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
        if cursor.fetchone()[0]:
            raise BackupError(
                f"The database {connection.settings_dict['NAME']} is not empty: remove the file "
                "or point DATABASE_URL at a new one."
            )
    backup_db = sqlite3.connect(source)
    try:
        backup_db.backup(connection.connection)
    finally:
        backup_db.close()


def restore(folder: Path, *, keep_owners: bool = True) -> dict:
    """Restore, then check. Returns {"problems": [...], "restored": describe()}."""
    manifest = read_manifest(folder)
    _require_empty_target(manifest)
    source = folder / manifest["database"]
    if manifest["vendor"] == "postgresql":
        env, args = _pg_env_and_args()
        owners = [] if keep_owners else ["--no-owner", "--no-privileges"]
        _run(
            ["pg_restore", "--exit-on-error", "--single-transaction", *owners, *args, str(source)],
            env,
        )
    else:
        _restore_sqlite(source)
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / manifest["media"], "r:gz") as archive:
        archive.extractall(media_root, filter="data")
    _connection().close()  # read what was restored, not a cached view
    return {"problems": check(manifest), "restored": describe()}


def check(manifest: dict) -> list[str]:
    """What differs between the restored installation and the manifest."""
    problems = []
    now = describe()
    if now["migrations"] != manifest["migrations"]:
        problems.append("the applied migrations differ from the backup's")
    for table, count in manifest["tables"].items():
        restored = now["tables"].get(table)
        if restored != count:
            problems.append(f"table {table}: {restored} rows, the backup had {count}")
    if now["append_only_triggers"] != manifest["append_only_triggers"]:
        problems.append(
            "the audit tables' append-only triggers differ: "
            f"{len(now['append_only_triggers'])} now, {len(manifest['append_only_triggers'])} "
            "in the backup"
        )
    missing = missing_attachment_files()
    if missing:
        problems.append(f"{len(missing)} attachment files missing from MEDIA_ROOT")
    return problems
