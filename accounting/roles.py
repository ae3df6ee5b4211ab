"""The roles of the seeds: Admin, Partner Admin and Support.

"manage company profile" opens the Sage Intacct connection pages; "billing" opens the Error
Transactions page. All three roles hold both (the seeds let Support run the wizard too).
"""

ADMIN = "Admin"
PARTNER_ADMIN = "Partner Admin"
SUPPORT = "Support"
ROLES = (ADMIN, PARTNER_ADMIN, SUPPORT)

CUSTOM_PERMISSIONS = ("accounting.manage_company_profile", "accounting.billing")
# Support reads everything and corrects the documents that fail to export.
SUPPORT_CHANGE_MODELS = (
    "load",
    "loadcharge",
    "trip",
    "tripcharge",
    "paystub",
    "paystubline",
    "echeck",
    "customer",
    "carrier",
    "driver",
    "externalaccountingid",
)


def role_permissions(role: str, all_codenames: list[str]) -> list[str]:
    """The accounting permission codenames a role gets, given every codename the app has."""
    custom = [name.split(".", 1)[1] for name in CUSTOM_PERMISSIONS]
    if role in (ADMIN, PARTNER_ADMIN):
        return sorted(set(all_codenames))
    views = [c for c in all_codenames if c.startswith("view_")]
    changes = [f"change_{model}" for model in SUPPORT_CHANGE_MODELS]
    return sorted({*views, *changes, *custom} & set(all_codenames))


def roles_ensure(*, apps=None, using: str = "default", **kwargs) -> None:
    """Create the role groups and give each its `role_permissions` (only adds). Runs after
    every migrate (post_migrate), so permissions of models added after the roles migration
    (the sync ledger, ...) reach the roles too, and a flushed test database gets them back."""
    from django.apps import apps as global_apps

    apps = apps or global_apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return
    available = Permission.objects.using(using).filter(content_type__app_label="accounting")
    codenames = list(available.values_list("codename", flat=True))
    for role in ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.add(*available.filter(codename__in=role_permissions(role, codenames)))
