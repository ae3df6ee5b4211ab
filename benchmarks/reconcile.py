"""The reconcile scenario: Reconcile with Sage over every document the export scenario exported
(loads and trips), with drift an accountant made in the sandbox (reversed invoices, paid bills),
then again (nothing new opened). Counts requests (readByQuery pages), queries, wall time."""

import math

from benchmarks.harness import Measurement, measure

DRIFT = 10  # invoices reversed and bills paid in Sage before the run


def reconcile_scenario(args, sandbox, main, rows: list[Measurement], targets: list, Target) -> None:
    from accounting import models as am
    from intacct.connections.sage import client_for
    from intacct.errors import drift
    from intacct.reconcile import services as reconcile
    from intacct.reconcile.reading import PAGE_SIZE
    from intacct.sandbox.models import SandboxRecord
    from intacct.sandbox.services import sandbox_document_reverse, sandbox_payment_record

    ledger = am.SyncRecord.objects.filter(connection=main, state="synced")
    invoices = [
        int(n) for n in ledger.filter(sage_object="ARINVOICE").values_list("record_no", flat=True)
    ]
    bills = [
        int(n) for n in ledger.filter(sage_object="APBILL").values_list("record_no", flat=True)
    ]
    documents = len(invoices) + len(bills)
    # Drift the payment scenario (when run before) leaves alone: unpaid invoices reversed, open
    # bills of loads' trips paid off, as many of each as there are documents to spare.
    drifted = min(DRIFT, len(invoices) // 2, len(bills) // 2)
    unpaid = SandboxRecord.objects.filter(pk__in=invoices, state="Posted", data__TOTALPAID="0.00")
    reversed_ = list(unpaid.order_by("pk")[:drifted])
    for invoice in reversed_:
        sandbox_document_reverse(document=invoice)
    open_bills = SandboxRecord.objects.filter(pk__in=bills, state__in=["Posted", "Partially Paid"])
    paid = list(open_bills.order_by("pk")[:drifted])
    for bill in paid:
        sandbox_payment_record(document=bill)
    expected = {k: n for k, n in (("reversed", len(reversed_)), ("paid", len(paid))) if n}
    drifted = len(reversed_) + len(paid)
    open_drift = am.ErrorTransaction.objects.filter(
        status="failed", details__0__description=drift.DRIFT_DESCRIPTION
    )
    for n, label in (
        (1, f"6 reconcile {documents:,} documents ({drifted} drifted)"),
        (2, "6 reconcile again (same drift)"),
    ):
        print(f"{label} ...", flush=True)
        with measure(sandbox, label, documents) as row:
            run = reconcile.connection_reconcile(connection=main, client=client_for(main))
        row.extra = {"counts": run.counts, "status": run.status, "errors": open_drift.count()}
        rows.append(row)
        targets.append(
            Target(
                run.status == "succeeded"
                and run.counts == expected
                and row.extra["errors"] == drifted,
                f"reconcile finds each drifted document once (run {n}): {run.counts}, "
                f"{row.extra['errors']} open drift errors",
            )
        )
        # one readByQuery page per PAGE_SIZE documents per object, the session and the reads
        # of Sage's customers, vendors and terms the payload builder makes once
        pages = math.ceil(max(len(invoices), 1) / PAGE_SIZE) + math.ceil(
            max(len(bills), 1) / PAGE_SIZE
        )
        targets.append(
            Target(
                row.requests <= pages + 6,
                f"reconcile requests are readByQuery pages: {row.requests} for {documents:,} "
                f"documents ({pages} pages of {PAGE_SIZE}; run {n})",
            )
        )
        targets.append(
            Target(
                row.queries <= 60 + 10 * math.ceil(documents / 1000),
                f"reconcile queries do not grow per document: {row.queries} for "
                f"{documents:,} documents (run {n}; TMS documents read 1,000 per batch)",
            )
        )
