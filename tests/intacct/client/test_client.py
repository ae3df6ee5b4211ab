"""The client, seen through the XML it puts on the wire and the answers Sage gives."""

import datetime as dt
import logging
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
import requests
import responses
import xmltodict
from hypothesis import given, settings
from hypothesis import strategies as st

from intacct.client import (
    Credentials,
    InvoiceLine,
    Q,
    Session,
    convert,
    errors,
    to_date,
    to_decimal,
)
from intacct.client import functions as fn
from intacct.client.wire import element

from .sage import (
    CREDENTIALS,
    ENDPOINT,
    SENDER,
    SESSION_ENDPOINT,
    add_session,
    control_failure,
    controlids,
    envelope,
    failed,
    fixture,
    function_names,
    make_client,
    ok,
    reply_per_function,
    session_refused,
)

LINE = InvoiceLine(
    amount=Decimal("1250.005"),
    glaccountno="4000",
    memo="Linehaul Dallas → Chicago & back <rush>",
    dimensions={
        "locationid": "DAL",
        "departmentid": "OPS",
        "projectid": "P-1",
        "taskid": "T-1",
        "customerid": "C1001",
        "classid": "DRYVAN",
    },
    custom_fields={"CHARGE_CODE": "PER_MILE"},
)

ALL_FUNCTIONS = {
    "getAPISession entity": lambda: fn.get_api_session(location_id="E100"),
    "getAPISession top level": lambda: fn.get_api_session(location_id=""),
    "getAPISession login level": lambda: fn.get_api_session(),
    "read": lambda: fn.read("CUSTOMER", ["1", "2"], fields=["CUSTOMERID", "NAME"]),
    "readByName": lambda: fn.read_by_name("ARTERM", ["Net 30"]),
    "readByQuery": lambda: fn.read_by_query("CUSTOMER", "NAME = " + fn.query_escape("O'Neil")),
    "readMore": lambda: fn.read_more("6465763031VyprCMCoHYQAAGr@aRsAAAAU4"),
    "query": lambda: fn.query(
        "ARPYMT",
        ["RECORDNO", "STATE", "WHENMODIFIED"],
        filter=Q.and_(
            Q.greaterthanorequalto("WHENMODIFIED", "11/15/2026"),
            Q.or_(Q.in_("STATE", ["C", "V"]), Q.isnull("PARENTPAYMENTKEY")),
        ),
        orderby=[("RECORDNO", True)],
        case_insensitive=True,
        show_private=True,
        offset=4000,
    ),
    "lookup": lambda: fn.lookup("APBILL"),
    "inspect": lambda: fn.inspect("ARINVOICE"),
    "create": lambda: fn.create(
        "APBILL",
        {
            "WHENCREATED": dt.date(2026, 11, 20),
            "VENDORID": "V2001",
            "RECORDID": "TR-10001",
            "DOCNUMBER": "INV-77",
            "TERMNAME": "Net 30",
            "APBILLITEMS": {"APBILLITEM": [{"ACCOUNTNO": "5000", "TRX_AMOUNT": Decimal("812.40")}]},
        },
        controlid="bill-TR-10001-v1",
    ),
    "update": lambda: fn.update(
        "APBILL", {"RECORDNO": "65", "DESCRIPTION": "x"}, controlid="bill-TR-10001-v2"
    ),
    "delete": lambda: fn.delete("APBILL", ["112"], controlid="delete-bill-112"),
    "create_invoice": lambda: fn.create_invoice(
        controlid="invoice-L-10001-v1",
        customer_id="C1001",
        date_created=dt.date(2026, 11, 20),
        term_name="Net 30",
        action="Submit",
        invoice_no="L-10001",
        po_number="PO-1",
        description="Load L-10001",
        currency="USD",
        custom_fields={"LOAD_NUMBER": "L-10001"},
        lines=[LINE, InvoiceLine(amount=Decimal("-75"), glaccountno="4030")],
    ),
    "update_invoice": lambda: fn.update_invoice(
        controlid="invoice-L-10001-v2",
        key="812",
        date_due=dt.date(2026, 12, 20),
        description="Load L-10001 (updated)",
        custom_fields={"LOAD_NUMBER": "L-10001"},
        update_lines={1: LINE},
        new_lines=[InvoiceLine(amount=Decimal("150"), glaccountno="4020")],
    ),
    "reverse_invoice": lambda: fn.reverse_invoice(
        controlid="reverse-812",
        key="812",
        date_reversed=dt.date(2026, 11, 23),
        description="Replaced by a corrected invoice",
    ),
    "reverse_bill": lambda: fn.reverse_bill(
        controlid="reverse-bill-65", key="65", date_reversed=dt.date(2026, 11, 23)
    ),
    "delete_invoice": lambda: fn.delete_invoice(controlid="delete-812", key="812"),
}


