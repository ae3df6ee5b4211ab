"""The sandbox answers as Sage does: driven by the real client, and by raw XML where the client
would never send such a request."""

import datetime as dt
from decimal import Decimal

import pytest

from accounting import demo_data
from intacct.client import InvoiceLine, Q, errors
from intacct.client import functions as fn
from intacct.sandbox import errors as sage
from intacct.sandbox import services
from intacct.sandbox.gateway import SANDBOX_PATH, handle
from intacct.sandbox.models import SandboxRecord
from tests.intacct.sandbox_routing import make_client

TODAY = dt.date(2026, 11, 20)


def invoice(
    controlid="inv-L-1",
    *,
    customer_id="C1001",
    term="Net 30",
    lines=None,
    custom=None,
    action=None,
    invoice_no="L-1",
):
    return fn.create_invoice(
        controlid=controlid,
        customer_id=customer_id,
        date_created=TODAY,
        term_name=term,
        action=action,
        invoice_no=invoice_no,
        po_number="PO-9",
        custom_fields={"LOAD_NUMBER": invoice_no} if custom is None else custom,
        lines=lines
        or [
            InvoiceLine(Decimal("1000.00"), "4000", "Linehaul", {"locationid": "DAL"}),
            InvoiceLine(
                Decimal("150.00"),
                "4020",
                "Detention",
                {"classid": "DRYVAN"},
                {"CHARGE_CODE": "DETENTION"},
            ),
        ],
    )


def bill(
    controlid="bill-TR-1",
    *,
    vendor_id="V2001",
    record_id="TR-1",
    term="Net 15",
    lines=None,
    action=None,
    **extra,
):
    values = {
        "WHENCREATED": TODAY,
        "VENDORID": vendor_id,
        "RECORDID": record_id,
        "DOCNUMBER": "CINV-1",
        "TERMNAME": term,
        "WHENDUE": TODAY + dt.timedelta(days=15),
        "TRIP_NUMBER": record_id,
        "ACTION": action,
        **extra,
        "APBILLITEMS": {
            "APBILLITEM": lines
            or [
                {
                    "ACCOUNTNO": "5000",
                    "TRX_AMOUNT": Decimal("800.00"),
                    "ENTRYDESCRIPTION": "Carrier linehaul",
                    "LOCATIONID": "DAL",
                }
            ]
        },
    }
    return fn.create(
        "APBILL", {k: v for k, v in values.items() if v is not None}, controlid=controlid
    )


def failure(client, function) -> errors.IntacctError:
    (result,) = client.execute([function])
    assert not result.ok
    return result.error()


# --- sign-in and sessions ------------------------------------------------------------------


def test_a_session_opens_at_the_entity_and_is_reused(client):
    session = client.open_session()
    assert session.location_id == "E100"
    assert session.endpoint_url.endswith(SANDBOX_PATH)
    client.call(fn.lookup("CUSTOMER"))
    assert client.session == session


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"password": "wrong"}, errors.SignInError),
        ({"user_id": "nobody"}, errors.SignInError),
        ({"sender_id": services.UNAUTHORIZED_SENDER_ID}, errors.SenderNotAuthorizedError),
        ({"company_id": services.NOT_SUBSCRIBED_COMPANY_ID}, errors.WebServicesNotSubscribedError),
    ],
)
def test_sign_in_failures_are_sage_shaped(sandbox, kwargs, error):
    with pytest.raises(error) as raised:
        make_client(**kwargs).open_session()
    assert raised.value.errorno == sage.SIGN_IN


def test_an_unknown_entity_is_refused(sandbox):
    with pytest.raises(errors.BusinessError, match="Entity 'E404' does not exist"):
        make_client(location_id="E404").open_session()


def test_expired_sessions_make_the_client_sign_in_again(client):
    first = client.open_session()
    services.sandbox_sessions_expire()
    client.call(fn.lookup("CUSTOMER"))
    assert client.session.session_id != first.session_id


