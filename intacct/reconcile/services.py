"""Reconcile with Sage: compare every document the ledger says was exported with what Sage
holds now, and report what changed behind the TMS's back.

`connection_reconcile` runs these steps for one connection:
1. Write the run's log row (Running) before anything is read.
2. Read the ledger (one query) and every AR invoice and AP bill of the connection's entity from
   Sage, in readByQuery pages (`reading`): requests grow with documents / page size.
3. Build what Sage should show for the synced documents still ready and unchanged since their
   sync (`expected`: the export's own payload builder, documents read in batches), and which
   exported loads, trips and paystubs are still open in the TMS (one query per type).
4. Compare, giving one finding per disagreement (`ReconcileFinding.Kind`):
   - a ledger row linked to a RECORDNO Sage no longer has: missing; Reversed in Sage: reversed;
   - a linked document whose customer or vendor, date, due date or total differs: differs;
   - a linked document Sage shows fully paid whose TMS document is still open: paid;
   - a live Sage document numbered as a ledger row that has no RECORDNO (its answer was lost, or
     it was typed in Sage): unlinked, which `reconcile_link` links on request;
   - a live Sage document carrying a Ledgerline number (a ledger row's, or a TMS document's of
     that side) that is not the linked one: foreign.
5. Open one Error Transaction per affected document (its first detail says it is drift), update
   those whose drift changed, and close (In agreement with Sage) those no longer found: four
   queries whatever the number of documents. A document whose export failed keeps that error.
6. Store the findings and the run's counts; keep the last `KEEP_RUNS` runs.
"""

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounting import models as am
from intacct.client import errors
from intacct.connections.crypto import CredentialDecryptError
from intacct.connections.models import Connection
from intacct.connections.sage import client_for
from intacct.errors import drift
from intacct.export import CLAIM_LEASE, DOCUMENT_TYPES
from intacct.export.outcomes import failures_resolve
from intacct.payments import payments_import
from intacct.payments.models import PaymentImportRun

from .expected import Expected, closed_label, expected_read, open_documents
from .models import ReconcileFinding, ReconcileRun
from .reading import LABELS, PAGE_SIZE, SageDocument, sage_documents_read

Kind = ReconcileFinding.Kind
State = am.SyncRecord.State
KEEP_RUNS = 30
NUMBER_CHUNK = 500  # TMS numbers looked up per query
VERSION = re.compile(r"^(?P<base>.+)-(?P<version>[2-9]|[1-9]\d+)$")  # "L-1001-2": version 2

# Messages people see (the page and the command).
NOT_SYNCING = (
    "This connection is not syncing (not Active, or Primary Sync is off): nothing to compare."
)
LINK_NOT_UNLINKED = "Only a Sage document found not linked in the ledger can be linked."
LINK_DONE_ALREADY = "This finding was already handled ({resolution})."
LINK_GONE = (
    "{label} is no longer in Sage Intacct as it was (deleted, reversed or renumbered): run "
    "Reconcile with Sage again to see what is there now."
)
LINK_TAKEN = (
    "The ledger row of {document} was linked meanwhile (RECORDNO {record_no}): run Reconcile "
    "with Sage again to see what is left."
)
LINK_ELSEWHERE = (
    "RECORDNO {record_no} is already linked to {document} in the ledger: it cannot be linked "
    "twice. Run Reconcile with Sage again."
)
LINKED = "Linked by {user} on {date}"
NOTHING_TO_IMPORT = (
    "The last reconcile found no document paid in Sage and open in the TMS: there are no "
    "payments to import. Run Reconcile with Sage again if Sage changed since."
)


class ReconcileError(Exception):
    """A request on the report that cannot be done; the message says why and what to do."""


# --- comparing --------------------------------------------------------------------------------


def _document_label(row: am.SyncRecord | None, document_type: str = "", number: str = "") -> str:
    kind = DOCUMENT_TYPES.get(row.document_type if row else document_type)
    entity = kind.entity_type if kind else (row.document_type if row else document_type)
    return f"{entity} {row.reference if row else number}"


