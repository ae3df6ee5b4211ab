"""The demo company, shared by `seed_demo` (the TMS side) and the Sage Intacct sandbox's seed.

Both sides are built from these lists so the demo's parties line up with the sandbox's records,
except where the mismatch is the point: a few parties have no Sage record (export fails with the
troubleshooting message until Auto Create is on or an ID is set), a few have no External
Accounting ID (name matching), and two Sage customers share one name (a name match must refuse
to guess). Plain data, no Django imports.
"""

from dataclasses import dataclass

# --- Sage company -------------------------------------------------------------------------
SAGE_SENDER_ID = "LedgerlineDemo"
SAGE_SENDER_PASSWORD = "demo-sender-password"
SAGE_COMPANY_ID = "RIDGELINE-DEMO"
SAGE_USER_ID = "ws_ledgerline"
SAGE_USER_PASSWORD = "Sandbox-Pass-2026"


@dataclass(frozen=True)
class DemoSubsidiary:
    code: str
    name: str  # Sage child entity (LOCATIONENTITY) of the same name, case-insensitive
    sage_entity_id: str
    offices: tuple[str, ...]
    fleets: tuple[str, ...]


SUBSIDIARIES = (
    DemoSubsidiary("RF", "Ridgeline Freight", "E100", ("Dallas", "Houston"), ("Dry Van", "Reefer")),
    DemoSubsidiary(
        "RL", "Ridgeline Logistics", "E200", ("Chicago", "Indianapolis"), ("Brokerage", "Flatbed")
    ),
)
# The Sage top level holds one more entity that matches no TMS subsidiary.
SAGE_EXTRA_ENTITIES = (("E900", "Ridgeline Holdings"),)


@dataclass(frozen=True)
class DemoParty:
    name: str
    sage_id: str | None  # the Sage CUSTOMERID / VENDORID, None when Sage has no record
    external_id: bool = True  # whether the TMS profile carries the External Accounting ID


# 25 customers / brokers. Three have no Sage record; three rely on name matching; two Sage
# customers are named "Summit Foods" (C1024 below and a second one only in Sage).
CUSTOMERS = (
    DemoParty("Acme Distribution", "C1001"),
    DemoParty("Blue River Grocers", "C1002"),
    DemoParty("Cardinal Building Supply", "C1003"),
    DemoParty("Delta Paper Co", "C1004"),
    DemoParty("Evergreen Produce", "C1005"),
    DemoParty("Frontier Steel", "C1006"),
    DemoParty("Granite State Beverages", "C1007"),
    DemoParty("Harbor Imports", "C1008"),
    DemoParty("Ironwood Furniture", "C1009"),
    DemoParty("Juniper Home Goods", "C1010"),
    DemoParty("Keystone Plastics", "C1011"),
    DemoParty("Lakeside Dairy", "C1012", external_id=False),
    DemoParty("Magnolia Textiles", "C1013"),
    DemoParty("Northstar Electronics", "C1014"),
    DemoParty("Oakridge Lumber", "C1015", external_id=False),
    DemoParty("Prairie Grain Partners", "C1016"),
    DemoParty("Quarry Stone Works", "C1017"),
    DemoParty("Redwood Auto Parts", "C1018"),
    DemoParty("Silverline Chemicals", "C1019"),
    DemoParty("Timberline Packaging", "C1020", external_id=False),
    DemoParty("Union Beverage Logistics", None, external_id=False),
    DemoParty("Valley Fresh Farms", None, external_id=False),
    DemoParty("Westgate Retail", None, external_id=False),
    DemoParty("Yellowstone Outfitters", "C1023"),
    DemoParty("Summit Foods", "C1024", external_id=False),
)
SAGE_DUPLICATE_NAME_CUSTOMERS = (("C1025", "Summit Foods"),)

# 12 carriers (vendors). Two have no Sage record.
CARRIERS = (
    DemoParty("Apex Carriers LLC", "V2001"),
    DemoParty("Big Sky Transport", "V2002"),
    DemoParty("Copperline Trucking", "V2003"),
    DemoParty("Dakota Express", "V2004"),
    DemoParty("Eagle Eye Logistics", "V2005"),
    DemoParty("Falcon Freightways", "V2006", external_id=False),
    DemoParty("Gulf Coast Haulers", "V2007"),
    DemoParty("Highway 61 Carriers", "V2008"),
    DemoParty("Interstate Movers", "V2009"),
    DemoParty("Jetstream Freight", "V2010"),
    DemoParty("Keystone Carriers", None, external_id=False),
    DemoParty("Lone Pine Trucking", None, external_id=False),
)

