"""Bad input: each is refused with a message that names the problem, or reaches Sage intact;
nothing is lost (the TMS record stays as it was and exports once it is fixed)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounting import models as am
from intacct import export
from intacct import messages as msg
from intacct import models as m
from intacct.client import errors, wire
from intacct.connections import services
from intacct.payments import services as payments
from intacct.sandbox import gateway
from intacct.sandbox.gateway import GatewayResponse
from intacct.sandbox.models import SandboxRecord
from tests import factories as f

from .conftest import (
    assert_exported_exactly_once,
    assert_payments_applied_exactly_once,
    make_load,
    make_trip,
    pay,
)

AWKWARD = "Smith & Sons <Freight> \"Quoted\" 'Apostrophe'"
UNICODE = "Société Générale — Zürich 🚚 東京 Ωmega"


def export_all(connection) -> export.ExportSummary:
    total = export.ExportSummary()
    for summary in export.connection_export(connection=connection).values():
        total.add(summary)
    return total


def open_errors():
    return am.ErrorTransaction.objects.filter(status="failed")


def map_custom_field(connection, target, field, source) -> m.CustomFieldMapping:
    """Map a Sage custom field as the wizard does: its label, required flag and max length
    come from Sage's inspect."""
    services.connection_refresh_choices(connection=connection)
    connection.refresh_from_db()
    mapping = m.CustomFieldMapping(
        connection=connection, target=target, sage_field_id=field, source=source
    )
    mapping.full_clean()
    mapping.save()
    return mapping


# --- text Sage must receive exactly as it is ------------------------------------------------


def test_markup_characters_emoji_and_non_ascii_text_reach_sage_intact(connection):
    services.connection_update_settings(
        connection=connection, ar={"auto_create_customer": True}, ap={"auto_create_vendor": True}
    )
    map_custom_field(connection, "ar_invoice", "SHIPPER", "shipper")
    map_custom_field(connection, "ar_invoice", "LOAD_NOTES", "notes")
    customer = f.CustomerFactory(name=f"{AWKWARD} {UNICODE}"[:120])
    load = make_load(
        connection,
        customer=customer,
        po_number="PO <1> & \"2\" 'x' 🚚",
        shipper_name="Dépôt & <Dock 3>",
        notes=f"Fragile & <hot> \"keep\" 'dry' {UNICODE}",
        charges=[
            {"kind": "linehaul", "description": f"Linehaul {AWKWARD}", "rate": Decimal("1200")},
            {
                "kind": "accessorial",
                "item_code": "DETENTION",
                "description": UNICODE,
                "rate": Decimal("75"),
            },
        ],
    )
    carrier = f.CarrierFactory(name=f"Transportes Núñez & Hijos <MX> 🚛 '{UNICODE[:8]}'")
    trip = make_trip(connection, carrier=carrier, carrier_invoice_number="INV <7> & 'b' \"c\"")

    summary = export_all(connection)

    assert (summary.created, summary.failed) == (2, 0)
    invoice = SandboxRecord.objects.get(object="ARINVOICE")
    sage_customer = SandboxRecord.objects.get(object="CUSTOMER", key=invoice.data["CUSTOMERID"])
    assert sage_customer.data["NAME"] == customer.name
    assert invoice.data["DOCNUMBER"] == load.po_number
    assert (invoice.data["SHIPPER"], invoice.data["LOAD_NOTES"]) == (load.shipper_name, load.notes)
    assert [line["ENTRYDESCRIPTION"] for line in invoice.data["ITEMS"]] == [
        f"Linehaul {AWKWARD}",
        UNICODE,
    ]
    bill = SandboxRecord.objects.get(object="APBILL")
    vendor = SandboxRecord.objects.get(object="VENDOR", key=bill.data["VENDORID"])
    assert (vendor.data["NAME"], bill.data["DOCNUMBER"]) == (
        carrier.name,
        trip.carrier_invoice_number,
    )
    assert_exported_exactly_once(load, trip)

    # ... and the same text comes back with the payment, untouched.
    pay(load, memo=f'Paid & <cleared> "in full" {UNICODE}'[:200], check_number="Nº 1001 & <2>")
    run = payments.payments_import(connection=connection)
    assert (run.status, run.applied) == ("succeeded", 1)
    payment = am.Payment.objects.get()
    assert payment.note == f'Paid & <cleared> "in full" {UNICODE}'[:200]
    assert payment.check_number == "Nº 1001 & <2>"
    assert_payments_applied_exactly_once()


def test_a_control_character_names_the_document_and_the_rest_of_the_run_goes_on(connection):
    broken = make_load(connection, po_number="PO\x0b17")
    fine = make_load(connection)
    trip = make_trip(connection)

    summary = export_all(connection)

    assert (summary.created, summary.failed) == (2, 1)
    error = open_errors().get()
    assert error.reference == broken.number
    assert "control character that XML cannot carry" in error.message
    assert "PO\\x0b17" in error.message
    broken.po_number = "PO 17"
    broken.save()
    export_all(connection)
    assert_exported_exactly_once(broken, fine, trip)
    assert not open_errors().exists()


