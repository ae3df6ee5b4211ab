"""Every object the product writes carries every field Sage's documentation requires of it.

The product's writes are collected from a run of every flow that writes (each document type,
customer and vendor Auto Create, update of Drafts, reversal, removal) and each is checked
against the required fields of Sage's developer documentation (DOCS = developer.intacct.com
pages, copied in russellkt/intacct-mcp-server docs/ @83d3339), not against the sandbox.
"""

import xml.etree.ElementTree as ET

from accounting import models as am
from intacct import export
from intacct.connections import services
from intacct.sandbox.models import SandboxRecord

from .test_export import make_load
from .test_export_changes import change_linehaul, make_draft
from .test_export_documents import driver, echeck_and_statement, paystub
from .test_export_trips import make_trip

# (function, object) -> (header requirements, line path, line requirements). A requirement
# is a path that must hold a value ("a|b": either), "@x" an attribute.
REQUIRED = {
    # DOCS accounts-payable-bills.md "Create Bill": VENDORID, WHENCREATED, WHENDUE "Required
    # if Action is not set to Draft"; APBILLITEMS "must have at least 1"; a line: ACCOUNTNO
    # "Required if not using ACCOUNTLABEL", TRX_AMOUNT required unless INCLUSIVETAX.
    ("create", "APBILL"): (
        ["VENDORID", "WHENCREATED", "WHENDUE", "APBILLITEMS/APBILLITEM"],
        "APBILLITEMS/APBILLITEM",
        ["ACCOUNTNO|ACCOUNTLABEL", "TRX_AMOUNT"],
    ),
    # DOCS accounts-payable-bills.md "Update Bill": RECORDNO and WHENDUE Required.
    ("update", "APBILL"): (
        ["RECORDNO", "WHENDUE"],
        "APBILLITEMS/APBILLITEM",
        ["ACCOUNTNO|ACCOUNTLABEL", "TRX_AMOUNT"],
    ),
    # DOCS accounts-payable-bills.md "Delete Bill": object and keys Required.
    ("delete", "APBILL"): (["object", "keys"], None, []),
    # DOCS accounts-receivable-invoices.md "Create Invoice (Legacy)": customerid,
    # datecreated (year, month, day), datedue "Required if not using termname", invoiceitems
    # "must have at least 1"; a line: glaccountno or accountlabel, amount.
    ("create_invoice", ""): (
        [
            "customerid",
            "datecreated/year",
            "datecreated/month",
            "datecreated/day",
            "datedue|termname",
            "invoiceitems/lineitem",
        ],
        "invoiceitems/lineitem",
        ["glaccountno|accountlabel", "amount"],
    ),
    # DOCS accounts-receivable-invoices.md "Update Invoice (Legacy)": key and
    # updateinvoiceitems Required; an updatelineitem needs line_num.
    ("update_invoice", ""): (
        ["@key", "updateinvoiceitems/updatelineitem|updateinvoiceitems/lineitem"],
        "updateinvoiceitems/updatelineitem",
        ["@line_num"],
    ),
    # DOCS accounts-receivable-invoices.md "Reverse Invoice (Legacy)": key, datereversed.
    ("reverse_invoice", ""): (
        ["@key", "datereversed/year", "datereversed/month", "datereversed/day"],
        None,
        [],
    ),
    # DOCS accounts-receivable-invoices.md "Delete Invoice (Legacy)": key.
    ("delete_invoice", ""): (["@key"], None, []),
    # DOCS accounts-receivable-customers.md "Create Customer": CUSTOMERID (required without
    # document sequencing), NAME, DISPLAYCONTACT with PRINTAS Required.
    ("create", "CUSTOMER"): (["CUSTOMERID", "NAME", "DISPLAYCONTACT/PRINTAS"], None, []),
    # DOCS accounts-payable-vendors.md "Create Vendor": the same for vendors.
    ("create", "VENDOR"): (["VENDORID", "NAME", "DISPLAYCONTACT/PRINTAS"], None, []),
}
WRITES = {"create", "update", "delete", "create_invoice", "update_invoice"} | {
    "reverse_invoice",
    "reverse_bill",
    "delete_invoice",
}