def _request(function, **kwargs):
    client, _ = make_client()
    auth = element("authentication", element("sessionid", "S1"))
    return client.build_request(
        [function], auth=auth, request_controlid="req-1", unique=function.is_write, **kwargs
    )


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_every_function_builds_a_request_sage_schema_accepts(name, assert_valid_request):
    assert_valid_request(_request(ALL_FUNCTIONS[name]()))


def test_the_login_form_also_validates(assert_valid_request):
    client, _ = make_client()
    body = client.build_request(
        [fn.get_api_session(location_id="E100")],
        auth=client._login_element(),
        request_controlid="r",
    )
    assert_valid_request(body)


def test_the_envelope_follows_the_schema_order_and_marks_writes_unique():
    body = _request(ALL_FUNCTIONS["create"](), transaction=True)
    root = ET.fromstring(body)
    control = root.find("control")
    assert [child.tag for child in control] == [
        "senderid",
        "password",
        "controlid",
        "uniqueid",
        "dtdversion",
        "includewhitespace",
    ]
    assert [
        control.findtext(t) for t in ("senderid", "uniqueid", "dtdversion", "includewhitespace")
    ] == [SENDER.sender_id, "true", "3.0", "false"]
    operation = root.find("operation")
    assert operation.get("transaction") == "true"
    assert [child.tag for child in operation] == ["authentication", "content"]
    assert operation.find("content/function").get("controlid") == "bill-TR-10001-v1"
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><request>')


def test_values_are_sent_in_sage_formats():
    body = _request(ALL_FUNCTIONS["create_invoice"]()).decode()
    assert "<datecreated><year>2026</year><month>11</month><day>20</day></datecreated>" in body
    assert "<amount>1250.01</amount>" in body  # half up, 2 places
    assert "<amount>-75.00</amount>" in body
    assert "<memo>Linehaul Dallas → Chicago &amp; back &lt;rush&gt;</memo>" in body
    bill = _request(ALL_FUNCTIONS["create"]()).decode()
    assert (
        "<WHENCREATED>11/20/2026</WHENCREATED>" in bill
        and "<TRX_AMOUNT>812.40</TRX_AMOUNT>" in bill
    )


def test_floats_and_bad_arguments_are_refused_before_sending():
    with pytest.raises(TypeError, match="must not be float"):
        fn.create("APBILL", {"TRX_AMOUNT": 1.5}, controlid="x")
    with pytest.raises(ValueError, match="stable controlid"):
        fn.create("APBILL", {}, controlid="")
    with pytest.raises(ValueError, match="due date or a payment term"):
        fn.create_invoice(
            controlid="x", customer_id="C", date_created=dt.date.today(), lines=[LINE]
        )
    with pytest.raises(ValueError, match="1 to 2000"):
        fn.query("X", ["A"], page_size=5000)
    with pytest.raises(ValueError, match="control character"):
        fn.create("APBILL", {"DESCRIPTION": "bad\x00byte"}, controlid="x")


xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r").filter(
        lambda c: c in "\t\n" or ord(c) >= 0x20
    ),
    max_size=200,
).filter(lambda s: "\ufffe" not in s and "\uffff" not in s)


@settings(max_examples=150, deadline=None)
@given(text=xml_text)
def test_any_text_round_trips_through_the_request(text):
    body = _request(fn.create("CUSTOMER", {"NAME": text, "COMMENTS": text}, controlid="c1"))
    parsed = xmltodict.parse(body, strip_whitespace=False)
    customer = parsed["request"]["operation"]["content"]["function"]["create"]["CUSTOMER"]
    assert (customer["NAME"] or "") == text


