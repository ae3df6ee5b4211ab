"""Fixtures and helpers of the reliability and security suites.

The sandbox fixtures are the integration tests' own (`sandbox`, `sandbox_requests`,
`connection`); every client the application builds here records its backoff instead of
sleeping, so a burst of faults costs no wall-clock time.
"""

import functools
from collections import Counter
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from accounting import models as am
from intacct.client import IntacctClient
from intacct.connections import sage
from intacct.sandbox import gateway
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import sandbox_payment_record
from tests import factories as f
from tests.intacct.conftest import connect, connection, sandbox, sandbox_http, sandbox_requests

__all__ = ["connect", "connection", "sandbox", "sandbox_http", "sandbox_requests"]


@pytest.fixture(autouse=True)
def sleeps(monkeypatch) -> list[float]:
    """Every backoff the application's clients would have slept, in order (none is slept)."""
    slept: list[float] = []
    monkeypatch.setattr(sage, "IntacctClient", functools.partial(IntacctClient, sleep=slept.append))
    return slept


class Gateway:
    """Rewrites the sandbox's answers: `after_apply(n, answer)` is called with each request's
    number (1-based) and the sandbox's answer, once Sage has applied it. It returns the
    answer to deliver, or raises what the client should meet instead (a timeout, ...)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self.rules = []
        self.before_rules = []  # (n, body) -> an answer given instead of Sage's, or None
        real = gateway.handle

        def handle(body, **kwargs):
            for rule in self.before_rules:
                instead = rule(self.calls + 1, body)
                if instead is not None:
                    self.calls += 1
                    return instead
            answer = real(body, **kwargs)
            self.calls += 1
            for rule in self.rules:
                answer = rule(self.calls, body, answer)
            return answer

        monkeypatch.setattr(gateway, "handle", handle)

    def on(self, rule):
        self.rules.append(rule)
        return rule

    def before(self, rule):
        """`rule(n, body)` runs before Sage sees the request; an answer it returns (or what it
        raises) is what the client meets, and Sage never applies the request."""
        self.before_rules.append(rule)
        return rule


@pytest.fixture
def sage_gateway(sandbox, monkeypatch) -> Gateway:
    return Gateway(monkeypatch)


class Timeout(requests.ReadTimeout):
    """What the HTTP layer raises when Sage took longer than the client's timeout."""


def raise_from_callback(exc: BaseException):
    """A `responses` answer that raises `exc` in the client, as the HTTP layer would."""
    return gateway.GatewayResponse(599, exc, {})


# --- TMS documents ---------------------------------------------------------------------------


def make_load(connection, *, customer=None, charges=None, **kwargs) -> am.Load:
    """An invoiced load of 1,400.00 (linehaul 1,250 and detention 150) for a linked customer."""
    if customer is None:
        customer = am.Customer.objects.filter(name="Acme Distribution").first()
        if customer is None:
            customer = f.CustomerFactory(name="Acme Distribution")
            f.ExternalIdFactory(
                subsidiary=connection.subsidiary, customer=customer, external_id="C1001"
            )
    load = f.LoadFactory(
        invoice_as_subsidiary=connection.subsidiary,
        customer=customer,
        invoiced_at=timezone.now(),
        **kwargs,
    )
    if charges is None:
        charges = [
            {"kind": "linehaul", "quantity": Decimal("500"), "rate": Decimal("2.5")},
            {"kind": "accessorial", "item_code": "DETENTION", "rate": Decimal("150")},
        ]
    for charge in charges:
        f.LoadChargeFactory(load=load, **charge)
    return load


def make_trip(connection, *, carrier=None, **kwargs) -> am.Trip:
    """A trip whose carrier invoice (875.00: linehaul and lumper) was uploaded."""
    if carrier is None:
        carrier = am.Carrier.objects.filter(name="Apex Carriers LLC").first()
        if carrier is None:
            carrier = f.CarrierFactory(name="Apex Carriers LLC")
            f.ExternalIdFactory(
                subsidiary=connection.subsidiary,
                customer=None,
                carrier=carrier,
                external_id="V2001",
            )
    trip = f.TripFactory(
        load=f.LoadFactory(
            invoice_as_subsidiary=connection.subsidiary, billing_status=am.BillingStatus.RELEASED
        ),
        subsidiary=connection.subsidiary,
        carrier=carrier,
        carrier_invoice_uploaded_at=timezone.now(),
        **kwargs,
    )
    f.TripChargeFactory(trip=trip, kind="linehaul", rate=Decimal("800"))
    f.TripChargeFactory(trip=trip, kind="accessorial", item_code="LUMPER", rate=Decimal("75"))
    return trip


