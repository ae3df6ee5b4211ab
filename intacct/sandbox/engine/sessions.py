"""API sessions: getAPISession opens one; every request on it keeps it alive."""

import datetime as dt
import secrets

from .. import errors as e
from ..models import SandboxSession
from .context import Context, Reply
from .records import find
from .values import text

SESSION_MINUTES = 30


def get_api_session(ctx: Context, body) -> Reply:
    location = ctx.location_id
    if isinstance(body, dict) and "locationid" in body:
        location = text(body.get("locationid"))
    if location and not find(
        Context(ctx.company, ctx.user, ctx.sender_id, "", ctx.now, ctx.endpoint_url),
        "LOCATIONENTITY",
        location,
    ):
        raise e.fault(
            "Invalid entity",
            f"Entity '{location}' does not exist in this company.",
            "Use an entity ID from the company's entity list.",
        )
    session = SandboxSession.objects.create(
        session_id=secrets.token_urlsafe(24) + "..",
        user=ctx.user,
        location_id=location,
        expires_at=ctx.now + dt.timedelta(minutes=SESSION_MINUTES),
    )
    # <data> holds one <api>, with no attributes (PHP SDK SessionProviderTest.php)
    return Reply(
        records=[
            {"sessionid": session.session_id, "endpoint": ctx.endpoint_url, "locationid": location}
        ],
        attrs={"_record_tag": "api", "_bare": True},
    )


def session_touch(session: SandboxSession, now: dt.datetime) -> None:
    SandboxSession.objects.filter(pk=session.pk).update(
        expires_at=now + dt.timedelta(minutes=SESSION_MINUTES)
    )
