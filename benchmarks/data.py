"""Bulk data for the benchmarks: connected subsidiaries, loads and trips ready to export, Sage
payments on the exported documents, Error Transactions. Built with bulk inserts, since the
benchmark measures the product, not the setup."""

import datetime as dt
import itertools
from contextlib import contextmanager
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounting import demo_data
from accounting import models as am
from intacct import models as m
from intacct.connections import services
from intacct.sandbox import engine
from intacct.sandbox.models import SandboxCompany, SandboxRecord

CHUNK = 2000
# Demo parties the sandbox knows (seeded by `sandbox_seed`) and the TMS links by External ID.
CUSTOMERS = [p for p in demo_data.CUSTOMERS if p.sage_id and p.external_id]
CARRIERS = [p for p in demo_data.CARRIERS if p.sage_id and p.external_id]
FLEET_CLASSES = {"Dry Van": "DRYVAN", "Reefer": "REEFER", "Flatbed": "FLATBED"}


def connect(code: str, name: str) -> m.Connection:
    """A subsidiary connected to the sandbox entity of its name and Active: master default
    accounts, one specific-item account (DETENTION), the load/trip number custom fields, and
    Class from the fleet through a value map (so each line resolves a dimension)."""
    subsidiary, _ = am.Subsidiary.objects.get_or_create(code=code, defaults={"name": name})
    connection = services.connection_start(subsidiary=subsidiary)
    services.connection_set_destination(
        connection=connection, destination=m.Connection.Destination.MATCHING_ENTITY
    )
    services.connection_connect(
        connection=connection,
        company_id=demo_data.SAGE_COMPANY_ID,
        user_id=demo_data.SAGE_USER_ID,
        password=demo_data.SAGE_USER_PASSWORD,
    )
    for side, account in (("ar", "4000"), ("ap", "5000")):
        m.AccountMapping.objects.create(connection=connection, side=side, gl_account_no=account)
    m.AccountMapping.objects.create(
        connection=connection,
        side="ar",
        category="accessorials",
        item_code="DETENTION",
        gl_account_no="4025",
    )
    for target, field, source in (
        ("ar_invoice", "LOAD_NUMBER", "load_number"),
        ("ap_bill", "TRIP_NUMBER", "trip_number"),
    ):
        m.CustomFieldMapping.objects.create(
            connection=connection, target=target, sage_field_id=field, source=source
        )
    mapping = m.DimensionMapping.objects.create(
        connection=connection, dimension="class", source="fleet"
    )
    m.DimensionValueMap.objects.bulk_create(
        m.DimensionValueMap(mapping=mapping, tms_value=tms, sage_value=sage)
        for tms, sage in FLEET_CLASSES.items()
    )
    problems = services.connection_activate(connection=connection)
    if problems:
        raise RuntimeError(f"The benchmark connection did not activate: {problems}")
    connection.refresh_from_db()
    return connection


def _parties(subsidiary):
    customers, carriers = [], []
    for party in CUSTOMERS:
        customer, _ = am.Customer.objects.get_or_create(name=party.name)
        customers.append((customer, party.sage_id))
    for party in CARRIERS:
        carrier, _ = am.Carrier.objects.get_or_create(name=party.name)
        carriers.append((carrier, party.sage_id))
    am.ExternalAccountingId.objects.bulk_create(
        [
            am.ExternalAccountingId(
                subsidiary=subsidiary, customer=c, namespace="customer", external_id=sage_id
            )
            for c, sage_id in customers
        ]
        + [
            am.ExternalAccountingId(
                subsidiary=subsidiary, carrier=c, namespace="vendor", external_id=sage_id
            )
            for c, sage_id in carriers
        ],
        ignore_conflicts=True,
    )
    return [c for c, _ in customers], [c for c, _ in carriers]


def _fleets(subsidiary):
    return [
        am.Fleet.objects.get_or_create(subsidiary=subsidiary, name=name)[0]
        for name in FLEET_CLASSES
    ]