def sage_document(doc) -> SandboxRecord:
    record = am.SyncRecord.objects.get(
        document_id=doc.pk, document_type=doc._meta.model_name, state="synced"
    )
    return SandboxRecord.objects.get(pk=int(record.record_no))


def pay(doc, amount=None, **kwargs) -> SandboxRecord:
    """An accountant records a payment in Sage on the document exported for `doc`."""
    return sandbox_payment_record(document=sage_document(doc), amount=amount, **kwargs)


# --- the final state ------------------------------------------------------------------------


def assert_exported_exactly_once(*docs) -> None:
    """Every document is one live Sage document (by its number), and its ledger row is synced
    and points at that document."""
    objects = {"load": "ARINVOICE", "trip": "APBILL"}
    live = Counter(
        (r.object, r.data.get("RECORDID"))
        for r in SandboxRecord.objects.filter(object__in=objects.values()).exclude(state="Reversed")
    )
    duplicated = {key: n for key, n in live.items() if n > 1}
    assert duplicated == {}, f"documents duplicated in Sage: {duplicated}"
    for doc in docs:
        kind = doc._meta.model_name
        assert live[(objects[kind], doc.number)] == 1, f"{kind} {doc.number} is not in Sage"
        record = am.SyncRecord.objects.get(document_type=kind, document_id=doc.pk, role="")
        assert record.state == "synced", f"{kind} {doc.number}: ledger says {record.state}"
        sage_doc = SandboxRecord.objects.get(pk=int(record.record_no))
        assert sage_doc.data["RECORDID"] == doc.number


def assert_payments_applied_exactly_once() -> None:
    """Every payment detail Sage holds on an exported document is one Payment here, of the
    same amount, and nothing else was imported."""
    details = {
        str(r.pk): r
        for r in SandboxRecord.objects.filter(object__in=["ARPYMTDETAIL", "APPYMTDETAIL"])
    }
    stored = Counter(am.Payment.objects.values_list("sage_detail_id", flat=True))
    assert set(stored) == set(details), "payments lost or invented"
    assert all(n == 1 for n in stored.values()), f"payments applied twice: {stored}"
    for payment in am.Payment.objects.all():
        detail = details[payment.sage_detail_id]
        assert payment.amount == Decimal(str(detail.data["PAYMENTAMOUNT"]))


@pytest.fixture
def quiet_refusals():
    """Refused requests (403, 405) are expected by the hundred here: not logged with their
    traceback, which would cost more than the requests."""
    import logging

    loggers = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


# --- every admin page ---------------------------------------------------------------------------


