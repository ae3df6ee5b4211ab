"""Payment import from Sage Intacct: AR payments onto loads, AP payments onto trips and paystubs.

`payments_import` runs these steps for one connection:
0. Reap the connection's runs left Running by a worker that was killed (Running for longer
   than the task cluster's timeout plus a margin): they are marked Failed, "interrupted". A
   failed run never moves the window's floor, so the next window reads theirs again.
1. Write the run's log row (status Running) before anything is read, so a run that dies leaves
   evidence. The window starts at now minus the connection's lookback (8 days by default), or
   earlier: never later than the start of the last successful import that was not a backfill
   (or the connection's activation when there is none), so an outage longer than the lookback
   loses nothing. A backfill gives its own window.
2. Read from Sage, paged, with a number of requests that does not grow with each payment: AR and
   AP payments modified in the window (a payment voided later is modified then, so voids are
   seen), then their detail lines (`PAYMENTKEY` in the payments read), each detail being the
   amount applied to one invoice or bill. Each page goes to the staging table
   (`PaymentDetailStage`, one row per detail, once each) as it arrives, so memory stays flat
   whatever the window holds; nothing of the TMS is written yet.
3. Match the staged details, `APPLY_CHUNK` at a time, to the sync ledger by the Sage document
   they pay (`RECORDKEY`): a document this application did not export is ignored (unmatched).
   Summary invoices, carrier and driver settlements, and documents of other kinds or roles are
   never updated (skipped, with the reason). For the open documents that matched, read their
   totals from Sage and mark the details of the fully paid ones.
4. In one transaction, under a lock on the connection (so two imports of one connection count
   exactly), chunk after chunk of staged details: store one Payment per new detail
   (`bulk_create`, deduplicated by the Sage detail ID, unique per connection: re-running
   changes nothing); then close each fully paid document (a load becomes Completed, a trip or
   paystub Paid); a closed document takes no later change from Sage. An imported payment Sage
   now shows voided is flagged on the Error Transactions page, never reversed silently. All of
   the window is applied, or (on any failure) none of it.
5. Update the run with its counts, skipped reasons, request count and outcome, and delete its
   staged details (a run that died leaves them to step 0 of the next import).
"""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounting import models as am
from intacct.client import Q as SageQ
from intacct.client import errors
from intacct.connections.crypto import CredentialDecryptError
from intacct.connections.models import AdvancedSettings, Connection
from intacct.connections.sage import client_for

from .models import PaymentDetailStage, PaymentImportRun
from .reading import (
    AP,
    AR,
    KEYS_PER_QUERY,
    PAGE_SIZE,
    SIDES,
    Line,
    Side,
    chunks,
    chunks_of,
    fully_paid_read,
    lines_read,
    window_filter,
)

DEFAULT_LOOKBACK_DAYS = 8
SIDE = {side.label: side for side in SIDES}  # a staged detail's side_label → its Side
# Details written to the staging table per bulk insert as Sage's pages arrive.
STAGE_BATCH = 1_000
# Staged details matched and applied per round of queries (ledger, documents, existing
# payments, insert): the import's memory is this many rows, whatever the window holds.
APPLY_CHUNK = 2_000

# Reasons a payment detail is skipped (the run log counts each).
SKIP_SUMMARY_INVOICE = "Summary invoices do not support payment import"
SKIP_CARRIER_SETTLEMENT = "Carrier settlements do not support payment import"
SKIP_DRIVER_SETTLEMENT = "Driver settlements do not support payment import"
SKIP_UNSUPPORTED = "Payment import does not update {document_type} documents"
SKIP_INTERCOMPANY = "Intercompany documents are not updated by payment import"
SKIP_DOCUMENT_GONE = "The document no longer exists in Ledgerline"
SKIP_CLOSED = "The document is already closed: later changes in Sage are not applied"
SKIP_VOIDED_BEFORE_IMPORT = "Voided in Sage before it was imported"
SKIP_NOT_POSTED = "Not completed in Sage yet (state {state})"
SKIP_NOT_POSITIVE = "The amount applied is not positive"
SKIP_OTHER_SIDE = "Its Sage detail ID is already stored on a payment of the other side (AR/AP)"

PAYMENT_VOIDED = (
    "{transaction_type} {reference} of {amount} applied to {document} was voided in Sage "
    "Intacct after it was imported. Ledgerline did not reverse it: check the payment in Sage, "
    "correct {document} here, then mark this error as synced."
)
PAYMENT_VOIDED_DESCRIPTION = "Payment voided in Sage Intacct"

