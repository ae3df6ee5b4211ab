"""The sync ledger: one row per TMS document and Sage document, written before anything is
sent, claimed with a conditional update, and settled with Sage's RECORDNO."""

import datetime as dt

from django.conf import settings
from django.db import connection as connection_db
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounting import models as am
from intacct.client import Q as SageQ
from intacct.client import functions as fn
from intacct.client import to_date, to_decimal

from .documents import DocumentType
from .outcomes import failures_resolve
from .run import Run, payload_hash

# A claim older than this is taken over (its exporter died). A run renews its claim each time it
# sends; a takeover while a request is still in flight is harmless: the resend carries the same
# controlid (uniqueid=true), Sage refuses it as a duplicate and the document is looked up.
CLAIM_LEASE = dt.timedelta(seconds=settings.INTACCT_CLAIM_LEASE_SECONDS)
SYNCED = am.SyncRecord.State.SYNCED
PENDING = am.SyncRecord.State.PENDING
# Sage states (ARINVOICE / APBILL STATE).
DRAFT, REVERSED = "Draft", "Reversed"


def controlid_new(kind: DocumentType, doc_id, version: int) -> str:
    """A new ledger row's idempotency key, sent as the function controlid (uniqueid=true).

    Readable (`ar-invoice-load-17-v1-…`), but what makes it unique is its random part, never
    the database key: a restored database or a second installation that hands the same
    document id to another document still gets a key Sage has never seen. Written before the
    first send and reused for every resend of that version.
    """
    return fn.unique_controlid(f"{kind.prefix}-{doc_id}-v{version}")


def ledger_rows(kind: DocumentType, connection, docs) -> dict[int, am.SyncRecord]:
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
            controlid=controlid_new(kind, doc.pk, 1),
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


def sage_lookup(
    kind: DocumentType, client, number: str, *, expected: fn.Function | None = None
) -> str | None:
    """RECORDNO of the live (not reversed) Sage document numbered `number` that is the one
    `expected` created, if Sage has it.

    A number is not proof: another installation (or a copy of this one) writing into the same
    Sage company may have a document with that number. A document is taken for ours only when
    its customer or vendor, date and total are those of `expected`; without `expected`, only
    when it is the one document with that number. Otherwise None: nothing is linked, and the
    caller records the failure rather than guess.
    """
    party = "CUSTOMERID" if kind.sage_object == "ARINVOICE" else "VENDORID"
    rows = client.iter_query(
        kind.sage_object,
        ["RECORDNO", "RECORDID", "STATE", party, "WHENCREATED", "TOTALENTERED"],
        filter=SageQ.equalto("RECORDID", number),
    )
    live = [row for row in rows if row.get("STATE") != REVERSED]
    if expected is not None:
        wanted = _identity(expected)
        live = [row for row in live if _sage_identity(row, party) == wanted]
    return live[0]["RECORDNO"] if len(live) == 1 else None


def _identity(function: fn.Function) -> tuple:
    """(customer or vendor, date, total) of a create_invoice or an APBILL create."""
    body = function.body
    if body.tag == "create_invoice":
        created = body.find("datecreated")
        date = dt.date(*(int(created.findtext(part)) for part in ("year", "month", "day")))
        amounts = [line.findtext("amount") for line in body.iter("lineitem")]
        return body.findtext("customerid"), date, sum(map(to_decimal, amounts))
    bill = body.find("APBILL")
    amounts = [line.findtext("TRX_AMOUNT") for line in bill.iter("APBILLITEM")]
    return (
        bill.findtext("VENDORID"),
        to_date(bill.findtext("WHENCREATED")),
        sum(map(to_decimal, amounts)),
    )


def _sage_identity(row: dict, party: str) -> tuple:
    return row.get(party), to_date(row.get("WHENCREATED")), to_decimal(row.get("TOTALENTERED"))


def sage_states(kind: DocumentType, client, record_nos: list[str]) -> dict[str, dict]:
    """RECORDNO → {STATE, TOTALPAID} for the batch's Sage documents (one query)."""
    if not record_nos:
        return {}
    rows = client.iter_query(
        kind.sage_object,
        ["RECORDNO", "STATE", "TOTALPAID"],
        filter=SageQ.in_("RECORDNO", record_nos),
    )
    return {row["RECORDNO"]: row for row in rows}


def ledger_claim(run: Run, items, *, states) -> list:
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
    held = sum(1 for item in items if item[1].pk not in claimed)
    run.summary.skipped += held
    run.summary.held += held
    return [item for item in items if item[1].pk in claimed]


def ledger_mark_synced(kind: DocumentType, connection, synced, members, *, as_of) -> None:
    """Record RECORDNOs, payload hashes (and, for group documents, the members each bills,
    from `members`: document id -> member ids) and resolve open errors for the batch's
    successes (one transaction: one UPDATE sent with every row's values, then
    `failures_resolve`). `as_of`: when the documents were read, recorded as synced_at."""
    if not synced:
        return
    records = []
    for _doc, record, record_no, function in synced:
        record.state, record.record_no, record.synced_at = SYNCED, record_no or "", as_of
        record.claimed_by = ""
        if function is not None:
            record.payload_hash = payload_hash(function)
        records.append(record)
    # One UPDATE statement sent with each row's values (executemany): Django's bulk_update
    # builds a CASE branch per row and field, which cost more CPU than the rest of the batch's
    # ledger work (benchmarks/, README "Performance").
    table = am.SyncRecord._meta.db_table
    column = {f.name: connection_db.ops.quote_name(f.column) for f in am.SyncRecord._meta.fields}
    synced_at = connection_db.ops.adapt_datetimefield_value(as_of)
    # Only identifiers from the model's own metadata are formatted in; every value is a parameter.
    sql = (
        f"UPDATE {connection_db.ops.quote_name(table)} SET {column['record_no']} = %s, "  # noqa: S608
        f"{column['payload_hash']} = %s, {column['controlid']} = %s, {column['state']} = %s, "
        f"{column['synced_at']} = %s, {column['claimed_by']} = %s WHERE {column['id']} = %s"
    )
    rows = [
        (r.record_no, r.payload_hash, r.controlid, SYNCED.value, synced_at, "", r.pk)
        for r in records
    ]
    with transaction.atomic():
        with connection_db.cursor() as cursor:
            cursor.executemany(sql, rows)
        if kind.member_type and members:
            members_record(
                kind,
                {record.pk: members[doc.pk] for doc, record, *_ in synced if doc.pk in members},
            )
    failures_resolve(kind=kind, connection=connection, ids=[doc.pk for doc, *_ in synced])


def members_record(kind: DocumentType, billed: dict[int, tuple[int, ...]]) -> None:
    """The members each group ledger row's Sage document now bills (ledger row id -> member
    ids), replacing what its earlier version billed (two queries)."""
    am.SyncMember.objects.filter(record_id__in=billed).delete()
    am.SyncMember.objects.bulk_create(
        am.SyncMember(record_id=record_id, document_type=kind.member_type, document_id=member)
        for record_id, member_ids in billed.items()
        for member in member_ids
    )
