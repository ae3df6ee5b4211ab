"""The sandbox's demo company: its credentials and Sage records, read from config/demo_company.json.

The TMS demo (`seed_demo`) reads the same file, so the two demos agree by sharing IDs, not by
imports: the sandbox knows nothing of the TMS. Of the file it takes what Sage holds: an entity
for each subsidiary (and the extra ones), the customers and vendors that have a Sage ID (and the
second "Summit Foods"), the chart of accounts, terms, dimension values and custom fields.
"""

from config.demo_company import demo_company
from intacct.client import terms

_COMPANY = demo_company()

SENDER_ID = _COMPANY["sage_credentials"]["sender_id"]
SENDER_PASSWORD = _COMPANY["sage_credentials"]["sender_password"]
COMPANY_ID = _COMPANY["sage_credentials"]["company_id"]
USER_ID = _COMPANY["sage_credentials"]["user_id"]
USER_PASSWORD = _COMPANY["sage_credentials"]["user_password"]

# Each a dict of SandboxCustomField fields: object, field_id, label, datatype, max_length, required.
CUSTOM_FIELDS: tuple[dict, ...] = tuple(_COMPANY["custom_fields"])


def term_due(name: str) -> dict:
    """The due rule of a demo term: the demo's terms are net terms, "Net 30" due 30 days
    from the invoice or bill date, as Sage's own example term "N30" is (DUEDATE, DUEFROM)."""
    days = "".join(c for c in name if c.isdigit()) or "0"
    return {"DUEDATE": days, "DUEFROM": terms.FROM_DATE}


def records() -> list[tuple[str, str, dict]]:
    """The company's master data as (object, key, data), in the order the seed stores them."""
    rows: list[tuple[str, str, dict]] = []
    entities = [
        (entity["sage_entity_id"], entity["name"])
        for entity in (*_COMPANY["subsidiaries"], *_COMPANY["sage_extra_entities"])
    ]
    for location_id, name in entities:
        rows.append(
            (
                "LOCATIONENTITY",
                location_id,
                {"LOCATIONID": location_id, "NAME": name, "STATUS": "active", "CURRENCY": "USD"},
            )
        )
        rows.append(
            (
                "LOCATION",
                location_id,
                {"LOCATIONID": location_id, "NAME": name, "PARENTID": "", "STATUS": "active"},
            )
        )
    for account in _COMPANY["gl_accounts"]:
        rows.append(
            (
                "GLACCOUNT",
                account["account_no"],
                {
                    "ACCOUNTNO": account["account_no"],
                    "TITLE": account["title"],
                    "ACCOUNTTYPE": account["account_type"],
                    "STATUS": account["status"],
                },
            )
        )
    for term in _COMPANY["terms"]:
        for object in ("ARTERM", "APTERM"):
            rows.append((object, term, {"NAME": term, "STATUS": "active", **term_due(term)}))
    customers = [
        (party["sage_id"], party["name"])
        for party in (*_COMPANY["customers"], *_COMPANY["sage_duplicate_name_customers"])
        if party["sage_id"]
    ]
    for customer_id, name in customers:
        rows.append(
            (
                "CUSTOMER",
                customer_id,
                {"CUSTOMERID": customer_id, "NAME": name, "STATUS": "active", "TERMNAME": "Net 30"},
            )
        )
    for party in (*_COMPANY["carriers"], *_COMPANY["drivers"]):
        if party["sage_id"]:
            rows.append(
                (
                    "VENDOR",
                    party["sage_id"],
                    {
                        "VENDORID": party["sage_id"],
                        "NAME": party["name"],
                        "STATUS": "active",
                        "TERMNAME": "Net 15",
                    },
                )
            )
    for object, values in _COMPANY["dimensions"].items():
        id_field = "LOCATIONID" if object == "LOCATION" else f"{object}ID"
        # DEPARTMENT names itself TITLE, EMPLOYEE through its contact (FYLE constants.py)
        name_field = {"DEPARTMENT": "TITLE", "EMPLOYEE": "CONTACT.CONTACTNAME"}.get(object, "NAME")
        for value in values:
            rows.append(
                (
                    object,
                    value["id"],
                    {id_field: value["id"], name_field: value["name"], "STATUS": "active"},
                )
            )
    return rows
