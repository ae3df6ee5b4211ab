"""Services of the TMS side. `demo_seed` builds the demo company from accounting/demo_data.py."""

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from . import demo_data
from . import models as m
from .signals import carrier_invoice_uploaded, loads_invoiced

ACCESSORIALS = ("DETENTION", "LUMPER", "LAYOVER", "TONU", "STOPOFF")
DISPATCHERS = ("Maria Lopez", "Tom Becker", "Priya Shah", "Owen Clarke")
CITIES = (
    "Dallas, TX",
    "Houston, TX",
    "Chicago, IL",
    "Indianapolis, IN",
    "Memphis, TN",
    "Atlanta, GA",
    "Denver, CO",
    "Kansas City, MO",
)


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, label: str, count: int) -> None:
        self.created[label] = self.created.get(label, 0) + count

    @property
    def total(self) -> int:
        return sum(self.created.values())


def _line(model, **kwargs):
    """A charge line built for bulk_create (which skips save(), so the amount is set here)."""
    line = model(**kwargs)
    line.amount = m.money(Decimal(line.quantity) * Decimal(line.rate))
    return line


def trip_carrier_invoice_record(*, trip: m.Trip, previous_document: str = "") -> None:
    """Stamp the upload time of a new carrier invoice document and announce it once committed."""
    if not trip.carrier_invoice_document or trip.carrier_invoice_document.name == previous_document:
        return
    trip.carrier_invoice_uploaded_at = timezone.now()
    m.Trip.objects.filter(pk=trip.pk).update(
        carrier_invoice_uploaded_at=trip.carrier_invoice_uploaded_at
    )
    transaction.on_commit(lambda: carrier_invoice_uploaded.send(sender=m.Trip, trip=trip))


INVOICEABLE = (m.BillingStatus.RELEASED, m.BillingStatus.QUEUED)


@transaction.atomic
def loads_invoice(*, load_ids: list[int]) -> list[int]:
    """Batch invoicing: every Released or Queued load of `load_ids` becomes Invoiced now (one
    invoice each); the others are left as they are. Returns the ids invoiced and announces
    them once committed, so the integration can send them at once."""
    ids = list(
        m.Load.objects.filter(pk__in=load_ids, billing_status__in=INVOICEABLE).values_list(
            "pk", flat=True
        )
    )
    now = timezone.now()
    m.Load.objects.filter(pk__in=ids, billing_status__in=INVOICEABLE).update(
        billing_status=m.BillingStatus.INVOICED, invoiced_at=now, updated_at=now
    )
    if ids:
        transaction.on_commit(lambda: loads_invoiced.send(sender=m.Load, load_ids=ids))
    return ids


@transaction.atomic
def demo_seed(*, loads: int = 200, today: dt.date | None = None) -> SeedReport:
    """Create the demo company; running it again creates nothing new.

    Everything is keyed by a natural key (code, name, number) and random choices come from a
    fixed seed, so the same call always describes the same company. Returns what was created.
    """
    today = today or timezone.localdate()
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    report = SeedReport()

    subsidiaries = []
    for spec in demo_data.SUBSIDIARIES:
        sub, created = m.Subsidiary.objects.get_or_create(
            code=spec.code, defaults={"name": spec.name}
        )
        report.add("subsidiaries", created)
        for name in spec.offices:
            report.add("offices", m.Office.objects.get_or_create(subsidiary=sub, name=name)[1])
        for name in spec.fleets:
            report.add("fleets", m.Fleet.objects.get_or_create(subsidiary=sub, name=name)[1])
        subsidiaries.append(sub)

    def parties(model, specs, extra):
        rows = []
        for index, spec in enumerate(specs):
            party, created = model.objects.get_or_create(name=spec.name, defaults=extra(index))
            report.add(model._meta.verbose_name_plural, created)
            if spec.sage_id and spec.external_id:
                for sub in subsidiaries:
                    _, created = m.ExternalAccountingId.objects.get_or_create(
                        subsidiary=sub,
                        **{model._meta.model_name: party},
                        defaults={"external_id": spec.sage_id},
                    )
                    report.add("external accounting ids", created)
            rows.append(party)
        return rows

    def customer_defaults(i):
        city, state = CITIES[i % len(CITIES)].split(", ")
        return {"city": city, "state": state, "email": f"ap{i + 1}@customer.example"}

    customers = parties(m.Customer, demo_data.CUSTOMERS, customer_defaults)
    carriers = parties(
        m.Carrier,
        demo_data.CARRIERS,
        lambda i: {"mc_number": f"MC{700100 + i}", "dot_number": f"{3100200 + i}"},
    )

    def driver_defaults(i):
        owner = i % 2 == 1
        return {
            "subsidiary": subsidiaries[i % len(subsidiaries)],
            "driver_type": m.Driver.DriverType.OWNER_OPERATOR
            if owner
            else m.Driver.DriverType.COMPANY_DRIVER,
            "contractor_type": (
                m.Driver.ContractorType.LEASE if i % 4 == 1 else m.Driver.ContractorType.C1099
            )
            if owner
            else m.Driver.ContractorType.W2,
        }

    drivers = parties(m.Driver, demo_data.DRIVERS, driver_defaults)

    trucks, trailers = [], []
    for i in range(12):
        sub = subsidiaries[i % len(subsidiaries)]
        truck, created = m.Truck.objects.get_or_create(
            number=f"TRK-{101 + i}", defaults={"subsidiary": sub, "fleet": sub.fleets.first()}
        )
        report.add("trucks", created)
        trailer, created = m.Trailer.objects.get_or_create(
            number=f"TRL-{501 + i}", defaults={"subsidiary": sub}
        )
        report.add("trailers", created)
        trucks.append(truck)
        trailers.append(trailer)

    _seed_loads(
        rng, today, loads, subsidiaries, customers, carriers, drivers, trucks, trailers, report
    )
    _seed_driver_pay(rng, today, subsidiaries, drivers, trucks, carriers, report)
    return report