def _has(node: ET.Element, requirement: str) -> bool:
    for path in requirement.split("|"):
        if path.startswith("@"):
            if node.get(path[1:]):
                return True
            continue
        found = node.find(path)
        if found is not None and ((found.text or "").strip() or len(found)):
            return True
    return False


def missing(function: ET.Element) -> tuple[tuple[str, str], list[str]]:
    """((function, object), the required fields `function` lacks)."""
    (body,) = list(function)
    name, node = body.tag, body
    object = ""
    if name in ("create", "update"):
        (node,) = list(body)
        object = node.tag
    elif name == "delete":
        object = body.findtext("object")
    header, line_path, line_fields = REQUIRED[(name, object)]
    lacking = [f"{requirement}" for requirement in header if not _has(node, requirement)]
    for number, line in enumerate(node.findall(line_path) if line_path else [], start=1):
        lacking += [f"line {number} {r}" for r in line_fields if not _has(line, r)]
    return (name, object), lacking


def writes(bodies: list[bytes]) -> list[ET.Element]:
    functions = []
    for body in bodies:
        for function in ET.fromstring(body).iter("function"):
            if function[0].tag in WRITES:
                functions.append(function)
    return functions


def every_write_the_product_makes(connection) -> None:
    services.connection_update_settings(
        connection=connection,
        ar={"export_echecks": True, "export_carrier_statements": True},
        ap={"export_echecks": True, "include_fuel": True},
    )
    services.connection_update_settings(
        connection=connection,
        ar={"auto_create_customer": True},
        ap={"auto_create_vendor": True},
    )
    person = driver(connection)
    posted, drafted, removed = (make_load(connection) for _ in range(3))
    make_load(connection, customer_name="Westgate Retail", external_id=None)  # Auto Create
    paystub(connection, person)
    bill_trip = make_trip(connection)
    make_trip(connection, carrier_name="Prairie Haulers", external_id=None)  # Auto Create
    echeck_and_statement(connection, person, posted)
    export.connection_export(connection=connection)

    for load in (drafted, removed):
        make_draft(SandboxRecord.objects.get(object="ARINVOICE", key=load.number))
    make_draft(SandboxRecord.objects.get(object="APBILL", key=bill_trip.number))
    change_linehaul(posted, "3")  # posted, unpaid: reversed and sent again
    change_linehaul(drafted, "3")  # a Draft: updated in place
    change_linehaul(bill_trip, "900")  # a Draft bill: updated in place
    removed.delete()  # a Draft invoice: deleted
    export.connection_export(connection=connection)
    bill_trip.delete()  # a Draft bill: deleted
    export.connection_export(connection=connection)


def test_every_object_the_product_writes_has_every_field_sage_requires(
    connection, sandbox_requests
):
    every_write_the_product_makes(connection)

    checked = {}
    for function in writes(sandbox_requests):
        kind, lacking = missing(function)
        checked.setdefault(kind, [])
        checked[kind] += lacking
    assert {kind: lacking for kind, lacking in checked.items() if lacking} == {}
    # every write the documentation's table covers was made (and so checked)
    assert set(checked) == set(REQUIRED)
    # nothing refused (the trips' loads have no charges of their own to invoice)
    failed = am.ErrorTransaction.objects.filter(status="failed")
    assert not failed.exclude(message__endswith="has no lines to invoice.").exists()


def test_the_check_sees_a_missing_required_field():
    bill = ET.fromstring(
        "<function controlid='x'><create><APBILL><VENDORID>V1</VENDORID>"
        "<WHENCREATED>11/20/2026</WHENCREATED><APBILLITEMS><APBILLITEM><ACCOUNTNO>5000"
        "</ACCOUNTNO></APBILLITEM></APBILLITEMS></APBILL></create></function>"
    )
    assert missing(bill) == (("create", "APBILL"), ["WHENDUE", "line 1 TRX_AMOUNT"])
