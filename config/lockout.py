"""What a locked-out sign-in sees (django-axes' AXES_LOCKOUT_CALLABLE): the admin's own page,
HTTP 429, saying for how long and who can unlock it."""

from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse

LOCKED_OUT = (
    "Too many failed sign-ins for this user from this address: signing in is locked for "
    "{minutes} minutes. Try again later, or ask an administrator to unlock it."
)
UNLOCK_HOW = (
    "Administrators unlock it under Axes → Access attempts (delete the attempt), or with "
    "`manage.py axes_reset_username <user name>`."
)


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return LOCKED_OUT.format(minutes=minutes)


def lockout_response(request, original_response=None, credentials=None):
    context = {
        **admin.site.each_context(request),
        "title": "Signing in is locked",
        "message": lockout_message(),
        "unlock_how": UNLOCK_HOW,
    }
    return TemplateResponse(request, "admin/lockout.html", context, status=429).render()