def test_a_revoked_user_can_no_longer_sign_in(client):
    client.open_session()
    services.sandbox_user_set_active(active=False)
    with pytest.raises(errors.AuthenticationError):
        client.call(fn.lookup("CUSTOMER"))


def test_a_user_without_accounts_payable_cannot_create_bills(sandbox):
    client = make_client(user_id=services.NO_AP_USER_ID)
    error = failure(client, bill())
    assert isinstance(error, errors.PermissionDeniedError)
    assert "You do not have permission for API operation CREATE on objects of type APBILL" in str(
        error
    )
    assert client.call(fn.lookup("ARINVOICE")).ok  # AR is still allowed


# --- AR invoices -----------------------------------------------------------------------------


def test_an_invoice_is_created_and_reads_back_with_lines_and_custom_fields(client):
    key = client.call(invoice()).key
    (record,) = client.read("ARINVOICE", [key])
    assert (record["RECORDID"], record["STATE"], record["CUSTOMERID"], record["TERMNAME"]) == (
        "L-1",
        "Posted",
        "C1001",
        "Net 30",
    )
    assert (record["TOTALENTERED"], record["TOTALDUE"], record["WHENDUE"]) == (
        "1150.00",
        "1150.00",
        "12/20/2026",
    )
    assert record["LOAD_NUMBER"] == "L-1" and record["MEGAENTITYID"] == "E100"
    lines = record["ARINVOICEITEMS"]["ITEM"]
    assert [(line["ACCOUNTNO"], line["AMOUNT"]) for line in lines] == [
        ("4000", "1000.00"),
        ("4020", "150.00"),
    ]
    assert lines[1]["CHARGE_CODE"] == "DETENTION" and lines[1]["CLASSID"] == "DRYVAN"
    items = list(
        client.iter_query(
            "ARINVOICEITEM", ["RECORDKEY", "ACCOUNTNO"], filter=Q.equalto("RECORDKEY", key)
        )
    )
    assert len(items) == 2


@pytest.mark.parametrize(
    ("change", "description", "text"),
    [
        (
            {"customer_id": "C9999"},
            "Invalid Customer",
            "Customer 'C9999' does not exist or is inactive",
        ),
        ({"term": "Net 45"}, sage.TERM_INVALID, "The term name 'Net 45' is invalid"),
        (
            {"lines": [InvoiceLine(Decimal("5"), "4090")]},
            "Invalid GL account",
            "GL account '4090' is inactive",
        ),
        (
            {"lines": [InvoiceLine(Decimal("5"), "4999")]},
            "Invalid GL account",
            "GL account '4999' does not exist",
        ),
        (
            {"lines": [InvoiceLine(Decimal("5"), "4000", dimensions={"departmentid": "NOPE"})]},
            "Invalid Department",
            "Invalid Department 'NOPE' specified",
        ),
        ({"custom": {}}, "Required field missing", "Load Number (LOAD_NUMBER) is required"),
        (
            {"custom": {"LOAD_NUMBER": "L-1", "LOAD_NOTES": "x" * 201}},
            "Value too long",
            "is 201 characters; the maximum is 200",
        ),
    ],
)
def test_invoice_validation_errors_carry_sage_text_and_a_support_id(
    client, change, description, text
):
    error = failure(client, invoice(**change))
    assert isinstance(error, errors.BusinessError)
    assert error.errors[0].description == description
    assert text in error.errors[0].description2
    assert error.support_id
    assert not SandboxRecord.objects.filter(object="ARINVOICE").exists()


def test_a_draft_invoice_is_updated_in_place(client):
    key = client.call(invoice(action="Draft")).key
    client.call(
        fn.update_invoice(
            controlid="inv-L-1-v2",
            key=key,
            term_name="Net 15",
            action="Submit",
            custom_fields={"SHIPPER": "Acme DC"},
            update_lines={1: InvoiceLine(Decimal("1200.00"), "4000", "Linehaul (corrected)")},
            new_lines=[InvoiceLine(Decimal("25.00"), "4010", "Fuel")],
        )
    )
    (record,) = client.read("ARINVOICE", [key])
    assert (record["STATE"], record["TERMNAME"], record["TOTALENTERED"], record["SHIPPER"]) == (
        "Posted",
        "Net 15",
        "1375.00",
        "Acme DC",
    )