def _differences(sage: SageDocument, expected: Expected) -> list[list[str]]:
    pairs = (
        ("party", sage.party, expected.party),
        ("total", sage.total, expected.total),
        ("date", sage.date, expected.date),
        ("due", sage.due, expected.due),
    )
    return [
        [field, _shown(value_sage), _shown(value_tms)]
        for field, value_sage, value_tms in pairs
        if value_tms is not None and value_sage != value_tms
    ]


def _shown(value) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _differs_text(differences) -> str:
    return "; ".join(
        drift.DIFFERENCE.format(field=drift.DIFFERENCE_FIELDS[field], sage=sage, tms=tms)
        for field, sage, tms in differences
    )


def _finding(kind, sage: SageDocument | None, row, *, document=None, **extra) -> ReconcileFinding:
    """A finding with its message (the drift text naming both documents)."""
    document_type, document_id = document or (
        (row.document_type, row.document_id) if row else ("", None)
    )
    label = (
        sage.label
        if sage
        else f"{LABELS.get(row.sage_object, row.sage_object)} {row.reference} (RECORDNO {row.record_no})"
    )
    document_label = extra.pop("document_label", None) or (
        _document_label(row) if row else _document_label(None, document_type)
    )
    template = {
        Kind.UNLINKED: drift.UNLINKED,
        Kind.MISSING: drift.MISSING,
        Kind.REVERSED: drift.REVERSED,
        Kind.DIFFERS: drift.DIFFERS,
        Kind.PAID: drift.PAID,
        Kind.FOREIGN: drift.FOREIGN,
    }[kind]
    message = template.format(
        label=label,
        document=document_label,
        differences=_differs_text(extra.get("differences", [])),
        closed=extra.pop("closed", ""),
    )
    return ReconcileFinding(
        kind=kind,
        sage_object=sage.object if sage else row.sage_object,
        record_no=sage.record_no if sage else row.record_no,
        sage_number=sage.number if sage else row.reference,
        sage_state=sage.state if sage else "",
        sage_date=sage.date if sage else None,
        sage_total=sage.total if sage else None,
        record=row,
        document_type=document_type,
        document_id=document_id,
        document_label=document_label,
        message=message,
        **extra,
    )


def _linked(row: am.SyncRecord) -> bool:
    return bool(row.record_no) and row.state == State.SYNCED


def _unlinked(row: am.SyncRecord, now) -> bool:
    """A ledger row without RECORDNO that no export is working on right now."""
    if row.record_no or row.state == State.REMOVED:
        return False
    if row.state == State.PENDING:
        return row.last_attempt_at is None or row.last_attempt_at < now - CLAIM_LEASE
    return True


@dataclass
class Comparison:
    findings: list
    ledger_documents: int
    sage_documents: int


def _compare(connection, client, page_size: int, now) -> Comparison:
    """The module's steps 2 to 4."""
    rows = list(
        am.SyncRecord.objects.filter(connection=connection).only(
            "pk",
            "document_type",
            "document_id",
            "reference",
            "sage_object",
            "record_no",
            "state",
            "version",
            "last_attempt_at",
        )
    )
    sage = {}
    for document in sage_documents_read(client, page_size=page_size):
        sage[(document.object, document.record_no)] = document
    linked = [row for row in rows if _linked(row)]
    expected = expected_read(
        connection=connection,
        client=client,
        rows=[r for r in linked if (r.sage_object, r.record_no) in sage],
    )
    still_open = open_documents(
        connection=connection, document_types={r.document_type for r in linked}
    )
    findings = []
    for row in linked:
        document = sage.get((row.sage_object, row.record_no))
        if document is None:
            findings.append(_finding(Kind.MISSING, None, row))
            continue
        if document.reversed:
            findings.append(_finding(Kind.REVERSED, document, row))
            continue
        if row.pk in expected:
            differences = _differences(document, expected[row.pk])
            if differences:
                findings.append(_finding(Kind.DIFFERS, document, row, differences=differences))
        if document.fully_paid and (row.document_type, row.document_id) in still_open:
            findings.append(
                _finding(Kind.PAID, document, row, closed=closed_label(row.document_type))
            )
    findings += _unknown_to_the_ledger(rows, sage, now)
    return Comparison(findings, len(rows), len(sage))


