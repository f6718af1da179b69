"""The directory the network keeps (initiatives, neighbourhoods, the network coordinators'
scope), the agencies' referents, the helpline's opening hours (seed 004: Tuesday, Thursday,
Friday 10:00-13:30) and the contact form's new fields."""

import datetime


import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


NEW_HISTORY_TABLES = ("casework_historicalreferent", "casework_historicalhelplinehours")


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in NEW_HISTORY_TABLES:
        schema_editor.execute(
            f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION casework_append_only()"
        )


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in NEW_HISTORY_TABLES:
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"')


def seed_helpline_hours(apps, schema_editor):
    HelplineHours = apps.get_model("casework", "HelplineHours")
    if HelplineHours.objects.exists():
        return
    for weekday in (1, 3, 4):  # Tuesday, Thursday, Friday
        HelplineHours.objects.create(
            weekday=weekday, opens_at=datetime.time(10, 0), closes_at=datetime.time(13, 30)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0016_access_log_lists_and_reminders_in_sql"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HelplineHours",
            fields=[
                (
                    "id",
                    models.AutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "weekday",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (0, "Monday"),
                            (1, "Tuesday"),
                            (2, "Wednesday"),
                            (3, "Thursday"),
                            (4, "Friday"),
                            (5, "Saturday"),
                            (6, "Sunday"),
                        ],
                        verbose_name="day",
                    ),
                ),
                ("opens_at", models.TimeField(verbose_name="opens at")),
                ("closes_at", models.TimeField(verbose_name="closes at")),
            ],
            options={
                "verbose_name": "helpline opening hours",
                "verbose_name_plural": "helpline opening hours",
                "ordering": ["weekday", "opens_at"],
            },
        ),
        migrations.CreateModel(
            name="HistoricalHelplineHours",
            fields=[
                (
                    "id",
                    models.IntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "weekday",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (0, "Monday"),
                            (1, "Tuesday"),
                            (2, "Wednesday"),
                            (3, "Thursday"),
                            (4, "Friday"),
                            (5, "Saturday"),
                            (6, "Sunday"),
                        ],
                        verbose_name="day",
                    ),
                ),
                ("opens_at", models.TimeField(verbose_name="opens at")),
                ("closes_at", models.TimeField(verbose_name="closes at")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
            ],
            options={
                "verbose_name": "historical helpline opening hours",
                "verbose_name_plural": "historical helpline opening hours",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalReferent",
            fields=[
                (
                    "id",
                    models.IntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "topic",
                    models.CharField(
                        choices=[
                            ("child_protection", "Child protection (school referent)"),
                            ("on_duty", "On-duty social worker"),
                            ("social_service", "Social worker for the school"),
                            ("neuropsychiatry", "Child neuropsychiatry (UONPIA)"),
                            ("health", "Health"),
                            ("inclusion", "Inclusion and special needs"),
                            ("helpline", "Helpline and information"),
                            ("other", "Other"),
                        ],
                        db_index=True,
                        max_length=32,
                        verbose_name="topic",
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                ("role_title", models.CharField(blank=True, max_length=200, verbose_name="role")),
                ("phone", models.CharField(blank=True, max_length=40, verbose_name="phone")),
                ("email", models.EmailField(blank=True, max_length=254, verbose_name="e-mail")),
                (
                    "hours",
                    models.CharField(blank=True, max_length=200, verbose_name="when to call"),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
            ],
            options={
                "verbose_name": "historical referent",
                "verbose_name_plural": "historical referents",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="Referent",
            fields=[
                (
                    "id",
                    models.AutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "topic",
                    models.CharField(
                        choices=[
                            ("child_protection", "Child protection (school referent)"),
                            ("on_duty", "On-duty social worker"),
                            ("social_service", "Social worker for the school"),
                            ("neuropsychiatry", "Child neuropsychiatry (UONPIA)"),
                            ("health", "Health"),
                            ("inclusion", "Inclusion and special needs"),
                            ("helpline", "Helpline and information"),
                            ("other", "Other"),
                        ],
                        db_index=True,
                        max_length=32,
                        verbose_name="topic",
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                ("role_title", models.CharField(blank=True, max_length=200, verbose_name="role")),
                ("phone", models.CharField(blank=True, max_length=40, verbose_name="phone")),
                ("email", models.EmailField(blank=True, max_length=254, verbose_name="e-mail")),
                (
                    "hours",
                    models.CharField(blank=True, max_length=200, verbose_name="when to call"),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
            ],
            options={
                "verbose_name": "referent",
                "verbose_name_plural": "referents",
                "ordering": ["agency__name", "topic", "name"],
            },
        ),
        migrations.AlterModelOptions(
            name="district",
            options={
                "ordering": ["name"],
                "permissions": [
                    ("triage_district", "Can triage the referrals of the district"),
                    ("supervise_district", "Can supervise the district"),
                    ("keep_directory", "Can keep the district's directory of services"),
                ],
                "verbose_name": "district",
                "verbose_name_plural": "districts",
            },
        ),
        migrations.AddField(
            model_name="contact",
            name="age_band",
            field=models.CharField(
                blank=True,
                choices=[
                    ("0-2", "0–2 years"),
                    ("3-5", "3–5 years"),
                    ("6-10", "6–10 years"),
                    ("11-13", "11–13 years"),
                    ("14-17", "14–17 years"),
                    ("18+", "18 and over"),
                    ("", "Not known"),
                ],
                max_length=8,
                verbose_name="age of the child",
            ),
        ),
        migrations.AddField(
            model_name="contact",
            name="caller",
            field=models.CharField(
                choices=[
                    ("family", "Family"),
                    ("institution", "Institution"),
                    ("professional", "Professional"),
                ],
                default="family",
                max_length=16,
                verbose_name="who called",
            ),
        ),
        migrations.AddField(
            model_name="contact",
            name="follow_up",
            field=models.TextField(blank=True, verbose_name="follow-up"),
        ),
        migrations.AddField(
            model_name="contact",
            name="outside_hours",
            field=models.BooleanField(
                default=False,
                help_text="Logged at a time the helpline is not open.",
                verbose_name="outside opening hours",
            ),
        ),
        migrations.AddField(
            model_name="historicalcontact",
            name="age_band",
            field=models.CharField(
                blank=True,
                choices=[
                    ("0-2", "0–2 years"),
                    ("3-5", "3–5 years"),
                    ("6-10", "6–10 years"),
                    ("11-13", "11–13 years"),
                    ("14-17", "14–17 years"),
                    ("18+", "18 and over"),
                    ("", "Not known"),
                ],
                max_length=8,
                verbose_name="age of the child",
            ),
        ),
        migrations.AddField(
            model_name="historicalcontact",
            name="caller",
            field=models.CharField(
                choices=[
                    ("family", "Family"),
                    ("institution", "Institution"),
                    ("professional", "Professional"),
                ],
                default="family",
                max_length=16,
                verbose_name="who called",
            ),
        ),
        migrations.AddField(
            model_name="historicalcontact",
            name="follow_up",
            field=models.TextField(blank=True, verbose_name="follow-up"),
        ),
        migrations.AddField(
            model_name="historicalcontact",
            name="outside_hours",
            field=models.BooleanField(
                default=False,
                help_text="Logged at a time the helpline is not open.",
                verbose_name="outside opening hours",
            ),
        ),
        migrations.AddField(
            model_name="historicalservice",
            name="cost",
            field=models.CharField(
                blank=True,
                help_text="Empty when free of charge.",
                max_length=200,
                verbose_name="cost",
            ),
        ),
        migrations.AddField(
            model_name="historicalservice",
            name="ends_on",
            field=models.DateField(blank=True, null=True, verbose_name="ends on"),
        ),
        migrations.AddField(
            model_name="historicalservice",
            name="entry_type",
            field=models.CharField(
                choices=[("service", "Service"), ("project", "Project"), ("event", "Event")],
                default="service",
                max_length=16,
                verbose_name="type",
            ),
        ),
        migrations.AddField(
            model_name="historicalservice",
            name="how_to_access",
            field=models.TextField(blank=True, verbose_name="how to access"),
        ),
        migrations.AddField(
            model_name="historicalservice",
            name="neighbourhood",
            field=models.CharField(blank=True, max_length=100, verbose_name="neighbourhood"),
        ),
        migrations.AddField(
            model_name="historicalservice",
            name="recurrence",
            field=models.CharField(
                choices=[
                    ("ongoing", "Ongoing"),
                    ("one_off", "One-off"),
                    ("recurring", "Recurring"),
                ],
                default="ongoing",
                max_length=16,
                verbose_name="recurrence",
            ),
        ),
        migrations.AddField(
            model_name="historicalservice",
            name="starts_on",
            field=models.DateField(blank=True, null=True, verbose_name="starts on"),
        ),
        migrations.AddField(
            model_name="historicalservice",
            name="website",
            field=models.URLField(blank=True, verbose_name="web site"),
        ),
        migrations.AddField(
            model_name="service",
            name="cost",
            field=models.CharField(
                blank=True,
                help_text="Empty when free of charge.",
                max_length=200,
                verbose_name="cost",
            ),
        ),
        migrations.AddField(
            model_name="service",
            name="ends_on",
            field=models.DateField(blank=True, null=True, verbose_name="ends on"),
        ),
        migrations.AddField(
            model_name="service",
            name="entry_type",
            field=models.CharField(
                choices=[("service", "Service"), ("project", "Project"), ("event", "Event")],
                default="service",
                max_length=16,
                verbose_name="type",
            ),
        ),
        migrations.AddField(
            model_name="service",
            name="how_to_access",
            field=models.TextField(blank=True, verbose_name="how to access"),
        ),
        migrations.AddField(
            model_name="service",
            name="neighbourhood",
            field=models.CharField(blank=True, max_length=100, verbose_name="neighbourhood"),
        ),
        migrations.AddField(
            model_name="service",
            name="recurrence",
            field=models.CharField(
                choices=[
                    ("ongoing", "Ongoing"),
                    ("one_off", "One-off"),
                    ("recurring", "Recurring"),
                ],
                default="ongoing",
                max_length=16,
                verbose_name="recurrence",
            ),
        ),
        migrations.AddField(
            model_name="service",
            name="starts_on",
            field=models.DateField(blank=True, null=True, verbose_name="starts on"),
        ),
        migrations.AddField(
            model_name="service",
            name="website",
            field=models.URLField(blank=True, verbose_name="web site"),
        ),
        migrations.AlterField(
            model_name="historicalmembership",
            name="role",
            field=models.CharField(
                choices=[
                    ("teacher", "Teacher"),
                    ("school_referent", "School referent"),
                    ("social_worker", "Social worker"),
                    ("triage_coordinator", "Triage coordinator"),
                    ("psychologist", "Psychologist"),
                    ("educator", "Educator"),
                    ("pedagogical_referent", "Pedagogical referent"),
                    ("health_professional", "Health professional"),
                    ("supervisor", "Supervisor"),
                    ("helpline_operator", "Helpline operator"),
                    ("network_coordinator", "Network coordinator"),
                    ("auditor", "Auditor"),
                ],
                db_index=True,
                max_length=32,
                verbose_name="role",
            ),
        ),
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[
                    ("teacher", "Teacher"),
                    ("school_referent", "School referent"),
                    ("social_worker", "Social worker"),
                    ("triage_coordinator", "Triage coordinator"),
                    ("psychologist", "Psychologist"),
                    ("educator", "Educator"),
                    ("pedagogical_referent", "Pedagogical referent"),
                    ("health_professional", "Health professional"),
                    ("supervisor", "Supervisor"),
                    ("helpline_operator", "Helpline operator"),
                    ("network_coordinator", "Network coordinator"),
                    ("auditor", "Auditor"),
                ],
                db_index=True,
                max_length=32,
                verbose_name="role",
            ),
        ),
        migrations.AddConstraint(
            model_name="service",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("starts_on__isnull", True),
                    ("ends_on__isnull", True),
                    ("starts_on__lte", models.F("ends_on")),
                    _connector="OR",
                ),
                name="service_dates_ordered",
            ),
        ),
        migrations.AddConstraint(
            model_name="helplinehours",
            constraint=models.CheckConstraint(
                condition=models.Q(("opens_at__lt", models.F("closes_at"))),
                name="helpline_hours_ordered",
            ),
        ),
        migrations.AddField(
            model_name="historicalhelplinehours",
            name="history_user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalreferent",
            name="agency",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="casework.agency",
                verbose_name="agency",
            ),
        ),
        migrations.AddField(
            model_name="historicalreferent",
            name="history_user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalreferent",
            name="school",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Empty: the referent for every school of the district.",
                limit_choices_to={"kind": "school"},
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="casework.agency",
                verbose_name="for the school",
            ),
        ),
        migrations.AddField(
            model_name="referent",
            name="agency",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="referents",
                to="casework.agency",
                verbose_name="agency",
            ),
        ),
        migrations.AddField(
            model_name="referent",
            name="school",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty: the referent for every school of the district.",
                limit_choices_to={"kind": "school"},
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="referents_for",
                to="casework.agency",
                verbose_name="for the school",
            ),
        ),
        migrations.AddIndex(
            model_name="referent",
            index=models.Index(fields=["agency", "topic"], name="casework_re_agency__a83f9b_idx"),
        ),
        migrations.RunPython(append_only, drop_append_only),
        migrations.RunPython(seed_helpline_hours, migrations.RunPython.noop),
    ]
