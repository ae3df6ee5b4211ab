"""The Error Transactions page: the list, the detail page with how to fix each failure, Retry
Sync, Sync All, Mark as Synced, grouped causes, and who may use it."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounting import models as am
from accounting import roles
from intacct import export
from intacct import messages as msg
from intacct import models as m
from intacct.client import functions as fn
from intacct.errors import fixes, kinds
from intacct.errors import services as service
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import sandbox_user_set_active
from tests import factories as f

# The sandbox and connection fixtures (and what they depend on) live with the intacct tests.
from tests.intacct.conftest import *  # noqa: F403
from tests.intacct.test_export import make_load

pytestmark = pytest.mark.django_db

LIST = "admin:accounting_errortransaction_changelist"
SYNC_ALL = "admin:accounting_errortransaction_sync_all"
RULES = {rule.key: rule for rule in fixes.RULES}


def detail_url(error):
    return reverse("admin:accounting_errortransaction_change", args=[error.pk])


@pytest.fixture
def support():
    user = User.objects.create_user("sam", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.SUPPORT))
    return user


@pytest.fixture
def web(support):
    client = Client()
    client.force_login(support)
    return client


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def flashes(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def run_action(web, action, errors, *, confirm=True):
    """Choose the action on the list (the confirmation page), then confirm it."""
    ids = [str(e.pk) for e in errors]
    first = web.post(reverse(LIST), {"action": action, "index": "0", "_selected_action": ids})
    if not confirm:
        return first
    assert first.status_code == 200
    return web.post(
        reverse(LIST), {"action": action, "post": "yes", "_selected_action": ids}, follow=True
    )


def invoices():
    return SandboxRecord.objects.filter(object="ARINVOICE")


def unlinked_load(connection, name):
    """A load whose customer has no Sage customer (no External Accounting ID, no name match)."""
    return make_load(connection, customer_name=name, external_id=None)


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_the_seed_columns_newest_first(web):
    subsidiary = f.SubsidiaryFactory(name="Ridgeline Freight")
    older = f.ErrorTransactionFactory(subsidiary=subsidiary, reference="L-OLD")
    newer = f.ErrorTransactionFactory(
        subsidiary=subsidiary,
        reference="TR-NEW",
        entity_type="Trip",
        transaction_type="Bill",
        document_type="trip",
        message=msg.VENDOR_NOT_LINKED,
        total="812.40",
    )
    am.ErrorTransaction.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - dt.timedelta(days=2)
    )
    response = web.get(reverse(LIST))
    html = page(response)
    headers = [
        "Entity Type",
        "Transaction Type",
        "Class",
        "Error Message",
        "Status",
        "Reference",
        "Transaction Total",
        "Date Created",
    ]
    shown = re.findall(r'<div class="text">(?:<a [^>]*>|<span>)([^<]*)<', html)
    assert [header for header in shown if header] == headers
    rows = list(response.context["cl"].result_list)
    assert [row.reference for row in rows] == ["TR-NEW", "L-OLD"]
    assert all(
        text in html
        for text in ("Trip", "Bill", "Ridgeline Freight", msg.VENDOR_NOT_LINKED, "812.40", "Failed")
    )
    assert newer.pk and "Sync All" in html


def test_each_filter_and_the_search_narrow_the_list(web):
    rf, ws = f.SubsidiaryFactory(name="Ridgeline Freight"), f.SubsidiaryFactory(name="Westgate")
    f.ErrorTransactionFactory(subsidiary=rf, reference="L-1", message="Customer missing")
    f.ErrorTransactionFactory(subsidiary=ws, reference="L-2", status="resolved")
    f.ErrorTransactionFactory(
        subsidiary=rf,
        reference="TR-3",
        entity_type="Trip",
        transaction_type="Bill",
        document_type="trip",
        message=msg.TERM_NOT_VALID,
    )
    old = f.ErrorTransactionFactory(subsidiary=rf, reference="L-4")
    am.ErrorTransaction.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=40)
    )

    def shown(**params):
        response = web.get(reverse(LIST), params)
        assert response.status_code == 200
        return sorted(row.reference for row in response.context["cl"].result_list)

    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    since = str(midnight - dt.timedelta(days=7))  # the filter's own "Past 7 days" value
    assert shown(status__exact="resolved") == ["L-2"]
    assert shown(entity_type="Trip") == ["TR-3"]
    assert shown(transaction_type="Bill") == ["TR-3"]
    assert shown(subsidiary__id__exact=ws.pk) == ["L-2"]
    assert shown(created_at__gte=since) == ["L-1", "L-2", "TR-3"]
    assert shown(q="TR-3") == ["TR-3"]
    assert shown(q="term entered") == ["TR-3"]
    assert shown(q="customer missing") == ["L-1"]


def _list_queries(web, count, subsidiary):
    am.ErrorTransaction.objects.all().delete()
    for i in range(count):
        message = msg.CUSTOMER_NOT_LINKED if i % 2 else msg.CLIENT_NOT_INITIALIZED
        f.ErrorTransactionFactory(subsidiary=subsidiary, message=message)
    with CaptureQueriesContext(db) as queries:
        html = page(web.get(reverse(LIST)))
    assert "Failures with one cause" in html
    return len(queries)


def test_the_list_costs_the_same_queries_for_10_and_100_rows(web):
    subsidiary = f.SubsidiaryFactory(code="RF", name="Ridgeline Freight")
    f.ConnectionFactory(subsidiary=subsidiary)
    assert _list_queries(web, 10, subsidiary) == _list_queries(web, 100, subsidiary)


# --- the detail page --------------------------------------------------------------------------


def test_the_detail_page_shows_sages_full_error_the_payload_the_history_and_the_document(
    web, connection
):
    m.DimensionMapping.objects.create(
        connection=connection, dimension="department", source="office", default_value="NOPE"
    )
    load = make_load(connection)
    export.loads_export(connection=connection)
    error = am.ErrorTransaction.objects.get()
    assert error.payload.startswith('<function controlid="ar-invoice-load-')
    html = page(web.get(detail_url(error)))
    (detail,) = error.details
    assert detail["errorno"] and error.support_id
    for text in (
        detail["errorno"],
        "Invalid Department",
        "Invalid Department &#x27;NOPE&#x27; specified.",
        escape(detail["correction"]),
        error.support_id,
    ):
        assert text in html
    assert escape("<create_invoice>") in html and escape("<departmentid>NOPE") in html
    assert 'class="attempt"' in html and "Export run" in html
    load_url = reverse("admin:accounting_load_change", args=[load.pk])
    assert f'href="{load_url}"' in html and f"Open Load {load.number}" in html
    assert RULES["dimension_in_sage"].problem in html


def test_the_payload_kept_on_the_error_masks_secrets(connection):
    load = make_load(connection)
    body = ET.fromstring("<create><password>s3cret</password><sessionid>abc</sessionid></create>")
    export.outcomes.failure_record(
        kind=export.DOCUMENT_TYPES["load"],
        connection=connection,
        doc=load,
        message="Refused",
        function=fn.Function("ar-invoice-load-1-v1", "create", body),
    )
    payload = am.ErrorTransaction.objects.get().payload
    assert "s3cret" not in payload and "abc" not in payload
    assert "<password>***</password>" in payload


def _how_to_fix_case(key):
    """An Error Transaction with the seed message of `key`, and the link that fixes it."""
    subsidiary = f.SubsidiaryFactory(code="RF", name="Ridgeline Freight")
    connection = f.ConnectionFactory(subsidiary=subsidiary, wizard_step=m.Connection.Step.FINISH)
    pk = connection.pk
    load = f.LoadFactory(invoice_as_subsidiary=subsidiary)
    trip = f.TripFactory(load=load, subsidiary=subsidiary)
    on_load = {"document_type": "load", "document_id": load.pk, "reference": load.number}
    on_trip = {
        "document_type": "trip",
        "document_id": trip.pk,
        "reference": trip.number,
        "entity_type": "Trip",
        "transaction_type": "Bill",
    }
    advanced = reverse("admin:intacct_wizard_advanced", args=[pk])
    accounts = reverse("admin:intacct_accountmapping_changelist") + f"?connection__id__exact={pk}"
    load_url = reverse("admin:accounting_load_change", args=[load.pk])
    trip_url = reverse("admin:accounting_trip_change", args=[trip.pk])
    cases = {
        "credentials": (
            msg.CLIENT_NOT_INITIALIZED,
            on_load,
            reverse("admin:intacct_wizard_credentials", args=[pk]),
        ),
        "customer": (
            msg.CUSTOMER_NOT_LINKED,
            on_load,
            reverse("admin:accounting_customer_change", args=[load.customer.pk])
            + "#external_ids-group",
        ),
        "vendor": (
            msg.VENDOR_NOT_LINKED,
            on_trip,
            reverse("admin:accounting_carrier_change", args=[trip.carrier.pk])
            + "#external_ids-group",
        ),
        "revenue_account": (
            msg.MISSING_REVENUE_ACCOUNT.format(line=41),
            on_load,
            accounts + "&side__exact=ar",
        ),
        "expense_account": (
            msg.MISSING_EXPENSE_ACCOUNT.format(line=42),
            on_trip,
            accounts + "&side__exact=ap",
        ),
        "dimension": (
            msg.NO_MAPPED_DIMENSION.format(line=43),
            on_load,
            advanced + "#dimensions",
        ),
        "required_custom_field": (
            msg.REQUIRED_CUSTOM_FIELD_MISSING.format(name="LOAD_NUMBER"),
            on_load,
            advanced + "#custom_fields",
        ),
        "custom_field_length": (
            msg.CUSTOM_FIELD_TOO_LONG.format(name="NOTES"),
            on_load,
            load_url,
        ),
        "term": (msg.TERM_NOT_VALID, on_load, advanced + "#terms"),
        "payments_applied": (msg.PAYMENTS_MUST_BE_REMOVED, on_load, load_url),
        "manual_reversal": (msg.AP_BILL_MANUAL_REVERSAL, on_trip, trip_url),
    }
    message, document, url = cases[key]
    error = f.ErrorTransactionFactory(subsidiary=subsidiary, message=message, **document)
    return error, url


SEED_MESSAGES = [
    "credentials",
    "customer",
    "vendor",
    "revenue_account",
    "expense_account",
    "dimension",
    "required_custom_field",
    "custom_field_length",
    "term",
    "payments_applied",
    "manual_reversal",
]


@pytest.mark.parametrize("key", SEED_MESSAGES)
def test_every_seed_message_has_a_how_to_fix_linking_to_the_page_that_fixes_it(web, key):
    error, url = _how_to_fix_case(key)
    html = page(web.get(detail_url(error)))
    rule = RULES[key]
    assert escape(rule.problem) in html
    assert all(escape(step) in html for step in rule.steps)
    assert f'href="{escape(url)}"' in html
    followed = web.get(url.split("#")[0])  # the page opens, and accepts the filter it is given
    assert followed.status_code == 200 and "?e=1" not in followed.get("Location", "")


# --- Retry Sync -------------------------------------------------------------------------------


def test_retry_sync_sends_a_fixed_row_and_resolves_it(web, connection, support):
    load = unlinked_load(connection, "Westgate Retail")
    export.loads_export(connection=connection)
    error = am.ErrorTransaction.objects.get()
    assert error.message == msg.CUSTOMER_NOT_LINKED and not invoices().exists()
    f.ExternalIdFactory(
        subsidiary=connection.subsidiary, customer=load.customer, external_id="C1001"
    )

    confirmation = run_action(web, "retry_sync", [error], confirm=False)
    assert "Yes, retry sync" in page(confirmation)
    assert not invoices().exists()  # nothing happens before the confirmation

    response = run_action(web, "retry_sync", [error])
    assert "Retry Sync: 1 sent, 1 resolved, 0 still failing, 0 skipped." in flashes(response)
    invoice = invoices().get()
    assert (invoice.data["RECORDID"], invoice.data["CUSTOMERID"]) == (load.number, "C1001")
    error.refresh_from_db()
    assert (error.status, error.resolution) == ("resolved", "synced")
    history = list(error.history.order_by("at", "id"))
    assert [(a.outcome, a.trigger, a.user) for a in history] == [
        ("failed", "export", None),
        ("synced", "retry_sync", support),
    ]


def test_retry_sync_of_an_unfixed_row_records_the_new_attempt(web, connection):
    unlinked_load(connection, "Westgate Retail")
    export.loads_export(connection=connection)
    error = am.ErrorTransaction.objects.get()
    response = run_action(web, "retry_sync", [error])
    assert "Retry Sync: 1 sent, 0 resolved, 1 still failing, 0 skipped." in flashes(response)
    error.refresh_from_db()
    assert (error.status, error.attempts, error.history.count()) == ("failed", 2, 2)


def test_retry_sync_says_where_other_entity_types_are_retried(web):
    subsidiary = f.SubsidiaryFactory()
    deduction = f.ErrorTransactionFactory(
        subsidiary=subsidiary, entity_type="Deduction", document_type="deduction"
    )
    summary = f.ErrorTransactionFactory(
        subsidiary=subsidiary, entity_type="Summary Invoice", document_type="summary_invoice"
    )
    response = run_action(web, "retry_sync", [deduction, summary])
    shown = flashes(response)
    assert "Retry Sync: 0 sent, 0 resolved, 0 still failing, 2 skipped." in shown
    assert (
        "1 skipped: "
        + kinds.NOT_RETRYABLE_HERE.format(
            entity="Summary Invoice",
            where=kinds.WHERE_OWN_PAGE.format(page="summary invoice"),
        )
    ) in shown
    assert any(
        text.startswith("1 skipped: Deduction transactions cannot be re-synced") for text in shown
    )
    html = page(web.get(detail_url(summary)))
    assert f'href="{reverse("admin:accounting_summaryinvoice_changelist")}">Go there' in html
    assert (
        "use Retry export on its summary invoice page" in html and "Retry Sync</button>" not in html
    )


# --- Sync All ---------------------------------------------------------------------------------


def test_sync_all_revalidates_skips_what_still_needs_corrections_and_reports(
    web, connection, monkeypatch
):
    fixed = unlinked_load(connection, "Westgate Retail")
    unlinked_load(connection, "Harbor Goods")
    refused = make_load(connection, customer_name="Gone Customer", external_id="C9999")
    export.loads_export(connection=connection)
    assert am.ErrorTransaction.objects.filter(status="failed").count() == 3
    f.ExternalIdFactory(
        subsidiary=connection.subsidiary, customer=fixed.customer, external_id="C1001"
    )
    f.ErrorTransactionFactory(
        subsidiary=connection.subsidiary, entity_type="Fuel", document_type="fuel"
    )
    monkeypatch.delitem(kinds.document_kinds(), "paystub")
    f.ErrorTransactionFactory(
        subsidiary=connection.subsidiary, entity_type="Paystub", document_type="paystub"
    )

    confirmation = page(web.get(reverse(SYNC_ALL)))
    assert service.SYNC_ALL_WARNING in confirmation
    assert not invoices().exists()  # the GET only asks

    response = web.post(reverse(SYNC_ALL), follow=True)
    shown = flashes(response)
    assert "Sync All: 2 sent, 1 resolved, 1 still failing, 3 skipped." in shown
    assert f"1 skipped: still needs corrections: {msg.CUSTOMER_NOT_LINKED}" in shown
    assert "1 skipped: Ledgerline does not export Paystub documents to Sage Intacct yet." in shown
    assert any(
        text.startswith("1 skipped: Fuel transactions cannot be re-synced") for text in shown
    )
    assert list(invoices().values_list("key", flat=True)) == [fixed.number]
    still = am.ErrorTransaction.objects.get(document_id=refused.pk)
    assert still.status == "failed" and "C9999" in still.message
    assert still.history.filter(trigger="sync_all").count() == 1


def test_sync_all_with_revoked_credentials_skips_everything_and_says_why(web, connection):
    unlinked_load(connection, "Westgate Retail")
    export.loads_export(connection=connection)
    sandbox_user_set_active(active=False)
    response = web.post(reverse(SYNC_ALL), follow=True)
    shown = flashes(response)
    assert "Sync All: 0 sent, 0 resolved, 0 still failing, 1 skipped." in shown
    assert any("Sage Intacct could not be read, nothing was sent" in text for text in shown)


# --- Mark as Synced ---------------------------------------------------------------------------


def test_mark_as_synced_is_confirmed_recorded_and_never_reopened(web, connection, support):
    load = unlinked_load(connection, "Westgate Retail")
    export.loads_export(connection=connection)
    error = am.ErrorTransaction.objects.get()

    confirmation = page(run_action(web, "mark_as_synced", [error], confirm=False))
    assert service.MARK_AS_SYNCED_WARNING in confirmation and "cannot be undone" in confirmation
    error.refresh_from_db()
    assert error.status == "failed"

    response = run_action(web, "mark_as_synced", [error])
    assert (
        "Marked 1 transaction(s) as synced; they will not be exported again unless they change "
        "in the TMS." in flashes(response)
    )
    error.refresh_from_db()
    assert (error.status, error.resolution, error.resolved_by) == (
        "resolved",
        "marked_synced",
        support,
    )
    assert timezone.now() - error.resolved_at < dt.timedelta(minutes=1)
    record = am.SyncRecord.objects.get(document_type="load", document_id=load.pk)
    assert record.state == "synced"
    latest = error.history.first()
    assert (latest.outcome, latest.trigger, latest.user) == (
        "marked_synced",
        "mark_as_synced",
        support,
    )

    summary = export.loads_export(connection=connection)
    assert (summary.created, summary.failed) == (0, 0)
    assert not invoices().exists()
    assert not am.ErrorTransaction.objects.filter(status="failed").exists()
    html = page(web.get(detail_url(error)))
    assert "Resolved (marked as synced)" in page(web.get(reverse(LIST)))
    assert "Mark as Synced</button>" not in html and "sam" in html


def test_mark_as_synced_without_a_ledger_row_creates_one_synced(web, connection):
    load = unlinked_load(connection, "Westgate Retail")
    sandbox_user_set_active(active=False)
    connection.session_encrypted = ""  # no session kept: the run signs in first, refused
    export.loads_export(connection=connection)  # credentials refused: nothing in the ledger
    error = am.ErrorTransaction.objects.get()
    assert error.message == msg.CLIENT_NOT_INITIALIZED
    assert not am.SyncRecord.objects.exists()
    run_action(web, "mark_as_synced", [error])
    record = am.SyncRecord.objects.get()
    assert (record.document_id, record.state, record.sage_object) == (
        load.pk,
        "synced",
        "ARINVOICE",
    )


def test_mark_as_synced_links_the_document_sage_already_holds(web, connection):
    load = make_load(connection)
    export.loads_export(connection=connection)
    invoice = invoices().get()
    # Sage has the invoice, but the ledger lost track of it and the export failed.
    am.SyncRecord.objects.update(state="failed", record_no="")
    error = f.ErrorTransactionFactory(
        subsidiary=connection.subsidiary, document_id=load.pk, reference=load.number
    )
    run_action(web, "mark_as_synced", [error])
    record = am.SyncRecord.objects.get()
    assert (record.state, record.record_no) == ("synced", str(invoice.pk))


# --- grouped causes ---------------------------------------------------------------------------


def test_failures_with_one_cause_are_grouped_with_their_count_and_fix(web):
    subsidiary = f.SubsidiaryFactory(code="RF", name="Ridgeline Freight")
    connection = f.ConnectionFactory(subsidiary=subsidiary)
    westgate = f.CustomerFactory(name="Westgate Retail")
    for _ in range(3):
        load = f.LoadFactory(invoice_as_subsidiary=subsidiary, customer=westgate)
        f.ErrorTransactionFactory(
            subsidiary=subsidiary, document_id=load.pk, message=msg.CUSTOMER_NOT_LINKED
        )
    other = f.LoadFactory(invoice_as_subsidiary=subsidiary)  # another customer: not grouped
    f.ErrorTransactionFactory(subsidiary=subsidiary, document_id=other.pk)
    for _ in range(2):
        f.ErrorTransactionFactory(subsidiary=subsidiary, message=msg.CLIENT_NOT_INITIALIZED)
    for line in (11, 12):
        f.ErrorTransactionFactory(
            subsidiary=subsidiary, message=msg.MISSING_REVENUE_ACCOUNT.format(line=line)
        )

    groups = service.error_transactions_group(queryset=am.ErrorTransaction.objects.all())
    assert [(g.count, g.cause) for g in groups] == [
        (3, f"{msg.CUSTOMER_NOT_LINKED} (customer Westgate Retail)"),
        (2, RULES["revenue_account"].problem),
        (2, msg.CLIENT_NOT_INITIALIZED),
    ]
    html = page(web.get(reverse(LIST)))
    westgate_url = reverse("admin:accounting_customer_change", args=[westgate.pk])
    assert f'href="{westgate_url}#external_ids-group"' in html
    credentials = reverse("admin:intacct_wizard_credentials", args=[connection.pk])
    assert f'href="{credentials}"' in html
    assert html.index("Failures with one cause") < html.index('id="result_list"')


# --- Retry export on the documents' own pages -------------------------------------------------


def test_a_summary_invoice_is_retried_from_its_own_page(web, connection):
    customer = f.CustomerFactory(name="Westgate Retail")
    summary = f.SummaryInvoiceFactory(
        subsidiary=connection.subsidiary,
        customer=customer,
        status="issued",
        issued_at=timezone.now(),
    )
    make_load(
        connection, summary_invoice=summary, customer_name="Westgate Retail", external_id=None
    )
    export.documents_export(connection=connection, document_type="summary_invoice")
    error = am.ErrorTransaction.objects.get()
    assert error.message == msg.CUSTOMER_NOT_LINKED
    f.ExternalIdFactory(subsidiary=connection.subsidiary, customer=customer, external_id="C1001")

    response = web.post(
        reverse("admin:accounting_summaryinvoice_changelist"),
        {"action": "retry_export", "index": "0", "_selected_action": [summary.pk]},
        follow=True,
    )
    assert "Retry export: 1 exported, 0 failed (see Error Transactions), 0 skipped." in flashes(
        response
    )
    assert list(invoices().values_list("key", flat=True)) == [summary.number]
    error.refresh_from_db()
    assert error.status == "resolved"
    assert error.history.filter(trigger="retry_export").exists()


@pytest.mark.parametrize(
    ("model", "factory"),
    [
        ("summaryinvoice", f.SummaryInvoiceFactory),
        ("carriersettlement", f.CarrierSettlementFactory),
        ("driversettlement", f.DriverSettlementFactory),
    ],
)
def test_retry_export_of_a_type_not_exported_yet_says_so(web, model, factory, monkeypatch):
    document_type = {"summaryinvoice": "summary_invoice"}.get(
        model, model.replace("settlement", "_settlement")
    )
    monkeypatch.delitem(kinds.document_kinds(), document_type, raising=False)
    document = factory()
    response = web.post(
        reverse(f"admin:accounting_{model}_changelist"),
        {"action": "retry_export", "index": "0", "_selected_action": [document.pk]},
        follow=True,
    )
    shown = flashes(response)
    assert "Retry export: 0 exported, 0 failed (see Error Transactions), 1 skipped." in shown
    assert any("does not export" in text and "to Sage Intacct yet" in text for text in shown)


# --- who may use it, and how ------------------------------------------------------------------


@pytest.fixture
def staff_without_billing():
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_errortransaction"),
        Permission.objects.get(codename="view_summaryinvoice"),
    )
    client = Client()
    client.force_login(user)
    return client


def test_staff_without_the_billing_permission_get_403_everywhere(staff_without_billing):
    error = f.ErrorTransactionFactory()
    client = staff_without_billing
    assert client.get(reverse(LIST)).status_code == 403
    assert client.get(detail_url(error)).status_code == 403
    assert client.get(reverse(SYNC_ALL)).status_code == 403
    assert client.post(reverse(SYNC_ALL)).status_code == 403
    action = {"action": "mark_as_synced", "post": "yes", "_selected_action": [error.pk]}
    assert client.post(reverse(LIST), action).status_code == 403
    error.refresh_from_db()
    assert error.status == "failed"
    summaries = client.get(reverse("admin:accounting_summaryinvoice_changelist"))
    assert summaries.status_code == 200
    assert "retry_export" not in summaries.content.decode()


@pytest.mark.parametrize("role", roles.ROLES)
def test_admin_partner_admin_and_support_open_the_page(role):
    user = User.objects.create_user("u", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    assert client.get(reverse(LIST)).status_code == 200


def test_every_action_is_a_post_with_csrf(support):
    error = f.ErrorTransactionFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(support)
    html = page(client.get(detail_url(error)))
    assert html.count('method="post"') >= 3 and "csrfmiddlewaretoken" in html
    action = {"action": "mark_as_synced", "post": "yes", "_selected_action": [error.pk]}
    assert client.post(reverse(LIST), action).status_code == 403  # no CSRF token
    assert client.post(reverse(SYNC_ALL)).status_code == 403
    sync_all = page(client.get(reverse(SYNC_ALL)))
    assert 'method="post"' in sync_all and "csrfmiddlewaretoken" in sync_all
    error.refresh_from_db()
    assert error.status == "failed"


# --- the seeds' words ---------------------------------------------------------------------------


def test_entity_types_read_as_the_seeds_name_them(web):
    subsidiary = f.SubsidiaryFactory()
    summary = f.ErrorTransactionFactory(
        subsidiary=subsidiary,
        entity_type=export.DOCUMENT_TYPES["summary_invoice"].entity_type,
        document_type="summary_invoice",
    )
    settlement = f.ErrorTransactionFactory(
        subsidiary=subsidiary,
        entity_type=export.DOCUMENT_TYPES["driver_settlement"].entity_type,
        document_type="driver_settlement",
    )
    listing = page(web.get(reverse("admin:accounting_errortransaction_changelist")))
    assert "Accounting Invoice (same as a summary invoice)" in listing
    assert "Driver Statement" in listing
    assert "Summary Invoice" not in listing and "Driver Settlement" not in listing

    detail = page(web.get(detail_url(summary)))
    assert "Accounting Invoice (same as a summary invoice)" in detail
    assert "use Retry export on its summary invoice page" in detail
    # A read-only value carries no help text saying what kind of value it is.
    assert "Load, Trip, Paystub, E-check" not in detail
    assert "Invoice, Bill, ..." not in detail
    assert "Driver Statement" in page(web.get(detail_url(settlement)))
