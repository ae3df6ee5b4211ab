"""Every TMS document the product exports, as one shape: a `Draft` (who, when, which lines,
which TMS fields) that `payloads.draft_function` turns into the Sage function: `create_invoice`
for AR, `create` APBILL for AP; `DOCUMENT_TYPES` is their registry. Each document type
contributes only what is its own: which documents are ready (`*_ready`, one queryset with
everything prefetched) and how it reads (`*_draft`). Group documents bill each charge once
(`members`).

The `*_ready` querysets prefetch each document's lines, so `get_total()` sums them in memory;
they do not annotate totals (`with_totals()`): its GROUP BY over every joined column cost more
than the rest of reading a batch (benchmarks/, README "Performance").
"""

from collections.abc import Callable
from dataclasses import dataclass

from accounting import models as am

from .ap import (
    carrier_settlement_draft,
    carrier_settlements_ready,
    driver_settlement_draft,
    driver_settlements_ready,
    paystub_draft,
    paystubs_ready,
    trip_draft,
    trips_ready,
)
from .ar import (
    carrier_statement_draft,
    carrier_statements_ap_ready,
    carrier_statements_ar_ready,
    echeck_ar_draft,
    echeck_draft,
    echecks_ar_ready,
    echecks_ready,
    intercompany_bill_draft,
    intercompany_bills_ready,
    intercompany_invoice_draft,
    intercompany_invoices_ready,
    load_draft,
    loads_ready,
    summary_invoice_draft,
    summary_invoices_ready,
)
from .members import GROUPS

# --- the document types -------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentType:
    """One kind of TMS document and the Sage document it becomes.

    `toggles`: every setting that must be on, as (settings, field) with settings one of "ar",
    "ap", "advanced"; `suffix`: appended to the TMS number for the Sage number (intercompany
    documents share their load's number).
    """

    document_type: str
    model: type
    sage_object: str
    entity_type: str
    transaction_type: str
    toggles: tuple
    ready: Callable
    draft: Callable
    suffix: str = ""
    subsidiary_field: str = "subsidiary"  # the document's field naming the exporting subsidiary
    members: str = ""  # a group document: its members' related name on it ("loads")

    def applies_to(self, doc) -> bool:
        """Whether `doc` (an instance of `model`) can export as this type at all."""
        if self.model is am.ECheck:
            return doc.export_ar if self.side == "ar" else doc.export_ap
        if self.model is am.CarrierStatement:
            return doc.direction == self.side
        if self.suffix == "-IC":
            return doc.is_cross_subsidiary
        return True

    @property
    def prefix(self) -> str:  # of the stable controlids
        return (
            f"{'ar-invoice' if self.sage_object == 'ARINVOICE' else 'ap-bill'}-{self.document_type}"
        )

    @property
    def member_type(self) -> str:
        """A group document's members' document type ("" for any other document)."""
        group = GROUPS.get(self.document_type)
        return group.member_type if group else ""

    @property
    def side(self) -> str:
        return "ar" if self.sage_object == "ARINVOICE" else "ap"

    def sage_number(self, doc, version: int = 1) -> str:
        """The Sage document number: the TMS number (a new version after a reversal gets -2, -3)."""
        number = f"{doc.number}{self.suffix}"
        return number if version == 1 else f"{number}-{version}"


AR_ON = ("ar", "export_ar_invoices")
AP_ON = ("ap", "export_ap_bills")
CROSS_ON = ("advanced", "cross_subsidiary_billing")

DOCUMENT_TYPES = {
    t.document_type: t
    for t in (
        DocumentType(
            "load",
            am.Load,
            "ARINVOICE",
            "Load",
            "Invoice",
            (AR_ON,),
            loads_ready,
            load_draft,
            subsidiary_field="invoice_as_subsidiary",
        ),
        DocumentType(
            "summary_invoice",
            am.SummaryInvoice,
            "ARINVOICE",
            # The seeds' Entity Type for a summary invoice (article 6, Error Transactions).
            "Accounting Invoice",
            "Invoice",
            (AR_ON,),
            summary_invoices_ready,
            summary_invoice_draft,
            members="loads",
        ),
        DocumentType(
            "echeck_ar",
            am.ECheck,
            "ARINVOICE",
            "E-check",
            "Invoice",
            (AR_ON, ("ar", "export_echecks")),
            echecks_ar_ready,
            echeck_ar_draft,
            suffix="-AR",
        ),
        DocumentType(
            "carrier_statement_ar",
            am.CarrierStatement,
            "ARINVOICE",
            "Carrier Statement",
            "Invoice",
            (AR_ON, ("ar", "export_carrier_statements")),
            carrier_statements_ar_ready,
            carrier_statement_draft,
        ),
        DocumentType(
            "load_intercompany_invoice",
            am.Load,
            "ARINVOICE",
            "Load",
            "Intercompany Invoice",
            (AR_ON, CROSS_ON),
            intercompany_invoices_ready,
            intercompany_invoice_draft,
            suffix="-IC",
            subsidiary_field="tender_as_subsidiary",
        ),
        DocumentType("trip", am.Trip, "APBILL", "Trip", "Bill", (AP_ON,), trips_ready, trip_draft),
        DocumentType(
            "paystub",
            am.Paystub,
            "APBILL",
            "Paystub",
            "Bill",
            (AP_ON,),
            paystubs_ready,
            paystub_draft,
        ),
        DocumentType(
            "carrier_settlement",
            am.CarrierSettlement,
            "APBILL",
            "Carrier Settlement",
            "Bill",
            (AP_ON, ("ap", "export_carrier_settlements")),
            carrier_settlements_ready,
            carrier_settlement_draft,
            members="trips",
        ),
        DocumentType(
            "driver_settlement",
            am.DriverSettlement,
            "APBILL",
            # The seeds' Entity Type for a driver settlement (article 6, Error Transactions).
            "Driver Statement",
            "Bill",
            (AP_ON, ("ap", "export_driver_settlements")),
            driver_settlements_ready,
            driver_settlement_draft,
            members="paystubs",
        ),
        DocumentType(
            "echeck",
            am.ECheck,
            "APBILL",
            "E-check",
            "Bill",
            (AP_ON, ("ap", "export_echecks")),
            echecks_ready,
            echeck_draft,
        ),
        DocumentType(
            "carrier_statement_ap",
            am.CarrierStatement,
            "APBILL",
            "Carrier Statement",
            "Bill",
            (AP_ON, ("ap", "export_carrier_statements")),
            carrier_statements_ap_ready,
            carrier_statement_draft,
        ),
        DocumentType(
            "load_intercompany_bill",
            am.Load,
            "APBILL",
            "Load",
            "Intercompany Bill",
            (AP_ON, CROSS_ON),
            intercompany_bills_ready,
            intercompany_bill_draft,
            suffix="-IC",
            subsidiary_field="invoice_as_subsidiary",
        ),
    )
}
