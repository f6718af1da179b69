"""Sessions with their user's id (casework.models.sessions): the sessions in force move over
from django_session, so that nobody signed in is signed out by the upgrade."""

from django.db import migrations, models
from django.utils import timezone


def move_sessions(apps, schema_editor):
    from django.contrib.sessions.backends.db import SessionStore

    Old = apps.get_model("sessions", "Session")
    New = apps.get_model("casework", "UserSession")
    decode = SessionStore().decode
    batch = []
    for old in Old.objects.filter(expire_date__gt=timezone.now()).iterator():
        user_id = str(decode(old.session_data).get("_auth_user_id") or "")
        batch.append(
            New(
                session_key=old.session_key,
                session_data=old.session_data,
                expire_date=old.expire_date,
                user_id=int(user_id) if user_id.isdigit() else None,
            )
        )
    New.objects.bulk_create(batch, batch_size=500)
    Old.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0025_protocol_one_source"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="UserSession",
            fields=[
                (
                    "session_key",
                    models.CharField(
                        max_length=40, primary_key=True, serialize=False, verbose_name="session key"
                    ),
                ),
                ("session_data", models.TextField(verbose_name="session data")),
                ("expire_date", models.DateTimeField(db_index=True, verbose_name="expire date")),
                (
                    "user_id",
                    models.IntegerField(
                        blank=True, db_index=True, null=True, verbose_name="user id"
                    ),
                ),
            ],
            options={
                "verbose_name": "session",
                "verbose_name_plural": "sessions",
                "abstract": False,
            },
        ),
        migrations.RunPython(move_sessions, migrations.RunPython.noop, elidable=True),
    ]
