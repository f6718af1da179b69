"""On PostgreSQL, the database itself refuses UPDATE and DELETE on the audit tables (the read
log and every history table), whatever the application does. TRUNCATE, which only the owner of
the tables can run, is left to the operators (retention purge, test databases)."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION casework_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit table % is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def audit_tables(apps):
    config = apps.get_app_config("casework")
    return [
        model._meta.db_table
        for model in config.get_models()
        if model.__name__.startswith("Historical") or model.__name__ == "AccessLog"
    ]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in audit_tables(apps):
        schema_editor.execute(
            f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION casework_append_only()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in audit_tables(apps):
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS casework_append_only()")


class Migration(migrations.Migration):
    dependencies = [("casework", "0004_access_log")]

    operations = [migrations.RunPython(forwards, backwards)]