@responses.activate
def test_the_first_call_opens_a_session_alone_then_reuses_it_at_the_returned_endpoint():
    add_session(responses)
    reply_per_function(responses, lambda cid, name: ok(cid, "<data/>", name))
    client, _ = make_client()

    client.execute([fn.lookup("CUSTOMER")])
    client.execute([fn.lookup("VENDOR")])

    bodies = [call.request.body for call in responses.calls]
    assert [call.request.url for call in responses.calls] == [
        ENDPOINT,
        SESSION_ENDPOINT,
        SESSION_ENDPOINT,
    ]
    assert function_names(bodies[0]) == ["getAPISession"]
    assert b"<login><userid>ws_user</userid><companyid>ACME-CO</companyid>" in bodies[0]
    assert b"<getAPISession><locationid>E100</locationid></getAPISession>" in bodies[0]
    for body in bodies[1:]:
        assert b"<sessionid>fAkESesSiOnId..</sessionid>" in body and b"<login>" not in body


@responses.activate
def test_an_expired_session_is_reopened_once_and_the_request_resent():
    add_session(responses)
    responses.add(responses.POST, SESSION_ENDPOINT, body=session_refused())
    add_session(responses)
    reply_per_function(responses, lambda cid, name: ok(cid, "<data/>", name))
    client, _ = make_client()
    client.session = None

    client.open_session()
    (result,) = client.execute([fn.lookup("CUSTOMER")])

    assert result.ok
    names = [function_names(call.request.body) for call in responses.calls]
    assert names == [["getAPISession"], ["lookup"], ["getAPISession"], ["lookup"]]


@responses.activate
def test_a_session_opened_by_another_client_is_used_without_signing_in():
    reply_per_function(responses, lambda cid, name: ok(cid, "<data/>", name))
    opened = Session("sEsSiOn-from-yesterday..", SESSION_ENDPOINT, "E100")
    client, _ = make_client(session=opened)

    client.execute([fn.lookup("CUSTOMER")])

    (call,) = responses.calls
    assert call.request.url == SESSION_ENDPOINT
    assert b"<sessionid>sEsSiOn-from-yesterday..</sessionid>" in call.request.body
    assert client.requests_sent == 1


@responses.activate
def test_the_caller_hears_of_every_session_opened_and_of_one_sage_refused():
    responses.add(responses.POST, SESSION_ENDPOINT, body=session_refused())
    add_session(responses)
    reply_per_function(responses, lambda cid, name: ok(cid, "<data/>", name))
    heard = []
    stale = Session("expired..", SESSION_ENDPOINT, "E100")
    client, _ = make_client(session=stale, on_session=heard.append)

    (result,) = client.execute([fn.lookup("CUSTOMER")])

    assert result.ok
    names = [function_names(call.request.body) for call in responses.calls]
    assert names == [["lookup"], ["getAPISession"], ["lookup"]]
    assert heard == [None, Session("fAkESesSiOnId..", SESSION_ENDPOINT, "testentity")]
    assert "fAkESesSiOnId" not in repr(heard)


@responses.activate
def test_a_session_refused_twice_is_an_error_not_a_loop():
    add_session(responses)
    responses.add(responses.POST, SESSION_ENDPOINT, body=envelope(auth_status="failure"))
    client, _ = make_client()
    with pytest.raises(errors.SessionExpiredError):
        client.execute([fn.lookup("CUSTOMER")])
    assert len(responses.calls) == 4  # session, call, session again, call again


@responses.activate
def test_bad_sign_in_is_reported_in_sage_terms():
    responses.add(responses.POST, ENDPOINT, body=fixture("authentication_failure.xml"))
    client, _ = make_client()
    with pytest.raises(errors.SignInError) as error:
        client.open_session()
    assert str(error.value) == "Sign-in information is incorrect."
    assert error.value.errorno == "XL03000006"


@pytest.mark.parametrize(
    ("description", "description2", "expected", "says"),
    [
        (
            "Invalid Web Services Authorization",
            "The sender ID 'LedgerlineTest' is not authorized to make Web Services requests to "
            "company 'ACME-CO'.",
            errors.SenderNotAuthorizedError,
            "Contact the company administrator.",
        ),
        (
            "Web Services is not subscribed",
            "Company 'ACME-CO' does not have the Web Services subscription.",
            errors.WebServicesNotSubscribedError,
            "Contact the company administrator.",
        ),
        (
            "Sign-in information is incorrect",
            "Invalid sender ID or sender password",
            errors.SenderNotAuthorizedError,
            "check INTACCT_SENDER_ID and INTACCT_SENDER_PASSWORD",
        ),
    ],
)
@responses.activate
def test_control_level_refusals_become_typed_errors(description, description2, expected, says):
    responses.add(
        responses.POST,
        ENDPOINT,
        body=control_failure(
            "XL03000006", description, description2, "Contact the company administrator."
        ),
    )
    client, _ = make_client()
    with pytest.raises(expected) as error:
        client.open_session()
    assert isinstance(error.value, errors.AuthenticationError)
    assert says in str(error.value)


