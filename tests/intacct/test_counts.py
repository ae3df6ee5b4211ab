"""What the benchmarks measure, kept by counts instead of timers: requests to Sage and the
application's database queries for 10 against 100 documents (README "Performance")."""

import math
import re
from decimal import Decimal

from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounting import models as am
from intacct import export
from intacct import models as m
from intacct.connections.sage import client_for
from intacct.export import DOCUMENT_TYPES, run_data
from intacct.payments import payments_import
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import sandbox_payment_record
from tests import factories as f

from .conftest import connect

WRITES = re.compile(
    rb"<function controlid=\"[^\"]*\"><(create|create_invoice|update|update_invoice)"
)


def documents(connection, count: int) -> None:
    """`count` invoiced loads (two lines) and `count` trips with their carrier invoice in."""
    customer = am.Customer.objects.filter(name="Acme Distribution").first() or (
        f.CustomerFactory(name="Acme Distribution")
    )
    carrier = am.Carrier.objects.filter(name="Apex Carriers LLC").first() or (
        f.CarrierFactory(name="Apex Carriers LLC")
    )
    if not customer.external_ids.filter(subsidiary=connection.subsidiary).exists():
        f.ExternalIdFactory(
            subsidiary=connection.subsidiary, customer=customer, external_id="C1001"
        )
        f.ExternalIdFactory(
            subsidiary=connection.subsidiary, customer=None, carrier=carrier, external_id="V2001"
        )
    for _ in range(count):
        load = f.LoadFactory(
            invoice_as_subsidiary=connection.subsidiary,
            customer=customer,
            invoiced_at=timezone.now(),
        )
        f.LoadChargeFactory(
            load=load, kind="linehaul", quantity=Decimal("500"), rate=Decimal("2.5")
        )
        f.LoadChargeFactory(
            load=load, kind="accessorial", item_code="DETENTION", rate=Decimal("150")
        )
        trip = f.TripFactory(
            load=load,
            subsidiary=connection.subsidiary,
            carrier=carrier,
            carrier_invoice_uploaded_at=timezone.now(),
        )
        f.TripChargeFactory(trip=trip, kind="linehaul", rate=Decimal("800"))


def app_queries(queries) -> int:
    """The application's own queries: the sandbox answers in this process too."""
    return sum(
        1
        for q in queries.captured_queries
        if "intacct_sandbox_" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    )


def ledger_insert_statements(rows: int) -> int:
    """The statements the database takes to insert `rows` ledger rows (bulk_create)."""
    fields = [f for f in am.SyncRecord._meta.concrete_fields if not f.primary_key]
    return math.ceil(rows / db.ops.bulk_batch_size(fields, [None] * rows))


def export_counts(connection, *, batch_size: int) -> tuple[int, int, int]:
    """(application queries, requests, documents created) for one export of the connection."""
    client = client_for(connection)
    with CaptureQueriesContext(db) as queries:
        summaries = export.connection_export(
            connection=connection, batch_size=batch_size, client=client
        )
    return app_queries(queries), client.requests_sent, sum(s.created for s in summaries.values())


def test_an_export_of_100_documents_costs_what_10_cost_in_as_many_batches(sandbox):
    ten, hundred = connect("RF", "Ridgeline Freight"), connect("RL", "Ridgeline Logistics")
    documents(ten, 10)
    documents(hundred, 100)
    queries_10, requests_10, created_10 = export_counts(ten, batch_size=5)
    queries_100, requests_100, created_100 = export_counts(hundred, batch_size=50)
    assert (created_10, created_100) == (20, 200)
    # Two batches of loads and two of trips each, each type read (and its ledger rows
    # written) at once; SQLite takes 100 rows' INSERT in statements of 999 parameters at most.
    split = 2 * (ledger_insert_statements(100) - ledger_insert_statements(10))
    assert queries_100 == queries_10 + split
    # one per batch and one read of the AP terms (the bills' due dates), on the session
    # each connection kept since its activation
    assert requests_100 == requests_10 == 2 + 1 + 2


def test_requests_are_one_per_batch(connection):
    documents(connection, 12)
    assert export_counts(connection, batch_size=5)[1:] == (3 + 1 + 3, 24)


def test_a_rerun_with_nothing_changed_sends_no_write_and_no_query_per_document(
    sandbox, sandbox_requests
):
    ten, hundred = connect("RF", "Ridgeline Freight"), connect("RL", "Ridgeline Logistics")
    documents(ten, 10)
    documents(hundred, 100)
    export_counts(ten, batch_size=50)
    export_counts(hundred, batch_size=50)
    sandbox_requests.clear()

    queries_10, requests_10, created_10 = export_counts(ten, batch_size=50)
    queries_100, requests_100, created_100 = export_counts(hundred, batch_size=50)

    assert (created_10, created_100) == (0, 0)
    assert requests_10 == requests_100 == 0  # nothing to read or write, no session needed
    assert not any(WRITES.search(body) for body in sandbox_requests)
    assert queries_100 == queries_10


