"""Sandbox services: seeding the demo company, acting as an accountant in Sage, fault knobs.

The demo company (`demo` reads its records and credentials from config/demo_company.json):

- sender `LedgerlineDemo` / `demo-sender-password`, authorized for RIDGELINE-DEMO and
  NOSUB-DEMO; sender `UnknownApp` / `demo-sender-password` is authorized for no company
  (shows "sender not authorized");
- company RIDGELINE-DEMO, user `ws_ledgerline` / `Sandbox-Pass-2026` with "All" on every module;
  user `ws_no_ap` / `Sandbox-Pass-2026` lacks Accounts Payable (shows the permission error);
- company NOSUB-DEMO (same user and password) has no Web Services subscription.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from . import demo, engine, notify
from . import errors as e
from .catalog import ALL_MODULES
from .models import (
    SandboxCompany,
    SandboxCustomField,
    SandboxFaults,
    SandboxRecord,
    SandboxSender,
    SandboxSession,
    SandboxUser,
)

UNAUTHORIZED_SENDER_ID = "UnknownApp"
NO_AP_USER_ID = "ws_no_ap"
NOT_SUBSCRIBED_COMPANY_ID = "NOSUB-DEMO"

PAYMENT_METHODS = {  # console choice -> (AR method, AP method)
    "check": ("Printed Check", "Printed Check"),
    "ach": ("EFT", "ACH"),
    "eft": ("EFT", "EFT"),
    "credit_card": ("Credit Card", "Credit Card"),
    "cash": ("Cash", "Cash"),
}


@transaction.atomic
def sandbox_seed(*, reset: bool = False) -> SandboxCompany:
    """Create the demo Sage company (idempotent); `reset` wipes the sandbox first."""
    if reset:
        SandboxCompany.objects.all().delete()
        SandboxSender.objects.all().delete()
        SandboxFaults.objects.all().delete()
    existing = SandboxCompany.objects.filter(company_id=demo.COMPANY_ID).first()
    if existing is not None:
        return existing
    company = SandboxCompany.objects.create(company_id=demo.COMPANY_ID)
    unsubscribed = SandboxCompany.objects.create(
        company_id=NOT_SUBSCRIBED_COMPANY_ID, web_services_subscribed=False
    )
    sender, _ = SandboxSender.objects.get_or_create(
        sender_id=demo.SENDER_ID, defaults={"password": demo.SENDER_PASSWORD}
    )
    sender.authorized_companies.add(company, unsubscribed)
    SandboxSender.objects.get_or_create(
        sender_id=UNAUTHORIZED_SENDER_ID, defaults={"password": demo.SENDER_PASSWORD}
    )
    for target in (company, unsubscribed):
        SandboxUser.objects.create(
            company=target,
            user_id=demo.USER_ID,
            password=demo.USER_PASSWORD,
            modules=list(ALL_MODULES),
        )
    SandboxUser.objects.create(
        company=company,
        user_id=NO_AP_USER_ID,
        password=demo.USER_PASSWORD,
        modules=[m for m in ALL_MODULES if m != "Accounts Payable"],
    )
    SandboxFaults.objects.get_or_create(pk=1)

    now = timezone.now()
    records = SandboxRecord.objects.bulk_create(
        SandboxRecord(company=company, object=object, key=key, when_modified=now, data=data)
        for object, key, data in demo.records()
    )
    for record in records:
        record.data = {
            "RECORDNO": str(record.pk),
            **record.data,
            "WHENMODIFIED": engine.timestamp(now),
        }
    SandboxRecord.objects.bulk_update(records, ["data"])
    SandboxCustomField.objects.bulk_create(
        SandboxCustomField(company=company, **field) for field in demo.CUSTOM_FIELDS
    )
    return company


# --- acting as an accountant in Sage ------------------------------------------------------------


class SandboxActionError(Exception):
    """A console action Sage would refuse; the message says why."""


def _guard(action):
    try:
        return action()
    except e.SageFault as fault:
        raise SandboxActionError(
            fault.description2.split(" [Support ID")[0] or fault.description
        ) from None


@transaction.atomic
def sandbox_invoice_post(*, document: SandboxRecord) -> SandboxRecord:
    """Post a Draft invoice or bill."""
    if document.state != engine.DRAFT:
        raise SandboxActionError(f"{document.object} {document.pk} is {document.state}, not Draft.")
    document.state = engine.POSTED
    document.data["WHENPOSTED"] = engine.us_date(timezone.localdate())
    engine.save(document, timezone.now())
    return document


@transaction.atomic
def sandbox_payment_record(
    *,
    document: SandboxRecord,
    amount: Decimal | None = None,
    method: str = "check",
    check_number: str = "",
    memo: str = "",
    paid_on: dt.date | None = None,
) -> SandboxRecord:
    """Record a payment of `amount` (default: all that is due) against an invoice or bill;
    the company's payment Smart Event, when on, notifies its URL (`notify`)."""
    if document.object not in ("ARINVOICE", "APBILL"):
        raise SandboxActionError("Payments apply to AR invoices and AP bills only.")
    ar = document.object == "ARINVOICE"
    amount = Decimal(document.data["TOTALDUE"]) if amount is None else Decimal(amount)
    try:
        sage_method = PAYMENT_METHODS[method][0 if ar else 1]
    except KeyError:
        raise SandboxActionError(
            f"Unknown payment method '{method}'; use one of {', '.join(PAYMENT_METHODS)}."
        ) from None
    payment = _guard(
        lambda: engine.payment_apply(
            document.company,
            "ARPYMT" if ar else "APPYMT",
            party_id=document.data["CUSTOMERID" if ar else "VENDORID"],
            method=sage_method,
            paid_on=paid_on or timezone.localdate(),
            details=[(str(document.pk), engine.money(amount, "the payment"))],
            docnumber=check_number,
            description=memo,
            financial_entity="BOA",
            entity=document.entity,
            now=timezone.now(),
        )
    )
    notify.sandbox_notify(payment=payment, event="Add")
    return payment