def _seed_loads(
    rng, today, count, subsidiaries, customers, carriers, drivers, trucks, trailers, report
):
    numbers = [f"L-{10001 + i}" for i in range(count)]
    existing = set(m.Load.objects.filter(number__in=numbers).values_list("number", flat=True))
    offices = {sub.pk: list(sub.offices.all()) for sub in subsidiaries}
    fleets = {sub.pk: list(sub.fleets.all()) for sub in subsidiaries}
    statuses = (
        [m.BillingStatus.INVOICED] * 12
        + [m.BillingStatus.RELEASED] * 3
        + [m.BillingStatus.QUEUED] * 2
        + [m.BillingStatus.FINANCED] * 2
        + [m.BillingStatus.COMPLETED]
    )
    new_loads, charges, trips, trip_lines, payments = [], [], [], [], []
    for i, number in enumerate(numbers):
        # Draw every random value for every load so a load's data never depends on which
        # other loads already exist.
        sub = subsidiaries[i % len(subsidiaries)]
        other = subsidiaries[(i + 1) % len(subsidiaries)]
        cross = rng.random() < 0.1
        customer = rng.choice(customers)
        status = rng.choice(statuses)
        pickup = today - dt.timedelta(days=rng.randint(3, 40))
        miles = Decimal(rng.randint(180, 1400))
        rate_per_mile = Decimal(rng.choice(["2.15", "2.35", "2.60", "2.85"]))
        fuel = Decimal(rng.choice(["0.38", "0.42", "0.47"]))
        accessorial = rng.choice(ACCESSORIALS) if rng.random() < 0.3 else None
        deduction = rng.random() < 0.08
        by_carrier = rng.random() < 0.5
        carrier = rng.choice(carriers)
        driver = rng.choice(drivers)
        truck = rng.choice(trucks)
        trailer = rng.choice(trailers)
        dispatcher = rng.choice(DISPATCHERS)
        shipper, consignee = rng.sample(CITIES, 2)
        carrier_rate = (rate_per_mile * Decimal("0.82")).quantize(Decimal("0.01"))
        if number in existing:
            continue
        load = m.Load(
            number=number,
            invoice_as_subsidiary=sub,
            tender_as_subsidiary=other if cross else sub,
            customer=customer,
            driver=None if by_carrier else driver,
            truck=None if by_carrier else truck,
            trailer=trailer,
            office=offices[sub.pk][i % 2],
            fleet=fleets[sub.pk][i % 2],
            dispatcher=dispatcher,
            shipper_name=f"{customer.name} DC, {shipper}",
            consignee_name=f"Receiving, {consignee}",
            pickup_date=pickup,
            delivery_date=pickup + dt.timedelta(days=2),
            reference_number=f"REF-{40000 + i}",
            po_number=f"PO-{880000 + i * 7}",
            billing_status=status,
            invoiced_at=timezone.now() if status != m.BillingStatus.RELEASED else None,
        )
        new_loads.append(load)
        charges.append(
            _line(
                m.LoadCharge,
                load=load,
                kind="linehaul",
                item_code="PER_MILE",
                description="Linehaul",
                quantity=miles,
                rate=rate_per_mile,
            )
        )
        charges.append(
            _line(
                m.LoadCharge,
                load=load,
                kind="fuel_surcharge",
                item_code="FSC",
                description="Fuel surcharge",
                quantity=miles,
                rate=fuel,
            )
        )
        if accessorial:
            charges.append(
                _line(
                    m.LoadCharge,
                    load=load,
                    kind="accessorial",
                    item_code=accessorial,
                    description=accessorial.title(),
                    quantity=Decimal("1"),
                    rate=Decimal("150.00"),
                )
            )
        if deduction:
            charges.append(
                _line(
                    m.LoadCharge,
                    load=load,
                    kind="deduction",
                    item_code="CLAIM",
                    description="Cargo claim credit",
                    quantity=Decimal("1"),
                    rate=Decimal("75.00"),
                )
            )
        trip = m.Trip(
            number=f"TR-{number[2:]}",
            load=load,
            subsidiary=other if cross else sub,
            carrier=carrier if by_carrier else None,
            driver=None if by_carrier else driver,
            status=m.Trip.Status.DELIVERED,
            miles=miles,
            carrier_invoice_number=f"INV-{carrier.mc_number}-{i}" if by_carrier else "",
        )
        trips.append(trip)
        if by_carrier:
            trip_lines.append(
                _line(
                    m.TripCharge,
                    trip=trip,
                    kind="linehaul",
                    item_code="PER_MILE",
                    description="Carrier linehaul",
                    quantity=miles,
                    rate=carrier_rate,
                )
            )
            if accessorial:
                trip_lines.append(
                    _line(
                        m.TripCharge,
                        trip=trip,
                        kind="accessorial",
                        item_code=accessorial,
                        description=accessorial.title(),
                        quantity=Decimal("1"),
                        rate=Decimal("100.00"),
                    )
                )
        if status == m.BillingStatus.COMPLETED:
            payments.append((load, pickup + dt.timedelta(days=20)))

    m.Load.objects.bulk_create(new_loads)
    for line in charges:
        line.load_id = line.load.pk
    m.LoadCharge.objects.bulk_create(charges)
    for trip in trips:
        trip.load_id = trip.load.pk
    m.Trip.objects.bulk_create(trips)
    for line in trip_lines:
        line.trip_id = line.trip.pk
    m.TripCharge.objects.bulk_create(trip_lines)
    totals = dict(
        m.Load.objects.filter(pk__in=[load.pk for load, _ in payments])
        .with_totals()
        .values_list("pk", "total")
    )
    m.Payment.objects.bulk_create(
        m.Payment(
            load=load,
            amount=totals[load.pk],
            paid_on=paid_on,
            method="ach",
            reference=f"ACH-{load.number}",
            source=m.Payment.Source.MANUAL,
        )
        for load, paid_on in payments
    )
    report.add("loads", len(new_loads))
    report.add("trips", len(trips))

    if count >= 3:
        _seed_grouped_documents(today, subsidiaries, carriers, report)