def documents_create(connection: m.Connection, *, loads: int, trips: int, prefix: str) -> None:
    """`loads` invoiced loads (2 or 3 charge lines each) and `trips` trips on them whose carrier
    invoice is in (2 lines each), all changed after the connection became Active."""
    subsidiary = connection.subsidiary
    customers, carriers = _parties(subsidiary)
    fleets = _fleets(subsidiary)
    now = timezone.now()
    count = max(loads, trips)
    for start in range(0, count, CHUNK):
        numbers = range(start, min(start + CHUNK, count))
        with transaction.atomic():
            batch = am.Load.objects.bulk_create(
                am.Load(
                    number=f"{prefix}L{i:06d}",
                    invoice_as_subsidiary=subsidiary,
                    customer=customers[i % len(customers)],
                    fleet=fleets[i % len(fleets)],
                    billing_status=(
                        am.BillingStatus.INVOICED if i < loads else am.BillingStatus.RELEASED
                    ),
                    invoiced_at=now if i < loads else None,
                    po_number=f"PO-{i}",
                    shipper_name="Acme DC Dallas",
                    consignee_name="Harbor Imports Houston",
                    pickup_date=dt.date(2026, 11, 2),
                    delivery_date=dt.date(2026, 11, 4),
                )
                for i in numbers
            )
            charges = []
            for i, load in zip(numbers, batch, strict=True):
                charges.append(_charge(am.LoadCharge, load=load, kind="linehaul", q="500", r="2.5"))
                charges.append(
                    _charge(
                        am.LoadCharge, load=load, kind="accessorial", item_code="DETENTION", r="150"
                    )
                )
                if i % 2:
                    charges.append(_charge(am.LoadCharge, load=load, kind="fuel_surcharge", r="95"))
            am.LoadCharge.objects.bulk_create(charges, batch_size=CHUNK)
            trip_rows = am.Trip.objects.bulk_create(
                am.Trip(
                    number=f"{prefix}T{i:06d}",
                    load=load,
                    subsidiary=subsidiary,
                    carrier=carriers[i % len(carriers)],
                    carrier_invoice_number=f"CINV-{prefix}{i}",
                    carrier_invoice_uploaded_at=now,
                    status=am.Trip.Status.DELIVERED,
                    miles=Decimal("612.0"),
                )
                for i, load in zip(numbers, batch, strict=True)
                if i < trips
            )
            am.TripCharge.objects.bulk_create(
                [
                    _charge(am.TripCharge, trip=trip, kind=kind, r=rate)
                    for trip in trip_rows
                    for kind, rate in (("linehaul", "800"), ("fuel_surcharge", "120"))
                ],
                batch_size=CHUNK,
            )


def _charge(model, *, kind, q="1", r, item_code="", **parent):
    quantity, rate = Decimal(q), Decimal(r)
    return model(
        kind=kind,
        item_code=item_code,
        quantity=quantity,
        rate=rate,
        amount=am.money(quantity * rate),
        **parent,
    )


