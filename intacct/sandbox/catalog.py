"""What the sandbox knows of each Sage object: ID field, module, readable fields and types.

The fields themselves, each list with its source, are in `fields`.
"""

from dataclasses import dataclass, field

from .fields import READ

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


def _spec(name, id_field, module, required=(), max_lengths=None, **kw):
    return ObjectSpec(
        name,
        id_field,
        module,
        tuple(sorted(READ[name])),
        frozenset(required),
        max_lengths or {},
        **kw,
    )


OBJECTS = {
    spec.name: spec
    for spec in [
        _spec(
            "CUSTOMER",
            "CUSTOMERID",
            "Accounts Receivable",
            ["CUSTOMERID", "NAME"],
            {"CUSTOMERID": 20, "NAME": 100},
            writable=True,
        ),
        _spec(
            "VENDOR",
            "VENDORID",
            "Accounts Payable",
            ["VENDORID", "NAME"],
            {"VENDORID": 20, "NAME": 100},
            writable=True,
        ),
        _spec("GLACCOUNT", "ACCOUNTNO", "General Ledger"),
        _spec("ARTERM", "NAME", "Accounts Receivable"),
        _spec("APTERM", "NAME", "Accounts Payable"),
        _spec("LOCATIONENTITY", "LOCATIONID", "Company"),
        _spec("LOCATION", "LOCATIONID", "Company"),
        _spec("DEPARTMENT", "DEPARTMENTID", "Company"),
        _spec("PROJECT", "PROJECTID", "Platform Services"),
        _spec("TASK", "TASKID", "Platform Services"),
        _spec("EMPLOYEE", "EMPLOYEEID", "Company"),
        _spec("ITEM", "ITEMID", "Inventory Control"),
        _spec("CLASS", "CLASSID", "Company"),
        _spec("CONTRACT", "CONTRACTID", "Order Entry"),
        _spec("WAREHOUSE", "WAREHOUSEID", "Inventory Control"),
        _spec(
            "ARINVOICE",
            "RECORDID",
            "Accounts Receivable",
            ["CUSTOMERID", "WHENCREATED"],
            has_lines="ARINVOICEITEM",
        ),
        _spec("ARINVOICEITEM", None, "Accounts Receivable", ["ACCOUNTNO", "AMOUNT"]),
        _spec(
            "APBILL",
            "RECORDID",
            "Accounts Payable",
            ["VENDORID", "WHENCREATED", "WHENDUE"],
            {"RECORDID": 45, "DOCNUMBER": 45},
            has_lines="APBILLITEM",
            writable=True,
        ),
        _spec("APBILLITEM", None, "Accounts Payable", ["ACCOUNTNO", "TRX_AMOUNT"]),
        _spec(
            "ARPYMT",
            None,
            "Accounts Receivable",
            ["PAYMENTMETHOD", "RECEIPTDATE"],
            writable=True,
        ),
        _spec("ARPYMTDETAIL", None, "Accounts Receivable"),
        _spec("APPYMT", None, "Accounts Payable", ["VENDORID", "PAYMENTDATE"], writable=True),
        _spec("APPYMTDETAIL", None, "Accounts Payable"),
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