def _seed_grouped_documents(today, subsidiaries, carriers, report):
    acme = m.Customer.objects.get(name=demo_data.CUSTOMERS[0].name)
    summary, created = m.SummaryInvoice.objects.get_or_create(
        number="SI-9001",
        defaults={
            "subsidiary": subsidiaries[0],
            "customer": acme,
            "status": m.SummaryInvoice.Status.ISSUED,
            "issued_at": timezone.now(),
        },
    )
    report.add("summary invoices", created)
    if created:
        loads = m.Load.objects.filter(
            customer=acme,
            invoice_as_subsidiary=subsidiaries[0],
            summary_invoice=None,
            billing_status=m.BillingStatus.RELEASED,
        ).order_by("number")[:3]
        m.Load.objects.filter(pk__in=[load.pk for load in loads]).update(
            summary_invoice=summary, billing_status=m.BillingStatus.INVOICED
        )

    carrier_trips = m.Trip.objects.filter(
        carrier__isnull=False, carrier_settlement=None, subsidiary=subsidiaries[0]
    ).order_by("number")
    first = carrier_trips.first()
    if first is not None:
        settlement, created = m.CarrierSettlement.objects.get_or_create(
            number="CS-7001",
            defaults={
                "subsidiary": subsidiaries[0],
                "carrier": first.carrier,
                "period_start": today - dt.timedelta(days=14),
                "period_end": today,
                "status": m.CarrierSettlement.Status.APPROVED,
                "approved_at": timezone.now(),
            },
        )
        report.add("carrier settlements", created)
        if created:
            ids = list(carrier_trips.filter(carrier=first.carrier).values_list("pk", flat=True)[:3])
            m.Trip.objects.filter(pk__in=ids).update(
                carrier_settlement=settlement, status=m.Trip.Status.APPROVED
            )

    for direction, number in (
        (m.CarrierStatement.Direction.AR, "CST-AR-1"),
        (m.CarrierStatement.Direction.AP, "CST-AP-1"),
    ):
        statement, created = m.CarrierStatement.objects.get_or_create(
            number=number,
            defaults={
                "subsidiary": subsidiaries[0],
                "carrier": carriers[1],
                "direction": direction,
                "statement_date": today,
            },
        )
        report.add("carrier statements", created)
        if created:
            m.CarrierStatementLine.objects.create(
                statement=statement, description="Trailer rental", amount=Decimal("350.00")
            )