def test_a_posted_unpaid_invoice_reverses_and_a_paid_one_does_not(client):
    key = client.call(invoice()).key
    reversal = client.call(
        fn.reverse_invoice(controlid="rev-1", key=key, date_reversed=dt.date(2026, 11, 23))
    ).key
    original, reversed_ = client.read("ARINVOICE", [key, reversal])
    assert (original["STATE"], reversed_["STATE"], reversed_["TOTALENTERED"]) == (
        "Reversed",
        "Reversal",
        "-1150.00",
    )

    paid_key = client.call(invoice("inv-L-2", invoice_no="L-2")).key
    services.sandbox_payment_record(
        document=SandboxRecord.objects.get(pk=paid_key), amount=Decimal("100")
    )
    error = failure(
        client,
        fn.reverse_invoice(controlid="rev-2", key=paid_key, date_reversed=dt.date(2026, 11, 23)),
    )
    assert error.errors[0].description2.startswith(sage.PAYMENTS_APPLIED)
    error = failure(
        client, fn.update_invoice(controlid="upd-2", key=paid_key, description="changed")
    )
    assert "Partially Paid" in str(error)


def test_draft_invoices_can_be_deleted_but_not_reversed(client):
    key = client.call(invoice(action="Draft")).key
    assert "only Posted" in str(
        failure(client, fn.reverse_invoice(controlid="r", key=key, date_reversed=TODAY))
    )
    client.call(fn.delete_invoice(controlid="d", key=key))
    assert client.read("ARINVOICE", [key]) == []


# --- AP bills --------------------------------------------------------------------------------


def test_a_bill_is_created_updated_while_posted_and_refused_once_selected(client):
    (created,) = client.execute([bill()])
    key = created.record_no
    (record,) = client.read("APBILL", [key])
    assert (record["RECORDID"], record["DOCNUMBER"], record["STATE"], record["TOTALDUE"]) == (
        "TR-1",
        "CINV-1",
        "Posted",
        "800.00",
    )

    client.call(
        fn.update(
            "APBILL",
            {
                "RECORDNO": key,
                "DESCRIPTION": "Trip TR-1",
                "WHENDUE": TODAY,
                "APBILLITEMS": {
                    "APBILLITEM": [{"ACCOUNTNO": "5000", "TRX_AMOUNT": Decimal("900")}]
                },
            },
            controlid="bill-TR-1-v2",
        )
    )
    assert client.read("APBILL", [key])[0]["TOTALENTERED"] == "900.00"

    services.sandbox_bill_select(bill=SandboxRecord.objects.get(pk=key))
    error = failure(
        client,
        fn.update(
            "APBILL",
            {"RECORDNO": key, "DESCRIPTION": "x", "WHENDUE": TODAY},
            controlid="bill-TR-1-v3",
        ),
    )
    assert error.errors[0].description == sage.BILL_NOT_EDITABLE
    assert "is Selected" in error.errors[0].description2


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"vendor_id": "V9999"}, "Vendor 'V9999' does not exist or is inactive"),
        ({"term": "Net 45"}, "The term name 'Net 45' is invalid"),
        ({"TRIP_NUMBER": ""}, "Trip Number (TRIP_NUMBER) is required"),
        (
            {"lines": [{"ACCOUNTNO": "5900", "TRX_AMOUNT": Decimal("1")}]},
            "GL account '5900' is inactive",
        ),
        (
            {"lines": [{"ACCOUNTNO": "5000", "TRX_AMOUNT": Decimal("1"), "CLASSID": "BOAT"}]},
            "Invalid Class 'BOAT' specified",
        ),
        (
            {
                "lines": [
                    {"ACCOUNTNO": "5000", "TRX_AMOUNT": Decimal("1"), "TRUCK_NUMBER": "T" * 21}
                ]
            },
            "the maximum is 20",
        ),
    ],
)
def test_bill_validation_errors(client, change, text):
    if "TRIP_NUMBER" in change:
        function = fn.create(
            "APBILL",
            {
                "WHENCREATED": TODAY,
                "VENDORID": "V2001",
                "TERMNAME": "Net 15",
                "WHENDUE": TODAY,
                "APBILLITEMS": {"APBILLITEM": [{"ACCOUNTNO": "5000", "TRX_AMOUNT": Decimal("1")}]},
            },
            controlid="b",
        )
    else:
        function = bill(**change)
    assert text in str(failure(client, function))