@responses.activate
def test_a_batch_of_100_functions_is_one_request_with_results_matched_by_controlid():
    add_session(responses)

    def reply(request):
        ids = controlids(request.body)
        results = [
            failed(
                cid,
                description="Invalid Customer",
                description2=f"Customer {cid} does not exist [Support ID: Ab%7E{i}]",
            )
            if i % 10 == 0
            else ok(cid, f"<data><customer><CUSTOMERID>{cid}</CUSTOMERID></customer></data>")
            for i, cid in enumerate(ids)
        ]
        return 200, {}, envelope(*reversed(results))  # Sage's order is not ours

    responses.add_callback(responses.POST, SESSION_ENDPOINT, callback=reply)
    client, _ = make_client()
    batch = [
        fn.create("CUSTOMER", {"CUSTOMERID": f"C{i}"}, controlid=f"cust-{i}") for i in range(100)
    ]

    results = client.execute(batch)

    assert len(responses.calls) == 2  # the session, then one request for all 100
    assert b"<uniqueid>true</uniqueid>" in responses.calls[1].request.body
    assert [r.controlid for r in results] == [f.controlid for f in batch]
    assert [r.ok for r in results].count(False) == 10
    assert results[1].data == [{"CUSTOMERID": "cust-1"}]
    failure = results[10].error()
    assert isinstance(failure, errors.BusinessError)
    assert failure.support_id == "Ab~10"
    assert (
        str(failure)
        == "Invalid Customer. Customer cust-10 does not exist. (Sage Support ID: Ab~10)"
    )


@responses.activate
def test_a_transaction_is_all_or_nothing():
    add_session(responses)
    reply_per_function(
        responses,
        lambda cid, name: (
            failed(cid, status="aborted")
            if cid != "b"
            else failed(cid, description2="Invalid Vendor 'V9'")
        ),
    )
    client, _ = make_client()
    results = client.execute(
        [fn.create("APBILL", {}, controlid="a"), fn.create("APBILL", {}, controlid="b")],
        transaction=True,
    )
    assert b'<operation transaction="true">' in responses.calls[1].request.body
    assert [r.status for r in results] == ["aborted", "failure"]


@responses.activate
def test_query_pages_by_offset_until_nothing_remains():
    add_session(responses)
    total = 5

    def reply(request):
        offset = int(re.search(rb"<offset>(\d+)</offset>", request.body).group(1))
        size = int(re.search(rb"<pagesize>(\d+)</pagesize>", request.body).group(1))
        rows = list(range(offset, min(offset + size, total)))
        data = (
            f'<data listtype="ARPYMT" totalcount="{total}" offset="{offset}" '
            f'count="{len(rows)}" numremaining="{total - offset - len(rows)}">'
            + "".join(f"<ARPYMT><RECORDNO>{r}</RECORDNO></ARPYMT>" for r in rows)
            + "</data>"
        )
        (cid,) = controlids(request.body)
        return 200, {}, envelope(ok(cid, data, "query"))

    responses.add_callback(responses.POST, SESSION_ENDPOINT, callback=reply)
    client, _ = make_client()
    records = list(client.iter_query("ARPYMT", ["RECORDNO"], page_size=2))
    assert [r["RECORDNO"] for r in records] == ["0", "1", "2", "3", "4"]
    assert len(responses.calls) == 1 + 3


