"""The Error Transactions page's services: how to fix each failure, grouped causes, Retry Sync,
Sync All, Mark as Synced, and Retry export from a document's own page.

Views and admin actions call these and show what they return; nothing here renders HTML.
Every export goes through `export.documents_export` (the same path as the scheduled run), so a
retry claims, sends, records and resolves exactly like the export does.
"""

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection as db
from django.db import transaction
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounting import models as am
from intacct import export
from intacct.client import Q as SageQ
from intacct.client import errors as sage_errors
from intacct.connections import models as m
from intacct.connections.sage import client_for

from .fixes import Context, Fix, fix_for, party_of, rule_for
from .kinds import (
    PARTY_FIELDS,
    document_kind,
    document_kinds,
    document_model,
    error_transaction_retryable_here,
    error_transaction_where_to_retry,
)

Error = am.ErrorTransaction
Attempt = am.ErrorAttempt

# --- messages people see (the report of Retry Sync, Sync All, Mark as Synced) -----------------

NOT_EXPORTABLE_YET = "Ledgerline does not export {entity} documents to Sage Intacct yet."
NO_CONNECTION = "{subsidiary} has no Sage Intacct connection."
NOT_SYNCING = (
    "{subsidiary}'s Sage Intacct connection is {status}: turn Primary Sync on (or connect it "
    "again) first."
)
NOT_SYNCING_PRIMARY_OFF = "paused (Primary Sync off)"
NEEDS_CORRECTION = "still needs corrections: {problem}"
NOT_SENT = (
    "not sent: the document is no longer ready to export (already synced, changed back, or "
    "its export toggle is off in the connection's settings)."
)
HELD = (
    "not sent now: export run {run} has been sending it since {since} and settles it; if that "
    "run stopped, the next export takes it over when its claim lapses."
)
SAGE_UNREADABLE = "Sage Intacct could not be read, nothing was sent: {detail}"
ALREADY_RESOLVED = "already resolved."
MARK_AS_SYNCED_WARNING = (
    "Only mark a transaction as synced if it has been fully resolved in Sage Intacct: this "
    "action cannot be undone. Ledgerline will not export these documents again unless they "
    "change in the TMS."
)
SYNC_ALL_WARNING = (
    "Use Sync All only if the failed transactions are ready for export. Each one is checked "
    "first; those that still require corrections are skipped and listed."
)


# --- grouped causes ----------------------------------------------------------------------------


@dataclass
class Group:
    """Several failures with one cause, and the one fix."""

    cause: str
    count: int
    subsidiary: str
    fix: Fix | None
    references: list[str]


# Causes whose one fix is on a party's profile: the message alone does not say which party.
PARTY_CAUSES = {"customer", "vendor"}
# Causes whose message names a line: one cause per subsidiary, titled by the problem.
LINE_CAUSES = {"revenue_account", "expense_account", "dimension"}


