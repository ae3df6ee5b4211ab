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
    # What this request has already read of master data (accounts, dimensions, parties, terms,
    # custom field definitions), so that 50 invoices on the same accounts read each once. The
    # gateway empties it after any function that may have changed master data or that failed
    # (its writes rolled back), so a read never sees what Sage would no longer show.
    memo: dict = field(default_factory=dict)


@dataclass
class Reply:
    records: list[dict] = field(default_factory=list)
    listtype: str | None = None
    key: str | None = None
    attrs: dict = field(default_factory=dict)
