"""What the sandbox knows of each Sage object: ID field, module, readable fields and types."""

from dataclasses import dataclass, field

DATE_FIELDS = {
    "WHENCREATED",
    "WHENPOSTED",
    "WHENDUE",
    "WHENPAID",
    "WHENMODIFIED",
    "PAYMENTDATE",
    "RECEIPTDATE",
    "WHENREVERSED",
}
NUMBER_FIELDS = {
    "RECORDNO",
    "RECORDKEY",
    "PAYMENTKEY",
    "TOTALENTERED",
    "TOTALPAID",
    "TOTALDUE",
    "TRX_TOTALPAID",
    "TRX_PAYMENTAMOUNT",
    "PAYMENTAMOUNT",
    "AMOUNT",
    "TRX_AMOUNT",
    "LINE_NO",
    "PARENTPAYMENTKEY",
}


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    id_field: str | None
    module: str  # the Sage module a user needs "All" on
    fields: tuple[str, ...]
    required: frozenset[str] = frozenset()
    max_lengths: dict[str, int] = field(default_factory=dict)
    has_lines: str | None = None  # for documents: the line object
    writable: bool = False


def _spec(name, id_field, module, fields, required=(), max_lengths=None, **kw):
    return ObjectSpec(
        name, id_field, module, tuple(fields.split()), frozenset(required), max_lengths or {}, **kw
    )


OBJECTS = {
    spec.name: spec
    for spec in [
        _spec(
            "CUSTOMER",
            "CUSTOMERID",
            "Accounts Receivable",
            "RECORDNO CUSTOMERID NAME STATUS TERMNAME WHENMODIFIED",
            ["CUSTOMERID", "NAME"],
            {"CUSTOMERID": 20, "NAME": 100},
            writable=True,
        ),
        _spec(
            "VENDOR",
            "VENDORID",
            "Accounts Payable",
            "RECORDNO VENDORID NAME STATUS TERMNAME WHENMODIFIED",
            ["VENDORID", "NAME"],
            {"VENDORID": 20, "NAME": 100},
            writable=True,
        ),
        _spec(
            "GLACCOUNT",
            "ACCOUNTNO",
            "General Ledger",
            "RECORDNO ACCOUNTNO TITLE ACCOUNTTYPE STATUS WHENMODIFIED",
        ),
        _spec("ARTERM", "NAME", "Accounts Receivable", "RECORDNO NAME STATUS WHENMODIFIED"),
        _spec("APTERM", "NAME", "Accounts Payable", "RECORDNO NAME STATUS WHENMODIFIED"),
        _spec(
            "LOCATIONENTITY",
            "LOCATIONID",
            "Company",
            "RECORDNO LOCATIONID NAME STATUS CURRENCY WHENMODIFIED",
        ),
        _spec("LOCATION", "LOCATIONID", "Company", "RECORDNO LOCATIONID NAME PARENTID STATUS"),
        _spec("DEPARTMENT", "DEPARTMENTID", "Company", "RECORDNO DEPARTMENTID TITLE STATUS"),
        _spec("PROJECT", "PROJECTID", "Platform Services", "RECORDNO PROJECTID NAME STATUS"),
        _spec("TASK", "TASKID", "Platform Services", "RECORDNO TASKID NAME PROJECTID STATUS"),
        _spec("EMPLOYEE", "EMPLOYEEID", "Company", "RECORDNO EMPLOYEEID NAME STATUS"),
        _spec("ITEM", "ITEMID", "Inventory Control", "RECORDNO ITEMID NAME STATUS"),
        _spec("CLASS", "CLASSID", "Company", "RECORDNO CLASSID NAME STATUS"),
        _spec("CONTRACT", "CONTRACTID", "Order Entry", "RECORDNO CONTRACTID NAME STATUS"),
        _spec("WAREHOUSE", "WAREHOUSEID", "Inventory Control", "RECORDNO WAREHOUSEID NAME STATUS"),
        _spec(
            "ARINVOICE",
            "RECORDID",
            "Accounts Receivable",
            "RECORDNO RECORDID STATE CUSTOMERID DOCNUMBER DESCRIPTION TERMNAME WHENCREATED "
            "WHENPOSTED WHENDUE WHENPAID CURRENCY TOTALENTERED TOTALPAID TOTALDUE WHENMODIFIED "
            "MEGAENTITYID",
            ["CUSTOMERID", "WHENCREATED"],
            has_lines="ARINVOICEITEM",
        ),
        _spec(
            "ARINVOICEITEM",
            None,
            "Accounts Receivable",
            "RECORDNO RECORDKEY LINE_NO ACCOUNTNO AMOUNT TRX_AMOUNT ENTRYDESCRIPTION LOCATIONID "
            "DEPARTMENTID PROJECTID TASKID CUSTOMERID VENDORID EMPLOYEEID ITEMID CLASSID "
            "CONTRACTID WAREHOUSEID",
            ["ACCOUNTNO", "AMOUNT"],
        ),
        _spec(
            "APBILL",
            "RECORDID",
            "Accounts Payable",
            "RECORDNO RECORDID STATE VENDORID DOCNUMBER DESCRIPTION TERMNAME WHENCREATED "
            "WHENPOSTED WHENDUE WHENPAID CURRENCY TOTALENTERED TOTALPAID TOTALDUE WHENMODIFIED "
            "MEGAENTITYID",
            ["VENDORID", "WHENCREATED"],
            {"RECORDID": 45, "DOCNUMBER": 45},
            has_lines="APBILLITEM",
            writable=True,
        ),
        _spec(
            "APBILLITEM",
            None,
            "Accounts Payable",
            "RECORDNO RECORDKEY LINE_NO ACCOUNTNO TRX_AMOUNT ENTRYDESCRIPTION LOCATIONID "
            "DEPARTMENTID PROJECTID TASKID CUSTOMERID VENDORID EMPLOYEEID ITEMID CLASSID "
            "CONTRACTID WAREHOUSEID",
            ["ACCOUNTNO", "TRX_AMOUNT"],
        ),
        _spec(
            "ARPYMT",
            None,
            "Accounts Receivable",
            "RECORDNO STATE RAWSTATE PAYMENTMETHOD CUSTOMERID DOCNUMBER DESCRIPTION WHENCREATED "
            "RECEIPTDATE WHENPAID CURRENCY TOTALENTERED TOTALPAID TRX_TOTALPAID RECORDID "
            "PARENTPAYMENTKEY FINANCIALENTITY WHENMODIFIED MEGAENTITYID",
            ["CUSTOMERID", "PAYMENTMETHOD"],
            writable=True,
        ),
        _spec(
            "ARPYMTDETAIL",
            None,
            "Accounts Receivable",
            "RECORDNO RECORDKEY PAYMENTKEY PAYMENTDATE PAYMENTAMOUNT TRX_PAYMENTAMOUNT CURRENCY "
            "STATE WHENCREATED WHENMODIFIED",
        ),
        _spec(
            "APPYMT",
            None,
            "Accounts Payable",
            "RECORDNO RECORDID STATE RAWSTATE PAYMENTMETHOD VENDORID DOCNUMBER DESCRIPTION "
            "WHENCREATED WHENPAID WHENPOSTED TOTALENTERED TOTALPAID TRX_TOTALPAID "
            "FINANCIALENTITY CLEARED WHENMODIFIED MEGAENTITYID",
            ["VENDORID", "PAYMENTMETHOD"],
            writable=True,
        ),
        _spec(
            "APPYMTDETAIL",
            None,
            "Accounts Payable",
            "RECORDNO RECORDKEY PAYMENTKEY PAYMENTDATE PAYMENTAMOUNT TRX_PAYMENTAMOUNT CURRENCY "
            "STATE WHENCREATED WHENMODIFIED",
        ),
    ]
}

