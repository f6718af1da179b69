"""The permission that opens the lead worker's steps (plan, team, proposing closure) was
called close_case; it is lead_case now. Renamed in place, so existing grants keep working."""

from django.db import migrations


def rename(apps, schema_editor, old="close_case", new="lead_case"):
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    case_type = ContentType.objects.filter(app_label="casework", model="case").first()
    if case_type is None:
        return
    if Permission.objects.filter(content_type=case_type, codename=new).exists():
        return
    Permission.objects.filter(content_type=case_type, codename=old).update(
        codename=new, name="Can lead the case: write the plan, change the team, propose closure"
    )


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, old="lead_case", new="close_case")


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0007_access_log_labels"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(rename, rename_back),
        migrations.AlterModelOptions(
            name="case",
            options={
                "ordering": ["-opened_at"],
                "permissions": [
                    ("work_case", "Can work on the case as a team member"),
                    (
                        "lead_case",
                        "Can lead the case: write the plan, change the team, propose closure",
                    ),
                    ("read_audit_trail", "Can read the audit trail of referrals and cases"),
                ],
                "verbose_name": "case",
                "verbose_name_plural": "cases",
            },
        ),
    ]
