"""One charge, one Sage document: the members of a group document (loads on a summary invoice,
trips in a carrier settlement, paystubs in a driver settlement) and the Sage documents they
already have.

The rule (README "One charge, one Sage document"):
1. A member already in Sage on its own (its own ledger row is synced, or sent and not yet
   settled) is left out of the group's Sage document, and the group's preview and page say so.
   Reversing the member's own document instead is not an option the product can take alone: an
   AP bill that is posted needs a manual reversal in Sage.
2. A member billed inside a group's Sage document is not billed on its own while that version of
   the group stands, even after it leaves the group: it is billed alone once the group's Sage
   document no longer carries it (the group's next version). Nor is it billed inside another
   group it joined meanwhile: left out of that one, with a note, until the first no longer
   bills it.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounting import models as am
from intacct.connections import models as m

from ..resolution import ExportError, RunData

# Ledger states in which a document is (or may be, until settled) in Sage.
IN_SAGE = (am.SyncRecord.State.SYNCED, am.SyncRecord.State.PENDING, am.SyncRecord.State.UNKNOWN)

LEFT_OUT = (
    "{member} {number} was {verb} on its own on {date} (Sage {sage_object} {reference}): "
    "it is left out of this {group}, so it is not billed twice."
)
LEFT_OUT_PENDING = (
    "{member} {number} was sent to Sage on its own and its outcome is not settled yet: it is "
    "left out of this {group} until it is, so it is not billed twice."
)
IN_ANOTHER_GROUP = (
    "{member} {number} is still billed inside another Sage document ({sage_object} "
    "{reference}, the {group} it left): it is left out of this {group} until that document no "
    "longer bills it (that {group} changed in Sage, or its document reversed there), so it is "
    "not billed twice."
)
NOTHING_LEFT = "{group_number} has nothing left to bill that is not billed already. {notes}"
ALL_LEFT_OUT = (
    "Every {member} on {group_number} is already in Sage on its own: this {group} has nothing "
    "left to bill. Remove them from it, or remove their own documents from Sage first."
)


@dataclass(frozen=True)
class Group:
    """How a group document names its members."""

    member_type: str  # the members' document type
    member: str  # "Load"
    verb: str  # what their own Sage document did: "invoiced"
    label: str  # "summary invoice"


GROUPS = {
    "summary_invoice": Group("load", "Load", "invoiced", "summary invoice"),
    "carrier_settlement": Group("trip", "Trip", "billed", "carrier settlement"),
    "driver_settlement": Group("paystub", "Paystub", "billed", "driver settlement"),
}


def _own_documents(connection, document_type: str, ids=None) -> dict[int, dict]:
    """The connection's documents of `document_type` in Sage on their own, by id."""
    rows = am.SyncRecord.objects.filter(
        connection=connection, document_type=document_type, role="", state__in=IN_SAGE
    )
    if ids is not None:
        rows = rows.filter(document_id__in=ids)
    fields = ("document_id", "state", "synced_at", "sage_object", "reference")
    return {row["document_id"]: row for row in rows.values(*fields)}


def _in_groups(connection, member_type: str, ids=None) -> dict[int, list[dict]]:
    """The members of `member_type` billed inside a group's standing Sage document, by id."""
    rows = am.SyncMember.objects.filter(
        record__connection=connection, record__state__in=IN_SAGE, document_type=member_type
    )
    if ids is not None:
        rows = rows.filter(document_id__in=ids)
    found: dict[int, list[dict]] = {}
    fields = (
        "document_id",
        "record__document_type",
        "record__document_id",
        "record__sage_object",
        "record__reference",
    )
    for row in rows.values(*fields):
        found.setdefault(row["document_id"], []).append(row)
    return found


def _elsewhere(in_groups: dict, document_type: str, group_doc) -> dict[int, dict]:
    """Of `in_groups`, the members billed inside another group's document than `group_doc`'s
    (a member that left that group while its Sage document still bills it)."""
    return {
        member: other[0]
        for member, rows in in_groups.items()
        if (
            other := [
                r
                for r in rows
                if (r["record__document_type"], r["record__document_id"])
                != (document_type, group_doc.pk)
            ]
        )
    }


