"""The demo company as the TMS sees it, read from config/demo_company.json for `seed_demo`.

The Sage Intacct sandbox seeds its company from the same file (it imports nothing of the TMS),
so the demo's parties line up with the sandbox's records, except where the mismatch is the
point: a few parties have no Sage record (export fails with the troubleshooting message until
Auto Create is on or an ID is set), a few have no External Accounting ID (name matching), and
two Sage customers share one name (a name match must refuse to guess). Plain data.
"""

from dataclasses import dataclass

from config.demo_company import demo_company

_COMPANY = demo_company()

# --- Sage company -------------------------------------------------------------------------
SAGE_SENDER_ID = _COMPANY["sage_credentials"]["sender_id"]
SAGE_SENDER_PASSWORD = _COMPANY["sage_credentials"]["sender_password"]
SAGE_COMPANY_ID = _COMPANY["sage_credentials"]["company_id"]
SAGE_USER_ID = _COMPANY["sage_credentials"]["user_id"]
SAGE_USER_PASSWORD = _COMPANY["sage_credentials"]["user_password"]


@dataclass(frozen=True)
class DemoSubsidiary:
    code: str
    name: str  # Sage child entity (LOCATIONENTITY) of the same name, case-insensitive
    sage_entity_id: str
    offices: tuple[str, ...]
    fleets: tuple[str, ...]


SUBSIDIARIES = tuple(
    DemoSubsidiary(
        code=s["code"],
        name=s["name"],
        sage_entity_id=s["sage_entity_id"],
        offices=tuple(s["offices"]),
        fleets=tuple(s["fleets"]),
    )
    for s in _COMPANY["subsidiaries"]
)
# The Sage top level holds one more entity that matches no TMS subsidiary.
SAGE_EXTRA_ENTITIES = tuple(
    (e["sage_entity_id"], e["name"]) for e in _COMPANY["sage_extra_entities"]
)


@dataclass(frozen=True)
class DemoParty:
    name: str
    sage_id: str | None  # the Sage CUSTOMERID / VENDORID, None when Sage has no record
    external_id: bool = True  # whether the TMS profile carries the External Accounting ID


def _parties(key: str) -> tuple[DemoParty, ...]:
    return tuple(DemoParty(**party) for party in _COMPANY[key])


# 25 customers / brokers. Three have no Sage record; three rely on name matching; two Sage
# customers are named "Summit Foods" (C1024 and a second one only in Sage).
CUSTOMERS = _parties("customers")
SAGE_DUPLICATE_NAME_CUSTOMERS = tuple(
    (c["sage_id"], c["name"]) for c in _COMPANY["sage_duplicate_name_customers"]
)
# 12 carriers (vendors). Two have no Sage record.
CARRIERS = _parties("carriers")
# 12 drivers (vendors in Sage for pay). Half are owner operators.
DRIVERS = _parties("drivers")

# --- Sage chart of accounts, terms, dimensions --------------------------------------------
# (ACCOUNTNO, TITLE, ACCOUNTTYPE, STATUS)
GL_ACCOUNTS = tuple(
    (a["account_no"], a["title"], a["account_type"], a["status"]) for a in _COMPANY["gl_accounts"]
)

TERMS = tuple(_COMPANY["terms"])  # no "Net 45": a term the demo's custom terms ask for

# Standard dimension values: object -> ((id, name), ...)
DIMENSIONS = {
    object: tuple((v["id"], v["name"]) for v in values)
    for object, values in _COMPANY["dimensions"].items()
}

# Custom fields on Sage documents: (object, field ID, label, type, max length, required)
CUSTOM_FIELDS = tuple(
    (c["object"], c["field_id"], c["label"], c["datatype"], c["max_length"], c["required"])
    for c in _COMPANY["custom_fields"]
)