def error_transactions_group(*, queryset, minimum: int = 2) -> list[Group]:
    """The open failures of `queryset` that share a cause, largest group first.

    A cause is the troubleshooting rule the message matches, per subsidiary, narrowed to the
    customer or vendor for "not linked" failures; a message no rule knows is its own cause
    (without its Support ID). Each row's cause is worked out once and stored
    (`error_transactions_cause_fill`); the grouping is then done by the database: a constant
    number of queries whatever the number of rows (fill, counts, the first ten references of
    each group, connections, and one per document type with "not linked" failures).
    """
    error_transactions_cause_fill()
    failed = queryset.filter(status=Error.Status.FAILED).exclude(cause="").order_by()
    counts = {
        (row["subsidiary_id"], row["cause"]): row["n"]
        for row in failed.values("subsidiary_id", "cause")
        .annotate(n=Count("*"))
        .filter(n__gte=minimum)
    }
    if not counts:
        return []
    # The first references of each group (by reference) in one query; the first is its sample.
    columns = (
        "subsidiary_id",
        "cause",
        "reference",
        "message",
        "subsidiary__name",
        "document_type",
        "document_id",
        "pk",
    )
    if (
        db.features.supports_slicing_ordering_in_compound
        and not queryset.query.has_filters()
        and len(counts) <= UNION_GROUPS
    ):
        # PostgreSQL, the whole list: each group's first references are an ordered scan of the
        # index on (status, cause, subsidiary, reference) that stops at REFERENCES_SHOWN,
        # instead of numbering every open failure of those causes (36 ms at 20,000 open
        # failures). Filtered, the window numbers only the rows found, and a group's scan
        # could walk all its rows looking for ones that pass the filter.
        parts = [
            failed.filter(subsidiary_id=subsidiary_id, cause=cause)
            .order_by("reference", "pk")
            .values_list(*columns)[:REFERENCES_SHOWN]
            for subsidiary_id, cause in counts
        ]
        ranked = parts[0].union(*parts[1:], all=True)
    else:
        ranked = (
            failed.filter(cause__in={cause for _, cause in counts})
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("cause"), F("subsidiary_id")],  # the index's order
                    order_by=[F("reference").asc(), F("pk").asc()],
                )
            )
            .filter(rank__lte=REFERENCES_SHOWN)
            .values_list(*columns)
        )
    members: dict[tuple, list] = defaultdict(list)
    for row in sorted(ranked, key=lambda row: (row[2], row[7])):  # by reference
        if (row[0], row[1]) in counts:  # a cause shared with another subsidiary's group
            members[(row[0], row[1])].append(row[:7])
    samples = {key: rows[0] for key, rows in members.items()}
    rules = {key: rule_for(sample[3]) for key, sample in samples.items()}
    wanted = defaultdict(set)
    for key, sample in samples.items():
        if rules[key] is not None and rules[key].key in PARTY_CAUSES:
            wanted[sample[5]].add(sample[6])
    parties = _parties(wanted)
    connections = _connections(subsidiary_id for subsidiary_id, _ in samples)
    groups = []
    for key, (
        subsidiary_id,
        _c,
        _r,
        message,
        subsidiary,
        document_type,
        document_id,
    ) in samples.items():
        rule = rules[key]
        party = (
            parties.get((document_type, document_id))
            if rule is not None and rule.key in PARTY_CAUSES
            else None
        )
        title = rule.problem if rule is not None and rule.key in LINE_CAUSES else message
        title = _without_support_id(title)
        if party is not None:
            title = f"{title} ({party._meta.verbose_name} {party})"
        ctx = Context(
            subsidiary_id,
            document_type,
            document_id,
            connection=connections.get(subsidiary_id),
            party=party,
        )
        groups.append(
            Group(
                cause=title,
                count=counts[key],
                subsidiary=subsidiary,
                fix=fix_for(rule, ctx) if rule is not None else None,
                references=[row[2] for row in members[key]],
            )
        )
    return sorted(groups, key=lambda g: (-g.count, g.subsidiary, g.cause))


REFERENCES_SHOWN = 10  # per group; "…" says there are more
UNION_GROUPS = 200  # up to this many groups, one ordered index scan each (PostgreSQL)
FILL_CHUNK = 2_000


def error_cause(*, message: str, party=None) -> str:
    """The key an open failure is grouped by: the troubleshooting rule its message matches,
    with the document's customer or vendor for the "not linked" rules; for a message no rule
    knows (or one whose rule does not group by line), the message without its Support ID.
    Short (a hash of the message), so the database groups and indexes it cheaply."""
    rule = rule_for(message)
    if rule is not None and rule.key in PARTY_CAUSES:
        return f"{rule.key}:{party._meta.label_lower}:{party.pk}" if party else f"{rule.key}:"
    if rule is not None and (rule.key in LINE_CAUSES or rule.key == "credentials"):
        return rule.key
    digest = hashlib.sha256(_without_support_id(message).encode()).hexdigest()[:40]
    return f"{rule.key if rule else 'message'}:{digest}"