def test_a_posted_bill_reverses_and_a_paid_one_does_not(client):
    key = client.call(bill()).record_no
    reversal = client.call(fn.reverse_bill(controlid="rb", key=key, date_reversed=TODAY)).key
    assert client.read("APBILL", [key, reversal])[1]["STATE"] == "Reversal"

    paid = client.call(bill("bill-TR-2", record_id="TR-2")).record_no
    services.sandbox_payment_record(document=SandboxRecord.objects.get(pk=paid))
    assert sage.PAYMENTS_APPLIED in str(
        failure(client, fn.reverse_bill(controlid="rb2", key=paid, date_reversed=TODAY))
    )


# --- payments ----------------------------------------------------------------------------------


def test_payments_move_invoices_through_partially_paid_to_paid_and_voids_undo_them(client):
    key = client.call(invoice()).key
    document = SandboxRecord.objects.get(pk=key)
    first = services.sandbox_payment_record(
        document=document,
        amount=Decimal("150.00"),
        method="check",
        check_number="10045",
        memo="Partial",
        paid_on=dt.date(2026, 11, 21),
    )
    assert client.read("ARINVOICE", [key])[0]["STATE"] == "Partially Paid"
    services.sandbox_payment_record(document=SandboxRecord.objects.get(pk=key), method="ach")
    record = client.read("ARINVOICE", [key])[0]
    assert (record["STATE"], record["TOTALPAID"], record["TOTALDUE"]) == ("Paid", "1150.00", "0.00")

    payments = list(
        client.iter_query(
            "ARPYMT",
            ["RECORDNO", "PAYMENTMETHOD", "DOCNUMBER", "DESCRIPTION", "STATE", "RECEIPTDATE"],
        )
    )
    assert [(p["PAYMENTMETHOD"], p["DOCNUMBER"], p["STATE"]) for p in payments] == [
        ("Printed Check", "10045", "C"),
        ("EFT", None, "C"),
    ]
    details = list(
        client.iter_query(
            "ARPYMTDETAIL",
            ["RECORDNO", "RECORDKEY", "PAYMENTKEY", "TRX_PAYMENTAMOUNT", "PAYMENTDATE"],
            filter=Q.equalto("PAYMENTKEY", str(first.pk)),
        )
    )
    assert [(d["RECORDKEY"], d["TRX_PAYMENTAMOUNT"], d["PAYMENTDATE"]) for d in details] == [
        (str(key), "150.00", "11/21/2026")
    ]

    services.sandbox_payment_void(payment=first)
    record = client.read("ARINVOICE", [key])[0]
    assert (record["STATE"], record["TOTALDUE"]) == ("Partially Paid", "150.00")
    voided = client.read("ARPYMT", [str(first.pk)])[0]
    assert voided["STATE"] == "V"


def test_ap_payments_are_created_through_the_api_and_refuse_overpayment(client):
    key = client.call(bill()).record_no

    def payment(amount, controlid):
        return fn.create(
            "APPYMT",
            {
                "PAYMENTMETHOD": "ACH",
                "FINANCIALENTITY": "BOA",
                "VENDORID": "V2001",
                "PAYMENTDATE": TODAY,
                "APPYMTDETAILS": {
                    "APPYMTDETAIL": [{"RECORDKEY": key, "TRX_PAYMENTAMOUNT": amount}]
                },
            },
            controlid=controlid,
        )

    assert "more than the 800.00 due" in str(failure(client, payment(Decimal("900"), "p0")))
    client.call(payment(Decimal("800"), "p1"))
    assert client.read("APBILL", [key])[0]["STATE"] == "Paid"