@responses.activate
def test_read_by_query_follows_read_more_until_nothing_remains():
    add_session(responses)
    pages = iter([("2", "r1", ["8", "9"]), ("1", "r1", ["10", "11"]), ("0", "", ["12"])])

    def reply(request):
        remaining, result_id, rows = next(pages)
        (cid,) = controlids(request.body)
        data = (
            f'<data listtype="class" count="{len(rows)}" totalcount="5" '
            f'numremaining="{remaining}" resultId="{result_id}">'
            + "".join(f"<class><RECORDNO>{r}</RECORDNO></class>" for r in rows)
            + "</data>"
        )
        return 200, {}, envelope(ok(cid, data, "readByQuery"))

    responses.add_callback(responses.POST, SESSION_ENDPOINT, callback=reply)
    client, _ = make_client()
    records = list(client.iter_read_by_query("CLASS", "RECORDNO >= 8", page_size=2))
    assert [r["RECORDNO"] for r in records] == ["8", "9", "10", "11", "12"]
    names = [function_names(c.request.body)[0] for c in responses.calls[1:]]
    assert names == ["readByQuery", "readMore", "readMore"]
    assert b"<resultId>r1</resultId>" in responses.calls[2].request.body


@responses.activate
def test_sages_documented_samples_parse():
    add_session(responses)
    reply = {
        "readByQuery": "read_by_query_class.xml",
        "inspect": "inspect_customer.xml",
        "create": "create_gl_account_failure.xml",
    }

    def answer(request):
        (cid,) = controlids(request.body)
        return 200, {}, fixture(reply[function_names(request.body)[0]], controlid=cid)

    responses.add_callback(responses.POST, SESSION_ENDPOINT, callback=answer)
    client, _ = make_client()

    (page,) = client.execute([fn.read_by_query("CLASS", "RECORDNO < 2")])
    assert (page.listtype, page.count, page.totalcount, page.numremaining, page.result_id) == (
        "class",
        1,
        2,
        1,
        "myResultId",
    )
    assert page.data == [
        {"RECORDNO": "8", "CLASSID": "C1234", "WHENMODIFIED": "07/24/2017 15:19:46"}
    ]

    definition = client.inspect("CUSTOMER")
    customer_id = definition.field("CUSTOMERID")
    assert (customer_id.required, customer_id.max_length, customer_id.label) == (
        True,
        20,
        "Customer ID",
    )

    (created,) = client.execute([fn.create("GLACCOUNT", {"ACCOUNTNO": "5000.11"}, controlid="gl")])
    error = created.error()
    assert error.support_id == "EsppO~ZEcj0DEGV_L5hm95Ec91twAAABA"
    assert str(error) == (
        "Duplicate account number. The account number '5000.11' already exists. "
        "Could not create GL Account record. Enter unique account number. "
        "(Sage Support ID: EsppO~ZEcj0DEGV_L5hm95Ec91twAAABA)"
    )


@responses.activate
def test_a_legacy_create_returns_its_key_as_the_record_number():
    add_session(responses)
    reply_per_function(responses, lambda cid, name: ok(cid, function=name, key="812"))
    client, _ = make_client()
    result = client.call(ALL_FUNCTIONS["create_invoice"]())
    assert result.record_no == "812"


@pytest.mark.parametrize(
    ("errorno", "description2", "expected"),
    [
        (
            "DL02000001",
            "You do not have permission for API operation CREATE on objects of type APBILL",
            errors.PermissionDeniedError,
        ),
        (
            "XL03000010",
            "A request with function control ID 'x' was already processed successfully.",
            errors.DuplicateControlIdError,
        ),
        ("BL01001973", "The term name 'Net 45' is invalid [Support ID: Q1]", errors.BusinessError),
    ],
)
@responses.activate
def test_function_failures_become_typed_errors(errorno, description2, expected):
    add_session(responses)
    reply_per_function(responses, lambda cid, name: failed(cid, errorno, "", description2))
    client, _ = make_client()
    with pytest.raises(expected):
        client.call(fn.create("APBILL", {}, controlid="x"))


# --- transient failures and retries ------------------------------------------------------------


@responses.activate
def test_server_errors_are_retried_with_exponential_backoff():
    add_session(responses)
    responses.add(responses.POST, SESSION_ENDPOINT, status=503, body="<html>busy</html>")
    responses.add(responses.POST, SESSION_ENDPOINT, status=502, body="")
    reply_per_function(responses, lambda cid, name: ok(cid, "<data/>", name))
    client, sleeps = make_client(backoff_base=1.0)

    (result,) = client.execute([fn.lookup("CUSTOMER")])

    assert result.ok
    assert len(responses.calls) == 1 + 3
    assert sleeps == [0.75, 1.5]  # base x 2^(n-1), jitter fixed at 3/4 of the ceiling


