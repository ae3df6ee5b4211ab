"""What an export run records when Sage refuses a document or it cannot be built: the
document's one open Error Transaction and its attempt history; a later success resolves it."""

import copy
import logging
import uuid
import xml.etree.ElementTree as ET

from django.db.models import F
from django.utils import timezone

from accounting import models as am
from intacct.client import errors
from intacct.client import functions as fn
from intacct.client.redaction import redact

from .documents import DocumentType
from .run import ExportSummary, Run

logger = logging.getLogger("intacct.export")

# A failure no rule foresaw (a defect, not bad data): the document's Error Transaction says so
# and names the reference under which the log holds the traceback.
UNEXPECTED = (
    "Unexpected error ({error_class}) while preparing this document for Sage Intacct; nothing "
    "was sent for it. Support reference {reference}: the details are in the server log under "
    "it. The next export tries again."
)
NOT_ANSWERED = (
    "Sage Intacct did not answer whether it applied this document ({detail}). Nothing is sent "
    "again blindly: the next export looks it up in Sage first, links it if Sage has it and "
    "sends it only if not; this then resolves itself."
)
UNEXPECTED_TYPE = (
    "{entity} → {transaction}: unexpected error ({error_class}) stopped this document type; "
    "the other types went on. Support reference {reference}: the details are in the server log."
)


def support_reference() -> str:
    """A short reference that ties what a user sees to the log line with the traceback."""
    return f"LL-{uuid.uuid4().hex[:10].upper()}"


def failure_record(
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
        "cause": "",  # the Error Transactions page works the cause out again from the message
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


def failures_resolve(*, kind: DocumentType, connection, ids: list[int]) -> None:
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


def refusal_record(run: Run, doc, record, error, function, *, state) -> None:
    """Sage refused `function`: the ledger row takes `state` (FAILED for a create, SYNCED when
    the document Sage has stays as it is) and the document's Error Transaction says why."""
    am.SyncRecord.objects.filter(pk=record.pk).update(state=state, claimed_by="")
    failure_record(
        kind=run.kind,
        connection=run.data.connection,
        doc=doc,
        message=str(error),
        error=error,
        function=function,
    )
    run.summary.failed += 1


def unexpected_record(run: Run, doc, error: Exception) -> str:
    """`doc` failed in a way no rule foresaw: log the traceback under a support reference,
    record the document's Error Transaction with the exception's class and that reference,
    and count it; the run goes on with the next document. Returns the reference."""
    reference = support_reference()
    logger.error(
        "Unexpected error exporting %s %s (support reference %s)",
        run.kind.document_type,
        doc.pk,
        reference,
        exc_info=error,
    )
    message = UNEXPECTED.format(error_class=type(error).__name__, reference=reference)
    failure_record(kind=run.kind, connection=run.data.connection, doc=doc, message=message)
    run.summary.failed += 1
    run.summary.unexpected += 1
    return reference


def unexpected_type_summary(kind: DocumentType, connection, error: Exception) -> ExportSummary:
    """A whole document type stopped by a failure no rule foresaw (outside any one document):
    logged under a support reference, reported in the run's summary; other types go on."""
    reference = support_reference()
    logger.error(
        "Unexpected error exporting %s for %s (support reference %s)",
        kind.document_type,
        connection.subsidiary,
        reference,
        exc_info=error,
    )
    text = UNEXPECTED_TYPE.format(
        entity=kind.entity_type,
        transaction=kind.transaction_type,
        error_class=type(error).__name__,
        reference=reference,
    )
    return ExportSummary(unexpected=1, unexpected_errors=[text])


def outcome_unknown_record(run: Run, items, error: Exception) -> None:
    """Sage may have applied these (doc, record, function) without its answer reaching us: the
    ledger rows become UNKNOWN (the next run looks each up before sending) and each document's
    Error Transaction says so; it resolves itself when the lookup or a resend settles it."""
    am.SyncRecord.objects.filter(pk__in=[record.pk for _, record, _ in items]).update(
        state=am.SyncRecord.State.UNKNOWN, claimed_by=""
    )
    for doc, _record, function in items:
        failure_record(
            kind=run.kind,
            connection=run.data.connection,
            doc=doc,
            message=NOT_ANSWERED.format(detail=error),
            function=function,
        )
    run.summary.failed += len(items)
