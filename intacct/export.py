"""Export to Sage Intacct: every document type of `documents.DOCUMENT_TYPES`.

Eligibility → resolution → payload → batched, idempotent send → sync ledger or Error
Transaction. Every document type runs the same steps (`documents_export`):
1. Skip everything unless the connection is Active with Primary Sync and every toggle of the
   document type (the side's master toggle, the document's own) is on.
2. Open the session once; if Sage refuses the credentials, fail every eligible document with
   "Sage client is not initialized" without calling Sage per document.
3. Read the documents in batches by primary key (memory stays flat). A document is eligible
   when it is ready, changed after the connection became Active, and not synced since its last
   change.
4. Per batch: resolve each document (customer or vendor, GL account per line, dimensions,
   custom fields, term) from data read once per run; one that cannot resolve becomes an Error
   Transaction.
5. A synced document changed since: unchanged payload → nothing sent; otherwise Sage's state
   decides (one read per batch): Draft → update in place; AR Posted without payments → reverse
   (dated today) and create the next version; payments applied → "Payments must be removed
   before the invoice can be reversed"; AP bill Posted or Selected → "AP bill requires manual
   reversal" until Sage shows it reversed, then the next version is created.
6. Write the ledger rows (stable controlids) before sending and claim them with a conditional
   update; send the batch with uniqueid=true.
7. Record each result: RECORDNO on success (an applied version whose answer was lost is looked
   up by its number), Net 30 retry on an invalid term, otherwise an Error Transaction with
   Sage's message; a later success resolves it.
A document removed from the TMS after export is deleted in Sage when Draft, reversed when an
unpaid posted invoice, and an Error Transaction otherwise (`removed_documents_export`).
"""

import copy
import dataclasses
import datetime as dt
import hashlib
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from accounting import models as am

from . import messages as msg
from . import models as m
from .client import InvoiceLine, errors
from .client import Q as SageQ
from .client import functions as fn
from .client.redaction import redact
from .documents import DOCUMENT_TYPES, DocumentType, draft_function
from .resolution import ExportError, RunData, run_data
from .sage import client_for

__all__ = [
    "DOCUMENT_TYPES",
    "ExportError",
    "ExportSummary",
    "document_function",
    "documents_export",
    "documents_validate",
    "loads_export",
    "run_data",
    "trips_export",
]

NET_30 = "Net 30"
# A claim older than this is taken over (its exporter died); longer than any request can take.
CLAIM_LEASE = dt.timedelta(minutes=20)
SYNCED = am.SyncRecord.State.SYNCED
PENDING = am.SyncRecord.State.PENDING
# Sage states (ARINVOICE / APBILL STATE).
DRAFT, REVERSED = "Draft", "Reversed"
# What update_invoice takes from the create_invoice it replaces, in the schema's order.
UPDATE_INVOICE_HEADER = ("datecreated", "termname", "ponumber", "description", "customfields")


