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
   update; send the batch with uniqueid=true. Up to INTACCT_REQUESTS_IN_FLIGHT batches are on
   the wire (sender threads, `intacct.client.inflight`) while the next is read and built;
   their results are recorded on the exporting thread, oldest first (`_pipelined`).
7. Record each result: RECORDNO on success (an applied version whose answer was lost is looked
   up by its number), Net 30 retry on an invalid term, otherwise an Error Transaction with
   Sage's message; a later success resolves it.
A document removed from the TMS after export is deleted in Sage when Draft, reversed when an
unpaid posted invoice, and an Error Transaction otherwise (`removed_documents_export`).
"""

import collections
import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable
from concurrent.futures import Future

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounting import models as am
from intacct import messages as msg
from intacct.client import errors
from intacct.client.inflight import InFlight
from intacct.connections import models as m
from intacct.connections.sage import client_for

from .changes import (
    changed_documents_send,
    members_of_stopped_groups_export,
    removed_documents_export,
)
from .documents import DOCUMENT_TYPES, DocumentType
from .ledger import (
    PENDING,
    SYNCED,
    ledger_claim,
    ledger_mark_synced,
    ledger_rows,
    sage_lookup,
)
from .outcomes import (
    failure_record,
    outcome_unknown_record,
    refusal_record,
    unexpected_record,
    unexpected_type_summary,
)
from .resolution import ExportError, RunData, run_data
from .run import ExportSummary, Run, document_function

logger = logging.getLogger("intacct.export")

NET_30 = "Net 30"
NET_30_SUFFIX = "-net30"  # the controlid of a Net 30 retry: its first send's, plus this
CLAIMABLE = [PENDING, am.SyncRecord.State.FAILED, am.SyncRecord.State.UNKNOWN]


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
    if kind.member_type:
        synced_since = _members_unchanged(kind, synced_since)
    return (
        kind.ready(connection=connection)
        .filter(updated_at__gte=connection.activated_at)
        .exclude(Exists(synced_since))
        .order_by("pk")
    )


def _members_unchanged(kind: DocumentType, synced_since):
    """A group document is changed too when a member changed (or joined) after its sync, or
    when a member its Sage document bills has left it."""
    relation = kind.model._meta.get_field(kind.members)
    member_model, group_field = relation.related_model, relation.field.attname
    member_changed = member_model.objects.filter(
        **{group_field: OuterRef(OuterRef("pk"))}, updated_at__gt=OuterRef("synced_at")
    )
    still_in = member_model.objects.filter(
        pk=OuterRef("document_id"), **{group_field: OuterRef(OuterRef("document_id"))}
    )
    left = am.SyncMember.objects.filter(record=OuterRef("pk")).exclude(Exists(still_in))
    return synced_since.exclude(Exists(member_changed)).exclude(Exists(left))


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


# Request batches read by one query: reading costs a query's planning and Django's per-query
# work (compiling the eligibility filter, each prefetch) besides each row's; at 4 batches of 50
# it is 0.45 ms per document instead of 0.59 (loads) and 0.74 (trips) on PostgreSQL (README
# "Performance").
READ_BATCHES = 4


def _batches(run: Run, docs, batch_size: int, limit: int | None):
    """The queryset in batches of `batch_size` by primary key, each with the time it was read
    and its ledger rows: one query (plus prefetches) and one `ledger_rows` per READ_BATCHES
    batches, never the whole table in memory.

    The read time is what the ledger records as synced_at: a change the TMS makes after a
    document was read is newer than it, so the next run sends it, however long the batch
    waited to be sent."""
    last, seen = 0, 0
    read_size = batch_size * READ_BATCHES
    while limit is None or seen < limit:
        size = read_size if limit is None else min(read_size, limit - seen)
        read_at = timezone.now()
        docs_read = list(docs.filter(pk__gt=last)[:size])
        if not docs_read:
            return
        ledger = ledger_rows(run.kind, run.data.connection, docs_read)
        for start in range(0, len(docs_read), batch_size):
            yield read_at, docs_read[start : start + batch_size], ledger
        seen += len(docs_read)
        last = docs_read[-1].pk


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
    done_through = 0  # the last document of the batches settled
    try:
        if ids is None:  # first, so that a member released there is billed in this run
            members_of_stopped_groups_export(run, _stopped_groups(kind, connection, run.data))
        with InFlight(
            client, limit=settings.INTACCT_REQUESTS_IN_FLIGHT, after_each=connections.close_all
        ) as sending:
            for batch in _pipelined(run, _batches(run, docs, batch_size, limit), sending):
                done_through = batch[-1].pk
        if ids is None:
            removed_documents_export(run)
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


def _stopped_groups(kind: DocumentType, connection, data: RunData) -> list[DocumentType]:
    """The group types `kind`'s documents are members of that do not export now (their own
    toggle is off): their standing Sage documents are no longer kept up to date."""
    return [
        group
        for group in DOCUMENT_TYPES.values()
        if group.member_type == kind.document_type and not _enabled(group, connection, data)
    ]


def _signed_out(kind: DocumentType, connection, docs, summary: ExportSummary, error) -> None:
    """Sage refused the credentials: every document fails with the seeds' message, nothing is
    sent, and the connection is flagged (its last test failed) until a sign-in succeeds."""
    for doc in docs.iterator(chunk_size=500):
        failure_record(
            kind=kind, connection=connection, doc=doc, message=msg.CLIENT_NOT_INITIALIZED
        )
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
    *,
    connection: m.Connection,
    batch_size: int = 50,
    limit: int | None = None,
    client=None,
    document_types: Iterable[str] | None = None,
) -> dict[str, ExportSummary]:
    """Every document type (or those named) for one connection, on one client (one session)
    with settings, mappings and Sage's customers and vendors read once for all types; by type.
    A type stopped by an unexpected error is reported in its summary and the next type runs."""
    document_types = list(document_types or DOCUMENT_TYPES)
    if not connection.is_syncing:
        return {document_type: ExportSummary() for document_type in document_types}
    data = run_data(connection, client or client_for(connection))
    summaries = {}
    for document_type in document_types:
        try:
            summaries[document_type] = documents_export(
                connection=connection,
                document_type=document_type,
                batch_size=batch_size,
                limit=limit,
                data=data,
            )
        except DatabaseError:
            raise  # the database is down: the other types could record nothing either
        except Exception as error:  # a defect in one type must not stop the others
            kind = DOCUMENT_TYPES[document_type]
            summaries[document_type] = unexpected_type_summary(kind, connection, error)
    return summaries


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


@dataclasses.dataclass
class _Sent:
    """A batch whose request is (or was) on the wire: what was claimed and sent, what is
    already settled, and the Future of Sage's results (None: nothing was sent)."""

    docs: list
    read_at: dt.datetime  # when the documents were read: what the ledger records as synced_at
    pending: list  # (doc, record, function), claimed and sent
    synced: list  # (doc, record, record_no, function): settled before or by the send
    future: Future | None