# --- a 10,000-character note ------------------------------------------------------------------


def test_a_10000_character_note_is_refused_by_the_custom_field_max_length_and_kept(connection):
    map_custom_field(connection, "ar_invoice", "LOAD_NOTES", "notes")
    note = ("Check in at the north gate & call <dispatch>. " * 220)[:10_000]
    load = make_load(connection, notes=note)

    summary = export_all(connection)

    assert summary.failed == 1 and not SandboxRecord.objects.filter(object="ARINVOICE").exists()
    assert open_errors().get().message == msg.CUSTOM_FIELD_TOO_LONG.format(name="Load Notes")
    load.refresh_from_db()
    assert load.notes == note  # nothing cut, nothing lost
    load.notes = note[:199] + "!"
    load.save()
    export_all(connection)
    assert_exported_exactly_once(load)
    assert SandboxRecord.objects.get(object="ARINVOICE").data["LOAD_NOTES"] == note[:199] + "!"
    assert not open_errors().exists()


def test_a_10000_character_value_on_a_bill_is_refused_by_sage_with_its_reason(connection):
    map_custom_field(connection, "ap_bill", "DRIVER_NAME", "notes")
    trip = make_trip(connection)
    am.Load.objects.filter(pk=trip.load_id).update(notes="x" * 10_000)
    am.Trip.objects.filter(pk=trip.pk).update(updated_at=trip.updated_at)

    export_all(connection)

    error = open_errors().get()
    assert "is 10000 characters; the maximum is 80" in error.message and error.support_id
    assert not SandboxRecord.objects.filter(object="APBILL").exists()
    am.Load.objects.filter(pk=trip.load_id).update(notes="Driver: Ana Núñez")
    trip.save()  # changed after the failure: eligible again
    export_all(connection)
    assert_exported_exactly_once(trip)
    assert SandboxRecord.objects.get(object="APBILL").data["DRIVER_NAME"] == "Driver: Ana Núñez"


# --- zero and negative totals -----------------------------------------------------------------


def test_zero_and_negative_totals_reach_sage_to_the_cent_once(connection):
    services.connection_update_settings(
        connection=connection, ar={"export_deductions_as_credits": True}
    )
    m.AccountMapping.objects.create(
        connection=connection, side="ar", category="deductions", gl_account_no="4000"
    )
    zero = make_load(connection, charges=[{"kind": "linehaul", "rate": Decimal("0")}])
    negative = make_load(
        connection,
        charges=[
            {"kind": "linehaul", "rate": Decimal("100.10")},
            {"kind": "deduction", "description": "Claim", "rate": Decimal("300.35")},
        ],
    )
    free_trip = make_trip(connection)
    am.TripCharge.objects.filter(trip=free_trip).update(rate=0, amount=0)

    assert export_all(connection).failed == 0

    totals = {
        r.data["RECORDID"]: Decimal(str(r.data["TOTALENTERED"]))
        for r in SandboxRecord.objects.filter(object__in=["ARINVOICE", "APBILL"])
    }
    assert totals == {
        zero.number: Decimal("0.00"),
        negative.number: Decimal("-200.25"),
        free_trip.number: Decimal("0.00"),
    }
    export_all(connection)
    assert_exported_exactly_once(zero, negative, free_trip)
    # A zero invoice has nothing to pay: the import neither closes it nor fails.
    run = payments.payments_import(connection=connection)
    assert (run.status, run.closed) == ("succeeded", 0)


# --- missing TMS data -------------------------------------------------------------------------


def test_a_document_without_lines_says_so_and_exports_once_it_has_them(connection):
    load = make_load(connection, charges=[])
    trip = make_trip(connection)
    trip.lines.all().delete()

    assert export_all(connection).failed == 2

    assert sorted(open_errors().values_list("message", flat=True)) == [
        f"{load.number} has no lines to invoice.",
        f"{trip.number} has no lines to bill.",
    ]
    f.LoadChargeFactory(load=load, rate=Decimal("900"))
    f.TripChargeFactory(trip=trip, rate=Decimal("650"))
    load.save()
    trip.save()
    export_all(connection)
    assert_exported_exactly_once(load, trip)
    assert not open_errors().exists()


def test_a_customer_or_carrier_sage_does_not_know_fails_with_the_seed_message(connection):
    load = make_load(connection, customer=f.CustomerFactory(name="Nobody Sage Knows"))
    trip = make_trip(connection, carrier=f.CarrierFactory(name="Unknown Haulers"))

    export_all(connection)

    assert {(e.reference, e.message) for e in open_errors()} == {
        (load.number, msg.CUSTOMER_NOT_LINKED),
        (trip.number, msg.VENDOR_NOT_LINKED),
    }
    f.ExternalIdFactory(
        subsidiary=connection.subsidiary, customer=load.customer, external_id="C1001"
    )
    f.ExternalIdFactory(
        subsidiary=connection.subsidiary, customer=None, carrier=trip.carrier, external_id="V2001"
    )
    load.save()
    trip.save()
    export_all(connection)
    assert_exported_exactly_once(load, trip)


