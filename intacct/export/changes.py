"""Documents changed or removed in the TMS after export: unchanged payload → nothing sent;
Draft in Sage → update in place; AR posted and unpaid → reverse and create the next version;
payments applied or an AP bill posted → an Error Transaction until Sage allows the change.

The two refusals keep the seeds' troubleshooting wording (../shared/seeds, article 6,
"Transaction State Issues"): a Sage invoice *or bill* with payments applied answers "Payments
must be removed before the invoice can be reversed" (remove or unapply the payments first); an
AP bill Posted or Selected in Sage, with no payment, answers "AP bill requires manual
reversal". Payments are checked first: a bill with payments needs them removed before any
reversal, manual or not."""

import copy
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal

from django.db import DatabaseError
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounting import models as am
from intacct import messages as msg
from intacct.client import InvoiceLine, errors
from intacct.client import Q as SageQ
from intacct.client import functions as fn

from .documents import DocumentType
from .ledger import (
    DRAFT,
    PENDING,
    REVERSED,
    SYNCED,
    controlid_new,
    ledger_claim,
    members_record,
    sage_states,
)
from .outcomes import failure_record, failures_resolve, refusal_record, unexpected_record
from .resolution import ExportError
from .run import Run, document_function, payload_hash

# What update_invoice takes from the create_invoice it replaces, in the schema's order.
UPDATE_INVOICE_HEADER = ("datecreated", "termname", "ponumber", "description", "customfields")


def changed_documents_send(run: Run, changed) -> list:
    """Synced documents changed in the TMS. Returns those to create anew (next version);
    updates Drafts in place and reverses unpaid posted invoices on the way."""
    kind, data = run.kind, run.data
    unchanged = [
        record.pk
        for _doc, record, function in changed
        if record.state == SYNCED and payload_hash(function) == record.payload_hash
    ]
    if unchanged:  # a change that does not touch the payload: nothing to send
        am.SyncRecord.objects.filter(pk__in=unchanged).update(synced_at=run.read_at)
        run.summary.unchanged += len(unchanged)
    changed = [item for item in changed if item[1].pk not in unchanged]
    changed = ledger_claim(run, changed, states=[SYNCED, PENDING])
    # A row a dead run left pending on its Sage document (taken over now its claim lapsed):
    # with the payload Sage has, there is nothing to send.
    settled = [r.pk for _, r, f in changed if payload_hash(f) == r.payload_hash]
    if settled:
        am.SyncRecord.objects.filter(pk__in=settled).update(
            state=SYNCED, synced_at=run.read_at, claimed_by=""
        )
        run.summary.unchanged += len(settled)
        changed = [item for item in changed if item[1].pk not in settled]
    if not changed:
        return []
    states = sage_states(kind, data.client, [record.record_no for _, record, _ in changed])
    updates, reversals, recreate = [], [], []
    for doc, record, function in changed:
        sage = states.get(record.record_no)
        state = sage.get("STATE") if sage else REVERSED  # gone from Sage: create it anew
        paid = Decimal(str(sage.get("TOTALPAID") or 0)) if sage else Decimal(0)
        if state == REVERSED:
            recreate.append((doc, record))
        elif state == DRAFT:
            updates.append((doc, record, function))
        elif paid > 0:
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
    failure_record(kind=run.kind, connection=run.data.connection, doc=doc, message=message)
    run.summary.failed += 1


def _next_version(run: Run, doc, record):
    """The document's next Sage version (a new random controlid, a new number): its ledger row
    is written first, so a build that fails, or a crash, leaves the next run to create that
    version under that controlid."""
    record.version += 1
    record.controlid = controlid_new(run.kind, doc.pk, record.version)
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
    except (DatabaseError, errors.IntacctError):
        raise  # the database is down, or Sage: the run decides (stops, or settles next run)
    except Exception as error:
        am.SyncRecord.objects.filter(pk=record.pk).update(
            state=am.SyncRecord.State.FAILED, claimed_by=""
        )
        if isinstance(error, ExportError):
            failure_record(
                kind=run.kind, connection=run.data.connection, doc=doc, message=str(error)
            )
            run.summary.failed += 1
        else:  # a defect, not bad data: this document fails, not the run
            unexpected_record(run, doc, error)
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
        digest = payload_hash(function)
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
            failure_record(
                kind=kind, connection=data.connection, doc=doc, message=str(error), error=error
            )
        run.summary.failed += len(functions)
        return
    now = run.read_at  # the TMS as read, not as it may be by now
    for (doc, record, function, digest, sent), result in zip(functions, results, strict=True):
        if not result.ok and not isinstance(result.error(), errors.DuplicateControlIdError):
            refusal_record(run, doc, record, result.error(), sent, state=SYNCED)
        # Applied now, or by an earlier send whose answer (or ledger write) was lost: Sage
        # refuses the same update or reversal controlid as a duplicate.
        elif function is not None:  # updated in place
            am.SyncRecord.objects.filter(pk=record.pk).update(
                state=SYNCED, synced_at=now, payload_hash=digest, claimed_by=""
            )
            if kind.member_type:
                members_record(kind, {record.pk: run.members.get(doc.pk, ())})
            failures_resolve(kind=kind, connection=data.connection, ids=[doc.pk])
            run.summary.updated += 1
        else:
            run.reversed.append((doc, record))
            run.summary.reversed += 1