@pytest.fixture
def world(connection):
    """At least one row of every model the admin shows: exported, paid and failed documents,
    the run logs, mappings, the sandbox's records and the task cluster's rows."""
    from django.contrib.auth.models import Group
    from django_q.models import OrmQ, Task

    from intacct import export
    from intacct.payments import services as payments

    load, trip = make_load(connection), make_trip(connection)
    make_load(connection, customer=f.CustomerFactory(name="Nobody Sage Knows"))  # an error
    export.connection_export(connection=connection)
    pay(load, Decimal("100.00"))
    payments.payments_import(connection=connection)
    subsidiary = connection.subsidiary
    driver = f.DriverFactory(subsidiary=subsidiary)
    f.OfficeFactory(subsidiary=subsidiary)
    f.FleetFactory(subsidiary=subsidiary)
    f.TruckFactory(subsidiary=subsidiary)
    f.TrailerFactory(subsidiary=subsidiary)
    f.PaystubLineFactory(paystub=f.PaystubFactory(driver=driver, subsidiary=subsidiary))
    f.ECheckFactory(subsidiary=subsidiary, payee_driver=driver)
    f.FuelTransactionFactory(subsidiary=subsidiary, driver=driver)
    f.TollTransactionFactory(subsidiary=subsidiary, driver=driver)
    f.EscrowTransactionFactory(subsidiary=subsidiary, driver=driver)
    f.SummaryInvoiceFactory(subsidiary=subsidiary, customer=load.customer)
    f.CarrierSettlementFactory(subsidiary=subsidiary, carrier=trip.carrier)
    f.DriverSettlementFactory(subsidiary=subsidiary, driver=driver)
    f.CarrierStatementFactory(subsidiary=subsidiary, carrier=trip.carrier)
    from intacct import models as m

    dimension = m.DimensionMapping.objects.create(
        connection=connection, dimension="department", source="office", default_value="OPS"
    )
    m.DimensionValueMap.objects.create(mapping=dimension, tms_value="Dallas", sage_value="OPS")
    m.CustomPaymentTerm.objects.create(
        connection=connection, customer=load.customer, term_name="Net 15"
    )
    from intacct.notifications.services import notification_receive, notification_secret_rotate
    from intacct.sandbox.models import SandboxNotificationDelivery, SandboxNotificationTarget

    notification_secret_rotate(connection=connection)
    notification_receive(connection=connection, body=b'{"test": true}')
    target = SandboxNotificationTarget.objects.create(
        company_id=SandboxRecord.objects.values_list("company_id", flat=True).first(),
        url="http://testserver/intacct/notify/1/x/payments/",
        enabled=False,
    )
    SandboxNotificationDelivery.objects.create(
        target=target,
        sage_object="ARPYMT",
        record_no="1",
        url=target.url,
        body="{}",
        status=SandboxNotificationDelivery.Status.GAVE_UP,
        created_at=timezone.now(),
    )
    Group.objects.get_or_create(name="Dispatchers")
    Task.objects.create(
        id="a" * 32,
        name="done",
        func="intacct.tasks.connection_export",
        started=timezone.now(),
        stopped=timezone.now(),
        success=True,
    )
    Task.objects.create(
        id="b" * 32,
        name="failed",
        func="intacct.tasks.connection_export",
        started=timezone.now(),
        stopped=timezone.now(),
        success=False,
    )
    OrmQ.objects.create(key="ledgerline", payload="x", lock=timezone.now())
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    seen = {
        "username": "guesser",
        "ip_address": "203.0.113.9",
        "user_agent": "curl",
        "http_accept": "*/*",
        "path_info": "/admin/login/",
    }
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=5)
    AccessFailureLog.objects.create(**seen, locked_out=True)
    AccessLog.objects.create(**seen)
    return connection


def admin_pages(world) -> list[tuple[str, object, str]]:
    """(URL name, its ModelAdmin or None, URL) of every named admin page that takes no query
    string, with the first row of its model (or the connection, a load, a trip) filled in."""
    from django.contrib import admin
    from django.urls import reverse

    pages = [("index", None, reverse("admin:index"))]
    pages += [
        ("app_list", label, reverse("admin:app_list", args=[label]))
        for label in sorted({model._meta.app_label for model in admin.site._registry})
    ]
    pages.append(("password_change", None, reverse("admin:password_change")))
    trip = am.Trip.objects.order_by("pk").first()
    for model, model_admin in admin.site._registry.items():
        first = model._default_manager.order_by("pk").first()
        for pattern in model_admin.get_urls():
            if not getattr(pattern, "name", None):
                continue  # the bare <object_id>/ redirect to the change page
            names = list(pattern.pattern.regex.groupindex)
            values = {
                "object_id": first.pk if first else 0,
                "pk": first.pk if first else 0,
                "id": first.pk if first else 0,
                "load_id": am.Load.objects.order_by("pk").first().pk,
                "model": "trip",
            }
            kwargs = {name: values[name] for name in names}
            if "model" in kwargs:
                kwargs["pk"] = trip.pk
            pages.append(
                (pattern.name, model_admin, reverse(f"admin:{pattern.name}", kwargs=kwargs))
            )
    return pages
