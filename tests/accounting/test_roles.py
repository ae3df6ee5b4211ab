import pytest
from django.contrib.auth.models import Group, User

from accounting import roles

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", roles.ROLES)
def test_the_migration_created_each_role_with_both_custom_permissions(role):
    user = User.objects.create_user("u", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    assert user.has_perm("accounting.manage_company_profile")
    assert user.has_perm("accounting.billing")
    assert user.has_perm("accounting.view_load")
    assert user.has_perm("accounting.change_load")


def test_support_reads_everything_but_cannot_delete_or_change_subsidiaries():
    user = User.objects.create_user("s", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.SUPPORT))
    assert user.has_perm("accounting.view_subsidiary")
    assert not user.has_perm("accounting.change_subsidiary")
    assert not user.has_perm("accounting.delete_load")


def test_admins_hold_every_accounting_permission():
    group = Group.objects.get(name=roles.ADMIN)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"add_load", "delete_load", "change_subsidiary", "billing"} <= codenames


def test_a_staff_user_without_a_role_has_neither_custom_permission():
    user = User.objects.create_user("plain", password="x", is_staff=True)
    assert not user.has_perm("accounting.manage_company_profile")
    assert not user.has_perm("accounting.billing")