def _split(own: dict, members, group: Group, elsewhere=None) -> tuple[list, list[str]]:
    billed, notes = [], []
    elsewhere = elsewhere or {}
    for doc in members:
        row = own.get(doc.pk)
        other = elsewhere.get(doc.pk)
        if row is None and other is not None:
            notes.append(
                IN_ANOTHER_GROUP.format(
                    member=group.member,
                    number=doc.number,
                    sage_object=other["record__sage_object"],
                    reference=other["record__reference"],
                    group=group.label,
                )
            )
        elif row is None:
            billed.append(doc)
        elif row["state"] == am.SyncRecord.State.SYNCED:
            notes.append(
                LEFT_OUT.format(
                    member=group.member,
                    number=doc.number,
                    verb=group.verb,
                    date=_day(row["synced_at"]),
                    sage_object=row["sage_object"],
                    reference=row["reference"],
                    group=group.label,
                )
            )
        else:
            notes.append(
                LEFT_OUT_PENDING.format(member=group.member, number=doc.number, group=group.label)
            )
    return billed, notes


def members_split(data: RunData, document_type: str, group_doc, members) -> tuple[list, list[str]]:
    """(the members the group document bills, a note for each one left out because it is in
    Sage on its own or still inside another group's Sage document). The ledger is read once per run and member type, on first use (a group
    type runs after its members' type). Raises ExportError when none is left to bill."""
    group = GROUPS[document_type]
    own_key, groups_key = ("own_documents", group.member_type), ("in_groups", group.member_type)
    if own_key not in data.cache:
        data.cache[own_key] = _own_documents(data.connection, group.member_type)
    if groups_key not in data.cache:
        data.cache[groups_key] = _in_groups(data.connection, group.member_type)
    elsewhere = _elsewhere(data.cache[groups_key], document_type, group_doc)
    billed, notes = _split(data.cache[own_key], members, group, elsewhere)
    if notes and not billed:
        if any(doc.pk in elsewhere for doc in members):
            raise ExportError(
                NOTHING_LEFT.format(group_number=group_doc.number, notes=" ".join(notes))
            )
        raise ExportError(
            ALL_LEFT_OUT.format(
                member=group.member.lower(), group_number=group_doc.number, group=group.label
            )
        )
    return billed, notes


def group_notes(*, document_type: str, group_doc, members) -> list[str]:
    """For the group's own page: each member left out of its Sage document, and why (one query
    for the connection, one for the members' ledger rows)."""
    group = GROUPS[document_type]
    connection = m.Connection.objects.filter(
        subsidiary_id=group_doc.subsidiary_id, status=m.Connection.Status.ACTIVE
    ).first()
    if connection is None:
        return []
    members = list(members)
    own = _own_documents(connection, group.member_type, ids=[doc.pk for doc in members])
    in_groups = _in_groups(connection, group.member_type, ids=[doc.pk for doc in members])
    elsewhere = _elsewhere(in_groups, document_type, group_doc)
    return _split(own, members, group, elsewhere)[1]


def _day(moment: dt.datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d}" if moment else "an earlier run"


def billed_in_a_group(connection, member_type: str) -> Exists:
    """Members a group's standing Sage document bills (to exclude from their own export)."""
    return Exists(
        am.SyncMember.objects.filter(
            record__connection=connection,
            record__state__in=IN_SAGE,
            document_type=member_type,
            document_id=OuterRef("pk"),
        )
    )


def in_sage_on_its_own(connection, member_type: str) -> Exists:
    """Members in Sage on their own (their own ledger row synced, or sent and not settled): a
    group leaves them out (rule 1), so their own document stays the one that bills them and
    their changes go through it, even while they sit in a group."""
    return Exists(
        am.SyncRecord.objects.filter(
            connection=connection,
            document_type=member_type,
            role="",
            document_id=OuterRef("pk"),
            state__in=IN_SAGE,
        )
    )
