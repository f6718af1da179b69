"""Roles and their model-wide permissions. Scope permissions (a district, a school, a case)
are granted per object by casework.permissions; these are the few that are not per object."""

from django.db import migrations

ROLE_PERMISSIONS = {
    "auditor": ["read_audit_trail"],
    "helpline_operator": ["add_contact", "view_contact", "change_contact"],
}


def create_role_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("casework")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=f"role:{role}")
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="casework", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0002_alter_case_options_and_more"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