@responses.activate
def test_retries_are_bounded_and_then_the_error_surfaces():
    add_session(responses)
    responses.add(responses.POST, SESSION_ENDPOINT, status=500)
    client, sleeps = make_client(max_retries=3, backoff_base=10, backoff_max=15)
    with pytest.raises(errors.ServerError, match=r"HTTP 500"):
        client.execute([fn.lookup("CUSTOMER")])
    assert len(responses.calls) == 1 + 4
    assert sleeps == [7.5, 11.25, 11.25]  # capped at backoff_max


@responses.activate
def test_rate_limits_honour_retry_after():
    add_session(responses)
    responses.add(
        responses.POST,
        SESSION_ENDPOINT,
        status=429,
        headers={"Retry-After": "7"},
        body=control_failure("GW-0010", "Too many requests", ""),
    )
    reply_per_function(responses, lambda cid, name: ok(cid, "<data/>", name))
    client, sleeps = make_client()
    assert client.execute([fn.lookup("CUSTOMER")])[0].ok
    assert sleeps == [7.0]


@responses.activate
def test_network_errors_before_sending_are_retried():
    add_session(responses)
    responses.add(
        responses.POST, SESSION_ENDPOINT, body=requests.ConnectionError("Connection refused")
    )
    reply_per_function(responses, lambda cid, name: ok(cid, "<data/>", name))
    client, sleeps = make_client()
    assert client.execute([fn.create("CUSTOMER", {}, controlid="c1")])[0].ok
    assert len(sleeps) == 1


@responses.activate
def test_a_524_on_an_unprotected_write_is_outcome_unknown_and_never_resent():
    add_session(responses)
    responses.add(responses.POST, SESSION_ENDPOINT, status=524)
    client, sleeps = make_client()
    with pytest.raises(errors.OutcomeUnknownError, match="may still have been applied"):
        client.execute([fn.create("APBILL", {}, controlid="bill-1")], unique=False)
    assert len(responses.calls) == 2 and sleeps == []


@responses.activate
def test_a_timeout_on_a_protected_write_is_resent_and_a_duplicate_means_already_applied():
    add_session(responses)
    responses.add(responses.POST, SESSION_ENDPOINT, body=requests.ReadTimeout("read timed out"))
    reply_per_function(
        responses,
        lambda cid, name: (
            failed(
                cid,
                "XL03000010",
                "Duplicate control ID",
                f"A request with function control ID '{cid}' was already processed successfully.",
            )
            if cid == "bill-1"
            else ok(cid, "<data><apbill><RECORDNO>7</RECORDNO></apbill></data>")
        ),
    )
    client, _ = make_client()

    first, second = client.execute(
        [fn.create("APBILL", {}, controlid="bill-1"), fn.create("APBILL", {}, controlid="bill-2")]
    )

    assert (first.ok, first.already_applied) == (True, True)
    assert (second.ok, second.already_applied, second.record_no) == (True, False, "7")
    assert b"<uniqueid>true</uniqueid>" in responses.calls[2].request.body


@responses.activate
def test_a_524_on_a_read_is_retried_like_any_server_error():
    add_session(responses)
    responses.add(responses.POST, SESSION_ENDPOINT, status=524)
    reply_per_function(responses, lambda cid, name: ok(cid, "<data/>", name))
    client, sleeps = make_client()
    assert client.execute([fn.lookup("CUSTOMER")])[0].ok and len(sleeps) == 1


# --- unusable answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, "<html><body>Maintenance</body></html>", "has no <response> element"),
        (200, "<response><control><status>succ", "(HTTP 200) is not valid XML"),
        (200, "", "(HTTP 200) was empty"),
        (
            200,
            '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]><response>&x;</response>',
            "declares a DOCTYPE or entities",
        ),
        (404, "Not Found", "(HTTP 404) is not valid XML"),
    ],
)
@responses.activate
def test_unusable_answers_name_the_http_status(status, body, message):
    add_session(responses)
    responses.add(responses.POST, SESSION_ENDPOINT, status=status, body=body)
    client, _ = make_client()
    with pytest.raises(errors.ResponseFormatError) as error:
        client.execute([fn.lookup("CUSTOMER")])
    assert message in str(error.value)


@responses.activate
def test_oversized_answers_are_not_read():
    add_session(responses)
    responses.add(responses.POST, SESSION_ENDPOINT, body="<response>" + "x" * 5000 + "</response>")
    client, _ = make_client(max_response_bytes=1000)
    with pytest.raises(errors.ResponseFormatError, match="larger than 1000 bytes"):
        client.execute([fn.lookup("CUSTOMER")])


