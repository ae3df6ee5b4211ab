"""The README's walk through the demo, in a real browser against the live server.

The live server is also the Sage Intacct sandbox the app talks to, as under `bin/run`: the
app's requests to Sage go over HTTP to live_server.url + /intacct-sandbox/xmlgw.phtml.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from accounting import demo_data
from accounting import models as am
from accounting.services import demo_seed
from intacct import models as m
from intacct.sandbox.gateway import SANDBOX_PATH
from intacct.sandbox.services import sandbox_faults_clear, sandbox_seed

from .conftest import loud_lines

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "walkthrough-pass"
SUBSIDIARY = "Ridgeline Freight"
# A customer Sage has no record of: its invoice fails until Auto Create Customer is on.
UNKNOWN_CUSTOMER = "Valley Fresh Farms"
# Sage's required custom fields, as the Advanced step offers them, and the TMS field for each.
CUSTOM_FIELDS = {
    "LOAD_NUMBER": ("ar_invoice:LOAD_NUMBER", "load_number"),
    "TRIP_NUMBER": ("ap_bill:TRIP_NUMBER", "trip_number"),
}


@pytest.fixture
def demo(live_server, settings):
    """The demo company on both sides, the app pointed at the live server's own sandbox."""
    settings.INTACCT_SANDBOX = True
    settings.INTACCT_ENDPOINT_URL = live_server.url + SANDBOX_PATH
    demo_seed(loads=40)
    sandbox_seed()
    sandbox_faults_clear()
    return live_server


@pytest.fixture
def loads(demo):
    """Two Ridgeline Freight loads ready to invoice: one for a customer Sage knows, one moved
    to a customer it does not."""
    ready = am.Load.objects.filter(
        invoice_as_subsidiary__code="RF",
        tender_as_subsidiary__code="RF",
        billing_status__in=[am.BillingStatus.RELEASED, am.BillingStatus.QUEUED],
        summary_invoice__isnull=True,
        customer__external_ids__subsidiary__code="RF",
    ).order_by("pk")
    good, bad = ready[0], ready[1]
    bad.customer = am.Customer.objects.get(name=UNKNOWN_CUSTOMER)
    bad.save()
    return good, bad


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()


def messages(page: Page, level: str):
    return page.locator(f"ul.messagelist li.{level}")


def save_and_continue(page: Page) -> None:
    page.get_by_role("button", name="Save and continue").click()


def connect_through_the_wizard(page: Page, base: str, screenshot) -> None:
    """Subsidiary → destination → credentials → AP → AR → Advanced → Finish, fixing each
    reconciliation problem from its link until the connection is Active."""
    page.goto(base + "/admin/intacct/connection/")
    page.get_by_role("link", name="Connect a subsidiary").click()
    page.select_option("#id_subsidiary", label=SUBSIDIARY)
    save_and_continue(page)
    page.check("input[name=posting_destination][value=matching_entity]")
    save_and_continue(page)
    page.fill("#id_company_id", demo_data.SAGE_COMPANY_ID)
    page.fill("#id_user_id", demo_data.SAGE_USER_ID)
    page.fill("#id_password", demo_data.SAGE_USER_PASSWORD)
    page.get_by_role("button", name="Connect").click()
    expect(messages(page, "success")).to_contain_text(
        f"Connected to Sage company {demo_data.SAGE_COMPANY_ID} ({SUBSIDIARY})"
    )
    expect(page.locator("h1")).to_have_text("Connect Sage Intacct: AP Settings")
    page.select_option("#id_account__", "5000")
    save_and_continue(page)
    expect(page.locator("h1")).to_have_text("Connect Sage Intacct: AR Settings")
    page.select_option("#id_account__", "4000")
    save_and_continue(page)
    expect(page.locator("h1")).to_have_text("Connect Sage Intacct: Advanced")
    page.select_option("#id_default_payment_term", "Net 30")
    save_and_continue(page)
    expect(page.locator("h1")).to_have_text("Connect Sage Intacct: Finish")
    page.get_by_role("button", name="Save").click()

    problems = page.locator("ul.reconciliation li")
    expect(problems.first).to_contain_text("is required but not mapped")
    screenshot(page, "wizard")
    while problems.count():
        problem = problems.first.inner_text()
        field = re.search(r"\(([A-Z_]+)\) on", problem).group(1)
        problems.first.get_by_role("link", name="Fix it in Advanced").click()
        expect(page).to_have_url(re.compile(r"/wizard/advanced/#custom_fields$"))
        row = page.locator("#custom_fields tbody tr").last
        option, source = CUSTOM_FIELDS[field]
        row.locator("select[name$=-sage_field]").select_option(option)
        row.locator("select[name$=-source]").select_option(source)
        save_and_continue(page)
        page.get_by_role("button", name="Save").click()
    expect(messages(page, "success")).to_contain_text(
        f"{SUBSIDIARY} is connected to Sage Intacct and Active."
    )


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200, f"{url}: {response.status}"