def _pipelined(run: Run, batches, sending: InFlight):
    """Export `batches` with up to `sending.limit` requests in flight: batch n+1 is read,
    built, written to the ledger and claimed while batch n is on the wire; each batch's
    results are settled on this thread (its ledger writes on this thread's connection), oldest
    first. Yields each batch once settled.

    A failure while preparing or settling a batch (Sage refused the credentials, the database
    went down) stops the run: the batches already on the wire are still settled (what Sage
    applied is linked, what it refused is recorded), then the failure is raised. A BaseException
    (the worker is being killed) settles nothing: the claimed rows wait for their lease and the
    next run looks up what was sent (same controlids, uniqueid=true).
    """
    window: collections.deque[_Sent] = collections.deque()
    depth = max(sending.limit, 1)
    try:
        for read_at, docs, ledger in batches:
            run.read_at = read_at
            sent = _export_batch(run, docs, ledger)
            if sent.pending:
                while len(window) >= depth:  # settle the oldest before another goes out
                    yield _settle(run, window.popleft())
                # Claimed only now, just before the send: a run stopped while settling the
                # oldest batch holds nothing of this one.
                sent.pending = ledger_claim(run, sent.pending, states=CLAIMABLE)
            if sent.pending:
                sent.future = sending.submit([function for _, _, function in sent.pending])
            window.append(sent)
            while window and window[0].future is None:
                yield _settle(run, window.popleft())
        while window:
            yield _settle(run, window.popleft())
    except Exception:
        while window:
            try:
                _settle(run, window.popleft())
            except Exception:  # the first failure is the one raised; these are recorded
                logger.warning("A batch on the wire failed while the run stopped", exc_info=True)
        raise


def _export_batch(run: Run, docs, ledger: dict) -> _Sent:
    """Build one batch whose ledger rows (`ledger`, by document id) are written; nothing is
    claimed or sent yet."""
    kind, data = run.kind, run.data
    connection, client = data.connection, data.client
    pending = []  # (doc, record, function): to create
    changed = []  # (doc, record, function): synced, then changed in the TMS
    synced = []  # (doc, record, record_no, function)
    for doc in docs:
        record = ledger[doc.pk]
        try:
            function = run.build(doc, record)
        except ExportError as error:
            failure_record(kind=kind, connection=connection, doc=doc, message=str(error))
            run.summary.failed += 1
            continue
        except (DatabaseError, errors.IntacctError):
            # The database is down, or Sage refused or could not answer a read (the session
            # Sage expired and the sign-in it asked for was refused): the run stops there.
            raise
        except Exception as error:  # a defect, not bad data: this document fails, not the run
            unexpected_record(run, doc, error)
            continue
        if record.state == am.SyncRecord.State.UNKNOWN:
            # An earlier send may have been applied: look it up before sending anything.
            number = kind.sage_number(doc, record.version)
            record_no = sage_lookup(kind, client, number, expected=function)
            if record_no:
                synced.append((doc, record, record_no, None))
                continue
        if record.state == SYNCED or (record.state == PENDING and record.record_no):
            # In Sage already (a PENDING row with a RECORDNO: a run died while changing it).
            changed.append((doc, record, function))
        else:
            pending.append((doc, record, function))
    if changed:
        pending += changed_documents_send(run, changed)
    return _Sent(docs, run.read_at, pending, synced, None)


