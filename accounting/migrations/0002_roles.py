from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounting.roles import ROLES, role_permissions


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrations; create them now so groups can hold them.
    app_config = apps.get_app_config("accounting")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    available = Permission.objects.filter(content_type__app_label="accounting")
    codenames = list(available.values_list("codename", flat=True))
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*available.filter(codename__in=role_permissions(role, codenames)))


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