def test_payment_reads_page_over_many_pages(client):
    keys = [client.call(invoice(f"inv-{i}", invoice_no=f"L-{i}")).key for i in range(7)]
    for key in keys:
        services.sandbox_payment_record(
            document=SandboxRecord.objects.get(pk=key), amount=Decimal("10")
        )
    since = Q.greaterthanorequalto("WHENMODIFIED", "11/01/2026")
    rows = list(
        client.iter_query("ARPYMTDETAIL", ["RECORDNO", "RECORDKEY"], filter=since, page_size=2)
    )
    assert sorted(r["RECORDKEY"] for r in rows) == sorted(keys)
    by_query = list(client.iter_read_by_query("ARPYMT", "STATE = 'C'", page_size=3))
    assert len(by_query) == 7


# --- protocol rules ----------------------------------------------------------------------------


def test_a_replayed_controlid_is_refused_and_applies_nothing_twice(client):
    client.call(invoice())
    error = failure(client, invoice())
    assert isinstance(error, errors.DuplicateControlIdError)
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 1


def test_a_transaction_rolls_everything_back_when_one_function_fails(client):
    results = client.execute(
        [invoice("a", invoice_no="L-A"), invoice("b", invoice_no="L-B", term="Net 45")],
        transaction=True,
    )
    # every function aborted; the failing one keeps its error, then the rollback's (PHP SDK
    # ResultTest.php testStatusAbort)
    assert [r.status for r in results] == ["aborted", "aborted"]
    assert [e.errorno for e in results[1].errors] == ["BL01001973", "XL03000009"]
    assert not SandboxRecord.objects.filter(object="ARINVOICE").exists()
    # nothing was applied, so the same controlids can be sent again
    client.execute([invoice("a", invoice_no="L-A")], transaction=True)[0].raise_for_status()


def test_without_a_transaction_functions_fail_alone(client):
    results = client.execute(
        [invoice("a", invoice_no="L-A"), invoice("b", invoice_no="L-B", term="Net 45")]
    )
    assert [r.status for r in results] == ["success", "failure"]


def test_entities_see_their_documents_and_the_top_level_sees_all_with_showprivate(sandbox):
    entity = make_client(location_id="E100")
    entity.call(invoice())
    assert len(list(make_client(location_id="E200").iter_query("ARINVOICE", ["RECORDNO"]))) == 0
    top = make_client(location_id="")
    assert len(list(top.iter_query("ARINVOICE", ["RECORDNO"]))) == 0
    assert len(list(top.iter_query("ARINVOICE", ["RECORDNO"], show_private=True))) == 1


def test_inspect_and_lookup_show_custom_fields_with_required_flags_and_lengths(client):
    # inspect gives lengths but, as Sage's, no custom flag; lookup names the custom fields
    inspected = client.inspect("ARINVOICE").field("LOAD_NUMBER")
    assert (inspected.is_custom, inspected.required, inspected.max_length) == (False, True, 20)
    definition = client.describe(["ARINVOICE"])["ARINVOICE"]
    load_number = definition.field("LOAD_NUMBER")
    assert (load_number.is_custom, load_number.required, load_number.max_length) == (True, True, 20)
    assert definition.field("CUSTOMERID").required
    fields = client.lookup("ARINVOICE")["Fields"]["Field"]
    assert {"ID": "LOAD_NUMBER", "ISCUSTOM": "true", "REQUIRED": "true"}.items() <= next(
        f for f in fields if f["ID"] == "LOAD_NUMBER"
    ).items()