def _seed_driver_pay(rng, today, subsidiaries, drivers, trucks, carriers, report):
    week_end = today - dt.timedelta(days=today.weekday() + 1)
    for i, driver in enumerate(drivers):
        for week in range(2):
            end = week_end - dt.timedelta(days=7 * week)
            number = f"PS-{end:%y%m%d}-{i + 1:02d}"
            stub, created = m.Paystub.objects.get_or_create(
                number=number,
                defaults={
                    "driver": driver,
                    "subsidiary": driver.subsidiary,
                    "period_start": end - dt.timedelta(days=6),
                    "period_end": end,
                    "status": m.Paystub.Status.FINALIZED,
                    "finalized_at": timezone.now(),
                },
            )
            report.add("paystubs", created)
            if not created:
                continue
            miles = Decimal(rng.randint(1500, 2800))
            lines = [
                ("pay", "PER_MILE", "Mileage pay", m.money(miles * Decimal("0.62"))),
                ("bonus", "SAFETY", "Safety bonus", Decimal("100.00")),
                ("per_diem", "PER_DIEM", "Per diem", Decimal("120.00")),
                ("fuel", "FUEL", "Fuel card", Decimal(rng.randint(300, 900))),
                ("toll", "TOLL", "Tolls", Decimal(rng.randint(20, 90))),
            ]
            if driver.driver_type == m.Driver.DriverType.OWNER_OPERATOR:
                lines += [
                    ("deduction", "INSURANCE", "Occupational insurance", Decimal("85.00")),
                    ("escrow", "ESCROW", "Escrow contribution", Decimal("50.00")),
                ]
                m.EscrowTransaction.objects.create(
                    subsidiary=driver.subsidiary,
                    driver=driver,
                    paystub=stub,
                    date=end,
                    kind=m.EscrowTransaction.Kind.CONTRIBUTION,
                    amount=Decimal("50.00"),
                )
            m.PaystubLine.objects.bulk_create(
                m.PaystubLine(paystub=stub, kind=k, item_code=c, description=d, amount=a)
                for k, c, d, a in lines
            )
            truck = trucks[i % len(trucks)]
            m.FuelTransaction.objects.create(
                subsidiary=driver.subsidiary,
                driver=driver,
                truck=truck,
                paystub=stub,
                date=end,
                location="Pilot #412, Amarillo TX",
                card_number=f"****{4100 + i}",
                gallons=Decimal("118.400"),
                amount=lines[3][3],
            )
            m.TollTransaction.objects.create(
                subsidiary=driver.subsidiary,
                driver=driver,
                truck=truck,
                paystub=stub,
                date=end,
                plaza="I-294 Tri-State",
                transponder=f"IP{900 + i}",
                amount=lines[4][3],
            )

    settlement, created = m.DriverSettlement.objects.get_or_create(
        number="DS-8001",
        defaults={
            "subsidiary": drivers[1].subsidiary,
            "driver": drivers[1],
            "period_start": week_end - dt.timedelta(days=13),
            "period_end": week_end,
            "status": m.DriverSettlement.Status.APPROVED,
            "approved_at": timezone.now(),
        },
    )
    report.add("driver settlements", created)
    if created:
        m.Paystub.objects.filter(driver=drivers[1]).update(driver_settlement=settlement)

    reasons = list(m.ECheck.Reason.values)
    for i in range(10):
        driver = drivers[i % len(drivers)]
        _, created = m.ECheck.objects.get_or_create(
            number=f"EC-{6001 + i}",
            defaults={
                "subsidiary": driver.subsidiary,
                "payee_driver": driver,
                "reason": reasons[i % len(reasons)],
                "amount": Decimal(100 + 25 * i).quantize(Decimal("0.01")),
                "export_ar": reasons[i % len(reasons)] == "lumper",
                "export_ap": True,
                "status": m.ECheck.Status.ISSUED,
                "issued_at": timezone.now(),
            },
        )
        report.add("e-checks", created)