def single_line(locator) -> bool:
    """Whether an inline element's text sits on one line (a wrapped one has several boxes)."""
    return locator.evaluate("e => e.getClientRects().length") == 1


def background(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).backgroundColor")


def test_the_demo_from_connection_to_a_completed_load(
    demo, loads, page: Page, screenshot, widths, console
):
    base = demo.url
    good, bad = loads
    get_user_model().objects.create_superuser("admin", "admin@example.com", PASSWORD)
    log_in(page, base, "admin")

    # Connect Ridgeline Freight to the sandbox: the wizard reaches Active.
    connect_through_the_wizard(page, base, screenshot)
    connection = m.Connection.objects.get(subsidiary__code="RF")
    assert connection.status == m.Connection.Status.ACTIVE
    expect(page.locator("#result_list")).to_contain_text("Active")

    # Set a mapping: detention charges go to their own revenue account (AR Settings tab).
    page.get_by_role("link", name=SUBSIDIARY).click()
    page.get_by_role("link", name="AR Settings").click()
    row = page.locator("#items tbody tr").last
    row.locator("select[name$=-category]").select_option("accessorials")
    row.locator("input[name$=-item_code]").fill("DETENTION")
    row.locator("select[name$=-gl_account_no]").select_option("4025")
    save_and_continue(page)
    expect(messages(page, "success")).to_contain_text("Saved; the configuration matches Sage.")
    assert connection.account_mappings.filter(
        side="ar", category="accessorials", item_code="DETENTION", gl_account_no="4025"
    ).exists()

    # The connection page: tabs like the admin's, its controls admin buttons; every tab fits.
    page.goto(f"{base}/admin/intacct/connection/{connection.pk}/change/")
    expect(page.locator("#site-name")).to_have_text("Ledgerline")
    tabs = page.locator("nav.connection-tabs")
    expect(tabs.locator(".current")).to_have_text("Settings")
    assert tabs.locator("li").first.evaluate("e => getComputedStyle(e).listStyleType") == "none"
    save = background(page.locator("input[name=_continue]"))
    for name in ("Pause syncing (Primary Sync off)", "Test connection", "Export now"):
        assert background(page.get_by_role("button", name=name)) == save, name
    for tab in ("AP Settings", "Advanced", "Dimensions & Custom Fields", "Disconnect"):
        tabs.get_by_role("link", name=tab).click()
        expect(page.locator("#content h1")).to_be_visible()
    # Refresh from Sage says when the choices were read, in one sentence.
    page.goto(f"{base}/admin/intacct/connection/{connection.pk}/wizard/advanced/")
    expect(page.locator(".choices-read")).to_contain_text("Choices last read")
    assert ".." not in page.locator(".choices-read").inner_text()

    # Invoice two loads (batch invoicing), then export now from the connection page.
    page.goto(
        f"{base}/admin/accounting/load/?invoice_as_subsidiary__id__exact={connection.subsidiary_id}"
    )
    for load in (good, bad):
        page.check(f"input[name=_selected_action][value='{load.pk}']")
    page.select_option("select[name=action]", "invoice_selected")
    page.get_by_role("button", name="Go").click()
    expect(messages(page, "success")).to_contain_text("2 load(s) invoiced")
    # A load number stays on one line in the list.
    assert single_line(page.locator("#result_list th.field-number a").first)
    page.goto(f"{base}/admin/intacct/connection/{connection.pk}/change/")
    page.get_by_role("button", name="Export now").click()
    expect(messages(page, "warning")).to_contain_text("1 created")
    expect(messages(page, "warning")).to_contain_text("1 failed")

    # The failure is on the Error Transactions page, with Sage's reason.
    messages(page, "warning").get_by_role("link", name="see Error Transactions").click()
    row = page.locator("#result_list tbody tr", has_text=bad.number)
    expect(row).to_contain_text("Invoice export requires a linked Sage customer ID")
    expect(row).to_contain_text("Failed")
    screenshot(page, "error-transactions")
    row.locator("th a").first.click()  # the row's page: the fix, no help text under values
    expect(page.locator(".error-detail")).to_contain_text("How to fix")
    expect(page.locator("#content")).not_to_contain_text("Load, Trip, Paystub, E-check")
    page.go_back()

    # Fix its cause (AR Settings: Auto Create Customer), then Retry Sync: Resolved.
    page.goto(f"{base}/admin/intacct/connection/{connection.pk}/change/")
    page.get_by_role("link", name="AR Settings").click()
    page.check("#id_auto_create_customer")
    save_and_continue(page)
    expect(messages(page, "success")).to_contain_text("Saved; the configuration matches Sage.")
    page.goto(f"{base}/admin/accounting/errortransaction/")
    page.locator("#result_list tbody tr", has_text=bad.number).locator(
        "input[name=_selected_action]"
    ).check()
    page.select_option("select[name=action]", "retry_sync")
    page.get_by_role("button", name="Go").click()
    page.get_by_role("button", name="Yes, retry sync").click()
    expect(messages(page, "success")).to_contain_text("Retry Sync")
    row = page.locator("#result_list tbody tr", has_text=bad.number)
    expect(row).to_contain_text("Resolved")

    # "In Sage": record a payment of everything due on the good load's invoice.
    page.goto(f"{base}/admin/intacct_sandbox/sandboxinvoice/?q={good.number}")
    page.locator("#result_list tbody tr", has_text=good.number).get_by_role(
        "link", name="Record a payment…"
    ).click()
    methods = page.locator("#id_method option").all_inner_texts()
    assert "ACH" in methods and "EFT" in methods, methods
    page.fill("#id_check_number", "10452")
    page.fill("#id_memo", "Walkthrough payment")
    page.get_by_role("button", name="Record payment").click()
    expect(messages(page, "success")).to_contain_text("Payment of")
    paid = page.locator("#result_list tbody tr", has_text=good.number)
    expect(paid).to_contain_text("Paid")
    expect(paid).not_to_contain_text("Record a payment…")  # nothing is due on it any more
    screenshot(page, "sandbox-console")
    for console_list in ("sandboxbill", "sandboxpayment"):
        visit(page, f"{base}/admin/intacct_sandbox/{console_list}/")

    # Import payments now from the connection page: the load is Completed.
    page.goto(f"{base}/admin/intacct/connection/{connection.pk}/change/")
    page.get_by_role("button", name="Import payments now").click()
    expect(messages(page, "success")).to_contain_text("1 applied, 1 document(s) closed")
    screenshot(page, "connection")
    page.goto(f"{base}/admin/accounting/load/{good.pk}/change/")
    expect(page.locator(".field-billing_status")).to_contain_text("Completed")
    good.refresh_from_db()
    assert good.billing_status == am.BillingStatus.COMPLETED
    payment = good.payments.get()
    assert (payment.check_number, payment.source) == ("10452", am.Payment.Source.IMPORTED)
    # The imported payment is Sage's record: read-only here, linked to the Sage payment.
    imported = page.locator(".inline-group", has_text="Payments imported from Sage Intacct")
    expect(imported).to_contain_text("10452")
    expect(imported).to_contain_text("Walkthrough payment")
    expect(imported.locator("input:not([type=hidden]), select, textarea")).to_have_count(0)
    screenshot(page, "load-payments")
    imported.get_by_role("link", name=f"Sage payment {payment.sage_payment_id}").click()
    expect(page.locator("#content")).to_contain_text("10452")

    # Every page of the walk fitted a 1366 px window, and the console stayed quiet.
    assert len(widths.seen) > 30
    if widths.too_wide():
        pytest.fail("Pages wider than the window:\n" + "\n".join(widths.too_wide()))
    if loud_lines(console.getvalue()):
        pytest.fail("The console was not quiet:\n" + console.getvalue())


def test_a_user_without_permission_gets_403(live_server, page: Page, widths, console, screenshot):
    get_user_model().objects.create_user("dispatcher", password=PASSWORD, is_staff=True)
    log_in(page, live_server.url, "dispatcher")
    expect(page.locator("#user-tools")).to_contain_text("DISPATCHER", ignore_case=True)
    for path in (
        "/admin/intacct/connection/",
        "/admin/intacct/connection/wizard/",
        "/admin/accounting/errortransaction/",
    ):
        response = page.goto(live_server.url + path)
        assert response.status == 403, path
        expect(page.locator("#site-name")).to_have_text("Ledgerline")
        expect(page.locator(".needed")).to_contain_text("permission")
        expect(page.locator(".who-can-grant")).to_contain_text("Admin, Partner Admin, Support")
    expect(page.locator(".needed")).to_contain_text("“billing” permission")
    screenshot(page, "forbidden")
    # Each expected 403 is one line on the console: no warning, no traceback.
    output = console.getvalue()
    assert output.count("Forbidden (Permission denied)") == 3, output
    assert not loud_lines(output), output
    if widths.too_wide():
        pytest.fail("Pages wider than the window:\n" + "\n".join(widths.too_wide()))