@dataclass
class Removed:
    """Stands in for a TMS document that no longer exists, for its Error Transaction."""

    pk: int
    number: str

    def get_total(self) -> Decimal:
        return Decimal("0.00")


def removed_documents_export(run: Run) -> None:
    """Sage documents whose TMS document was deleted: delete a Draft, reverse an unpaid
    posted invoice, otherwise an Error Transaction (payments applied, invoice or bill: they
    must be removed; an unpaid posted AP bill needs manual reversal). One query to find them, one read and one write request per run."""
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
    states = sage_states(kind, data.client, [r.record_no for r in gone])
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
        elif paid > 0:
            failure_record(
                kind=kind, connection=data.connection, doc=doc, message=msg.PAYMENTS_MUST_BE_REMOVED
            )
        elif kind.side == "ap":
            failure_record(
                kind=kind, connection=data.connection, doc=doc, message=msg.AP_BILL_MANUAL_REVERSAL
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
            failure_record(
                kind=kind, connection=data.connection, doc=doc, message=str(error), error=error
            )
    am.SyncRecord.objects.filter(pk__in=done).update(state=am.SyncRecord.State.REMOVED)


def members_of_stopped_groups_export(run: Run, groups: list[DocumentType]) -> None:
    """Members (`run.kind`) billed inside a group's standing Sage document whose group type no
    longer exports (carrier or driver settlement export turned off), and changed since.

    The group's export would carry such a change (README "One charge, one Sage document"); with
    it off, nothing would, and Sage would keep billing the old amount without a word. So, when
    the change alters what the group's document would bill: while Sage shows that document
    standing, the group's Error Transaction asks for the manual reversal (an AP bill: a posted
    one cannot be changed through the API); once Sage shows it reversed (or gone), it bills
    nothing any more: its members are released (and the group's Error Transaction resolved)
    and this run bills them on their own. A change that leaves the group's payload as it is
    changes nothing. Two queries when there are none; no Sage write."""
    kind, data = run.kind, run.data
    for group in groups:
        member_changed = kind.model.objects.filter(
            pk=OuterRef("document_id"), updated_at__gt=OuterRef("record__synced_at")
        )
        changed = am.SyncMember.objects.filter(
            record_id=OuterRef("pk"), document_type=kind.document_type
        ).filter(Exists(member_changed))
        records = list(
            am.SyncRecord.objects.filter(
                connection=data.connection,
                document_type=group.document_type,
                role="",
                state=SYNCED,
                members__document_type=kind.document_type,
            )
            .exclude(record_no="")
            .filter(Exists(changed))
            .distinct()
        )
        if records:
            _stopped_group_records_settle(run, group, records)


def _stopped_group_records_settle(run: Run, group: DocumentType, records) -> None:
    data = run.data
    read_at = timezone.now()
    docs = group.ready(connection=data.connection).in_bulk([r.document_id for r in records])
    data.cache.pop(("own_documents", group.member_type), None)  # read it as it is now
    stale = []
    for record in records:
        doc = docs.get(record.document_id)
        try:
            function = doc and document_function(
                data=data,
                document_type=group.document_type,
                doc=doc,
                controlid=record.controlid,
                version=record.version,
            )
        except ExportError:
            function = None  # it would bill nothing now: what Sage bills is stale
        if function is not None and payload_hash(function) == record.payload_hash:
            am.SyncRecord.objects.filter(pk=record.pk).update(synced_at=read_at)
        else:
            stale.append(record)
    data.cache.pop(("own_documents", group.member_type), None)
    if not stale:
        return
    states = sage_states(group, data.client, [record.record_no for record in stale])
    released, waiting = [], []
    for record in stale:
        sage = states.get(record.record_no)
        if sage is None or sage.get("STATE") == REVERSED:
            released.append(record)
        else:
            waiting.append(record.document_id)
    if released:
        am.SyncMember.objects.filter(record__in=released).delete()
        failures_resolve(
            kind=group, connection=data.connection, ids=[r.document_id for r in released]
        )
    for doc in group.model.objects.filter(pk__in=waiting):
        failure_record(
            kind=group, connection=data.connection, doc=doc, message=msg.AP_BILL_MANUAL_REVERSAL
        )
        run.summary.failed += 1