def _unknown_to_the_ledger(rows, sage: dict, now) -> list[ReconcileFinding]:
    """Findings for the live Sage documents no ledger row links: unlinked when a ledger row
    without RECORDNO has their number, foreign when they carry a Ledgerline number otherwise."""
    linked_keys = {(r.sage_object, r.record_no) for r in rows if r.record_no}
    by_number = {(r.sage_object, r.reference): r for r in rows}
    findings, candidates = [], []
    for document in sage.values():
        if document.reversed or document.reversal or not document.number:
            continue
        if (document.object, document.record_no) in linked_keys:
            continue
        match = VERSION.match(document.number)
        row = by_number.get((document.object, document.number)) or (
            by_number.get((document.object, match["base"])) if match else None
        )
        if row is None:
            candidates.append(document)
        elif _unlinked(row, now) and row.reference == document.number:
            findings.append(_finding(Kind.UNLINKED, document, row))
        elif row.record_no or row.state == State.REMOVED or row.reference != document.number:
            findings.append(_foreign(document, row.document_type, row.document_id, row))
    return findings + _numbered_like_tms_documents(candidates)


def _foreign(document: SageDocument, document_type, document_id, row=None, number=""):
    return _finding(
        Kind.FOREIGN,
        document,
        None,
        document=(document_type, document_id),
        document_label=_document_label(row, document_type, number),
    )


def _numbered_like_tms_documents(candidates: list[SageDocument]) -> list[ReconcileFinding]:
    """Foreign findings for the Sage documents numbered as a TMS document of their side that
    no ledger row knows (one query per document type and `NUMBER_CHUNK` numbers)."""
    if not candidates:
        return []
    findings = []
    for document_type, kind in DOCUMENT_TYPES.items():
        wanted = defaultdict(list)  # TMS number -> Sage documents
        for document in candidates:
            if document.object != kind.sage_object:
                continue
            for number in (document.number, VERSION.sub(r"\g<base>", document.number)):
                if kind.suffix and number.endswith(kind.suffix):
                    wanted[number[: -len(kind.suffix)]].append(document)
                elif not kind.suffix:
                    wanted[number].append(document)
        numbers = sorted(wanted)
        for start in range(0, len(numbers), NUMBER_CHUNK):
            chunk = numbers[start : start + NUMBER_CHUNK]
            for pk, number in kind.model.objects.filter(number__in=chunk).values_list(
                "pk", "number"
            ):
                for document in wanted[number]:
                    findings.append(
                        _foreign(document, document_type, pk, number=f"{number}{kind.suffix}")
                    )
    unique = {}
    for finding in findings:  # a number two document types share: reported once
        unique.setdefault((finding.sage_object, finding.record_no), finding)
    return list(unique.values())


# --- Error Transactions -----------------------------------------------------------------------


def _error_key(finding: ReconcileFinding):
    """The document an Error Transaction is opened for: the TMS document, or for a foreign
    Sage document the Sage document itself (by RECORDNO)."""
    if finding.kind == Kind.FOREIGN:
        if not finding.record_no.isdigit():
            return None
        return (drift.SAGE_DOCUMENT_TYPES[finding.sage_object], int(finding.record_no))
    if finding.document_id is None or not finding.document_type:
        return None
    return (finding.document_type, finding.document_id)