RUN_INTERRUPTED = (
    "Interrupted: the worker running this import stopped before it finished (still Running "
    "{minutes} minutes after it started). The next import reads its window again."
)
# A live run is stopped by the task cluster at Q_CLUSTER["timeout"]; past that plus this
# margin a run still marked Running has no worker left.
REAP_MARGIN = dt.timedelta(minutes=5)

NOT_IMPORTED = {
    "summary_invoice": SKIP_SUMMARY_INVOICE,
    "carrier_settlement": SKIP_CARRIER_SETTLEMENT,
    "driver_settlement": SKIP_DRIVER_SETTLEMENT,
}


@dataclass(frozen=True)
class DocumentKind:
    """A TMS document payments are imported onto, and how it closes when fully paid."""

    model: type
    side: Side
    payment_field: str  # Payment's foreign key to it
    status_field: str
    closed: str


DOCUMENTS = {
    "load": DocumentKind(am.Load, AR, "load", "billing_status", am.BillingStatus.COMPLETED),
    "trip": DocumentKind(am.Trip, AP, "trip", "status", am.Trip.Status.PAID),
    "paystub": DocumentKind(am.Paystub, AP, "paystub", "status", am.Paystub.Status.PAID),
}


@dataclass
class Tally:
    fetched: int = 0
    applied: int = 0
    duplicates: int = 0
    unmatched: int = 0
    voided: int = 0
    closed: int = 0
    reasons: Counter = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.reasons[reason] += 1

    @property
    def skipped(self) -> int:
        return sum(self.reasons.values())


# --- runs left behind -------------------------------------------------------------------------


def payment_runs_reap(*, connection: Connection, now: dt.datetime) -> int:
    """Mark Failed ("interrupted") the connection's runs still Running longer than the task
    timeout plus `REAP_MARGIN`: their worker was killed. Returns how many were reaped. A run
    still within that time may be live and is left alone."""
    older_than = now - _reap_after()
    stale = PaymentImportRun.objects.filter(
        connection=connection, status=PaymentImportRun.Status.RUNNING, started_at__lt=older_than
    )
    reaped = 0
    for pk, started_at in stale.values_list("pk", "started_at"):
        minutes = int((now - started_at).total_seconds() // 60)
        # Conditional: a run that finished meanwhile keeps its own outcome.
        reaped += PaymentImportRun.objects.filter(
            pk=pk, status=PaymentImportRun.Status.RUNNING
        ).update(
            status=PaymentImportRun.Status.FAILED,
            finished_at=now,
            error=RUN_INTERRUPTED.format(minutes=minutes),
        )
    # The staged details of every run that is over (reaped now, or one whose own clean-up
    # never ran) are of no further use: its window is read again by the next import.
    PaymentDetailStage.objects.filter(run__connection=connection).exclude(
        run__status=PaymentImportRun.Status.RUNNING
    ).delete()
    return reaped


def _reap_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.Q_CLUSTER["timeout"]) + REAP_MARGIN


# --- the window -------------------------------------------------------------------------------