def test_a_load_without_a_customer_or_a_trip_without_a_payee_cannot_be_saved(connection):
    load = am.Load(number="L-NOBODY", invoice_as_subsidiary=connection.subsidiary)
    with pytest.raises(ValidationError) as refused:
        load.full_clean()
    assert "customer" in refused.value.message_dict
    trip = make_trip(connection)
    trip.carrier = trip.driver = None
    with pytest.raises(Exception, match="trip_carrier_or_driver"):
        trip.save()


# --- invalid CSV imports ----------------------------------------------------------------------

LOADS_HEADER = (
    "load_number,invoice_as_subsidiary,tender_as_subsidiary,customer,reference_number,po_number,"
    "shipper_name,consignee_name,pickup_date,delivery_date,kind,item_code,description,quantity,"
    "rate\n"
)
BAD_FILES = {
    "not a CSV at all": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe", "UnicodeDecodeError"),
    "empty": (b"", "The submitted file is empty."),
    "other columns": (b"number,amount\nL-1,100\n", "unknown number, amount"),
    "text for a number": (
        (LOADS_HEADER + "L-1,RF,,Acme,,,,,,,linehaul,FLAT,,1,abc\n").encode(),
        "rate &#x27;abc&#x27; is not a number.",
    ),
    "impossible date": (
        (LOADS_HEADER + "L-1,RF,,Acme,,,,,2026-13-45,,linehaul,FLAT,,1,100\n").encode(),
        "it is an invalid date",
    ),
    "Latin-1, not UTF-8": (
        (LOADS_HEADER + "L-1,RF,,Société Générale,,,,,,,linehaul,FLAT,,1,100\n").encode("latin-1"),
        "UnicodeDecodeError",
    ),
    "unknown charge kind": (
        (LOADS_HEADER + "L-1,RF,,Acme,,,,,,,teleport,FLAT,,1,100\n").encode(),
        "Value &#x27;teleport&#x27; is not a valid choice.",
    ),
    "too long a number": (
        (LOADS_HEADER + "L-" + "9" * 100 + ",RF,,Acme,,,,,,,linehaul,FLAT,,1,100\n").encode(),
        "Ensure this value has at most 30 characters (it has 102).",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_an_invalid_csv_import_names_the_problem_and_imports_nothing(admin_client, case):
    f.SubsidiaryFactory(code="RF", name="Ridgeline Freight")
    f.CustomerFactory(name="Acme")
    content, says = BAD_FILES[case]
    url = reverse("admin:accounting_load_import")
    formats = admin_client.get(url).context["form"].fields["format"].choices
    csv_format = next(value for value, label in formats if label == "csv")

    response = admin_client.post(
        url,
        {
            "resource": "0",
            "format": str(csv_format),
            "import_file": SimpleUploadedFile("loads.csv", content),
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert says in page
    assert 'name="confirm"' not in page and "Confirm import" not in page
    assert not am.Load.objects.exists() and not am.LoadCharge.objects.exists()


# --- XML answers that declare entities --------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<response><control><status>success</status></control><operation><result>&lol3;</result></operation>
</response>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<response><control><status>&secret;</status></control></response>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["expansion", "external"])
def test_an_answer_declaring_entities_is_rejected_unread(connection, sage_gateway, body):
    load = make_load(connection)
    trip = make_trip(connection)
    export_all(connection)
    pay(load)
    pay(trip)
    sage_gateway.on(
        lambda n, sent, answer: (
            GatewayResponse(200, body, answer.headers)
            if b"<object>ARPYMT</object>" in sent
            else answer
        )
    )

    run = payments.payments_import(connection=connection)

    assert run.status == "failed"
    assert "declares a DOCTYPE or entities; it was rejected unread" in run.error
    assert "root:" not in run.error and "lollol" not in run.error
    assert not am.Payment.objects.exists()
    sage_gateway.rules.clear()
    assert payments.payments_import(connection=connection).applied == 2
    assert_payments_applied_exactly_once()


def test_an_answer_to_a_write_declaring_entities_is_looked_up_before_anything_is_resent(
    connection, sage_gateway
):
    loads = [make_load(connection) for _ in range(3)]
    sage_gateway.on(
        lambda n, sent, answer: (
            GatewayResponse(200, BILLION_LAUGHS, answer.headers)
            if b"<create_invoice>" in sent
            else answer
        )
    )

    export_all(connection)

    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 3  # applied by Sage
    assert "rejected unread" in open_errors().first().message
    sage_gateway.rules.clear()
    export_all(connection)
    assert_exported_exactly_once(*loads)


def test_the_client_and_the_sandbox_refuse_entity_declarations_on_their_own(sandbox):
    with pytest.raises(errors.ResponseFormatError, match="declares a DOCTYPE or entities"):
        wire.parse(BILLION_LAUGHS, http_status=200)
    answer = gateway.handle(EXTERNAL_ENTITY.replace(b"response", b"request"))
    assert b"DOCTYPE and ENTITY declarations are not allowed" in answer.body
    assert b"root:" not in answer.body