def error_transactions_cause_fill() -> int:
    """Work out and store the cause of each open failure that has none yet (new, or whose
    message changed); returns how many. A few rows at a time in normal use: each row once."""
    filled = 0
    # Unordered, so the index on (status, cause) finds them; a filled row no longer matches.
    pending = Error.objects.filter(status=Error.Status.FAILED, cause="").order_by()
    while rows := list(pending.only("pk", "message", "document_type", "document_id")[:FILL_CHUNK]):
        wanted = defaultdict(set)
        rules = {row.pk: rule_for(row.message) for row in rows}
        for row in rows:
            if rules[row.pk] is not None and rules[row.pk].key in PARTY_CAUSES:
                wanted[row.document_type].add(row.document_id)
        parties = _parties(wanted)
        for row in rows:
            row.cause = error_cause(
                message=row.message, party=parties.get((row.document_type, row.document_id))
            )
        Error.objects.bulk_update(rows, ["cause"])
        filled += len(rows)
    return filled


def _without_support_id(message: str) -> str:
    return re.sub(r"\s*\(Sage Support ID: [^)]*\)", "", message or "").strip()


def _parties(wanted: dict[str, set]) -> dict[tuple, object]:
    """(document type, document id) → the document's customer or vendor; one query per type."""
    found = {}
    for document_type, ids in wanted.items():
        model = document_model(document_type)
        names = PARTY_FIELDS.get(model, ())
        if not names:
            continue
        for document in model.objects.filter(pk__in=ids).select_related(*names):
            party = party_of(document)
            if party is not None:
                found[(document_type, document.pk)] = party
    return found


# --- Retry Sync, Sync All, Retry export ----------------------------------------------------------


@dataclass
class RetryReport:
    """What a retry did: how many rows were sent, resolved, still failing and skipped, and why
    each skipped row was skipped."""

    sent: int = 0
    resolved: int = 0
    failed: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)

    def skip(self, reason: str, count: int = 1) -> None:
        if count:
            self.skipped += count
            self.reasons[reason] += count

    @property
    def summary(self) -> str:
        return (
            f"{self.sent} sent, {self.resolved} resolved, {self.failed} still failing, "
            f"{self.skipped} skipped."
        )


def _connections(subsidiary_ids) -> dict[int, m.Connection]:
    return {
        c.subsidiary_id: c
        for c in m.Connection.objects.select_related("subsidiary").filter(
            subsidiary_id__in=set(subsidiary_ids)
        )
    }


def _connection_problem(connection: m.Connection | None, subsidiary) -> str:
    if connection is None:
        return NO_CONNECTION.format(subsidiary=subsidiary)
    if connection.is_syncing:
        return ""
    status = (
        NOT_SYNCING_PRIMARY_OFF
        if connection.status == m.Connection.Status.ACTIVE
        else connection.get_status_display().lower()
    )
    return NOT_SYNCING.format(subsidiary=connection.subsidiary, status=status)


def _retry(
    errors_: list[Error], *, validate: bool, trigger: str, user=None, client=None
) -> RetryReport:
    """Send the rows' documents again through the export, per connection and document type.

    1. Rows already resolved, of a type Retry Sync does not handle, of a type Ledgerline does
       not export, or whose connection is not syncing are skipped with the reason.
    2. With `validate` (Sync All), each document is resolved first without sending; those
       that still need corrections or are no longer ready are skipped with the reason.
    3. The rest go to `export.documents_export(ids=...)`; afterwards each row is resolved,
       still failing (the export recorded a new attempt), or skipped as not sent.
    4. The attempts this made are recorded with the trigger and the user.
    """
    report = RetryReport()
    started = timezone.now()
    connections = _connections(e.subsidiary_id for e in errors_)
    groups: dict[tuple, list[Error]] = defaultdict(list)
    for error in errors_:
        if error.status != Error.Status.FAILED:
            report.skip(ALREADY_RESOLVED)
        elif not error_transaction_retryable_here(error=error):
            report.skip(error_transaction_where_to_retry(error=error)[0])
        elif error.document_type not in document_kinds():
            report.skip(NOT_EXPORTABLE_YET.format(entity=error.entity_type))
        else:
            groups[(error.subsidiary_id, error.document_type)].append(error)
    attempted: list[Error] = []
    for (subsidiary_id, document_type), members in groups.items():
        connection = connections.get(subsidiary_id)
        problem = _connection_problem(connection, members[0].subsidiary)
        if problem:
            report.skip(problem, len(members))
            continue
        ids = [e.document_id for e in members]
        if validate:
            try:
                problems = export.documents_validate(
                    connection=connection, document_type=document_type, ids=ids, client=client
                )
            except sage_errors.IntacctError as error:
                report.skip(SAGE_UNREADABLE.format(detail=error), len(members))
                continue
            ready = []
            for member in members:
                if member.document_id not in problems:
                    report.skip(NOT_SENT)
                elif problems[member.document_id]:
                    report.skip(NEEDS_CORRECTION.format(problem=problems[member.document_id]))
                else:
                    ready.append(member)
            members = ready
        if not members:
            continue
        summary = export.documents_export(
            connection=connection,
            document_type=document_type,
            ids=[e.document_id for e in members],
            client=client,
        )
        if summary.errors:  # Sage unreachable: nothing was sent
            report.skip(SAGE_UNREADABLE.format(detail=summary.errors[0]), len(members))
            continue
        attempted.extend(members)
    _settle(report, attempted, started, trigger=trigger, user=user)
    return report