def test_master_data_is_seeded_from_the_demo_company(client):
    names = [c["NAME"] for c in client.iter_query("CUSTOMER", ["CUSTOMERID", "NAME"])]
    assert names.count("Summit Foods") == 2
    assert "Union Beverage Logistics" not in names
    entities = {e["NAME"] for e in client.iter_query("LOCATIONENTITY", ["LOCATIONID", "NAME"])}
    assert {s.name for s in demo_data.SUBSIDIARIES} <= entities
    terms = [t["NAME"] for t in client.read_by_name("ARTERM", ["Net 15", "Net 30", "Net 45"])]
    assert terms == ["Net 15", "Net 30"]
    # readByQuery compares STATUS as T/F (DOCS queries.md: VENDOR `STATUS = 'F'`)
    inactive = client.iter_read_by_query("GLACCOUNT", "STATUS = 'F'")
    assert {a["ACCOUNTNO"] for a in inactive} == {"4090", "5900"}
    assert list(client.iter_read_by_query("GLACCOUNT", "STATUS = 'inactive'")) == []


# --- faults ------------------------------------------------------------------------------------


def test_the_next_n_requests_fail_then_the_client_recovers(client):
    client.open_session()
    services.sandbox_faults_set(fail_next=2, fail_status=503)
    assert client.call(fn.lookup("CUSTOMER")).ok
    assert client.requests_sent == 1 + 3


def test_rate_limits_send_retry_after(sandbox):
    services.sandbox_faults_set(fail_next=1, fail_status=429, retry_after=3)
    answer = handle(b"<request/>")
    assert answer.status == 429 and answer.headers["Retry-After"] == "3"
    assert b"GW-0010" in answer.body


def test_a_dropped_answer_was_applied_and_the_resend_is_recognised(client):
    client.open_session()
    services.sandbox_faults_set(drop_next=1)
    (result,) = client.execute([invoice()])
    assert result.ok and result.already_applied
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 1


def test_a_dropped_answer_without_uniqueid_is_outcome_unknown(client):
    client.open_session()
    services.sandbox_faults_set(drop_next=1)
    with pytest.raises(errors.OutcomeUnknownError):
        client.execute([invoice()], unique=False)
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 1


# --- malformed requests ------------------------------------------------------------------------


def _raw(functions_xml: str, auth=None) -> bytes:
    auth = auth or (
        f"<login><userid>{demo_data.SAGE_USER_ID}</userid><companyid>"
        f"{demo_data.SAGE_COMPANY_ID}</companyid><password>"
        f"{demo_data.SAGE_USER_PASSWORD}</password></login>"
    )
    return (
        f"<request><control><senderid>{demo_data.SAGE_SENDER_ID}</senderid><password>"
        f"{demo_data.SAGE_SENDER_PASSWORD}</password><controlid>c</controlid><uniqueid>false"
        f"</uniqueid><dtdversion>3.0</dtdversion></control><operation><authentication>{auth}"
        f"</authentication><content>{functions_xml}</content></operation></request>"
    ).encode()


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b"this is not xml", b"<errorno>XL03000003</errorno>"),
        (b"<request><control>", b"<errorno>XL03000003</errorno>"),
        (b'<!DOCTYPE r [<!ENTITY x "y">]><request/>', b"DOCTYPE and ENTITY declarations"),
        (b"<request><control/></request>", b"<control><status>failure</status>"),
    ],
)
def test_malformed_requests_get_control_failures_not_tracebacks(sandbox, body, text):
    answer = handle(body)
    assert answer.status == 200 and text in answer.body


def test_unknown_functions_objects_and_missing_elements_fail_per_function(sandbox):
    answer = handle(
        _raw(
            '<function controlid="a"><frobnicate/></function>'
            '<function controlid="b"><read><object>TRUCK</object><keys>1</keys>'
            "</read></function>"
            '<function controlid="c"><read><object>CUSTOMER</object></read></function>'
            '<function controlid="d"><lookup><object>CUSTOMER</object></lookup>'
            "</function>"
        )
    ).body.decode()
    assert "Function 'frobnicate' is not supported" in answer
    assert "Object definition TRUCK not found" in answer
    assert "&lt;keys&gt; is required in &lt;read&gt;." in answer
    assert answer.count("<status>failure</status>") == 3
    assert answer.count("<status>success</status>") == 3  # control, authentication, lookup


