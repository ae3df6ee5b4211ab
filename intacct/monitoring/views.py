"""The status endpoint a monitor polls: JSON, for a signed-in user who manages the company
profile or a request bearing INTACCT_STATUS_TOKEN."""

import hmac

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .status import connections_status

PERMISSION = "accounting.manage_company_profile"
NOT_ALLOWED = (
    "Sign in to the admin as a user who manages the company profile, or send the header "
    "'Authorization: Bearer <token>' with the token set in INTACCT_STATUS_TOKEN."
)
UNKNOWN_SUBSIDIARY = (
    "No Active or Paused Sage Intacct connection for subsidiary {code}: use a code listed "
    "without ?subsidiary=."
)


@never_cache
@require_GET
def status_json(request):
    """Every Active or Paused connection's status (`?subsidiary=CODE` for one), with `ok`
    (no problem anywhere) and `failing` (something overdue or credentials refused)."""
    if not _allowed(request):
        response = JsonResponse({"error": NOT_ALLOWED}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="ledgerline"'
        return response
    statuses = connections_status()
    code = request.GET.get("subsidiary")
    if code:
        statuses = [s for s in statuses if s.subsidiary == code]
        if not statuses:
            return JsonResponse({"error": UNKNOWN_SUBSIDIARY.format(code=code)}, status=404)
    return JsonResponse(
        {
            "ok": all(s.ok for s in statuses),
            "failing": any(s.failing for s in statuses),
            "checked_at": timezone.now().isoformat(),
            "connections": [s.as_dict() for s in statuses],
        }
    )


def _allowed(request) -> bool:
    token = settings.INTACCT_STATUS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    user = request.user
    return user.is_active and user.is_staff and user.has_perm(PERMISSION)