def _settle(report: RetryReport, attempted: list[Error], started, *, trigger, user) -> None:
    """Count the attempted rows as resolved, still failing or not sent (three queries)."""
    if not attempted:
        return
    ids = [e.pk for e in attempted]
    tried = Attempt.objects.filter(
        error_id__in=ids, at__gte=started, trigger=Attempt.Trigger.EXPORT
    )
    touched = set(tried.values_list("error_id", flat=True))
    tried.update(trigger=trigger, user=user)
    resolved = set(
        Error.objects.filter(pk__in=ids, status=Error.Status.RESOLVED).values_list("pk", flat=True)
    )
    unsent = [e for e in attempted if e.pk not in resolved and e.pk not in touched]
    held = _held(unsent)
    for error in attempted:
        if error.pk in resolved:
            report.sent += 1
            report.resolved += 1
        elif error.pk in touched:
            report.sent += 1
            report.failed += 1
        elif (error.document_type, error.document_id) in held:
            record = held[(error.document_type, error.document_id)]
            report.skip(
                HELD.format(
                    run=record.claimed_by[:8],
                    since=timezone.localtime(record.last_attempt_at).strftime("%H:%M:%S"),
                )
            )
        else:
            report.skip(NOT_SENT)


def _held(errors_: list[Error]) -> dict[tuple, am.SyncRecord]:
    """The documents among `errors_` that a live export run is sending right now (its claim
    is younger than the lease), by (document type, id); one query, none when empty."""
    if not errors_:
        return {}
    wanted = Q()
    for error in errors_:
        wanted |= Q(document_type=error.document_type, document_id=error.document_id)
    rows = am.SyncRecord.objects.filter(
        wanted,
        state=am.SyncRecord.State.PENDING,
        last_attempt_at__gt=timezone.now() - export.CLAIM_LEASE,
    ).exclude(claimed_by="")
    return {(r.document_type, r.document_id): r for r in rows}


def error_transactions_retry(*, errors: Iterable[Error], user=None, client=None) -> RetryReport:
    """Retry Sync: send the selected rows' documents again now (Load, Trip, E-check, Paystub).

    Rows of other types are skipped with where to retry them. Sage's answer is recorded as by
    any export: a success resolves the row, a failure updates its message and history."""
    return _retry(
        list(errors), validate=False, trigger=Attempt.Trigger.RETRY_SYNC, user=user, client=client
    )


def error_transactions_sync_all(
    *, errors: Iterable[Error] | None = None, user=None, client=None
) -> RetryReport:
    """Sync All: every failed row (or `errors`) that Retry Sync handles, re-validated first;
    rows that still need corrections are skipped, and the report says why."""
    if errors is None:
        errors = Error.objects.filter(status=Error.Status.FAILED).select_related("subsidiary")
    return _retry(
        list(errors), validate=True, trigger=Attempt.Trigger.SYNC_ALL, user=user, client=client
    )


