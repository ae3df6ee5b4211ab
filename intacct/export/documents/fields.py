"""The TMS fields a document offers to dimensions and custom fields, and its charge lines."""

from accounting import models as am

from ..payloads import Line, fields_reader

# --- TMS fields -------------------------------------------------------------------------------


def _name(obj) -> str:
    return obj.name if obj is not None else ""


def load_fields(load: am.Load) -> dict[str, str]:
    """A load's TMS fields, as dimension and custom-field sources name them."""
    driver = load.driver
    return {
        "subsidiary": _name(load.invoice_as_subsidiary),
        "fleet": _name(load.fleet),
        "office": _name(load.office),
        "driver": _name(driver),
        "driver_name": _name(driver),
        "contractor_type": driver.contractor_type if driver else "",
        "truck": load.truck.number if load.truck_id else "",
        "truck_number": load.truck.number if load.truck_id else "",
        "trailer": load.trailer.number if load.trailer_id else "",
        "trailer_number": load.trailer.number if load.trailer_id else "",
        "customer": load.customer.name,
        "load_number": load.number,
        "reference_number": load.reference_number,
        "po_number": load.po_number,
        "shipper": load.shipper_name,
        "consignee": load.consignee_name,
        "dispatcher": load.dispatcher,
        "notes": load.notes,
        "pickup_date": load.pickup_date.strftime("%m/%d/%Y") if load.pickup_date else "",
        "delivery_date": load.delivery_date.strftime("%m/%d/%Y") if load.delivery_date else "",
    }


def trip_fields(trip: am.Trip) -> dict[str, str]:
    driver = trip.driver
    return {
        **load_fields(trip.load),
        "subsidiary": trip.subsidiary.name,
        "driver": _name(driver),
        "driver_name": _name(driver),
        "contractor_type": driver.contractor_type if driver else "",
        "carrier": _name(trip.carrier),
        "trip_number": trip.number,
        "miles": str(trip.miles) if trip.miles is not None else "",
    }


def driver_fields(driver: am.Driver, subsidiary, number: str) -> dict[str, str]:
    # Documents that are neither a load nor a trip answer "load/trip number" with their own.
    return {
        "subsidiary": subsidiary.name,
        "driver": driver.name,
        "driver_name": driver.name,
        "contractor_type": driver.contractor_type,
        "carrier": _name(driver.carrier),
        "load_number": number,
        "trip_number": number,
    }


def carrier_fields(carrier: am.Carrier, subsidiary, number: str) -> dict[str, str]:
    return {
        "subsidiary": subsidiary.name,
        "carrier": carrier.name,
        "load_number": number,
        "trip_number": number,
    }


def charge_line(line, category: str, fields: dict, memo_prefix="", kind_code=False) -> Line:
    # Driver pay items are named by their kind when no item code is set (BONUS, PER_DIEM).
    return Line(
        id=line.pk,
        category=category,
        item_code=line.item_code or (line.kind.upper() if kind_code else ""),
        amount=line.signed_amount,
        memo=f"{memo_prefix}{line.description or line.get_kind_display()}",
        value_of=fields_reader({**fields, "charge_code": line.item_code}),
        label=f"{line.get_kind_display()} {line.item_code}".strip(),
    )