def test_the_gateway_is_served_over_http(sandbox, client):
    from django.test import Client

    body = _raw('<function controlid="a"><lookup><object>VENDOR</object></lookup></function>')
    response = Client().post(SANDBOX_PATH, body, content_type="application/xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert b"<listtype" not in response.content and b'listtype="All"' in response.content
    assert Client().get(SANDBOX_PATH).status_code == 405


def party(object, party_id, name):
    return {f"{object}ID": party_id, "NAME": name, "DISPLAYCONTACT": {"PRINTAS": name}}


def test_parties_are_created_once_and_deleted_only_without_documents(client):
    created = client.call(
        fn.create(
            "CUSTOMER",
            party("CUSTOMER", "C2000", "Westgate Retail"),
            controlid="cust-westgate",
        )
    )
    assert created.data == [{"RECORDNO": created.record_no, "CUSTOMERID": "C2000"}]
    duplicate = failure(
        client,
        fn.create("CUSTOMER", party("CUSTOMER", "C2000", "Other"), controlid="cust-other"),
    )
    assert duplicate.errorno == sage.DUPLICATE_ID
    client.call(invoice(customer_id="C2000"))
    in_use = failure(client, fn.delete("CUSTOMER", [created.record_no], controlid="del-1"))
    assert "has transactions" in str(in_use)
    spare = client.call(
        fn.create("VENDOR", party("VENDOR", "V9000", "Spare"), controlid="vend-spare")
    )
    client.call(fn.delete("VENDOR", [spare.record_no], controlid="del-2"))
    assert client.read("VENDOR", [spare.record_no]) == []


# --- what one request reads once -----------------------------------------------------------


def test_a_request_reads_master_data_once_however_many_invoices_it_holds(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(count):
        functions = [
            invoice(f"memo-{count}-{n}", invoice_no=f"L-{count}-{n}") for n in range(count)
        ]
        with CaptureQueriesContext(connection) as seen:
            results = client.execute(functions)
        assert all(r.ok for r in results)
        return len(seen.captured_queries)

    one, ten = queries(1), queries(10)
    # Per invoice: its applied controlid (two savepoints and the insert, then releases) and
    # the invoice's insert and update; accounts, dimensions, customer, term and custom
    # field definitions are read once per request.
    assert (ten - one) / 9 <= 8, (one, ten)


def test_master_data_a_request_changes_is_read_again_after_the_change(client):
    client.call(
        fn.create("CUSTOMER", party("CUSTOMER", "C2100", "Lakeside"), controlid="cust-lake")
    )
    results = client.execute(
        [
            invoice("before", customer_id="C2100", invoice_no="L-B1"),
            fn.update("CUSTOMER", {"CUSTOMERID": "C2100", "STATUS": "inactive"}, controlid="off"),
            invoice("after", customer_id="C2100", invoice_no="L-B2"),
        ]
    )
    assert [r.status for r in results] == ["success", "success", "failure"]
    assert "Customer 'C2100' does not exist or is inactive" in str(results[2].error())


def test_a_failed_functions_rolled_back_master_data_is_not_remembered(client):
    # The customer is created and then the same function fails: Sage keeps nothing of it.
    results = client.execute(
        [
            fn.create(
                "CUSTOMER",
                {**party("CUSTOMER", "C2200", "Ghost"), "NAME": "x" * 1000},
                controlid="cust-ghost",
            ),
            invoice("ghost", customer_id="C2200", invoice_no="L-G1"),
        ]
    )
    assert [r.status for r in results] == ["failure", "failure"]
    assert not SandboxRecord.objects.filter(object="CUSTOMER", key="C2200").exists()