def payments_create(connection: m.Connection, *, details: int, per_payment: int) -> int:
    """`details` Sage payment details on the connection's exported invoices and bills, as an
    accountant records them in Sage: each payment pays `per_payment` documents of one party,
    and a document is paid off by its last detail. Written straight into the sandbox's tables
    in the shape `engine.payment_apply` gives them. Returns the number of Sage documents paid."""
    company = SandboxCompany.objects.get(company_id=connection.company_id)
    records = list(
        am.SyncRecord.objects.filter(connection=connection, state=am.SyncRecord.State.SYNCED)
        .exclude(record_no="")
        .order_by("pk")
        .values_list("sage_object", "record_no")
    )
    documents = {
        r.pk: r
        for r in SandboxRecord.objects.filter(
            company=company, pk__in=[int(no) for _, no in records]
        ).only("pk", "object", "data", "entity")
    }
    if not documents:
        raise RuntimeError("No exported documents to pay: export first.")
    # Details per document: spread evenly; each document's last detail pays what remains.
    per_document = max(1, -(-details // len(documents)))
    plan = []  # (document, amount), one party's documents together
    order = sorted(documents.values(), key=lambda d: (_party(d), d.pk))
    remaining = details
    for document in order:
        if remaining <= 0:
            break
        n = min(per_document, remaining)
        total = Decimal(document.data["TOTALDUE"])
        share = am.money(total / n)
        for k in range(n):
            amount = share if k < n - 1 else total - share * (n - 1)
            plan.append((document, amount))
        remaining -= n
    now = timezone.now()
    stamp = engine.timestamp(now)
    today = engine.us_date(timezone.localdate())
    paid_documents = {document.pk for document, _ in plan}
    # Group consecutive details of one party (and side) into payments.
    groups = []
    for key, items in itertools.groupby(plan, key=lambda item: _party(item[0])):
        items = list(items)
        for start in range(0, len(items), per_payment):
            groups.append((key, items[start : start + per_payment]))
    for start in range(0, len(groups), CHUNK):
        chunk = groups[start : start + CHUNK]
        with transaction.atomic():
            payments = SandboxRecord.objects.bulk_create(
                SandboxRecord(
                    company=company,
                    object="ARPYMT" if key[0] == "ARINVOICE" else "APPYMT",
                    state=engine.COMPLETED,
                    entity=items[0][0].entity,
                    when_modified=now,
                    data={},
                )
                for key, items in chunk
            )
            lines = []
            for payment, (key, items) in zip(payments, chunk, strict=True):
                ar = key[0] == "ARINVOICE"
                total = sum((amount for _, amount in items), Decimal(0))
                payment.data = {
                    "RECORDNO": str(payment.pk),
                    "CUSTOMERID" if ar else "VENDORID": key[1],
                    "PAYMENTMETHOD": "Printed Check",
                    "DOCNUMBER": f"CHK-{payment.pk}",
                    "DESCRIPTION": "Benchmark payment",
                    "FINANCIALENTITY": "BOA",
                    "WHENCREATED": today,
                    "RECEIPTDATE": today,
                    "WHENPAID": today,
                    "CURRENCY": "USD",
                    "TOTALENTERED": str(total),
                    "TOTALPAID": str(total),
                    "TRX_TOTALPAID": str(total),
                    "RAWSTATE": engine.COMPLETED,
                    "PARENTPAYMENTKEY": "",
                    "STATE": engine.COMPLETED,
                    "MEGAENTITYID": payment.entity,
                    "WHENMODIFIED": stamp,
                }
                for document, amount in items:
                    lines.append(
                        SandboxRecord(
                            company=company,
                            object=f"{payment.object}DETAIL",
                            state=engine.COMPLETED,
                            entity=payment.entity,
                            when_modified=now,
                            data={
                                "RECORDKEY": str(document.pk),
                                "PAYMENTKEY": str(payment.pk),
                                "PAYMENTDATE": today,
                                "PAYMENTAMOUNT": str(amount),
                                "TRX_PAYMENTAMOUNT": str(amount),
                                "CURRENCY": "USD",
                                "WHENCREATED": today,
                                "STATE": engine.COMPLETED,
                                "MEGAENTITYID": payment.entity,
                                "WHENMODIFIED": stamp,
                            },
                        )
                    )
            SandboxRecord.objects.bulk_update(payments, ["data"], batch_size=500)
            lines = SandboxRecord.objects.bulk_create(lines, batch_size=CHUNK)
            for line in lines:
                line.data["RECORDNO"] = str(line.pk)
            SandboxRecord.objects.bulk_update(lines, ["data"], batch_size=500)
    paid = [documents[pk] for pk in paid_documents]
    for document in paid:
        document.data["TOTALPAID"] = document.data.get("TOTALENTERED") or document.data["TOTALDUE"]
        document.data["TOTALDUE"] = "0.00"
        document.data["WHENPAID"] = today
        engine.refresh_state(document)
        document.data["STATE"] = document.state
        document.data["WHENMODIFIED"] = stamp
        document.when_modified = now
    SandboxRecord.objects.bulk_update(paid, ["data", "state", "when_modified"], batch_size=500)
    return len(paid)


def _party(document) -> tuple[str, str]:
    field = "CUSTOMERID" if document.object == "ARINVOICE" else "VENDORID"
    return document.object, document.data[field]


@contextmanager
def _created_at_as_given(model):
    """Let bulk inserts keep the created_at they are given (benchmark history spans a year)."""
    created = model._meta.get_field("created_at")
    created.auto_now_add = False
    try:
        yield
    finally:
        created.auto_now_add = True


ERROR_MESSAGES = (
    ("Load", "Invoice", "load", "Invoice export requires a linked Sage customer ID"),
    ("Load", "Invoice", "load", "Line {id} is missing a revenue account"),
    ("Trip", "Bill", "trip", "Bill export requires a linked Sage vendor ID"),
    ("Trip", "Bill", "trip", "Line {id} is missing an expense account"),
    ("Paystub", "Bill", "paystub", "Required Sage custom field Trip number is missing"),
    (
        "Load",
        "Invoice",
        "load",
        "BL01001973 Invalid term: Net 45 is not a valid payment term. [Support ID: S{id}]",
    ),
    ("E-check", "Bill", "echeck", "AP bill requires manual reversal"),
)


def errors_create(subsidiaries, *, count: int, start: int = 0) -> None:
    """`count` Error Transactions over the last year: one in five still Failed, the rest
    Resolved, across the subsidiaries and the usual messages (document ids from `start`)."""
    now = timezone.now()
    with _created_at_as_given(am.ErrorTransaction):
        for first in range(start, start + count, CHUNK):
            numbers = range(first, min(first + CHUNK, start + count))
            rows = []
            for i in numbers:
                entity, transaction_type, document_type, message = ERROR_MESSAGES[
                    i % len(ERROR_MESSAGES)
                ]
                failed = i % 5 == 0
                created = now - dt.timedelta(minutes=5 * (start + count - i))
                rows.append(
                    am.ErrorTransaction(
                        entity_type=entity,
                        transaction_type=transaction_type,
                        subsidiary=subsidiaries[i % len(subsidiaries)],
                        document_type=document_type,
                        document_id=1_000_000 + i,
                        reference=f"{entity[0]}{i:07d}",
                        total=Decimal("1400.00"),
                        message=message.format(id=i),
                        status="failed" if failed else "resolved",
                        resolution="" if failed else "synced",
                        resolved_at=None if failed else created + dt.timedelta(hours=1),
                        created_at=created,
                    )
                )
            am.ErrorTransaction.objects.bulk_create(rows, batch_size=500)
