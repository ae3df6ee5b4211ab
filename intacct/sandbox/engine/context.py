"""What a function handler is given (the request's Context) and gives back (a Reply)."""

import datetime as dt
from dataclasses import dataclass, field

from ..models import SandboxCompany, SandboxUser


@dataclass
class Context:
    company: SandboxCompany
    user: SandboxUser
    sender_id: str
    location_id: str  # "" = top level
    now: dt.datetime
    endpoint_url: str


@dataclass
class Reply:
    records: list[dict] = field(default_factory=list)
    listtype: str | None = None
    key: str | None = None
    attrs: dict = field(default_factory=dict)