# --- audit and secrets ------------------------------------------------------------------------


@responses.activate
def test_the_audit_hook_sees_every_call_without_secrets(caplog):
    add_session(responses)
    responses.add(responses.POST, SESSION_ENDPOINT, status=503)
    reply_per_function(responses, lambda cid, name: ok(cid, "<data/>", name))
    records = []
    client, _ = make_client(audit=records.append)

    with caplog.at_level(logging.DEBUG, logger="intacct.client"):
        client.execute([fn.create("CUSTOMER", {"NAME": "Acme"}, controlid="cust-1")])

    assert [(r.functions, r.attempt, r.http_status) for r in records] == [
        ((("getAPISession", records[0].functions[0][1]),), 1, 200),
        ((("create", "cust-1"),), 1, 503),
        ((("create", "cust-1"),), 2, 200),
    ]
    assert records[1].outcome.startswith("ServerError")
    secrets = [SENDER.sender_password, CREDENTIALS.password, "fAkESesSiOnId"]
    everything = " ".join(r.request_xml + r.response_xml for r in records) + caplog.text
    everything += repr(client) + repr(client.session) + repr(CREDENTIALS)
    for secret in secrets:
        assert secret not in everything
    assert "<password>***</password>" in records[0].request_xml
    assert "<sessionid>***</sessionid>" in records[0].response_xml


def test_leaf_values_convert_only_when_the_caller_asks():
    assert to_decimal("1,250.10") == Decimal("1250.10")
    assert to_decimal("") is None
    assert to_date("11/23/2026 15:19:46") == dt.date(2026, 11, 23)
    assert to_date("2026-11-23") == dt.date(2026, 11, 23)
    with pytest.raises(ValueError, match="not a date"):
        to_date("23.11.2026")


@pytest.mark.parametrize(
    ("location_id", "login_tail", "session_body"),
    [
        ("E100", b"<locationid>E100</locationid></login>", b"<locationid>E100</locationid>"),
        ("", b"<password>user-Secret-2</password></login>", b"<locationid />"),
        (None, b"<password>user-Secret-2</password></login>", b"<getAPISession />"),
    ],
    ids=["entity", "top-level", "login-level"],
)
def test_the_login_carries_the_entity_and_validates_at_every_level(
    location_id, login_tail, session_body, assert_valid_request
):
    client, _ = make_client(
        credentials=Credentials("ACME-CO", "ws_user", "user-Secret-2", location_id=location_id)
    )
    body = client.build_request(
        [fn.get_api_session(location_id=location_id)],
        auth=client._login_element(),
        request_controlid="r",
    )
    assert login_tail in body and session_body in body
    assert_valid_request(body)


@responses.activate
def test_query_leaves_convert_by_the_callers_schema_never_to_float():
    add_session(responses)
    data = (
        '<data listtype="ARINVOICE" count="2" totalcount="2" numremaining="0">'
        "<ARINVOICE><RECORDNO>7</RECORDNO><TOTALDUE>1,250.10</TOTALDUE>"
        "<WHENDUE>12/20/2026</WHENDUE><STATE>Posted</STATE></ARINVOICE>"
        "<ARINVOICE><RECORDNO>8</RECORDNO><TOTALDUE>0</TOTALDUE><WHENDUE/>"
        "<STATE>Paid</STATE></ARINVOICE></data>"
    )
    reply_per_function(responses, lambda cid, name: ok(cid, data, name))
    client, _ = make_client()
    schema = {"TOTALDUE": to_decimal, "WHENDUE": to_date}

    records = list(client.iter_query("ARINVOICE", ["RECORDNO"], schema=schema))

    assert records == [
        {
            "RECORDNO": "7",
            "TOTALDUE": Decimal("1250.10"),
            "WHENDUE": dt.date(2026, 12, 20),
            "STATE": "Posted",
        },
        {"RECORDNO": "8", "TOTALDUE": Decimal("0"), "WHENDUE": None, "STATE": "Paid"},
    ]
    with pytest.raises(
        ValueError, match=re.escape("Sage field WHENDUE: '20.12.2026' is not a date")
    ):
        convert({"WHENDUE": "20.12.2026"}, schema)
