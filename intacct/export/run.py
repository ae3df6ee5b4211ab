"""What one export run carries: its summary, the data it read once, and how a document
becomes the Sage function it sends (`document_function`, also used by previews)."""

import datetime as dt
import hashlib
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from django.utils import timezone

from intacct.client import functions as fn

from .documents import DOCUMENT_TYPES, DocumentType
from .payloads import draft_function
from .resolution import ExportError, RunData


@dataclass
class ExportSummary:
    created: int = 0
    updated: int = 0
    reversed: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    held: int = 0  # of the skipped: another run was sending them (its claim had not lapsed)
    requests: int = 0
    # Failures no rule foresaw (a bug, not bad data): each is also one of `failed`, with an
    # Error Transaction naming its support reference; the traceback is in the log.
    unexpected: int = 0
    errors: list[str] = field(default_factory=list)  # Sage could not be reached or read
    unexpected_errors: list[str] = field(default_factory=list)  # a document type stopped

    def add(self, other: "ExportSummary") -> None:
        for name in (
            "created",
            "updated",
            "reversed",
            "deleted",
            "unchanged",
            "failed",
            "unexpected",
            "held",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.skipped += other.skipped
        self.requests = max(self.requests, other.requests)  # the client counts per run
        self.errors += other.errors
        self.unexpected_errors += other.unexpected_errors


def document_function(
    *,
    data: RunData,
    document_type: str,
    doc,
    controlid: str,
    version: int = 1,
    term: str | None = None,
    trail: list | None = None,
    members: list | None = None,
) -> fn.Function:
    """The Sage function `doc` becomes (no I/O but the run's cached reads). Raises
    ExportError naming what to fix; `trail` receives how each value was chosen, `members` the
    ids of the members a group document bills."""
    kind = DOCUMENT_TYPES[document_type]
    try:
        draft = kind.draft(data, doc)
        if members is not None:
            members.extend(draft.members)
        return draft_function(
            data=data,
            draft=draft,
            number=kind.sage_number(doc, version),
            controlid=controlid,
            term=term,
            trail=trail,
        )
    except ValueError as error:
        # A TMS value XML cannot carry (a control character): that document fails, not the run.
        raise ExportError(f"{kind.sage_number(doc, version)}: {error}") from None


@dataclass
class Run:
    """One export of one document type for one connection."""

    kind: DocumentType
    data: RunData
    summary: ExportSummary
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    reversed: list = field(default_factory=list)  # (doc, record) reversed in this batch
    members: dict = field(default_factory=dict)  # group document id -> the member ids it bills
    # When the documents being built were read: what the ledger records as synced_at, so that
    # a change the TMS makes after the read is sent by the next run.
    read_at: dt.datetime = field(default_factory=timezone.now)

    def build(self, doc, record, term=None) -> fn.Function:
        members = []
        function = document_function(
            data=self.data,
            document_type=self.kind.document_type,
            doc=doc,
            controlid=record.controlid,
            version=record.version,
            term=term,
            members=members,
        )
        self.members[doc.pk] = tuple(members)
        return function


def payload_hash(function: fn.Function) -> str:
    return hashlib.sha256(ET.tostring(function.body)).hexdigest()
