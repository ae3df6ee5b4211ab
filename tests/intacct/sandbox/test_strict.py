"""The sandbox refuses what Sage refuses: fields an object does not have (in queries, reads,
creates and updates), required fields left out, STATE and STATUS in the form each function
takes, and deletes Sage's object reference does not list (README "The built-in Sage Intacct
sandbox")."""

import ast
import inspect
from decimal import Decimal

import pytest

from intacct.client import Q, errors
from intacct.client import functions as fn
from intacct.connections import services as connections
from intacct.sandbox import errors as sage
from intacct.sandbox import fields, services
from intacct.sandbox.catalog import OBJECTS
from intacct.sandbox.models import SandboxRecord

from ..conftest import connect
from .test_gateway import TODAY, bill, failure, invoice, party

NOT_QUERYABLE = (
    "The following fields cannot be queried: [ apbill: [PAYTOCONTACTNAME, RETURNTOCONTACTNAME] ]"
)


# --- fields an object does not have ---------------------------------------------------------


def test_a_query_of_fields_an_object_does_not_have_fails_as_sage_fails(client):
    # the fields and the answer of intacct-sdk-js issue 83
    error = failure(
        client, fn.query("APBILL", ["RECORDNO", "PAYTOCONTACTNAME", "RETURNTOCONTACTNAME"])
    )
    assert (error.errorno, error.errors[0].description2.split(" [Support ID")[0]) == (
        "XL03000006",
        NOT_QUERYABLE,
    )
    assert isinstance(error, errors.BusinessError)  # a function's failure, not a sign-in


@pytest.mark.parametrize(
    "function",
    [
        fn.query("APBILL", ["RECORDNO"], filter=Q.equalto("PAYTOCONTACTNAME", "x")),
        fn.query("APBILL", ["RECORDNO"], orderby=["PAYTOCONTACTNAME"]),
        fn.read_by_query("APBILL", "PAYTOCONTACTNAME = 'x'", fields=["RECORDNO"]),
        fn.read_by_query("APBILL", "", fields=["RECORDNO", "PAYTOCONTACTNAME"]),
        fn.read("APBILL", ["1"], fields=["PAYTOCONTACTNAME"]),
        fn.read_by_name("APTERM", ["Net 30"], fields=["PAYTOCONTACTNAME"]),
    ],
    ids=[
        "query filter",
        "query orderby",
        "readByQuery query",
        "readByQuery fields",
        "read",
        "readByName",
    ],
)
def test_every_read_refuses_a_field_the_object_does_not_have(client, function):
    error = failure(client, function)
    assert error.errorno == sage.NOT_QUERYABLE and "PAYTOCONTACTNAME" in str(error)


@pytest.mark.parametrize("object", sorted(OBJECTS))
def test_every_declared_field_of_every_object_can_be_queried(client, object):
    declared = sorted(fields.READ[object])
    for start in range(0, len(declared), 100):
        assert client.call(fn.query(object, declared[start : start + 100])).ok


def test_a_companys_custom_fields_can_be_queried(client):
    assert client.call(fn.query("APBILL", ["RECORDNO", "TRIP_NUMBER"])).ok
    assert client.call(fn.query("ARINVOICEITEM", ["RECORDNO", "CHARGE_CODE"])).ok


def test_each_field_list_names_its_source():
    """Every list of READ and CREATE is preceded by a comment citing where it comes from
    (DOCS, FYLE, conduit...)."""
    source = inspect.getsource(fields)
    lines = source.splitlines()
    unsourced = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and node.targets[0].id in ("READ", "CREATE"):
            for key in node.value.keys:
                if not lines[key.lineno - 2].strip().startswith("#"):
                    unsourced.append(key.value)
    assert unsourced == []
    assert set(fields.READ) == set(OBJECTS)