# Line dimension fields and the object whose ID they must name.
DIMENSIONS = {
    "LOCATIONID": "LOCATION",
    "DEPARTMENTID": "DEPARTMENT",
    "PROJECTID": "PROJECT",
    "TASKID": "TASK",
    "CUSTOMERID": "CUSTOMER",
    "VENDORID": "VENDOR",
    "EMPLOYEEID": "EMPLOYEE",
    "ITEMID": "ITEM",
    "CLASSID": "CLASS",
    "CONTRACTID": "CONTRACT",
    "WAREHOUSEID": "WAREHOUSE",
}
DIMENSION_LABELS = {
    "LOCATION": "Location",
    "DEPARTMENT": "Department",
    "PROJECT": "Project",
    "TASK": "Task",
    "CUSTOMER": "Customer",
    "VENDOR": "Vendor",
    "EMPLOYEE": "Employee",
    "ITEM": "Item",
    "CLASS": "Class",
    "CONTRACT": "Contract",
    "WAREHOUSE": "Warehouse",
}

AR_PAYMENT_METHODS = (
    "Printed Check",
    "Cash",
    "EFT",
    "Credit Card",
    "Online Charge Card",
    "Online ACH Debit",
)
AP_PAYMENT_METHODS = (
    "Printed Check",
    "Joint Check",
    "Cash",
    "EFT",
    "Credit Card",
    "ACH",
    "Check Delivery",
    "WF Check",
    "WF Domestic ACH",
    "WF USD Wire",
)

ALL_MODULES = (
    "Administration",
    "Company",
    "Cash Management",
    "General Ledger",
    "Accounts Payable",
    "Platform Services",
    "Accounts Receivable",
    "Inventory Control",
    "Order Entry",
    "Fixed Assets Management",
)
