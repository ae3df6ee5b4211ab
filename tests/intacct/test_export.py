"""AR invoices for individual loads, exported to the sandbox."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounting import models as am
from intacct import export
from intacct import messages as msg
from intacct import models as m
from intacct.connections import services
from intacct.connections.sage import client_for
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import sandbox_faults_set, sandbox_user_set_active
from tests import factories as f


def make_load(connection, *, customer_name="Acme Distribution", external_id="C1001", **kwargs):
    customer = am.Customer.objects.filter(name=customer_name).first() or f.CustomerFactory(
        name=customer_name
    )
    if external_id and not customer.external_ids.filter(subsidiary=connection.subsidiary):
        f.ExternalIdFactory(
            subsidiary=connection.subsidiary, customer=customer, external_id=external_id
        )
    load = f.LoadFactory(
        invoice_as_subsidiary=connection.subsidiary,
        customer=customer,
        invoiced_at=timezone.now(),
        **kwargs,
    )
    f.LoadChargeFactory(load=load, kind="linehaul", quantity=Decimal("500"), rate=Decimal("2.5"))
    f.LoadChargeFactory(load=load, kind="accessorial", item_code="DETENTION", rate=Decimal("150"))
    return load


def invoices():
    return SandboxRecord.objects.filter(object="ARINVOICE")


def test_a_load_becomes_one_posted_invoice_with_resolved_accounts(connection):
    load = make_load(connection, po_number="PO-77")
    summary = export.loads_export(connection=connection)
    assert (summary.created, summary.failed) == (1, 0)
    invoice = invoices().get()
    assert (
        invoice.data["RECORDID"],
        invoice.data["CUSTOMERID"],
        invoice.data["DOCNUMBER"],
        invoice.data["TERMNAME"],
        invoice.data["TOTALENTERED"],
        invoice.entity,
    ) == (load.number, "C1001", "PO-77", "Net 30", "1400.00", "E100")
    assert [(i["ACCOUNTNO"], i["AMOUNT"]) for i in invoice.data["ITEMS"]] == [
        ("4000", "1250.00"),
        ("4025", "150.00"),
    ]
    assert invoice.data["LOAD_NUMBER"] == load.number
    record = am.SyncRecord.objects.get()
    assert (record.state, record.record_no) == ("synced", str(invoice.pk))
    assert export.loads_export(connection=connection).created == 0  # nothing twice
    assert invoices().count() == 1


def test_a_batch_of_loads_goes_in_one_request(connection):
    for _ in range(12):
        make_load(connection)
    client = client_for(connection)
    summary = export.loads_export(connection=connection, batch_size=50, client=client)
    assert summary.created == 12
    assert client.requests_sent == 1  # one batch, on the session the connection kept
    assert invoices().count() == 12


def test_an_unlinked_customer_fails_with_the_seed_message_then_name_matching_links_it(connection):
    load = make_load(connection, customer_name="Westgate Retail", external_id=None)
    export.loads_export(connection=connection)
    error = am.ErrorTransaction.objects.get()
    assert (error.message, error.entity_type, error.transaction_type, error.reference) == (
        msg.CUSTOMER_NOT_LINKED,
        "Load",
        "Invoice",
        load.number,
    )
    assert error.total == Decimal("1400.00")

    matched = make_load(connection, customer_name="Lakeside Dairy", external_id=None)
    export.loads_export(connection=connection)
    assert invoices().get().data["CUSTOMERID"] == "C1012"
    assert matched.number == invoices().get().data["RECORDID"]


def test_two_sage_customers_with_the_name_is_an_error_not_a_guess(connection):
    make_load(connection, customer_name="Summit Foods", external_id=None)
    export.loads_export(connection=connection)
    assert (
        "2 Sage customers are named Summit Foods (C1024, C1025)"
        in am.ErrorTransaction.objects.get().message
    )


def test_auto_create_customer_creates_it_in_sage(connection):
    services.connection_update_settings(connection=connection, ar={"auto_create_customer": True})
    make_load(connection, customer_name="Valley Fresh Farms", external_id=None)
    assert export.loads_export(connection=connection).created == 1
    created = SandboxRecord.objects.get(object="CUSTOMER", data__NAME="Valley Fresh Farms")
    assert invoices().get().data["CUSTOMERID"] == created.key


def test_a_line_without_an_account_names_the_line(connection):
    m.AccountMapping.objects.filter(connection=connection, side="ar", category="").delete()
    load = make_load(connection)
    export.loads_export(connection=connection)
    line = load.lines.get(kind="linehaul")
    assert am.ErrorTransaction.objects.get().message == msg.MISSING_REVENUE_ACCOUNT.format(
        line=line.pk
    )


def test_an_invalid_term_falls_back_to_net_30(connection):
    load = make_load(connection)
    m.CustomPaymentTerm.objects.create(
        connection=connection, customer=load.customer, term_name="Net 45"
    )
    assert export.loads_export(connection=connection).created == 1
    assert invoices().get().data["TERMNAME"] == "Net 30"
    assert am.SyncRecord.objects.get().controlid.endswith("-net30")


def test_a_sage_refusal_is_recorded_and_resolves_after_the_fix(connection):
    mapping = m.DimensionMapping.objects.create(
        connection=connection, dimension="department", source="office", default_value="NOPE"
    )
    load = make_load(connection)
    export.loads_export(connection=connection)
    error = am.ErrorTransaction.objects.get()
    assert "Invalid Department 'NOPE' specified" in error.message and error.support_id
    mapping.default_value = "OPS"
    mapping.save()
    export.loads_export(connection=connection)
    error.refresh_from_db()
    assert error.status == "resolved" and invoices().get().data["RECORDID"] == load.number


def test_revoked_credentials_fail_every_load_without_calling_sage_per_document(connection):
    for _ in range(3):
        make_load(connection)
    sandbox_user_set_active(active=False)
    client = client_for(connection)
    summary = export.loads_export(connection=connection, client=client)
    # the kept session refused, one sign-in refused: nothing per document
    assert summary.failed == 3 and client.requests_sent == 2
    assert set(am.ErrorTransaction.objects.values_list("message", flat=True)) == {
        msg.CLIENT_NOT_INITIALIZED
    }


def test_a_lost_answer_is_looked_up_before_anything_is_resent(connection, settings):
    settings.INTACCT_MAX_RETRIES = 0
    make_load(connection)
    client = client_for(connection)
    client.open_session()
    sandbox_faults_set(drop_next=1)  # Sage applies the batch, its answer is lost (524)
    export.loads_export(connection=connection, client=client)
    assert am.SyncRecord.objects.get().state == "unknown"
    assert invoices().count() == 1
    export.loads_export(connection=connection)
    assert am.SyncRecord.objects.get().state == "synced"
    assert invoices().count() == 1


def test_loads_before_activation_on_summaries_or_not_ready_are_not_exported(connection):
    old = make_load(connection)
    am.Load.objects.filter(pk=old.pk).update(
        updated_at=connection.activated_at - dt.timedelta(days=1)
    )
    make_load(connection, billing_status="released")
    make_load(connection, summary_invoice=f.SummaryInvoiceFactory())
    assert export.loads_export(connection=connection).created == 0


def test_paused_connections_and_the_ar_master_toggle_stop_exports(connection):
    make_load(connection)
    services.connection_update_settings(connection=connection, ar={"export_ar_invoices": False})
    assert export.loads_export(connection=connection).created == 0
    services.connection_update_settings(connection=connection, ar={"export_ar_invoices": True})
    services.connection_set_primary_sync(connection=connection, on=False)
    assert export.loads_export(connection=connection).created == 0


def test_the_command_exports_and_the_dry_run_sends_nothing(connection):
    load = make_load(connection)
    out = io.StringIO()
    call_command("intacct_export", "--dry-run", stdout=out)
    assert f"<invoiceno>{load.number}</invoiceno>" in out.getvalue()
    assert not invoices().exists()
    call_command("intacct_export", "--subsidiary", "RF", stdout=out)
    assert "RF Ridgeline Freight load: 1 created, 0 updated, 0 reversed" in out.getvalue()
    assert "RF Ridgeline Freight total: 1 created, 0 updated, 0 reversed, 0 deleted, 0 failed" in (
        out.getvalue()
    )
    assert invoices().count() == 1


def test_activation_creates_the_export_schedule_and_pausing_removes_it(connection):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="Sage Intacct export: RF")
    assert (schedule.func, schedule.args, schedule.minutes) == (
        "intacct.tasks.connection_export",
        str(connection.pk),
        15,
    )
    out = io.StringIO()
    call_command("ensure_schedules", stdout=out)
    assert "1 export schedule(s) in place: each syncing connection exports every 15" in (
        out.getvalue()
    )
    assert Schedule.objects.filter(func="intacct.tasks.connection_export").count() == 1
    services.connection_set_primary_sync(connection=connection, on=False)
    # Only the alert check stays: it watches paused connections too.
    assert list(Schedule.objects.values_list("func", flat=True)) == [
        "intacct.tasks.connection_alerts_send"
    ]


def test_the_export_task_is_thin_and_safe_to_run_twice(connection):
    from intacct.tasks import connection_export

    make_load(connection)
    assert connection_export(connection.pk)["created"] == 1
    assert connection_export(connection.pk)["created"] == 0
    assert invoices().count() == 1


def _app_queries(connection, count, batch_size):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    am.SyncRecord.objects.all().delete()
    SandboxRecord.objects.filter(object="ARINVOICE").delete()
    am.Load.objects.all().delete()
    for _ in range(count):
        make_load(connection)
    client = client_for(connection)
    with CaptureQueriesContext(db) as queries:
        summary = export.loads_export(connection=connection, batch_size=batch_size, client=client)
    assert summary.created == count
    # The sandbox answers in this process too (its tables and its per-function savepoints);
    # count only the application's own queries.
    own = [
        q
        for q in queries.captured_queries
        if "intacct_sandbox_" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]
    return len(own), client.requests_sent


def test_queries_and_requests_grow_with_batches_not_documents(connection):
    one_batch_of_10 = _app_queries(connection, 10, batch_size=10)
    one_batch_of_50 = _app_queries(connection, 50, batch_size=50)
    assert one_batch_of_50 == one_batch_of_10
    assert one_batch_of_10[1] == 1  # one request, on the session the connection kept
    two_batches_of_10 = _app_queries(connection, 20, batch_size=10)
    # Two batches are read (and their ledger rows written) at once: at 2 x 50 SQLite would
    # split the 100 rows' INSERT in two statements (999 parameters at most), at 2 x 25 not.
    two_batches_of_25 = _app_queries(connection, 50, batch_size=25)
    assert two_batches_of_25 == two_batches_of_10
    assert two_batches_of_10[1] == 2


def test_documents_another_exporter_is_sending_are_left_to_it(connection):
    first, second = make_load(connection), make_load(connection)
    # Exporter A has claimed the first load a moment ago and is still waiting for Sage.
    am.SyncRecord.objects.create(
        connection=connection,
        document_type="load",
        document_id=first.pk,
        reference=first.number,
        sage_object="ARINVOICE",
        controlid=f"ar-invoice-load-{first.pk}-v1",
        state="pending",
        last_attempt_at=timezone.now(),
        claimed_by="exporter-a",
    )
    summary = export.loads_export(connection=connection)
    assert (summary.created, summary.skipped) == (1, 1)
    assert list(invoices().values_list("key", flat=True)) == [second.number]


def test_an_applied_version_found_by_a_later_run_is_linked_not_duplicated(connection):
    load = make_load(connection)
    export.loads_export(connection=connection)
    # The ledger lost track (a crash between Sage's answer and our update): the next run
    # sends the same controlid, Sage refuses it as already applied, and the run links it.
    am.SyncRecord.objects.update(state="failed", record_no="")
    summary = export.loads_export(connection=connection)
    assert summary.created == 1 and invoices().count() == 1
    record = am.SyncRecord.objects.get()
    assert (record.state, record.record_no) == ("synced", str(invoices().get().pk))
    assert not am.ErrorTransaction.objects.filter(document_id=load.pk, status="failed").exists()


def test_a_repeated_failure_updates_its_one_error_transaction(connection):
    m.AccountMapping.objects.filter(connection=connection, side="ar", category="").delete()
    make_load(connection)
    export.loads_export(connection=connection)
    export.loads_export(connection=connection)
    error = am.ErrorTransaction.objects.get()
    assert (error.attempts, error.status) == (2, "failed")


def test_the_load_page_previews_the_payload_and_its_trail_without_sending(connection, admin_client):
    from django.urls import reverse

    m.DimensionMapping.objects.create(
        connection=connection, dimension="department", source="office", default_value="OPS"
    )
    load = make_load(connection)
    page = admin_client.get(reverse("admin:accounting_load_change", args=[load.pk]))
    preview_url = reverse("admin:intacct_preview_load", args=[load.pk])
    assert preview_url in page.content.decode()
    text = admin_client.get(preview_url).content.decode()
    detention = load.lines.get(item_code="DETENTION")
    assert "Customer Acme Distribution: C1001 (External Accounting ID)" in text
    line = f"Line {detention.pk} Accessorial DETENTION 150.00: account 4025 (specific mapping)"
    assert line in text
    assert "Department from Office &#x27;&#x27;: OPS (default value)" in text
    assert "Term Net 30 (default payment terms)" in text
    assert "&lt;invoiceno&gt;" + load.number + "&lt;/invoiceno&gt;" in text
    assert not invoices().exists()


def test_the_preview_names_what_blocks_the_export(connection, admin_client):
    from django.urls import reverse

    load = make_load(connection, customer_name="Westgate Retail", external_id=None)
    text = admin_client.get(reverse("admin:intacct_preview_load", args=[load.pk])).content
    assert msg.CUSTOMER_NOT_LINKED.encode() in text


def test_batch_invoicing_invoices_the_selected_loads_and_sends_them_at_once(
    connection, admin_client, monkeypatch, django_capture_on_commit_callbacks, sandbox_requests
):
    from django.urls import reverse
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # the task runs inline instead of on the cluster
    released = [make_load(connection, billing_status="released") for _ in range(3)]
    completed = make_load(connection, billing_status="completed")
    sandbox_requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:accounting_load_changelist"),
            {
                "action": "invoice_selected",
                "_selected_action": [load.pk for load in [*released, completed]],
            },
            follow=True,
        )
    assert "3 load(s) invoiced, one invoice each" in response.content.decode()
    assert "1 skipped: only Released or Queued loads can be invoiced." in (
        response.content.decode()
    )
    assert sorted(invoices().values_list("key", flat=True)) == sorted(
        load.number for load in released
    )
    assert len(sandbox_requests) == 1  # one request for the batch, on the kept session
    assert am.Load.objects.get(pk=completed.pk).billing_status == "completed"


def test_the_retry_command_resends_what_was_fixed_and_names_what_still_fails(connection):
    from django.core.management.base import CommandError

    m.AccountMapping.objects.filter(connection=connection, side="ar", category="").delete()
    fixed = make_load(connection)
    unknown = make_load(connection, customer_name="Westgate Retail", external_id=None)
    export.loads_export(connection=connection)
    assert am.ErrorTransaction.objects.filter(status="failed").count() == 2
    m.AccountMapping.objects.create(connection=connection, side="ar", gl_account_no="4000")

    out = io.StringIO()
    call_command("intacct_retry", "--subsidiary", "RF", stdout=out)

    assert "1 sent, 1 resolved, 0 still failing, 1 skipped." in out.getvalue()
    assert msg.CUSTOMER_NOT_LINKED in out.getvalue()
    assert list(invoices().values_list("key", flat=True)) == [fixed.number]
    with pytest.raises(CommandError, match="No failed Error Transaction with id 999999"):
        call_command("intacct_retry", "--id", "999999", stdout=out)
    open_row = am.ErrorTransaction.objects.get(status="failed", document_id=unknown.pk)
    with pytest.raises(CommandError, match="1 still failing"):
        call_command("intacct_retry", "--id", str(open_row.pk), stdout=out)


def test_batch_invoicing_from_a_list_filtered_by_status_counts_what_it_invoiced(
    connection, admin_client
):
    from django.urls import reverse

    released = [make_load(connection, billing_status="released") for _ in range(2)]
    url = reverse("admin:accounting_load_changelist") + "?billing_status__exact=released"
    response = admin_client.post(
        url,
        {"action": "invoice_selected", "_selected_action": [load.pk for load in released]},
        follow=True,
    )
    text = response.content.decode()
    assert "2 load(s) invoiced, one invoice each" in text
    assert "skipped" not in text
    assert "<title>Select load to change | Ledgerline</title>" in text