def test_a_create_with_a_field_the_object_does_not_have_is_refused(client):
    error = failure(client, bill(PAYTOCONTACTNAME="Someone"))
    assert "The following fields are not valid for APBILL: [PAYTOCONTACTNAME]" in str(error)
    line = {"ACCOUNTNO": "5000", "TRX_AMOUNT": Decimal("1"), "GLACCOUNTNO": "5000"}
    error = failure(client, bill(lines=[line]))
    assert "not valid for APBILLITEM: [GLACCOUNTNO]" in str(error)
    assert not SandboxRecord.objects.filter(object="APBILL").exists()


def test_an_update_with_a_field_the_object_does_not_have_is_refused(client):
    key = client.call(bill()).record_no
    error = failure(
        client,
        fn.update("APBILL", {"RECORDNO": key, "WHENDUE": TODAY, "VENDORNAME": "x"}, controlid="u"),
    )
    assert "not valid for APBILL: [VENDORNAME]" in str(error)


def test_a_contact_field_the_contact_does_not_have_is_refused(client):
    values = party("VENDOR", "V9100", "Spare") | {"DISPLAYCONTACT": {"PRINTAS": "S", "NICK": "s"}}
    assert "[NICK]" in str(failure(client, fn.create("VENDOR", values, controlid="v")))


def test_a_legacy_invoice_with_an_element_the_schema_does_not_allow_is_refused(client):
    function = invoice()
    function.body.append(fn.element("shoesize", "11"))
    error = failure(client, function)
    assert error.errorno == sage.PARSE and "<shoesize> is not allowed in <create_invoice>" in str(
        error
    )


# --- required fields -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("object", "values", "says"),
    [
        ("CUSTOMER", {"CUSTOMERID": "C9", "NAME": "N"}, "DISPLAYCONTACT is required in CUSTOMER"),
        (
            "VENDOR",
            {"VENDORID": "V9", "NAME": "N", "DISPLAYCONTACT": {"CONTACTNAME": "N"}},
            "PRINTAS is required in VENDOR",
        ),
        ("VENDOR", {"NAME": "N", "DISPLAYCONTACT": {"PRINTAS": "N"}}, "VENDORID is required"),
        (
            "APPYMT",
            {
                "PAYMENTMETHOD": "Cash",
                "VENDORID": "V2001",
                "APPYMTDETAILS": {"APPYMTDETAIL": {"RECORDKEY": "1", "TRX_PAYMENTAMOUNT": "1"}},
            },
            "PAYMENTDATE is required in APPYMT",
        ),
        (
            "ARPYMT",
            {
                "PAYMENTMETHOD": "Cash",
                "CUSTOMERID": "C1001",
                "RECEIPTDATE": "11/20/2026",
                "ARPYMTDETAILS": {"ARPYMTDETAIL": {"TRX_PAYMENTAMOUNT": "1"}},
            },
            "RECORDKEY is required in ARPYMTDETAIL",
        ),
    ],
)
def test_a_create_without_a_required_field_is_refused(client, object, values, says):
    assert says in str(failure(client, fn.create(object, values, controlid="c")))


def test_a_bill_line_needs_an_amount_and_an_account(client):
    error = failure(client, bill(lines=[{"ACCOUNTNO": "5000"}]))
    assert "TRX_AMOUNT or TOTALTRXAMOUNT is required in APBILLITEM" in str(error)
    error = failure(client, bill(lines=[{"TRX_AMOUNT": Decimal("1")}]))
    assert "ACCOUNTNO or ACCOUNTLABEL is required in APBILLITEM" in str(error)


def test_a_bill_update_needs_its_due_date(client):
    key = client.call(bill()).record_no
    error = failure(client, fn.update("APBILL", {"RECORDNO": key}, controlid="u"))
    assert "WHENDUE is required in APBILL" in str(error)


# --- STATE and STATUS as each function takes them ----------------------------------------------


