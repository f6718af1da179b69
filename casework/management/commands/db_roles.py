"""Set up the application's PostgreSQL role (docs/operations.md, "Two database roles").

manage.py db_roles create casework_app   # as a superuser: the role, then its grants
manage.py db_roles grant casework_app    # as the owner of the tables: the grants again
manage.py db_roles sql casework_app      # print the SQL instead, for a DBA to run
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from casework import db_roles


class Command(BaseCommand):
    help = "Create the application's database role and grant it only what it needs."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "grant", "sql"])
        parser.add_argument("role", help="the application role, e.g. casework_app")

    def handle(self, *args, action, role, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are a PostgreSQL feature: DATABASE_URL is not one.")
        try:
            db_roles.check_role_name(role)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        grants = db_roles.statements_for(role, connection)
        if action == "sql":
            for statement in db_roles.create_statements(role) + grants:
                self.stdout.write(statement + ";")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            if action == "create":
                for statement in db_roles.create_statements(role):
                    cursor.execute(statement)
            db_roles.apply_grants(role, connection)
        self.stdout.write(
            f"Role {role}: read and write on the working tables, read and insert only on "
            f"{len(db_roles.audit_tables())} audit tables, owns nothing."
        )