def _settle(run: Run, sent: _Sent) -> list:
    """Record Sage's results for a batch on the wire; returns the batch's documents."""
    synced = sent.synced
    if sent.future is not None:
        _results_record(run, sent.pending, sent.future, synced)
    ledger_mark_synced(run.kind, run.data.connection, synced, run.members, as_of=sent.read_at)
    run.summary.created += len(synced)
    return sent.docs


def _results_record(run: Run, pending, future: Future, synced) -> None:
    kind, client = run.kind, run.data.client
    try:
        results = future.result()
    except errors.AuthenticationError:
        # Not applied: released for the next run, which this refusal stops (documents_export).
        am.SyncRecord.objects.filter(pk__in=[record.pk for _, record, _ in pending]).update(
            state=am.SyncRecord.State.FAILED, claimed_by=""
        )
        raise
    except errors.IntacctError as error:
        _send_failed(run, pending, error)
        return
    retries = []  # (doc, record, function, retry): "term not valid", sent again with Net 30
    for (doc, record, function), result in zip(pending, results, strict=True):
        try:
            if result.ok:
                record_no = result.record_no or sage_lookup(
                    kind, client, record.reference, expected=function
                )
                synced.append((doc, record, record_no, function))
            elif _term_not_valid(result.error(), function):
                retry = dataclasses.replace(
                    run.build(doc, record, term=NET_30),
                    controlid=function.controlid + NET_30_SUFFIX,
                )
                retries.append((doc, record, function, retry))
            else:
                _link_or_refuse(run, doc, record, function, function, result.error(), synced)
        except errors.IntacctError as error:  # a lookup went unanswered: settled next run
            outcome_unknown_record(run, [(doc, record, function)], error)
    if retries:
        _retry_with_net_30(run, retries, synced)


def _send_failed(run: Run, items, error: errors.IntacctError) -> None:
    """A request of (doc, record, function) failed as a whole. Sent and its answer lost or
    unreadable: Sage may hold them, so they are looked up next run (UNKNOWN). Otherwise Sage
    did not apply them: each is refused with the error and sent again by the next run."""
    if isinstance(error, (errors.OutcomeUnknownError, errors.ResponseFormatError)):
        outcome_unknown_record(run, items, error)
        return
    for doc, record, function in items:
        refusal_record(run, doc, record, error, function, state=am.SyncRecord.State.FAILED)


def _term_not_valid(error, function) -> bool:
    return msg.TERM_NOT_VALID.lower() in str(error).lower() and (
        NET_30_SUFFIX not in function.controlid
    )


def _link_or_refuse(run: Run, doc, record, function, sent, error, synced) -> None:
    """Sage refused `sent`. "Duplicate control ID" means an earlier send of it was applied and
    its answer lost: the document is looked up by its number and linked (under `sent`'s
    controlid). Otherwise the refusal is recorded."""
    if isinstance(error, errors.DuplicateControlIdError):
        record_no = sage_lookup(run.kind, run.data.client, record.reference, expected=sent)
        if record_no:
            record.controlid = sent.controlid
            synced.append((doc, record, record_no, function))
            return
    refusal_record(run, doc, record, error, sent, state=am.SyncRecord.State.FAILED)


def _retry_with_net_30(run: Run, retries, synced) -> None:
    """Sage said the term is not valid: send those documents again with Net 30, in one request.
    Whatever happens to that request, the batch's other outcomes are already in `synced`."""
    client = run.data.client
    try:
        results = client.execute([retry for *_, retry in retries])
    except errors.IntacctError as error:
        _send_failed(run, [(doc, record, retry) for doc, record, _, retry in retries], error)
        return
    for (doc, record, function, retry), second in zip(retries, results, strict=True):
        try:
            if second.ok:
                record.controlid = retry.controlid  # the hash stays the original payload's
                record_no = second.record_no or sage_lookup(
                    run.kind, client, record.reference, expected=retry
                )
                synced.append((doc, record, record_no, function))
            else:
                _link_or_refuse(run, doc, record, function, retry, second.error(), synced)
        except errors.IntacctError as error:
            outcome_unknown_record(run, [(doc, record, retry)], error)