def test_read_by_query_filters_state_on_codes_and_query_on_display_values(client):
    posted = client.call(bill()).record_no
    draft = client.call(bill("bill-2", record_id="TR-2", action="Draft")).record_no

    def by_query(value):
        return [
            r["RECORDNO"]
            for r in client.iter_query("APBILL", ["RECORDNO"], filter=Q.equalto("STATE", value))
        ]

    def by_read_by_query(value):
        return [
            r["RECORDNO"]
            for r in client.iter_read_by_query("APBILL", f"STATE = '{value}'", fields=["RECORDNO"])
        ]

    assert (by_query("Posted"), by_query("Draft"), by_query("A")) == ([posted], [draft], [])
    assert (by_read_by_query("A"), by_read_by_query("D"), by_read_by_query("Posted")) == (
        [posted],
        [draft],
        [],
    )
    (row,) = client.read("APBILL", [posted], fields=["STATE", "RAWSTATE"])
    assert (row["STATE"], row["RAWSTATE"]) == ("Posted", "A")


def test_a_paid_bill_is_still_state_a_in_read_by_query(client):
    key = client.call(bill()).record_no
    services.sandbox_payment_record(document=SandboxRecord.objects.get(pk=key))
    (row,) = client.iter_read_by_query("APBILL", "STATE = 'A'", fields=["RECORDNO", "STATE"])
    assert (row["RECORDNO"], row["STATE"]) == (key, "Paid")


def test_read_by_query_filters_status_as_t_or_f(client):
    active = client.iter_read_by_query("APTERM", "STATUS = 'T'", fields=["NAME"])
    assert sorted(r["NAME"] for r in active) == ["Net 15", "Net 30"]
    assert list(client.iter_read_by_query("APTERM", "STATUS = 'active'", fields=["NAME"])) == []


# --- deletes where Sage allows them ------------------------------------------------------------


def test_the_generic_delete_of_an_ar_invoice_is_allowed_as_sage_lists_it(client):
    key = client.call(invoice(action="Draft")).record_no
    assert client.call(fn.delete("ARINVOICE", [key], controlid="d1")).ok
    assert not SandboxRecord.objects.filter(pk=key).exists()

    paid = client.call(invoice("inv-2", invoice_no="L-2")).record_no
    services.sandbox_payment_record(document=SandboxRecord.objects.get(pk=paid))
    error = failure(client, fn.delete("ARINVOICE", [paid], controlid="d2"))
    assert "only Draft or unpaid Posted invoices can be deleted" in str(error)


def test_deleting_a_payment_gives_its_invoice_its_due_back(client):
    key = client.call(invoice()).record_no
    payment = services.sandbox_payment_record(document=SandboxRecord.objects.get(pk=key))
    assert client.call(fn.delete("ARPYMT", [payment.pk], controlid="d")).ok
    (row,) = client.read("ARINVOICE", [key], fields=["STATE", "TOTALDUE"])
    assert (row["STATE"], row["TOTALDUE"]) == ("Posted", "1150.00")
    assert not SandboxRecord.objects.filter(object__in=["ARPYMT", "ARPYMTDETAIL"]).exists()


def test_a_delete_sage_does_not_list_is_refused(client):
    (account,) = client.iter_query("GLACCOUNT", ["RECORDNO"], filter=Q.equalto("ACCOUNTNO", "4000"))
    error = failure(client, fn.delete("GLACCOUNT", [account["RECORDNO"]], controlid="d"))
    assert "delete is not supported for GLACCOUNT" in str(error)


def test_the_demo_terms_carry_their_due_rules(client):
    rows = client.iter_query("APTERM", ["NAME", "DUEDATE", "DUEFROM"])
    assert {r["NAME"]: (r["DUEDATE"], r["DUEFROM"]) for r in rows} == {
        "Net 15": ("15", "from invoice/bill date"),
        "Net 30": ("30", "from invoice/bill date"),
    }


# --- product defects the strict sandbox showed ---------------------------------------------------


def test_the_wizard_reads_every_dimension_list_sage_has(sandbox):
    """EMPLOYEE has no NAME (its name is its contact's): the wizard's query of it failed in
    Sage, and the failure left the employee list empty."""
    connection = connect("RF", "Ridgeline Freight")
    choices = connections.connection_refresh_choices(connection=connection)
    assert choices["employee"] == [{"id": "EMP-01", "name": "Dispatch Lead", "active": True}]
    assert all(choices[key] for key in connections.CHOICE_QUERIES)
