"""Every AP bill carries WHENDUE, which Sage requires unless the bill is a Draft (DOCS
accounts-payable-bills.md, create APBILL): no TMS document has a due date, so it comes from
the bill's term as Sage defines it (DUEDATE, DUEFROM)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from intacct import export
from intacct import models as m
from intacct.client import errors, terms
from intacct.client import functions as fn
from intacct.sandbox.models import SandboxRecord

from .sandbox_routing import make_client
from .test_export_trips import bills, make_trip

WHENDUE = re.compile(rb"<WHENDUE>([^<]*)</WHENDUE>")
TERMS_READ = re.compile(rb"<query><object>APTERM</object>")


@pytest.mark.parametrize(
    ("due_days", "due_from", "dated", "due"),
    [
        (30, "from invoice/bill date", dt.date(2026, 11, 20), dt.date(2026, 12, 20)),
        (0, "from invoice/bill date", dt.date(2026, 11, 20), dt.date(2026, 11, 20)),
        (15, "of the month of invoice/bill date", dt.date(2026, 11, 20), dt.date(2026, 11, 15)),
        (10, "of next month from invoice/bill date", dt.date(2026, 11, 20), dt.date(2026, 12, 10)),
        (31, "of next month from invoice/bill date", dt.date(2026, 1, 20), dt.date(2026, 2, 28)),
        (5, "of 2nd month from invoice/bill date", dt.date(2026, 12, 1), dt.date(2027, 2, 5)),
        (1, "of 6th month from invoice/bill date", dt.date(2026, 8, 31), dt.date(2027, 2, 1)),
    ],
)
def test_a_term_sets_the_due_date_as_its_rule_says(due_days, due_from, dated, due):
    assert terms.due_date(dated, due_days=due_days, due_from=due_from) == due


def test_a_due_rule_sage_does_not_define_is_refused():
    with pytest.raises(ValueError, match="not a due rule"):
        terms.due_date(dt.date(2026, 1, 1), due_days=1, due_from="whenever")


def test_a_trip_bill_is_due_as_its_term_says(connection, sandbox_requests):
    trip = make_trip(connection)
    sandbox_requests.clear()
    export.trips_export(connection=connection)

    billed_on = timezone.localtime(trip.carrier_invoice_uploaded_at).date()
    due = billed_on + dt.timedelta(days=30)  # the default term, Net 30
    sent = [value for body in sandbox_requests for value in WHENDUE.findall(body)]
    assert sent == [due.strftime("%m/%d/%Y").encode()]
    assert bills().get().data["WHENDUE"] == due.strftime("%m/%d/%Y")


def test_a_term_due_on_a_day_of_next_month_is_followed(connection):
    SandboxRecord.objects.filter(object="APTERM", key="Net 15").update(
        data={
            "NAME": "Net 15",
            "STATUS": "active",
            "DUEDATE": "10",
            "DUEFROM": "of next month from invoice/bill date",
        }
    )
    trip = make_trip(connection)
    m.CustomPaymentTerm.objects.create(
        connection=connection, carrier=trip.carrier, term_name="Net 15"
    )

    export.trips_export(connection=connection)

    billed_on = timezone.localtime(trip.carrier_invoice_uploaded_at).date()
    month = billed_on.replace(day=1) + dt.timedelta(days=32)
    assert bills().get().data["WHENDUE"] == month.replace(day=10).strftime("%m/%d/%Y")


def test_the_terms_are_read_once_per_run_not_per_bill(connection, sandbox_requests):
    for _ in range(3):
        make_trip(connection)
    sandbox_requests.clear()
    export.trips_export(connection=connection, batch_size=1)
    assert sum(1 for body in sandbox_requests if TERMS_READ.search(body)) == 1
    assert len({d["WHENDUE"] for d in bills().values_list("data", flat=True)}) == 1


def test_a_term_sage_refuses_is_retried_under_net_30_with_its_due_date(connection):
    m.AdvancedSettings.objects.filter(connection=connection).update(default_payment_term="Net 45")
    trip = make_trip(connection)
    assert export.trips_export(connection=connection).created == 1
    bill = bills().get().data
    billed_on = timezone.localtime(trip.carrier_invoice_uploaded_at).date()
    assert (bill["TERMNAME"], bill["WHENDUE"]) == (
        "Net 30",
        (billed_on + dt.timedelta(days=30)).strftime("%m/%d/%Y"),
    )


def bill_without_due_date(action=None) -> fn.Function:
    values = {
        "WHENCREATED": dt.date(2026, 11, 20),
        "VENDORID": "V2001",
        "TERMNAME": "Net 15",
        "ACTION": action,
        "TRIP_NUMBER": "TR-1",
        "APBILLITEMS": {"APBILLITEM": [{"ACCOUNTNO": "5000", "TRX_AMOUNT": Decimal("10")}]},
    }
    return fn.create(
        "APBILL", {k: v for k, v in values.items() if v}, controlid=fn.unique_controlid("b")
    )


def test_the_sandbox_refuses_a_bill_without_a_due_date_unless_it_is_a_draft(sandbox):
    client = make_client(location_id="E100")
    with pytest.raises(errors.BusinessError, match="WHENDUE"):
        client.call(bill_without_due_date())
    assert client.call(bill_without_due_date("Draft")).ok
