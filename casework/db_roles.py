"""Two PostgreSQL roles, so that whoever holds the application's credentials cannot erase the
audit trail.

- The **owner** role owns every table: it runs `migrate`, and nothing else.
- The **application** role (`DATABASE_APP_ROLE`) is what the web and Celery processes connect
  as. It owns nothing — so it cannot `ALTER TABLE … DISABLE TRIGGER`, drop the append-only
  triggers or change a table — and is no superuser, so it cannot
  `SET session_replication_role` (which would skip the triggers). It reads and writes the
  working tables, and may only read and add rows in the audit tables (every history table and
  the access log): no UPDATE, DELETE or TRUNCATE there.

`grant_statements()` is idempotent and is re-applied after every `migrate` when
DATABASE_APP_ROLE is set (new tables get their grants at once). See docs/operations.md.
"""

from __future__ import annotations

import re

from django.apps import apps
from django.db import connection as default_connection

APPEND_ONLY_MODELS = ("AccessLog", "TrailUnlock", "PurgeRecord")
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def audit_tables() -> list[str]:
    """Every history table (django-simple-history), the access log, the trail unlocks and the
    purge register: append-only."""
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if (model._meta.app_label == "casework" and model.__name__ in APPEND_ONLY_MODELS)
        or model.__name__.startswith("Historical")
    )


def check_role_name(role: str) -> str:
    if not ROLE_NAME.match(role):
        raise ValueError(f"{role!r} is not a plain role name (lower-case letters, digits, _)")
    return role


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_statements(app_role: str) -> list[str]:
    """Run once by a superuser (or a role with CREATEROLE): the application role itself."""
    role = _quote(check_role_name(app_role))
    return [
        f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        # PostgreSQL before 15 lets everyone create tables in public.
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    ]


def grant_statements(app_role: str, database: str, existing: set[str]) -> list[str]:
    """Run by the owner of the tables, after every migrate. `existing`: the tables there are
    (before the first migrate, none)."""
    role = _quote(check_role_name(app_role))
    statements = [
        f"GRANT CONNECT ON DATABASE {_quote(database)} TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]
    if "django_migrations" in existing:  # the owner's business
        statements.append(f"REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {role}")
    statements += [
        f"REVOKE UPDATE, DELETE ON {_quote(table)} FROM {role}"
        for table in audit_tables()
        if table in existing
    ]
    return statements


def statements_for(app_role: str, connection=default_connection) -> list[str]:
    existing = set(connection.introspection.table_names())
    return grant_statements(app_role, connection.settings_dict["NAME"], existing)


def apply_grants(app_role: str, connection=default_connection) -> int:
    """Grant the application role what it needs and no more; returns the statements run."""
    statements = statements_for(app_role, connection)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return len(statements)


def regrant_after_migrate(sender, using="default", **kwargs):
    """post_migrate: tables a migration created get the application role's grants at once."""
    from django.conf import settings
    from django.db import connections

    connection = connections[using]
    if settings.DATABASE_APP_ROLE and connection.vendor == "postgresql":
        apply_grants(settings.DATABASE_APP_ROLE, connection)