def test_payload_building_reads_nothing_per_document(connection):
    documents(connection, 20)
    data = run_data(connection, client_for(connection), dry_run=True)
    data.sage_terms("APTERM")  # the run's one read of the terms, before the documents
    for document_type in ("load", "trip"):
        batch = list(DOCUMENT_TYPES[document_type].ready(connection=connection)[:20])
        with CaptureQueriesContext(db) as queries:
            for doc in batch:
                export.document_function(
                    data=data, document_type=document_type, doc=doc, controlid="count"
                )
                doc.get_total()  # what an Error Transaction records, from the prefetched lines
        assert len(queries) == 0, document_type


def test_a_failed_document_records_its_total_from_its_lines(connection):
    documents(connection, 1)
    load = am.Load.objects.get()
    f.LoadChargeFactory(load=load, kind="deduction", rate=Decimal("100"))  # a credit
    am.Customer.objects.update(name="Nobody Sage knows")
    am.ExternalAccountingId.objects.filter(customer__isnull=False).delete()

    export.loads_export(connection=connection)

    error = am.ErrorTransaction.objects.get(document_type="load")
    assert error.total == Decimal("1300.00")  # 1,250 + 150 - 100


# --- payment import ----------------------------------------------------------------------------


def paid_loads(connection, count: int, details_each: int) -> None:
    """`count` exported loads of 1,400.00, each paid off in Sage by `details_each` payments."""
    before = set(am.Load.objects.values_list("pk", flat=True))
    documents(connection, count)
    am.Trip.objects.all().update(carrier_invoice_uploaded_at=None)
    export.loads_export(connection=connection)
    for load in am.Load.objects.exclude(pk__in=before):
        record = am.SyncRecord.objects.get(document_type="load", document_id=load.pk)
        invoice = SandboxRecord.objects.get(pk=int(record.record_no))
        share = Decimal("1400.00") / details_each
        for _ in range(details_each):
            sandbox_payment_record(document=invoice, amount=share)
            invoice.refresh_from_db()


def import_counts(connection) -> tuple[int, int, int]:
    client = client_for(connection)
    with CaptureQueriesContext(db) as queries:
        run = payments_import(connection=connection, client=client)
    return app_queries(queries), client.requests_sent, run.applied


def test_importing_100_payment_details_costs_the_queries_and_requests_of_10(connection):
    paid_loads(connection, 10, details_each=1)
    queries_10, requests_10, applied_10 = import_counts(connection)
    paid_loads(connection, 10, details_each=10)
    queries_100, requests_100, applied_100 = import_counts(connection)

    assert (applied_10, applied_100) == (10, 100)
    assert requests_100 == requests_10

    # Only the bulk inserts (of staged details, then of new payments) may split, where the
    # database limits the values in one statement (SQLite: 999); nothing else grows with the
    # number of payments below a chunk of staged details (APPLY_CHUNK).
    def splits(model, n):
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        return math.ceil(n / db.ops.bulk_batch_size(fields, [None] * n))

    inserts = {n: splits(am.Payment, n) + splits(m.PaymentDetailStage, n) for n in (10, 100)}
    assert queries_100 - queries_10 == inserts[100] - inserts[10]


# --- the Error Transactions list ---------------------------------------------------------------


def test_the_error_transactions_list_costs_the_same_queries_for_10_and_100_rows(
    admin_client, connection
):
    url = reverse("admin:accounting_errortransaction_changelist")
    other = f.SubsidiaryFactory(code="RL", name="Ridgeline Logistics")

    def page_queries(query=""):
        with CaptureQueriesContext(db) as queries:
            assert admin_client.get(url + query).status_code == 200
        return len(queries)

    def errors(count):
        for i in range(count):
            load = f.LoadFactory(invoice_as_subsidiary=connection.subsidiary)
            f.ErrorTransactionFactory(
                subsidiary=(connection.subsidiary, other)[i % 2],
                document_id=load.pk,
                status=("failed", "resolved")[i % 3 == 0],
                message=(
                    "Invoice export requires a linked Sage customer ID",
                    f"Line {i} is missing a revenue account",
                )[i % 2],
            )

    pages = ("", "?status__exact=failed&entity_type__exact=Load", "?q=L0")
    errors(10)
    ten = [page_queries(query) for query in pages]
    errors(90)
    assert [page_queries(query) for query in pages] == ten
