"""PostgreSQL: the application's own role cannot erase or rewrite the audit trail.

The test database's tables belong to the superuser that migrated it (the owner's place in
production); the application role is created and granted exactly as `manage.py db_roles`
does, and each test connects as it."""

import os

import pytest
from django.core.management import call_command
from django.db import connection, connections

from casework import db_roles

pytestmark = [pytest.mark.postgres, pytest.mark.skipif("connection.vendor != 'postgresql'")]


@pytest.fixture
def app_role(django_db_setup, django_db_blocker):
    """A fresh application role (roles are shared by the whole server: a unique name, dropped
    afterwards), created and granted through a connection of its own so it is committed."""
    name = f"casework_app_test_{os.getpid()}"
    with django_db_blocker.unblock():
        admin = connections.create_connection("default")
        try:
            with admin.cursor() as cursor:
                cursor.execute(f"DROP ROLE IF EXISTS {name}")
                for statement in db_roles.create_statements(name):
                    cursor.execute(statement)
            db_roles.apply_grants(name, admin)
            yield name
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f"DROP OWNED BY {name}")
                cursor.execute(f"DROP ROLE {name}")
            admin.close()


@pytest.fixture
def as_app(app_role):
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        dbname=settings["NAME"],
        user=app_role,
        autocommit=True,
    ) as app:
        yield app


def refused(app, statement: str) -> bool:
    import psycopg

    try:
        app.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_every_audit_table_refuses_the_runtime_role_anything_but_insert_and_select(as_app):
    tables = db_roles.audit_tables()
    assert "casework_accesslog" in tables and "casework_historicalreferral" in tables
    assert len(tables) >= 15
    for table in tables:
        column = "history_id" if "historical" in table else "id"
        for statement in (
            f"TRUNCATE {table}",
            f"DELETE FROM {table}",
            f"UPDATE {table} SET {column} = {column}",
            f"ALTER TABLE {table} DISABLE TRIGGER ALL",
            f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only",
            f"DROP TRIGGER {table}_append_only ON {table}",
            f"ALTER TABLE {table} OWNER TO CURRENT_USER",
            f"DROP TABLE {table}",
        ):
            assert refused(as_app, statement), statement
        privileges = as_app.execute(
            "SELECT has_table_privilege(%s, 'SELECT'), has_table_privilege(%s, 'INSERT')",
            [table, table],
        ).fetchone()
        assert privileges == (True, True), table
        as_app.execute(f"SELECT count(*) FROM {table}")  # reading works


def test_the_runtime_role_cannot_switch_the_triggers_off_for_its_session(as_app):
    assert refused(as_app, "SET session_replication_role = replica")
    assert refused(as_app, "SET SESSION session_replication_role = 'replica'")
    assert as_app.execute("SHOW session_replication_role").fetchone() == ("origin",)


def test_the_runtime_role_owns_nothing_and_works_the_ordinary_tables(as_app, app_role):
    owned = as_app.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
        [app_role],
    ).fetchone()
    assert owned == (0,)
    superuser, createrole = as_app.execute(
        "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert not superuser and not createrole
    for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        assert as_app.execute(
            "SELECT has_table_privilege('casework_referral', %s)", [privilege]
        ).fetchone() == (True,)
    assert refused(as_app, "TRUNCATE casework_referral")
    assert refused(as_app, "CREATE TABLE casework_sneaky (id int)")
    assert refused(as_app, "DELETE FROM django_migrations")


def test_every_migrate_grants_the_new_tables(app_role, settings, db):
    """post_migrate re-applies the grants when DATABASE_APP_ROLE is set (here, in the test's
    own transaction: what the owner's `migrate` does)."""
    settings.DATABASE_APP_ROLE = app_role

    def may(table, privilege):
        with connection.cursor() as cursor:
            cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [app_role, table, privilege])
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app_role}")
    assert not may("casework_referral", "SELECT")
    db_roles.regrant_after_migrate(sender=None, using="default")
    assert may("casework_referral", "UPDATE") and may("casework_historicalreferral", "INSERT")
    assert not may("casework_historicalreferral", "DELETE")


def test_the_command_prints_the_sql_for_a_dba(capsys, db):
    call_command("db_roles", "sql", "casework_app")
    out = capsys.readouterr().out
    assert 'CREATE ROLE "casework_app" LOGIN NOSUPERUSER' in out
    assert 'REVOKE UPDATE, DELETE ON "casework_accesslog" FROM "casework_app";' in out


@pytest.mark.django_db(transaction=True)
def test_the_application_works_as_the_runtime_role(app_role, client, teacher, child, triage_worker):
    """A referral from draft to case, a document, a page and an API answer, all through a
    connection as the runtime role: its grants are enough for the work, and its writes still
    leave their history and access rows."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casework import services
    from casework.models import AccessLog, Attachment, Referral
    from tests.conftest import protocol

    form = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}
    owner = connection.settings_dict["USER"]
    connection.close()
    connection.settings_dict["USER"] = app_role
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (app_role,)
        draft = services.referral_create_draft(actor=teacher, child=child, **form)
        referral = protocol("referral.submit")(referral=draft, actor=teacher)
        case = protocol("referral.decide")(
            referral=referral, actor=triage_worker, decision="open_case"
        )
        pdf = SimpleUploadedFile("r.pdf", b"%PDF-1.4 report", content_type="application/pdf")
        services.attachment_add(actor=triage_worker, upload=pdf, title="Report", case=case)
        client.force_login(triage_worker)
        assert client.get(f"/casework/cases/{case.pk}/").status_code == 200
        assert client.get(f"/api/v1/referrals/{referral.pk}/").status_code == 200
    finally:
        connection.close()
        connection.settings_dict["USER"] = owner
    assert Referral.objects.get(pk=referral.pk).history.count() >= 3
    assert Attachment.objects.get().history.count() == 1
    assert AccessLog.objects.filter(user=triage_worker).count() >= 2
