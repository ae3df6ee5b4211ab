"""AR and AP payments: created through the generic create function or the console, and voided."""

from decimal import Decimal

from .. import errors as e
from ..catalog import AP_PAYMENT_METHODS, AR_PAYMENT_METHODS
from ..models import SandboxRecord
from .documents import PARTIALLY_PAID, POSTED, SELECTED, refresh_state
from .masterdata import check_party
from .records import new_record, save
from .values import listed, money, parse_us_date, required, text, us_date

VOIDED, COMPLETED = "V", "C"


def create_payment(ctx, object, values) -> SandboxRecord:
    ar = object == "ARPYMT"
    party_object, party_field = ("CUSTOMER", "CUSTOMERID") if ar else ("VENDOR", "VENDORID")
    party_id = required(values, party_field, object)
    check_party(ctx, party_object, party_id)
    method = required(values, "PAYMENTMETHOD", object)
    methods = AR_PAYMENT_METHODS if ar else AP_PAYMENT_METHODS
    if method not in methods:
        raise e.fault(
            "Invalid payment method",
            f"'{method}' is not a payment method for {object}.",
            f"Use one of: {', '.join(methods)}.",
        )
    detail_tag = f"{object}DETAIL"
    raw_details = listed((values.get(f"{detail_tag}S") or {}).get(detail_tag))
    if not raw_details:
        raise e.fault("Missing required element", f"A payment needs at least one <{detail_tag}>.")
    date_text = text(values.get("PAYMENTDATE")) or text(values.get("RECEIPTDATE"))
    paid_on = parse_us_date(date_text, "PAYMENTDATE") if date_text else ctx.now.date()
    return payment_apply(
        ctx.company,
        object,
        party_id=party_id,
        method=method,
        paid_on=paid_on,
        details=[
            (
                required(raw or {}, "RECORDKEY", detail_tag),
                money(required(raw or {}, "TRX_PAYMENTAMOUNT", detail_tag), detail_tag),
            )
            for raw in raw_details
        ],
        docnumber=text(values.get("DOCNUMBER")),
        description=text(values.get("DESCRIPTION")),
        financial_entity=text(values.get("FINANCIALENTITY")),
        entity=ctx.location_id,
        now=ctx.now,
    )


def payment_apply(
    company,
    object,
    *,
    party_id,
    method,
    paid_on,
    details,
    docnumber="",
    description="",
    financial_entity="",
    entity="",
    now,
) -> SandboxRecord:
    """Record a payment and apply its details to invoices (ARPYMT) or bills (APPYMT)."""
    doc_object = "ARINVOICE" if object == "ARPYMT" else "APBILL"
    party_field = "CUSTOMERID" if object == "ARPYMT" else "VENDORID"
    documents = []
    for recordkey, amount in details:
        doc = (
            SandboxRecord.objects.select_for_update()
            .filter(
                company=company,
                object=doc_object,
                pk=int(recordkey) if str(recordkey).isdigit() else -1,
            )
            .first()
        )
        if doc is None:
            raise e.fault("Invalid document", f"{doc_object} {recordkey} does not exist.")
        if doc.data.get(party_field) != party_id:
            raise e.fault(
                "Invalid document", f"{doc_object} {recordkey} does not belong to {party_id}."
            )
        if doc.state not in (POSTED, PARTIALLY_PAID, SELECTED):
            raise e.fault(
                "Invalid document",
                f"{doc_object} {recordkey} is {doc.state}; only posted documents can be paid.",
            )
        if amount <= 0 or amount > Decimal(doc.data["TOTALDUE"]):
            raise e.fault(
                "Invalid amount",
                f"{amount} is more than the {doc.data['TOTALDUE']} "
                f"due on {doc_object} {recordkey}, or not positive.",
            )
        documents.append((doc, amount))
    total = sum((amount for _, amount in details), Decimal(0))
    payment = new_record(
        company,
        object,
        {
            party_field: party_id,
            "PAYMENTMETHOD": method,
            "DOCNUMBER": docnumber,
            "DESCRIPTION": description,
            "FINANCIALENTITY": financial_entity,
            "WHENCREATED": us_date(paid_on),
            "RECEIPTDATE": us_date(paid_on),
            "WHENPAID": us_date(paid_on),
            "CURRENCY": "USD",
            "TOTALENTERED": str(total),
            "TOTALPAID": str(total),
            "TRX_TOTALPAID": str(total),
            "RAWSTATE": COMPLETED,
            "PARENTPAYMENTKEY": "",
        },
        state=COMPLETED,
        entity=entity,
        now=now,
    )
    for doc, amount in documents:
        new_record(
            company,
            f"{object}DETAIL",
            {
                "RECORDKEY": str(doc.pk),
                "PAYMENTKEY": str(payment.pk),
                "PAYMENTDATE": us_date(paid_on),
                "PAYMENTAMOUNT": str(amount),
                "TRX_PAYMENTAMOUNT": str(amount),
                "CURRENCY": "USD",
                "WHENCREATED": us_date(paid_on),
            },
            state=COMPLETED,
            entity=entity,
            now=now,
        )
        doc.data["TOTALPAID"] = str(Decimal(doc.data["TOTALPAID"]) + amount)
        doc.data["TOTALDUE"] = str(Decimal(doc.data["TOTALDUE"]) - amount)
        doc.data["WHENPAID"] = us_date(paid_on)
        doc.data.pop("SELECTED", None)
        refresh_state(doc)
        save(doc, now)
    return payment


def payment_void(payment: SandboxRecord, *, now) -> None:
    """Void a payment: its details too, and the documents get their amounts back."""
    if payment.state == VOIDED:
        return
    doc_object = "ARINVOICE" if payment.object == "ARPYMT" else "APBILL"
    details = SandboxRecord.objects.filter(
        company=payment.company, object=f"{payment.object}DETAIL", data__PAYMENTKEY=str(payment.pk)
    )
    for detail in details:
        amount = Decimal(detail.data["TRX_PAYMENTAMOUNT"])
        doc = SandboxRecord.objects.filter(
            pk=int(detail.data["RECORDKEY"]), object=doc_object
        ).first()
        if doc is not None:
            doc.data["TOTALPAID"] = str(Decimal(doc.data["TOTALPAID"]) - amount)
            doc.data["TOTALDUE"] = str(Decimal(doc.data["TOTALDUE"]) + amount)
            if Decimal(doc.data["TOTALPAID"]) <= 0:
                doc.data["WHENPAID"] = ""
            refresh_state(doc)
            save(doc, now)
        detail.state = VOIDED
        save(detail, now)
    payment.state = VOIDED
    payment.data["RAWSTATE"] = VOIDED
    save(payment, now)