@dataclass
class ExportSummary:
    created: int = 0
    updated: int = 0
    reversed: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: "ExportSummary") -> None:
        for name in ("created", "updated", "reversed", "deleted", "unchanged", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.skipped += other.skipped
        self.requests = max(self.requests, other.requests)  # the client counts per run
        self.errors += other.errors


def document_function(
    *,
    data: RunData,
    document_type: str,
    doc,
    controlid: str,
    version: int = 1,
    term: str | None = None,
    trail: list | None = None,
) -> fn.Function:
    """The Sage function `doc` becomes (no I/O but the run's cached reads). Raises
    ExportError naming what to fix; `trail` receives how each value was chosen."""
    kind = DOCUMENT_TYPES[document_type]
    try:
        return draft_function(
            data=data,
            draft=kind.draft(data, doc),
            number=kind.sage_number(doc, version),
            controlid=controlid,
            term=term,
            trail=trail,
        )
    except ValueError as error:
        # A TMS value XML cannot carry (a control character): that document fails, not the run.
        raise ExportError(f"{kind.sage_number(doc, version)}: {error}") from None


@dataclass
class Preview:
    """What one document would send as one document type, and why; nothing is sent."""

    document_type: str
    label: str  # "Load → AR invoice"
    payload: str = ""
    trail: list = field(default_factory=list)
    problem: str = ""


def document_previews(*, doc) -> list[Preview]:
    """Every Sage document `doc` exports as, built without sending: the exact payload and
    the resolution trail, or the problem that stops it."""
    previews, runs = [], {}  # connection id -> RunData: Sage is read once per connection
    for kind in DOCUMENT_TYPES.values():
        if not isinstance(doc, kind.model) or not kind.applies_to(doc):
            continue
        side = "AR invoice" if kind.side == "ar" else "AP bill"
        preview = Preview(
            kind.document_type, f"{kind.entity_type} → {kind.transaction_type} ({side})"
        )
        subsidiary = getattr(doc, kind.subsidiary_field)
        connection = m.Connection.objects.filter(
            subsidiary=subsidiary, status=m.Connection.Status.ACTIVE
        ).first()
        if connection is None:
            preview.problem = (
                f"{subsidiary} has no active Sage Intacct connection, so this does not export."
            )
            previews.append(preview)
            continue
        try:
            if connection.pk not in runs:
                runs[connection.pk] = run_data(connection, client_for(connection), dry_run=True)
            function = document_function(
                data=runs[connection.pk],
                document_type=kind.document_type,
                doc=doc,
                controlid="preview",
                trail=preview.trail,
            )
            node = copy.deepcopy(function.body)
            ET.indent(node)
            preview.payload = ET.tostring(node, encoding="unicode")
        except (ExportError, errors.IntacctError) as error:
            preview.problem = str(error)
        previews.append(preview)
    return previews


def _payload_hash(function: fn.Function) -> str:
    return hashlib.sha256(ET.tostring(function.body)).hexdigest()


def documents_eligible(*, connection: m.Connection, document_type: str):
    """Ready documents changed after the connection became Active and not synced since their
    last change, oldest first."""
    kind = DOCUMENT_TYPES[document_type]
    synced_since = am.SyncRecord.objects.filter(
        connection=connection,
        document_type=document_type,
        document_id=OuterRef("pk"),
        state=SYNCED,
        synced_at__gte=OuterRef("updated_at"),
    )
    return (
        kind.ready(connection=connection)
        .filter(updated_at__gte=connection.activated_at)
        .exclude(Exists(synced_since))
        .order_by("pk")
    )


def _enabled(kind: DocumentType, connection: m.Connection, data: RunData | None = None) -> bool:
    if not connection.is_syncing:
        return False
    if data is None:
        settings = {
            "ar": m.ARSettings.objects.filter(connection=connection).first(),
            "ap": m.APSettings.objects.filter(connection=connection).first(),
            "advanced": m.AdvancedSettings.objects.filter(connection=connection).first(),
        }
    else:
        settings = {"ar": data.ar, "ap": data.ap, "advanced": data.advanced}
    return all(getattr(settings[group], toggle, False) for group, toggle in kind.toggles)


def _batches(docs, batch_size: int, limit: int | None):
    """The queryset in batches by primary key: one query (plus prefetches) per batch, never
    the whole table in memory."""
    last, seen = 0, 0
    while limit is None or seen < limit:
        size = batch_size if limit is None else min(batch_size, limit - seen)
        batch = list(docs.filter(pk__gt=last)[:size])
        if not batch:
            return
        yield batch
        seen += len(batch)
        last = batch[-1].pk


@dataclass
class Run:
    """One export of one document type for one connection."""

    kind: DocumentType
    data: RunData
    summary: ExportSummary
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    reversed: list = field(default_factory=list)  # (doc, record) reversed in this batch

    def build(self, doc, record, term=None) -> fn.Function:
        return document_function(
            data=self.data,
            document_type=self.kind.document_type,
            doc=doc,
            controlid=record.controlid,
            version=record.version,
            term=term,
        )


def documents_export(
    *,
    connection: m.Connection,
    document_type: str,
    batch_size: int = 50,
    limit: int | None = None,
    client=None,
    ids: list[int] | None = None,
    data: RunData | None = None,
) -> ExportSummary:
    """Export the connection's eligible documents of one type (only `ids` when given).
    `data`: what a run over several types read once (its client is the one used)."""
    kind = DOCUMENT_TYPES[document_type]
    summary = ExportSummary()
    if not _enabled(kind, connection, data):
        return summary
    docs = documents_eligible(connection=connection, document_type=document_type)
    if ids is not None:
        docs = docs.filter(pk__in=ids)
    client = data.client if data else client or client_for(connection)
    try:
        if client.session is None:
            client.open_session()
            _flag_signed_in(connection)
    except errors.AuthenticationError as error:
        _signed_out(kind, connection, docs, summary, error)
        summary.requests = client.requests_sent
        return summary
    except errors.IntacctError as error:  # Sage unreachable: nothing sent, try next run
        summary.errors.append(str(error))
        summary.skipped = docs.count()
        summary.requests = client.requests_sent
        return summary
    run = Run(kind, data or run_data(connection, client), summary)
    done_through = 0  # the last document of the batches done
    try:
        for batch in _batches(docs, batch_size, limit):
            _export_batch(run, batch)
            done_through = batch[-1].pk
        if ids is None:
            _export_removed(run)
    except errors.AuthenticationError as error:
        # The credentials were revoked mid-run: this batch and the rest fail without calling
        # Sage again for each of them.
        _signed_out(kind, connection, docs.filter(pk__gt=done_through), summary, error)
    except errors.IntacctError as error:
        # Sage stopped answering mid-run (retries spent): what was claimed waits for its
        # lease, what was sent is settled by the ledger on the next run.
        summary.errors.append(str(error))
    summary.requests = client.requests_sent
    return summary


def _signed_out(kind: DocumentType, connection, docs, summary: ExportSummary, error) -> None:
    """Sage refused the credentials: every document fails with the seeds' message, nothing is
    sent, and the connection is flagged (its last test failed) until a sign-in succeeds."""
    for doc in docs.iterator(chunk_size=500):
        _fail(kind=kind, connection=connection, doc=doc, message=msg.CLIENT_NOT_INITIALIZED)
        summary.failed += 1
    m.Connection.objects.filter(pk=connection.pk).update(
        last_test_at=timezone.now(),
        last_test_ok=False,
        last_test_message=f"{msg.CLIENT_NOT_INITIALIZED}: {error}"[:500],
    )


def _flag_signed_in(connection) -> None:
    """A sign-in succeeded: clear the flag a refused one left (one query, no row when clear)."""
    m.Connection.objects.filter(pk=connection.pk, last_test_ok=False).update(
        last_test_at=timezone.now(), last_test_ok=True, last_test_message="Connected."
    )


def connection_export(
    *, connection: m.Connection, batch_size: int = 50, limit: int | None = None, client=None
) -> dict[str, ExportSummary]:
    """Every document type for one connection, on one client (one session) with settings,
    mappings and Sage's customers and vendors read once for all types; by type."""
    if not connection.is_syncing:
        return {document_type: ExportSummary() for document_type in DOCUMENT_TYPES}
    data = run_data(connection, client or client_for(connection))
    return {
        document_type: documents_export(
            connection=connection,
            document_type=document_type,
            batch_size=batch_size,
            limit=limit,
            data=data,
        )
        for document_type in DOCUMENT_TYPES
    }


def documents_validate(
    *, connection: m.Connection, document_type: str, ids: list[int], client=None
) -> dict[int, str]:
    """Resolve each eligible document without sending anything: document id → the message
    that still stops it ("" when it would export). Documents that are not eligible (already
    synced, not invoiced, ...) are left out. Raises IntacctError when Sage cannot be read."""
    data = run_data(connection, client or client_for(connection), dry_run=True)
    problems = {}
    docs = documents_eligible(connection=connection, document_type=document_type)
    for doc in docs.filter(pk__in=ids):
        try:
            document_function(data=data, document_type=document_type, doc=doc, controlid="check")
        except ExportError as error:
            problems[doc.pk] = str(error)
        else:
            problems[doc.pk] = ""
    return problems


def loads_export(*, connection: m.Connection, **options) -> ExportSummary:
    """AR invoices for the connection's ready loads (options as `documents_export`)."""
    return documents_export(connection=connection, document_type="load", **options)


def trips_export(*, connection: m.Connection, **options) -> ExportSummary:
    """AP bills for the connection's trips whose carrier invoice is in (or that are approved)."""
    return documents_export(connection=connection, document_type="trip", **options)


def _fail(
    *,
    kind: DocumentType,
    connection,
    doc,
    message,
    error: errors.IntacctError | None = None,
    function: fn.Function | None = None,
):
    """Open (or update) the document's one Error Transaction with the message, Sage's details
    and the function sent (secrets masked), and add the attempt to its history."""
    details = [e.__dict__ for e in error.errors] if error else []
    updated = am.ErrorTransaction.objects.filter(
        subsidiary=connection.subsidiary,
        document_type=kind.document_type,
        document_id=doc.pk,
        status=am.ErrorTransaction.Status.FAILED,
    )
    values = {
        "message": message,
        "errorno": (error.errorno or "") if error else "",
        "support_id": (error.support_id or "") if error else "",
        "details": details,
        "total": doc.get_total(),
    }
    if function is not None:
        sent = ET.Element("function", {"controlid": function.controlid})
        sent.append(copy.deepcopy(function.body))
        ET.indent(sent)
        values["payload"] = redact(ET.tostring(sent, encoding="unicode"))
    if updated.update(attempts=F("attempts") + 1, updated_at=timezone.now(), **values):
        error_id = updated.values_list("pk", flat=True).first()
    else:
        error_id = am.ErrorTransaction.objects.create(
            entity_type=kind.entity_type,
            transaction_type=kind.transaction_type,
            subsidiary=connection.subsidiary,
            document_type=kind.document_type,
            document_id=doc.pk,
            reference=doc.number,
            **values,
        ).pk
    if error_id is not None:
        am.ErrorAttempt.objects.create(
            error_id=error_id,
            outcome=am.ErrorAttempt.Outcome.FAILED,
            sent=function is not None or error is not None,
            message=message,
            errorno=values["errorno"],
            support_id=values["support_id"],
        )


def _resolve_errors(*, kind: DocumentType, connection, ids: list[int]) -> None:
    """A later success resolves the documents' open Error Transactions and adds the success to
    their history (one query when none is open, three otherwise)."""
    open_errors = am.ErrorTransaction.objects.filter(
        subsidiary=connection.subsidiary,
        document_type=kind.document_type,
        document_id__in=ids,
        status=am.ErrorTransaction.Status.FAILED,
    )
    error_ids = list(open_errors.values_list("pk", flat=True))
    if not error_ids:
        return
    now = timezone.now()
    am.ErrorTransaction.objects.filter(
        pk__in=error_ids, status=am.ErrorTransaction.Status.FAILED
    ).update(
        status=am.ErrorTransaction.Status.RESOLVED,
        resolved_at=now,
        resolution=am.ErrorTransaction.Resolution.SYNCED,
    )
    am.ErrorAttempt.objects.bulk_create(
        am.ErrorAttempt(error_id=pk, at=now, outcome=am.ErrorAttempt.Outcome.SYNCED, sent=True)
        for pk in error_ids
    )


def _ledger(kind: DocumentType, connection, docs) -> dict[int, am.SyncRecord]:
    """The batch's ledger rows by document id, created (before anything is sent) where missing.

    Three queries whatever the batch size.
    """
    rows = am.SyncRecord.objects.filter(
        connection=connection, document_type=kind.document_type, role=""
    )
    ledger = {r.document_id: r for r in rows.filter(document_id__in=[d.pk for d in docs])}
    missing = [
        am.SyncRecord(
            connection=connection,
            document_type=kind.document_type,
            document_id=doc.pk,
            reference=kind.sage_number(doc),
            sage_object=kind.sage_object,
            controlid=f"{kind.prefix}-{doc.pk}-v1",
        )
        for doc in docs
        if doc.pk not in ledger
    ]
    if missing:
        # Another exporter may insert the same rows at once: the unique constraint keeps one.
        am.SyncRecord.objects.bulk_create(missing, ignore_conflicts=True)
        ledger |= {
            r.document_id: r for r in rows.filter(document_id__in=[r.document_id for r in missing])
        }
    return ledger


def _lookup(kind: DocumentType, client, number: str) -> str | None:
    """RECORDNO of the live (not reversed) Sage document numbered `number`, if Sage has one."""
    rows = client.iter_query(
        kind.sage_object,
        ["RECORDNO", "RECORDID", "STATE"],
        filter=SageQ.equalto("RECORDID", number),
    )
    live = [row["RECORDNO"] for row in rows if row.get("STATE") != REVERSED]
    return live[0] if live else None


def _sage_states(kind: DocumentType, client, record_nos: list[str]) -> dict[str, dict]:
    """RECORDNO → {STATE, TOTALPAID} for the batch's Sage documents (one query)."""
    if not record_nos:
        return {}
    rows = client.iter_query(
        kind.sage_object,
        ["RECORDNO", "STATE", "TOTALPAID"],
        filter=SageQ.in_("RECORDNO", record_nos),
    )
    return {row["RECORDNO"]: row for row in rows}


def _export_batch(run: Run, docs) -> None:
    kind, data = run.kind, run.data
    connection, client = data.connection, data.client
    ledger = _ledger(kind, connection, docs)
    pending = []  # (doc, record, function): to create
    changed = []  # (doc, record, function): synced, then changed in the TMS
    synced = []  # (doc, record, record_no, function)
    for doc in docs:
        record = ledger[doc.pk]
        if record.state == am.SyncRecord.State.UNKNOWN:
            # An earlier send may have been applied: look it up before sending anything.
            record_no = _lookup(kind, client, kind.sage_number(doc, record.version))
            if record_no:
                synced.append((doc, record, record_no, None))
                continue
        try:
            function = run.build(doc, record)
        except ExportError as error:
            _fail(kind=kind, connection=connection, doc=doc, message=str(error))
            run.summary.failed += 1
            continue
        if record.state == SYNCED:
            changed.append((doc, record, function))
        else:
            pending.append((doc, record, function))
    if changed:
        pending += _modify(run, changed)
    if pending:
        _send(run, pending, synced)
    _mark_synced(kind, connection, synced)
    run.summary.created += len(synced)


def _claim(run: Run, items, *, states) -> list:
    """Claim the rows with one conditional update; rows another exporter is working on right
    now are left to it (skipped here)."""
    now = timezone.now()
    free = Q(state__in=states) & (
        ~Q(state=PENDING)
        | Q(last_attempt_at__lt=now - CLAIM_LEASE)
        | Q(last_attempt_at__isnull=True)
        | Q(claimed_by=run.token)
    )
    am.SyncRecord.objects.filter(Q(pk__in=[item[1].pk for item in items]) & free).update(
        state=PENDING, last_attempt_at=now, claimed_by=run.token, attempts=F("attempts") + 1
    )
    claimed = set(
        am.SyncRecord.objects.filter(claimed_by=run.token, state=PENDING).values_list(
            "pk", flat=True
        )
    )
    run.summary.skipped += sum(1 for item in items if item[1].pk not in claimed)
    return [item for item in items if item[1].pk in claimed]


def _modify(run: Run, changed) -> list:
    """Synced documents changed in the TMS. Returns those to create anew (next version);
    updates Drafts in place and reverses unpaid posted invoices on the way."""
    kind, data = run.kind, run.data
    unchanged = [
        record.pk
        for _doc, record, function in changed
        if _payload_hash(function) == record.payload_hash
    ]
    if unchanged:  # a change that does not touch the payload: nothing to send
        am.SyncRecord.objects.filter(pk__in=unchanged).update(synced_at=timezone.now())
        run.summary.unchanged += len(unchanged)
    changed = [item for item in changed if item[1].pk not in unchanged]
    changed = _claim(run, changed, states=[SYNCED])
    if not changed:
        return []
    states = _sage_states(kind, data.client, [record.record_no for _, record, _ in changed])
    updates, reversals, recreate = [], [], []
    for doc, record, function in changed:
        sage = states.get(record.record_no)
        state = sage.get("STATE") if sage else REVERSED  # gone from Sage: create it anew
        paid = Decimal(str(sage.get("TOTALPAID") or 0)) if sage else Decimal(0)
        if state == REVERSED:
            recreate.append((doc, record))
        elif state == DRAFT:
            updates.append((doc, record, function))
        elif paid > 0 and kind.side == "ar":
            _keep_synced(run, doc, record, msg.PAYMENTS_MUST_BE_REMOVED)
        elif kind.side == "ap":
            _keep_synced(run, doc, record, msg.AP_BILL_MANUAL_REVERSAL)
        else:
            reversals.append((doc, record))
    _send_changes(run, updates, reversals)
    versions = (_next_version(run, doc, record) for doc, record in [*recreate, *run.reversed])
    return [item for item in versions if item]


def _keep_synced(run: Run, doc, record, message: str) -> None:
    """The Sage document stays as it is (and synced); the change waits on the Error
    Transactions page until Sage allows it."""
    am.SyncRecord.objects.filter(pk=record.pk).update(state=SYNCED, claimed_by="")
    _fail(kind=run.kind, connection=run.data.connection, doc=doc, message=message)
    run.summary.failed += 1


def _next_version(run: Run, doc, record):
    """The document's next Sage version (new controlid and number): its ledger row is written
    first, so a build that fails, or a crash, leaves the next run to create that version."""
    record.version += 1
    record.controlid = f"{run.kind.prefix}-{doc.pk}-v{record.version}"
    record.reference = run.kind.sage_number(doc, record.version)
    record.record_no = ""
    am.SyncRecord.objects.filter(pk=record.pk).update(
        version=record.version,
        controlid=record.controlid,
        reference=record.reference,
        record_no="",
        state=PENDING,
    )
    try:
        return doc, record, run.build(doc, record)
    except ExportError as error:
        am.SyncRecord.objects.filter(pk=record.pk).update(
            state=am.SyncRecord.State.FAILED, claimed_by=""
        )
        _fail(kind=run.kind, connection=run.data.connection, doc=doc, message=str(error))
        run.summary.failed += 1
        return None


def _update_function(kind: DocumentType, record, function: fn.Function, digest: str, old_lines=0):
    """The in-place update of a Draft Sage document with the new payload. An invoice's lines
    are replaced by line number; lines it no longer has are zeroed (update_invoice cannot
    remove a line)."""
    controlid = f"{record.controlid}-update-{digest[:12]}"
    if kind.sage_object == "APBILL":
        bill = copy.deepcopy(function.body.find("APBILL"))
        recordno = ET.Element("RECORDNO")
        recordno.text = record.record_no
        bill.insert(0, recordno)
        return fn.Function(controlid, "update", fn.element("update", bill), is_write=True)
    body = function.body
    parts = [
        copy.deepcopy(body.find(tag)) for tag in UPDATE_INVOICE_HEADER if body.find(tag) is not None
    ]
    lines = []
    for number, line in enumerate(body.find("invoiceitems"), start=1):
        line = copy.deepcopy(line)
        line.tag = "updatelineitem"
        line.set("line_num", str(number))
        lines.append(line)
    account = lines[0].findtext("glaccountno")
    for number in range(len(lines) + 1, old_lines + 1):
        removed = InvoiceLine(amount=Decimal(0), glaccountno=account, memo="Removed in the TMS")
        lines.append(removed.element("updatelineitem", line_num=str(number)))
    parts.append(fn.element("updateinvoiceitems", lines))
    return fn.Function(
        controlid,
        "update_invoice",
        fn.element("update_invoice", parts, key=record.record_no),
        is_write=True,
    )


def _line_counts(kind: DocumentType, client, record_nos: list[str]) -> dict[str, int]:
    """RECORDNO → number of lines, for the batch's Draft invoices (one query)."""
    if not record_nos or kind.sage_object != "ARINVOICE":
        return {}
    counts: dict[str, int] = {}
    lines = client.iter_query(
        "ARINVOICEITEM", ["RECORDNO", "RECORDKEY"], filter=SageQ.in_("RECORDKEY", record_nos)
    )
    for line in lines:
        counts[line["RECORDKEY"]] = counts.get(line["RECORDKEY"], 0) + 1
    return counts


def _send_changes(run: Run, updates, reversals) -> None:
    """Updates of Drafts and reversals of unpaid posted invoices, in one request."""
    run.reversed = []
    kind, data = run.kind, run.data
    functions = []
    counts = _line_counts(kind, data.client, [record.record_no for _, record, _ in updates])
    for doc, record, function in updates:
        digest = _payload_hash(function)
        update = _update_function(kind, record, function, digest, counts.get(record.record_no, 0))
        functions.append((doc, record, function, digest, update))
    for doc, record in reversals:
        reverse = fn.reverse_invoice(
            controlid=f"{record.controlid}-reverse",
            key=record.record_no,
            date_reversed=timezone.localdate(),
            description=f"Changed in the TMS: replaced by {kind.sage_number(doc, record.version + 1)}",
        )
        functions.append((doc, record, None, "", reverse))
    if not functions:
        return
    try:
        results = data.client.execute([item[-1] for item in functions])
    except errors.IntacctError as error:
        for doc, record, *_ in functions:
            am.SyncRecord.objects.filter(pk=record.pk).update(state=SYNCED, claimed_by="")
            _fail(kind=kind, connection=data.connection, doc=doc, message=str(error), error=error)
        run.summary.failed += len(functions)
        return
    now = timezone.now()
    for (doc, record, function, digest, sent), result in zip(functions, results, strict=True):
        if not result.ok:
            _refused(run, doc, record, result.error(), sent, state=SYNCED)
        elif function is not None:  # updated in place
            am.SyncRecord.objects.filter(pk=record.pk).update(
                state=SYNCED, synced_at=now, payload_hash=digest, claimed_by=""
            )
            _resolve_errors(kind=kind, connection=data.connection, ids=[doc.pk])
            run.summary.updated += 1
        else:
            run.reversed.append((doc, record))
            run.summary.reversed += 1


def _send(run: Run, pending, synced) -> None:
    kind, connection, client = run.kind, run.data.connection, run.data.client
    pending = _claim(
        run, pending, states=[PENDING, am.SyncRecord.State.FAILED, am.SyncRecord.State.UNKNOWN]
    )
    if not pending:
        return
    pending_ids = [record.pk for _, record, _ in pending]
    try:
        results = client.execute([function for _, _, function in pending])
    except errors.OutcomeUnknownError:
        am.SyncRecord.objects.filter(pk__in=pending_ids).update(state=am.SyncRecord.State.UNKNOWN)
        run.summary.failed += len(pending)
        return
    except errors.IntacctError as error:
        # The run goes on, so it releases its claim: the next run sends these again. An
        # unreadable answer to a write may hide an applied one: that run looks them up first.
        state = (
            am.SyncRecord.State.UNKNOWN
            if isinstance(error, errors.ResponseFormatError)
            else am.SyncRecord.State.FAILED
        )
        am.SyncRecord.objects.filter(pk__in=pending_ids).update(state=state, claimed_by="")
        if isinstance(error, errors.AuthenticationError):
            raise  # the run stops here (see documents_export)
        for doc, _record, function in pending:
            _fail(
                kind=kind,
                connection=connection,
                doc=doc,
                message=str(error),
                error=error,
                function=function,
            )
        run.summary.failed += len(pending)
        return
    for (doc, record, function), result in zip(pending, results, strict=True):
        if result.ok:
            record_no = result.record_no or _lookup(kind, client, record.reference)
            synced.append((doc, record, record_no, function))
            continue
        _record_failure(run, doc, record, function, result, synced)


def _record_failure(run: Run, doc, record, function, result, synced) -> None:
    kind, data = run.kind, run.data
    error = result.error()
    if isinstance(error, errors.DuplicateControlIdError):
        # Sage already applied this exact version (an earlier run lost the answer): link it.
        record_no = _lookup(kind, data.client, record.reference)
        if record_no:
            synced.append((doc, record, record_no, function))
            return
    if msg.TERM_NOT_VALID.lower() in str(error).lower() and "-net30" not in function.controlid:
        retry = dataclasses.replace(
            run.build(doc, record, term=NET_30), controlid=function.controlid + "-net30"
        )
        (second,) = data.client.execute([retry])
        if second.ok:
            record.controlid = retry.controlid
            synced.append((doc, record, second.record_no or "", function))
            return
        error, function = second.error(), retry
    _refused(run, doc, record, error, function, state=am.SyncRecord.State.FAILED)


def _refused(run: Run, doc, record, error, function, *, state) -> None:
    """Sage refused `function`: the ledger row takes `state` (FAILED for a create, SYNCED when
    the document Sage has stays as it is) and the document's Error Transaction says why."""
    am.SyncRecord.objects.filter(pk=record.pk).update(state=state, claimed_by="")
    _fail(
        kind=run.kind,
        connection=run.data.connection,
        doc=doc,
        message=str(error),
        error=error,
        function=function,
    )
    run.summary.failed += 1


def _mark_synced(kind: DocumentType, connection, synced) -> None:
    """Record RECORDNOs, payload hashes and resolve open errors for the batch's successes
    (one transaction of two updates, then `_resolve_errors`)."""
    if not synced:
        return
    now = timezone.now()
    records = []
    for _doc, record, record_no, function in synced:
        record.state, record.record_no, record.synced_at = SYNCED, record_no or "", now
        record.claimed_by = ""
        if function is not None:
            record.payload_hash = _payload_hash(function)
        records.append(record)
    # bulk_update costs CPU per row and field (a CASE branch each): only the values that
    # differ per row go through it; the shared ones are one plain UPDATE.
    fields = ["record_no", "payload_hash"]
    if any(f is not None and f.controlid != record.controlid for _, record, _, f in synced):
        fields.append("controlid")  # a Net 30 retry was applied under its own controlid
    with transaction.atomic():
        am.SyncRecord.objects.bulk_update(records, fields)
        am.SyncRecord.objects.filter(pk__in=[record.pk for record in records]).update(
            state=SYNCED, synced_at=now, claimed_by=""
        )
    _resolve_errors(kind=kind, connection=connection, ids=[doc.pk for doc, *_ in synced])


# --- documents removed from the TMS ------------------------------------------------------------


@dataclass
class Removed:
    """Stands in for a TMS document that no longer exists, for its Error Transaction."""

    pk: int
    number: str

    def get_total(self) -> Decimal:
        return Decimal("0.00")


def _export_removed(run: Run) -> None:
    """Sage documents whose TMS document was deleted: delete a Draft, reverse an unpaid
    posted invoice, otherwise an Error Transaction (payments applied; AP bills need manual
    reversal). One query to find them, one read and one write request per run."""
    kind, data = run.kind, run.data
    gone = list(
        am.SyncRecord.objects.filter(
            connection=data.connection, document_type=kind.document_type, state=SYNCED
        )
        .exclude(record_no="")
        .exclude(document_id__in=kind.model.objects.values("pk"))
    )
    if not gone:
        return
    states = _sage_states(kind, data.client, [r.record_no for r in gone])
    functions = []
    for record in gone:
        doc = Removed(record.document_id, record.reference)
        sage = states.get(record.record_no)
        if sage is None or sage.get("STATE") == REVERSED:
            functions.append((record, None))
            continue
        paid = Decimal(str(sage.get("TOTALPAID") or 0))
        controlid = f"{record.controlid}-remove"
        if sage.get("STATE") == DRAFT and kind.side == "ar":
            functions.append((record, fn.delete_invoice(controlid=controlid, key=record.record_no)))
        elif sage.get("STATE") == DRAFT:
            functions.append((record, fn.delete("APBILL", [record.record_no], controlid=controlid)))
        elif kind.side == "ap":
            _fail(
                kind=kind, connection=data.connection, doc=doc, message=msg.AP_BILL_MANUAL_REVERSAL
            )
        elif paid > 0:
            _fail(
                kind=kind, connection=data.connection, doc=doc, message=msg.PAYMENTS_MUST_BE_REMOVED
            )
        else:
            reverse = fn.reverse_invoice(
                controlid=controlid,
                key=record.record_no,
                date_reversed=timezone.localdate(),
                description=f"Removed in the TMS: {record.reference}",
            )
            functions.append((record, reverse))
    sent = [(record, function) for record, function in functions if function is not None]
    try:
        results = data.client.execute([function for _, function in sent])
    except errors.IntacctError as error:
        run.summary.errors.append(str(error))
        return
    done = [record.pk for record, function in functions if function is None]
    for (record, function), result in zip(sent, results, strict=True):
        if result.ok:
            done.append(record.pk)
            if function.name == "reverse_invoice":
                run.summary.reversed += 1
            else:
                run.summary.deleted += 1
        else:
            doc = Removed(record.document_id, record.reference)
            error = result.error()
            _fail(kind=kind, connection=data.connection, doc=doc, message=str(error), error=error)
    am.SyncRecord.objects.filter(pk__in=done).update(state=am.SyncRecord.State.REMOVED)