# 12 drivers (vendors in Sage for pay). Half are owner operators.
DRIVERS = (
    DemoParty("Alice Moreno", "V3001"),
    DemoParty("Ben Carter", "V3002"),
    DemoParty("Carla Nguyen", "V3003"),
    DemoParty("Dmitri Volkov", "V3004"),
    DemoParty("Elena Rossi", "V3005"),
    DemoParty("Frank O'Neil", "V3006"),
    DemoParty("Grace Kim", "V3007"),
    DemoParty("Hector Ramirez", "V3008", external_id=False),
    DemoParty("Irene Walsh", "V3009"),
    DemoParty("José Álvarez", "V3010"),
    DemoParty("Kofi Mensah", "V3011"),
    DemoParty("Liam Brooks", None, external_id=False),
)

# --- Sage chart of accounts, terms, dimensions --------------------------------------------
# (ACCOUNTNO, TITLE, ACCOUNTTYPE, STATUS)
GL_ACCOUNTS = (
    ("1200", "Accounts Receivable", "balancesheet", "active"),
    ("2000", "Accounts Payable", "balancesheet", "active"),
    ("2300", "Driver Escrow Liability", "balancesheet", "active"),
    ("4000", "Freight Revenue - Linehaul", "incomestatement", "active"),
    ("4010", "Fuel Surcharge Revenue", "incomestatement", "active"),
    ("4020", "Accessorial Revenue", "incomestatement", "active"),
    ("4025", "Detention Revenue", "incomestatement", "active"),
    ("4030", "Deductions / Credits", "incomestatement", "active"),
    ("4040", "E-check Revenue", "incomestatement", "active"),
    ("4090", "Other Revenue (retired)", "incomestatement", "inactive"),
    ("5000", "Purchased Transportation", "incomestatement", "active"),
    ("5010", "Fuel Surcharge Expense", "incomestatement", "active"),
    ("5020", "Accessorial Expense", "incomestatement", "active"),
    ("5030", "Driver Deductions", "incomestatement", "active"),
    ("5040", "E-check Expense", "incomestatement", "active"),
    ("5100", "Driver Wages", "incomestatement", "active"),
    ("5110", "Driver Bonus", "incomestatement", "active"),
    ("5200", "Fuel Expense", "incomestatement", "active"),
    ("5300", "Tolls Expense", "incomestatement", "active"),
    ("5400", "Escrow Contributions", "incomestatement", "active"),
    ("5900", "Misc Expense (retired)", "incomestatement", "inactive"),
)

TERMS = ("Net 15", "Net 30")  # no "Net 45": a term the demo's custom terms ask for

# Standard dimension values: object -> ((id, name), ...)
DIMENSIONS = {
    "LOCATION": (
        ("DAL", "Dallas"),
        ("HOU", "Houston"),
        ("CHI", "Chicago"),
        ("IND", "Indianapolis"),
    ),
    "DEPARTMENT": (("OPS", "Operations"), ("BRK", "Brokerage"), ("ADM", "Administration")),
    "PROJECT": (("P-2026", "2026 Dedicated Lanes"),),
    "TASK": (("T-LH", "Linehaul"),),
    "CLASS": (
        ("DRYVAN", "Dry Van"),
        ("REEFER", "Reefer"),
        ("FLATBED", "Flatbed"),
        ("BROKER", "Brokerage"),
    ),
    "ITEM": (("FREIGHT", "Freight"), ("FUEL", "Fuel")),
    "CONTRACT": (("K-100", "Acme 2026 Contract"),),
    "WAREHOUSE": (("WH-DAL", "Dallas Cross-dock"),),
    "EMPLOYEE": (("EMP-01", "Dispatch Lead"),),
}

# Custom fields on Sage documents: (object, field ID, label, type, max length, required)
CUSTOM_FIELDS = (
    ("ARINVOICE", "LOAD_NUMBER", "Load Number", "text", 20, True),
    ("ARINVOICE", "SHIPPER", "Shipper", "text", 60, False),
    ("ARINVOICE", "LOAD_NOTES", "Load Notes", "text", 200, False),
    ("ARINVOICEITEM", "CHARGE_CODE", "Charge Code", "text", 20, False),
    ("APBILL", "TRIP_NUMBER", "Trip Number", "text", 20, True),
    ("APBILL", "DRIVER_NAME", "Driver Name", "text", 80, False),
    ("APBILLITEM", "TRUCK_NUMBER", "Truck Number", "text", 20, False),
    ("APBILLITEM", "MILES", "Miles", "number", 10, False),
)
