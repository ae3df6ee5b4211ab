"""The 403 page (which permission is missing, which groups hold it, who can grant it) and
/favicon.ico."""

from dataclasses import dataclass

from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse

# The seeds' roles (accounting/roles.py): Admin, Partner Admin and Support hold both permissions.
GROUPS = ("Admin", "Partner Admin", "Support")


@dataclass(frozen=True)
class Needed:
    permission: str  # app_label.codename
    label: str  # as the permission list names it
    opens: str


# By the admin path a page lives under, longest first.
NEEDED = (
    (
        "accounting/errortransaction/",
        Needed("accounting.billing", "billing", "the Error Transactions page"),
    ),
    (
        "intacct/",
        Needed(
            "accounting.manage_company_profile",
            "manage company profile",
            "the Sage Intacct connection pages (the company profile)",
        ),
    ),
)


def needed_permission(path: str) -> Needed | None:
    """The custom permission the page at `path` requires, or None for any other page."""
    admin = reverse("admin:index")
    for prefix, needed in NEEDED:
        if path.startswith(admin + prefix):
            return needed
    return None


def permission_denied(request, exception=None):
    """handler403: names the missing permission (or repeats the refusal's own reason), the
    groups that hold it, and who can grant it."""
    reason = str(exception or "").strip()
    context = {
        "title": "You do not have permission to open this page",
        "needed": needed_permission(request.path),
        "reason": reason,
        "groups": GROUPS,
        "users_url": reverse("admin:auth_user_changelist"),
    }
    return render(request, "403.html", context, status=403)


def favicon(request):
    """/favicon.ico, which browsers and tools ask for on their own: the project's icon."""
    return redirect(static("ledgerline/favicon.svg"), permanent=True)