def payment_window_start(*, connection: Connection, now: dt.datetime) -> dt.datetime:
    """Where a scheduled import's window starts: now minus the lookback, moved back to the
    start of the last successful non-backfill import when that is earlier (or, before any, to
    the connection's activation), so no gap is ever left unread."""
    lookback = (
        AdvancedSettings.objects.filter(connection=connection)
        .values_list("payment_lookback_days", flat=True)
        .first()
    )
    start = now - dt.timedelta(days=DEFAULT_LOOKBACK_DAYS if lookback is None else lookback)
    last = (
        PaymentImportRun.objects.filter(
            connection=connection, status=PaymentImportRun.Status.SUCCEEDED, backfill=False
        )
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    floor = last or connection.activated_at
    return min(start, floor) if floor else start


def _start_of(value: dt.date | dt.datetime, *, next_day: bool = False) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    day = value + dt.timedelta(days=1) if next_day else value
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- reading Sage into the staging table --------------------------------------------------------


def _stage(run: PaymentImportRun, client, reads: list[tuple[Side, object]], page_size: int) -> int:
    """Stream the details of the payments each (side, Sage filter) matches from Sage into the
    staging table; returns how many distinct details were read (a detail Sage's paging handed
    twice is staged once)."""
    lines = (line for side, where in reads for line in lines_read(client, side, where, page_size))
    for batch in chunks_of(lines, STAGE_BATCH):
        PaymentDetailStage.objects.bulk_create(
            [_staged(run, line) for line in batch], ignore_conflicts=True
        )
    return PaymentDetailStage.objects.filter(run=run).count()


def _staged(run: PaymentImportRun, line: Line) -> PaymentDetailStage:
    return PaymentDetailStage(
        run=run,
        side_label=line.side.label,
        detail_id=line.detail_id[:30],
        payment_id=line.payment_id[:30],
        document_key=line.document_key[:100],
        state=line.state[:20],
        completed=line.completed,
        voided=line.voided,
        amount=line.amount,
        paid_on=line.paid_on,
        method=line.method,
        check_number=line.check_number,
        reference=line.reference[:80],
        note=line.note,
    )


def _staged_chunks(run: PaymentImportRun, **filters) -> Iterable[list[PaymentDetailStage]]:
    """The run's staged details in read order, `APPLY_CHUNK` at a time (keyset paging)."""
    rows = PaymentDetailStage.objects.filter(run=run, **filters).order_by("pk")
    last = 0
    while chunk := list(rows.filter(pk__gt=last)[:APPLY_CHUNK]):
        yield chunk
        last = chunk[-1].pk


def _mark_fully_paid(connection, run: PaymentImportRun, client, page_size: int) -> None:
    """Read from Sage which open matched documents are fully paid, and mark their details."""
    for chunk in _staged_chunks(run):
        ledger = _ledger(connection, chunk)
        documents = _documents(ledger.values())
        keys = defaultdict(set)  # side → RECORDNOs of open documents paid by this chunk
        for line in chunk:
            row, doc, reason = _target(line, ledger, documents)
            if doc is None or reason or _is_closed(row.document_type, doc):
                continue
            keys[SIDE[line.side_label]].add(line.document_key)
        for side, side_keys in keys.items():
            paid = sorted(fully_paid_read(client, side, side_keys, page_size))
            for paid_keys in chunks(paid, KEYS_PER_QUERY):
                PaymentDetailStage.objects.filter(
                    run=run, side_label=side.label, document_key__in=paid_keys
                ).update(fully_paid=True)


# --- matching ---------------------------------------------------------------------------------


def _ledger(connection, lines: list[PaymentDetailStage]) -> dict[tuple[str, str], am.SyncRecord]:
    """The ledger rows of the Sage documents the lines pay, by (Sage object, RECORDNO)."""
    wanted = defaultdict(set)
    for line in lines:
        if line.document_key:
            wanted[SIDE[line.side_label].document_object].add(line.document_key)
    if not wanted:
        return {}
    condition = Q()
    for sage_object, keys in wanted.items():
        condition |= Q(sage_object=sage_object, record_no__in=keys)
    rows = am.SyncRecord.objects.filter(condition, connection=connection)
    return {(r.sage_object, r.record_no): r for r in rows}


def _documents(rows: Iterable[am.SyncRecord]) -> dict[tuple[str, int], object]:
    """The TMS documents behind ledger rows payments can update (one query per kind)."""
    ids = defaultdict(set)
    for row in rows:
        if row.document_type in DOCUMENTS and not row.role:
            ids[row.document_type].add(row.document_id)
    documents = {}
    for document_type, pks in ids.items():
        kind = DOCUMENTS[document_type]
        for doc in kind.model.objects.filter(pk__in=pks).only("pk", "number", kind.status_field):
            documents[(document_type, doc.pk)] = doc
    return documents


def _is_closed(document_type: str, doc) -> bool:
    kind = DOCUMENTS[document_type]
    return getattr(doc, kind.status_field) == kind.closed


def _target(
    line: PaymentDetailStage, ledger, documents
) -> tuple[am.SyncRecord | None, object, str | None]:
    """(ledger row, document, skip reason) for a line; (None, None, None) when unmatched."""
    row = ledger.get((SIDE[line.side_label].document_object, line.document_key))
    if row is None:
        return None, None, None
    if row.document_type in NOT_IMPORTED:
        return row, None, NOT_IMPORTED[row.document_type]
    if row.role or "intercompany" in row.document_type:
        return row, None, SKIP_INTERCOMPANY
    kind = DOCUMENTS.get(row.document_type)
    if kind is None or kind.side is not SIDE[line.side_label]:
        return row, None, SKIP_UNSUPPORTED.format(document_type=row.document_type)
    doc = documents.get((row.document_type, row.document_id))
    if doc is None:
        return row, None, SKIP_DOCUMENT_GONE
    return row, doc, None


# --- the service ------------------------------------------------------------------------------


def payments_import(
    *,
    connection: Connection,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    client=None,
    trigger: str = PaymentImportRun.Trigger.SCHEDULE,
    page_size: int = PAGE_SIZE,
    payment_keys: dict[str, list[str]] | None = None,
) -> PaymentImportRun:
    """Import the payments Sage recorded (or changed) in a window; returns the run's log row.

    With `payment_keys` ({"ARPYMT": [RECORDNO, ...], "APPYMT": [...]}, at most
    `KEYS_PER_QUERY` per object) only those payments are read, whatever their date: a narrow
    import (a payment notification). Like a backfill it never moves the scheduled window.

    Without `since` and `until` the window follows the lookback rule (`payment_window_start`)
    up to now. With either, it is a backfill: `since` (a date means its midnight, local time)
    to `until` (a date includes that whole day); a backfill never moves the next scheduled
    window. Sage errors do not raise: the run is marked Failed with the message and nothing is
    stored (everything is read before anything is written). Other exceptions mark the run
    Failed and propagate.
    """
    now = timezone.now()
    payment_runs_reap(connection=connection, now=now)
    backfill = since is not None or until is not None or payment_keys is not None
    window_start = (
        _start_of(since)
        if since is not None
        else payment_window_start(connection=connection, now=now)
    )
    window_end = _start_of(until, next_day=True) if until is not None else None
    run = PaymentImportRun.objects.create(
        connection=connection,
        trigger=trigger,
        backfill=backfill,
        window_start=window_start,
        window_end=window_end or now,
        started_at=now,
    )
    try:
        client = client or client_for(connection)
    except CredentialDecryptError as error:  # no key opens the password: say so, then fail
        _finish(run, Tally(), 0, error=str(error))
        raise
    requests_before = client.requests_sent
    tally = Tally()
    try:
        reads = (
            [(side, window_filter(window_start, window_end)) for side in SIDES]
            if payment_keys is None
            else [
                (side, SageQ.in_("RECORDNO", sorted(set(keys))[:KEYS_PER_QUERY]))
                for side in SIDES
                if (keys := payment_keys.get(side.payment_object))
            ]
        )
        tally.fetched = _stage(run, client, reads, page_size)
        _mark_fully_paid(connection, run, client, page_size)
        _apply(connection, run, tally, now)
    except errors.IntacctError as error:
        # Sage is only read before anything is written: nothing was stored.
        read = Tally(fetched=tally.fetched)
        _finish(run, read, client.requests_sent - requests_before, error=str(error))
    except Exception as error:
        read = Tally(fetched=tally.fetched)  # the writes were rolled back
        _finish(run, read, client.requests_sent - requests_before, error=repr(error))
        raise
    else:
        _finish(run, tally, client.requests_sent - requests_before)
    run.refresh_from_db()
    return run


def _apply(connection, run: PaymentImportRun, tally: Tally, now) -> None:
    """Store new payments, flag voids, then close fully paid documents (the module's step 4),
    all in one transaction."""
    with transaction.atomic():
        # Two imports of one connection (a schedule and a command) take turns here, so each
        # run's counts are exact; the unique constraint alone already keeps the rows single.
        list(
            Connection.objects.select_for_update()
            .filter(pk=connection.pk)
            .order_by()
            .values_list("pk", flat=True)
        )
        for chunk in _staged_chunks(run):
            _apply_chunk(connection, chunk, tally, now)
        # Last, so a document closed by this run still takes the run's other details.
        _close_fully_paid(connection, run, tally)


def _apply_chunk(connection, lines: list[PaymentDetailStage], tally: Tally, now) -> None:
    ledger = _ledger(connection, lines)
    documents = _documents(ledger.values())
    existing = {
        p.sage_detail_id: p
        for p in am.Payment.objects.filter(
            connection=connection, sage_detail_id__in=[line.detail_id for line in lines]
        ).only("pk", "sage_detail_id", "load", "trip", "paystub", "amount", "voided_in_sage_at")
    }
    new, voided = [], []
    for line in lines:
        row, doc, reason = _target(line, ledger, documents)
        if row is None:
            tally.unmatched += 1
            continue
        if reason:
            tally.skip(reason)
            continue
        kind = DOCUMENTS[row.document_type]
        payment = existing.get(line.detail_id)
        if payment is not None and getattr(payment, f"{kind.payment_field}_id") is None:
            tally.skip(SKIP_OTHER_SIDE)
        elif line.voided:
            if payment is None:
                tally.skip(SKIP_VOIDED_BEFORE_IMPORT)
            elif payment.voided_in_sage_at is None:
                voided.append((line, row, payment))
            else:
                tally.duplicates += 1
        elif payment is not None:
            tally.duplicates += 1
        elif not line.completed:
            tally.skip(SKIP_NOT_POSTED.format(state=line.state or "none"))
        elif _is_closed(row.document_type, doc):
            tally.skip(SKIP_CLOSED)
        elif line.amount <= 0:
            tally.skip(SKIP_NOT_POSITIVE)
        else:
            new.append(_payment(connection, line, kind, doc))
    _store(connection, new, tally)
    _flag_voided(connection, voided, tally, now)


def _close_fully_paid(connection, run: PaymentImportRun, tally: Tally) -> None:
    """Close the documents whose staged details Sage showed fully paid."""
    for chunk in _staged_chunks(run, fully_paid=True):
        ledger = _ledger(connection, chunk)
        documents = _documents(ledger.values())
        paid = set()
        for line in chunk:
            row, doc, reason = _target(line, ledger, documents)
            if doc is not None and not reason:
                paid.add((row.document_type, doc.pk))
        _close(paid, tally)


def _payment(connection, line: PaymentDetailStage, kind: DocumentKind, doc) -> am.Payment:
    return am.Payment(
        **{kind.payment_field: doc},
        amount=line.amount,
        paid_on=line.paid_on,
        method=line.method,
        check_number=line.check_number,
        reference=line.reference,
        note=line.note,
        source=am.Payment.Source.IMPORTED,
        connection=connection,
        sage_payment_id=line.payment_id[:30],
        sage_detail_id=line.detail_id[:30],
    )


def _store(connection, new: list[am.Payment], tally: Tally) -> None:
    if not new:
        return
    # A writer outside this lock may have stored some already: the constraint drops those,
    # and they count as duplicates, not as applied by this run.
    stored = am.Payment.objects.filter(
        connection=connection, sage_detail_id__in=[p.sage_detail_id for p in new]
    )
    before = stored.count()
    am.Payment.objects.bulk_create(new, ignore_conflicts=True)
    applied = stored.count() - before
    tally.applied += applied
    tally.duplicates += len(new) - applied


def _close(fully_paid: set[tuple[str, int]], tally: Tally) -> None:
    """Close fully paid documents with a conditional update (one query per kind)."""
    ids = defaultdict(list)
    for document_type, pk in fully_paid:
        ids[document_type].append(pk)
    for document_type, pks in ids.items():
        kind = DOCUMENTS[document_type]
        tally.closed += (
            kind.model.objects.filter(pk__in=pks)
            .exclude(**{kind.status_field: kind.closed})
            .update(**{kind.status_field: kind.closed})
        )


def _flag_voided(connection, voided, tally: Tally, now) -> None:
    """Mark imported payments Sage shows voided and open an Error Transaction for each."""
    if not voided:
        return
    am.Payment.objects.filter(
        pk__in=[payment.pk for _, _, payment in voided], voided_in_sage_at__isnull=True
    ).update(voided_in_sage_at=now)
    am.ErrorTransaction.objects.bulk_create(
        [
            am.ErrorTransaction(
                entity_type="Payment",
                transaction_type=SIDE[line.side_label].transaction_type,
                subsidiary=connection.subsidiary,
                document_type="payment",
                document_id=payment.pk,
                reference=row.reference,
                total=payment.amount,
                message=PAYMENT_VOIDED.format(
                    transaction_type=SIDE[line.side_label].transaction_type,
                    reference=line.reference,
                    amount=payment.amount,
                    document=row.reference,
                ),
                details=[
                    {
                        "errorno": "",
                        "description": PAYMENT_VOIDED_DESCRIPTION,
                        "description2": (
                            f"{SIDE[line.side_label].payment_object} {line.payment_id}, detail "
                            f"{line.detail_id}, is voided in Sage."
                        ),
                        "correction": "",
                    }
                ],
            )
            for line, row, payment in voided
        ],
        ignore_conflicts=True,  # one open error per payment
    )
    tally.voided += len(voided)


def _finish(run: PaymentImportRun, tally: Tally, requests: int, *, error: str = "") -> None:
    PaymentDetailStage.objects.filter(run=run).delete()
    PaymentImportRun.objects.filter(pk=run.pk).update(
        status=PaymentImportRun.Status.FAILED if error else PaymentImportRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        fetched=tally.fetched,
        applied=tally.applied,
        duplicates=tally.duplicates,
        skipped=tally.skipped,
        skipped_reasons=dict(tally.reasons),
        unmatched=tally.unmatched,
        voided=tally.voided,
        closed=tally.closed,
        requests=requests,
        error=error,
    )