def _errors_sync(connection, findings: list[ReconcileFinding], now) -> None:
    """One open drift Error Transaction per affected document (the module's step 5); sets each
    finding's `error`."""
    wanted = defaultdict(list)
    for finding in findings:
        key = _error_key(finding)
        if key is not None:
            wanted[key].append(finding)
    Error = am.ErrorTransaction
    drifting = Error.objects.filter(
        subsidiary=connection.subsidiary_id,
        status=Error.Status.FAILED,
        details__0__description=drift.DRIFT_DESCRIPTION,
    )
    open_drift = {(e.document_type, e.document_id): e for e in drifting}
    gone = [e.pk for key, e in open_drift.items() if key not in wanted]
    if gone:
        Error.objects.filter(pk__in=gone, status=Error.Status.FAILED).update(
            status=Error.Status.RESOLVED,
            resolved_at=now,
            resolution=Error.Resolution.IN_AGREEMENT,
            updated_at=now,
        )
    changed, new = [], []
    for key, group in wanted.items():
        values = _error_values(connection, key, group)
        error = open_drift.get(key)
        if error is None:
            new.append(Error(**values))
        elif (error.message, error.details) != (values["message"], values["details"]):
            error.message, error.details, error.total = (
                values["message"],
                values["details"],
                values["total"],
            )
            error.attempts += 1
            changed.append(error)
    if changed:
        Error.objects.bulk_update(changed, ["message", "details", "total", "attempts"])
    if new:
        # A document with an open export error keeps that one (one open error per document).
        Error.objects.bulk_create(new, ignore_conflicts=True)
    if not wanted:
        return
    types = {key[0] for key in wanted}
    ids = {
        (e.document_type, e.document_id): e.pk
        for e in Error.objects.filter(
            subsidiary=connection.subsidiary_id,
            status=Error.Status.FAILED,
            document_type__in=types,
        ).only("pk", "document_type", "document_id")
    }
    for key, group in wanted.items():
        for finding in group:
            finding.error_id = ids.get(key)


def _error_values(connection, key, group: list[ReconcileFinding]) -> dict:
    first = group[0]
    kind = DOCUMENT_TYPES.get(key[0])
    if kind is not None:
        entity, transaction_type = kind.entity_type, kind.transaction_type
    else:
        entity = drift.SAGE_ENTITY_TYPES.get(first.sage_object, first.sage_object)
        transaction_type = "Invoice" if first.sage_object == "ARINVOICE" else "Bill"
    return {
        "entity_type": entity,
        "transaction_type": transaction_type,
        "subsidiary_id": connection.subsidiary_id,
        "document_type": key[0],
        "document_id": key[1],
        "reference": (first.sage_number or first.document_label)[:60],
        "total": am.money(first.sage_total or 0),
        "message": first.message,
        "details": [
            {
                "errorno": "",
                "description": drift.DRIFT_DESCRIPTION,
                "description2": finding.message,
                "correction": str(finding.get_kind_display()),
            }
            for finding in group
        ],
    }


# --- the service ------------------------------------------------------------------------------


def connection_reconcile(
    *,
    connection: Connection,
    client=None,
    trigger: str = ReconcileRun.Trigger.SCHEDULE,
    page_size: int = PAGE_SIZE,
) -> ReconcileRun:
    """Compare the connection's ledger with Sage; returns the run's log row (module docstring).

    Sage errors do not raise: the run is marked Failed with the message, and nothing else
    changes (Sage is read before anything is written). Other exceptions mark the run Failed and
    propagate.
    """
    now = timezone.now()
    run = ReconcileRun.objects.create(connection=connection, trigger=trigger, started_at=now)
    try:
        client = client or client_for(connection)
    except CredentialDecryptError as error:
        _finish(run, error=str(error))
        raise
    requests_before = client.requests_sent
    try:
        comparison = _compare(connection, client, page_size, now)
        with transaction.atomic():
            _errors_sync(connection, comparison.findings, now)
            for finding in comparison.findings:
                finding.run = run
            ReconcileFinding.objects.bulk_create(comparison.findings)
    except errors.IntacctError as error:
        _finish(run, requests=client.requests_sent - requests_before, error=str(error))
    except Exception as error:
        _finish(run, requests=client.requests_sent - requests_before, error=repr(error))
        raise
    else:
        _finish(
            run,
            requests=client.requests_sent - requests_before,
            ledger_documents=comparison.ledger_documents,
            sage_documents=comparison.sage_documents,
            counts=dict(Counter(f.kind for f in comparison.findings)),
        )
    _prune(connection)
    run.refresh_from_db()
    return run


def _finish(run: ReconcileRun, *, error: str = "", **values) -> None:
    ReconcileRun.objects.filter(pk=run.pk).update(
        status=ReconcileRun.Status.FAILED if error else ReconcileRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        error=error,
        **values,
    )


