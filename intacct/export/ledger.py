"""The sync ledger: one row per TMS document and Sage document, written before anything is
sent, claimed with a conditional update, and settled with Sage's RECORDNO."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounting import models as am
from intacct.client import Q as SageQ

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


def sage_lookup(kind: DocumentType, client, number: str) -> str | None:
    """RECORDNO of the live (not reversed) Sage document numbered `number`, if Sage has one."""
    rows = client.iter_query(
        kind.sage_object,
        ["RECORDNO", "RECORDID", "STATE"],
        filter=SageQ.equalto("RECORDID", number),
    )
    live = [row["RECORDNO"] for row in rows if row.get("STATE") != REVERSED]
    return live[0] if live else None


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


def ledger_mark_synced(kind: DocumentType, connection, synced, members=None) -> None:
    """Record RECORDNOs, payload hashes (and, for group documents, the members each bills,
    from `members`: document id -> member ids) and resolve open errors for the batch's
    successes (one transaction of two updates, then `failures_resolve`)."""
    if not synced:
        return
    now = timezone.now()
    records = []
    for _doc, record, record_no, function in synced:
        record.state, record.record_no, record.synced_at = SYNCED, record_no or "", now
        record.claimed_by = ""
        if function is not None:
            record.payload_hash = payload_hash(function)
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
