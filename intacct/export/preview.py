"""Payload previews: what a TMS document would send to Sage as each document type it exports
as, and why (the resolution trail); nothing is sent."""

import copy
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from intacct.client import errors
from intacct.connections import models as m
from intacct.connections.sage import client_for

from .documents import DOCUMENT_TYPES
from .resolution import ExportError, run_data
from .run import document_function


@dataclass
class Preview:
    """What one document would send as one document type, and why; nothing is sent."""

    document_type: str
    label: str  # "Load → AR invoice"
    payload: str = ""
    trail: list = field(default_factory=list)
    problem: str = ""


def document_previews(*, doc) -> list[Preview]:
    """Every Sage document `doc` exports as, built without sending: the exact payload and
    the resolution trail, or the problem that stops it."""
    previews, runs = [], {}  # connection id -> RunData: Sage is read once per connection
    for kind in DOCUMENT_TYPES.values():
        if not isinstance(doc, kind.model) or not kind.applies_to(doc):
            continue
        side = "AR invoice" if kind.side == "ar" else "AP bill"
        preview = Preview(
            kind.document_type, f"{kind.entity_type} → {kind.transaction_type} ({side})"
        )
        subsidiary = getattr(doc, kind.subsidiary_field)
        connection = m.Connection.objects.filter(
            subsidiary=subsidiary, status=m.Connection.Status.ACTIVE
        ).first()
        if connection is None:
            preview.problem = (
                f"{subsidiary} has no active Sage Intacct connection, so this does not export."
            )
            previews.append(preview)
            continue
        try:
            if connection.pk not in runs:
                runs[connection.pk] = run_data(connection, client_for(connection), dry_run=True)
            function = document_function(
                data=runs[connection.pk],
                document_type=kind.document_type,
                doc=doc,
                controlid="preview",
                trail=preview.trail,
            )
            node = copy.deepcopy(function.body)
            ET.indent(node)
            preview.payload = ET.tostring(node, encoding="unicode")
        except (ExportError, errors.IntacctError) as error:
            preview.problem = str(error)
        previews.append(preview)
    return previews