@transaction.atomic
def sandbox_payment_void(*, payment: SandboxRecord) -> SandboxRecord:
    if payment.object not in ("ARPYMT", "APPYMT"):
        raise SandboxActionError("Only AR and AP payments can be voided.")
    engine.payment_void(payment, now=timezone.now())
    notify.sandbox_notify(payment=payment, event="Set")
    return payment


@transaction.atomic
def sandbox_bill_select(*, bill: SandboxRecord) -> SandboxRecord:
    """Include a bill in a payment request (state Selected): it can no longer be changed."""
    if bill.object != "APBILL" or bill.state != engine.POSTED:
        raise SandboxActionError("Only Posted bills can be selected for payment.")
    bill.data["SELECTED"] = True
    bill.state = engine.SELECTED
    engine.save(bill, timezone.now())
    return bill


@transaction.atomic
def sandbox_document_reverse(
    *, document: SandboxRecord, on: dt.date | None = None
) -> SandboxRecord:
    """Reverse a Posted invoice or bill the way an accountant does in Sage."""
    if document.object not in ("ARINVOICE", "APBILL"):
        raise SandboxActionError("Only invoices and bills can be reversed.")
    if document.state == engine.SELECTED:
        # An accountant cancels the payment request first; the console does both at once.
        document.data.pop("SELECTED", None)
        document.state = engine.POSTED
        engine.save(document, timezone.now())
    on = on or timezone.localdate()
    user = SandboxUser.objects.filter(company=document.company).first()
    ctx = engine.Context(
        company=document.company,
        user=user,
        sender_id="console",
        location_id=document.entity,
        now=timezone.now(),
        endpoint_url="",
    )
    body = {
        "@key": str(document.pk),
        "datereversed": {"year": on.year, "month": on.month, "day": on.day},
    }
    reply = _guard(lambda: engine.reverse_document(ctx, body, document.object))
    return SandboxRecord.objects.get(pk=int(reply.key))


# --- fault knobs --------------------------------------------------------------------------------


def sandbox_faults_set(
    *,
    latency_ms: int | None = None,
    fail_next: int | None = None,
    fail_status: int | None = None,
    retry_after: int | None = None,
    drop_next: int | None = None,
) -> SandboxFaults:
    if fail_status is not None and fail_status not in (429, 500, 502, 503, 524):
        raise SandboxActionError("fail_status is one of 429, 500, 502, 503, 524.")
    faults, _ = SandboxFaults.objects.get_or_create(pk=1)
    for name, value in (
        ("latency_ms", latency_ms),
        ("fail_next", fail_next),
        ("fail_status", fail_status),
        ("retry_after", retry_after),
        ("drop_next", drop_next),
    ):
        if value is not None:
            setattr(faults, name, value)
    faults.save()
    return faults


def sandbox_faults_clear() -> None:
    SandboxFaults.objects.update_or_create(
        pk=1,
        defaults={
            "latency_ms": 0,
            "fail_next": 0,
            "fail_status": 503,
            "retry_after": 1,
            "drop_next": 0,
        },
    )


def sandbox_sessions_expire() -> int:
    """End every open session (clients must sign in again)."""
    return SandboxSession.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def sandbox_user_set_active(
    *,
    user_id: str = demo.USER_ID,
    company_id: str = demo.COMPANY_ID,
    active: bool,
) -> None:
    """Revoke (active=False) or restore a Web Services user."""
    SandboxUser.objects.filter(user_id=user_id, company__company_id=company_id).update(
        is_active=active
    )