def _prune(connection) -> None:
    keep = ReconcileRun.objects.filter(connection=connection).values_list("pk", flat=True)[
        :KEEP_RUNS
    ]
    ReconcileRun.objects.filter(connection=connection).exclude(pk__in=list(keep)).delete()


def reconcile_last(*, connection: Connection) -> ReconcileRun | None:
    """The connection's last finished run (what its page shows), or None."""
    return (
        ReconcileRun.objects.filter(connection=connection)
        .exclude(status=ReconcileRun.Status.RUNNING)
        .first()
    )


# --- fixes on request ---------------------------------------------------------------------------


def reconcile_link(*, finding: ReconcileFinding, user=None, client=None) -> am.SyncRecord:
    """Link an unlinked finding's Sage document to its ledger row: RECORDNO recorded, Synced,
    the document's open Error Transactions resolved. Sage is read again first (one request):
    only the live document still carrying that number is linked. Raises ReconcileError."""
    if finding.resolved_at:
        raise ReconcileError(LINK_DONE_ALREADY.format(resolution=finding.resolution))
    if finding.kind != Kind.UNLINKED or finding.record_id is None:
        raise ReconcileError(LINK_NOT_UNLINKED)
    connection = finding.run.connection
    row = finding.record
    client = client or client_for(connection)
    label = f"{LABELS[finding.sage_object]} {finding.sage_number} (RECORDNO {finding.record_no})"
    now_in_sage = client.read(
        finding.sage_object, [finding.record_no], fields=["RECORDNO", "RECORDID", "STATE"]
    )
    if not any(
        str(r.get("RECORDID")) == finding.sage_number and r.get("STATE") not in ("Reversed",)
        for r in now_in_sage
    ):
        raise ReconcileError(LINK_GONE.format(label=label))
    other = (
        am.SyncRecord.objects.filter(
            connection=connection, sage_object=finding.sage_object, record_no=finding.record_no
        )
        .exclude(pk=row.pk)
        .first()
    )
    if other is not None:
        raise ReconcileError(
            LINK_ELSEWHERE.format(record_no=finding.record_no, document=_document_label(other))
        )
    now = timezone.now()
    # Conditional: an export that settled the row meanwhile keeps its own RECORDNO.
    linked = am.SyncRecord.objects.filter(pk=row.pk, record_no="").update(
        record_no=finding.record_no, state=State.SYNCED, synced_at=now, claimed_by=""
    )
    row.refresh_from_db()
    if not linked:
        raise ReconcileError(
            LINK_TAKEN.format(document=finding.document_label, record_no=row.record_no)
        )
    kind = DOCUMENT_TYPES.get(row.document_type)
    if kind is not None:
        failures_resolve(kind=kind, connection=connection, ids=[row.document_id])
    who = getattr(user, "get_username", lambda: "")() or "Ledgerline"
    ReconcileFinding.objects.filter(pk=finding.pk).update(
        resolved_at=now, resolution=LINKED.format(user=who, date=f"{now:%Y-%m-%d %H:%M}")
    )
    return row


def reconcile_payments_import(*, run: ReconcileRun, client=None) -> PaymentImportRun:
    """Import the payments of the documents `run` found paid in Sage and open in the TMS: a
    payment import backfilling from the oldest such document's date to today (the import's
    own rules apply and nothing is stored twice). Raises ReconcileError when there is none."""
    paid = list(
        run.findings.filter(kind=Kind.PAID, resolved_at=None).values_list("sage_date", flat=True)
    )
    if not paid:
        raise ReconcileError(NOTHING_TO_IMPORT)
    today = timezone.localdate()
    return payments_import(
        connection=run.connection,
        since=min((d for d in paid if d), default=today - dt.timedelta(days=1)),
        until=today,
        client=client,
        trigger=PaymentImportRun.Trigger.COMMAND,
    )


def findings_by_kind(*, run: ReconcileRun) -> list[tuple[str, str, list]]:
    """(kind, label, findings) for each kind the run found, in the report's order (one query)."""
    groups = defaultdict(list)
    for finding in run.findings.select_related("error").order_by("sage_number", "pk"):
        groups[finding.kind].append(finding)
    return [(kind, label, groups[kind]) for kind, label in Kind.choices if groups[kind]]