@dataclass
class ExportReport:
    """What Retry export on a document page did."""

    exported: int = 0
    failed: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)


def documents_retry_export(
    *, document_type: str, documents: Iterable, user=None, client=None
) -> ExportReport:
    """Retry export from a document's own page (summary invoices, settlements): send the
    selected documents now through the export, per subsidiary.

    A document type Ledgerline does not export yet, or a subsidiary whose connection is not
    syncing, is skipped with the reason; documents not ready to export are counted as skipped.
    """
    report = ExportReport()
    documents = list(documents)
    kind = document_kinds().get(document_type)
    if kind is None:
        label = getattr(document_model(document_type), "_meta", None)
        entity = label.verbose_name if label else document_type.replace("_", " ")
        report.skipped = len(documents)
        report.reasons[NOT_EXPORTABLE_YET.format(entity=entity)] += len(documents)
        return report
    started = timezone.now()
    by_subsidiary = defaultdict(list)
    for document in documents:
        by_subsidiary[document.subsidiary_id].append(document)
    connections = _connections(by_subsidiary)
    for subsidiary_id, members in by_subsidiary.items():
        connection = connections.get(subsidiary_id)
        problem = _connection_problem(connection, members[0].subsidiary)
        if problem:
            report.skipped += len(members)
            report.reasons[problem] += len(members)
            continue
        summary = export.documents_export(
            connection=connection,
            document_type=document_type,
            ids=[d.pk for d in members],
            client=client,
        )
        done = summary.created + summary.updated
        report.exported += done
        report.failed += summary.failed
        if summary.errors:
            report.reasons[SAGE_UNREADABLE.format(detail=summary.errors[0])] += len(members)
        not_sent = max(len(members) - done - summary.failed, 0)
        report.skipped += not_sent
        if not_sent and not summary.errors:
            report.reasons[NOT_SENT] += not_sent
    Attempt.objects.filter(
        error__document_type=document_type,
        error__document_id__in=[d.pk for d in documents],
        at__gte=started,
        trigger=Attempt.Trigger.EXPORT,
    ).update(trigger=Attempt.Trigger.RETRY_EXPORT, user=user)
    return report


# --- Mark as Synced ------------------------------------------------------------------------------


def _sage_object(error: Error) -> str:
    kind = document_kind(error.document_type)
    sage_object = getattr(kind, "sage_object", "")
    if sage_object:
        return sage_object
    return "APBILL" if "bill" in error.transaction_type.lower() else "ARINVOICE"


def _ledger_rows(errors_: list[Error], connections) -> dict[tuple, am.SyncRecord]:
    """The documents' existing ledger rows (role ""), by (connection, type, id); one query."""
    condition = Q(pk__in=[])
    for error in errors_:
        connection = connections.get(error.subsidiary_id)
        if connection is not None:
            condition |= Q(
                connection=connection,
                document_type=error.document_type,
                document_id=error.document_id,
                role="",
            )
    return {
        (r.connection_id, r.document_type, r.document_id): r
        for r in am.SyncRecord.objects.filter(condition)
    }


def _sage_number(error: Error, record: am.SyncRecord | None) -> str:
    if record is not None and record.reference:
        return record.reference
    return f"{error.reference}{getattr(document_kind(error.document_type), 'suffix', '')}"


LOOKUP_CHUNK = 100


def _sage_record_nos(errors_, connections, rows, client=None) -> dict[tuple, str]:
    """RECORDNO of each document Sage holds under its number (live, not reversed), by
    (connection, type, id). Best effort: one query per connection, Sage object and 100
    numbers; a connection Sage cannot be read for gives nothing."""
    wanted = defaultdict(dict)  # (connection, sage object) → number → key
    for error in errors_:
        connection = connections.get(error.subsidiary_id)
        if (
            connection is None
            or not connection.password_encrypted
            or not document_kind(error.document_type)
        ):
            continue
        key = (connection.pk, error.document_type, error.document_id)
        if rows.get(key) is not None and rows[key].record_no:
            continue
        number = _sage_number(error, rows.get(key))
        wanted[(connection.pk, _sage_object(error))][number] = key
    by_pk = {c.pk: c for c in connections.values()}
    found = {}
    for (connection_pk, sage_object), numbers in wanted.items():
        try:
            reader = client or client_for(by_pk[connection_pk])
            names = list(numbers)
            for start in range(0, len(names), LOOKUP_CHUNK):
                for row in reader.iter_query(
                    sage_object,
                    ["RECORDNO", "RECORDID", "STATE"],
                    filter=SageQ.in_("RECORDID", names[start : start + LOOKUP_CHUNK]),
                ):
                    key = numbers.get(row.get("RECORDID"))
                    if key is not None and row.get("STATE") != "Reversed":
                        found[key] = str(row["RECORDNO"])
        except sage_errors.IntacctError:
            continue
    return found


def error_transactions_mark_synced(*, errors: Iterable[Error], user, client=None) -> int:
    """Mark as Synced: the rows become Resolved, recorded with who and when, and each
    document's ledger row is marked synced so no later export sends it (or reopens the row).
    Cannot be undone. Returns how many rows this resolved (rows already resolved are left
    as they are).

    1. Look each document up in Sage by its number (best effort, before any write): when
       Sage holds it, its RECORDNO goes in the ledger, so payments import for it and a later
       change in the TMS updates or reverses that document instead of creating another.
    2. Claim the failed rows with one conditional update (a row resolved meanwhile is not
       marked twice).
    3. Mark the documents' ledger rows synced, creating those that do not exist yet.
    4. Add "Marked as synced" to each row's history.
    """
    selected = [e for e in errors if e.status == Error.Status.FAILED]
    if not selected:
        return 0
    connections = _connections(e.subsidiary_id for e in selected)
    rows = _ledger_rows(selected, connections)
    record_nos = _sage_record_nos(selected, connections, rows, client=client)
    with transaction.atomic():
        now = timezone.now()
        Error.objects.filter(pk__in=[e.pk for e in selected], status=Error.Status.FAILED).update(
            status=Error.Status.RESOLVED,
            resolution=Error.Resolution.MARKED_SYNCED,
            resolved_by=user,
            resolved_at=now,
        )
        marked = list(
            Error.objects.filter(
                pk__in=[e.pk for e in selected],
                resolution=Error.Resolution.MARKED_SYNCED,
                resolved_by=user,
                resolved_at=now,
            )
        )
        _ledger_mark_synced(marked, connections, rows, record_nos, now)
        Attempt.objects.bulk_create(
            Attempt(
                error=error,
                at=now,
                outcome=Attempt.Outcome.MARKED_SYNCED,
                trigger=Attempt.Trigger.MARK_AS_SYNCED,
                user=user,
                message=f"Marked as synced by {user}",
            )
            for error in marked
        )
    return len(marked)


def _ledger_mark_synced(marked: list[Error], connections, rows, record_nos, now) -> None:
    """The documents' ledger rows (role ""), synced as of `now`, with the RECORDNO found."""
    update, create = [], []
    for error in marked:
        connection = connections.get(error.subsidiary_id)
        if connection is None or not document_kind(error.document_type):
            # Never connected, or a kind the export does not send (a voided payment): no
            # ledger row to write, and one keyed by the document's number would shadow the
            # exported document's in the payment import.
            continue
        key = (connection.pk, error.document_type, error.document_id)
        record = rows.get(key)
        if record is None:
            record = am.SyncRecord(
                connection=connection,
                document_type=error.document_type,
                document_id=error.document_id,
                reference=_sage_number(error, None),
                sage_object=_sage_object(error),
                controlid=export.controlid_new(
                    document_kind(error.document_type), error.document_id, 1
                ),
            )
            create.append(record)
        else:
            update.append(record)
        record.state, record.synced_at, record.claimed_by = am.SyncRecord.State.SYNCED, now, ""
        record.record_no = record.record_no or record_nos.get(key, "")
    if update:
        am.SyncRecord.objects.bulk_update(update, ["state", "synced_at", "claimed_by", "record_no"])
    if create:
        am.SyncRecord.objects.bulk_create(create, ignore_conflicts=True)
