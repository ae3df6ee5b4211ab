"""CSV import/export (django-import-export) so a company can bring its data in.

Every import is previewed before it is confirmed; a file with any bad row shows each row's error
in the preview and imports nothing.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from . import models


def _resource_meta(model, import_id_fields, fields_, **extra):
    attrs = {
        "model": model,
        "import_id_fields": import_id_fields,
        "fields": fields_,
        "clean_model_instances": True,
        "skip_unchanged": True,
        "report_skipped": True,
        "use_transactions": True,
        **extra,
    }
    return type("Meta", (), attrs)


PARTY_MODELS = {"customer": models.Customer, "carrier": models.Carrier, "driver": models.Driver}


def party_from_row(row) -> tuple[str, models.Party]:
    """(party_type, party) from a row's party_type and party (name) columns; ValueError if none."""
    party_type = (row.get("party_type") or "").strip().lower()
    model = PARTY_MODELS.get(party_type)
    if model is None:
        raise ValueError(
            f"party_type '{row.get('party_type')}' is not one of customer, carrier, driver."
        )
    name = (row.get("party") or "").strip()
    party = model.objects.filter(name__iexact=name).first()
    if party is None:
        raise ValueError(f"No {party_type} named '{name}': create it first or fix the name.")
    return party_type, party


class PartyColumns:
    """Export columns party_type and party (name) for rows tied to a customer/carrier/driver."""

    def dehydrate_party_type(self, obj):
        return "customer" if obj.customer_id else "carrier" if obj.carrier_id else "driver"

    def dehydrate_party(self, obj):
        return str(obj.party)


class CustomerResource(resources.ModelResource):
    Meta = _resource_meta(
        models.Customer,
        ["name"],
        ["name", "email", "phone", "address", "city", "state", "postal_code", "is_active"],
    )


class CarrierResource(resources.ModelResource):
    Meta = _resource_meta(
        models.Carrier, ["name"], ["name", "mc_number", "dot_number", "email", "phone", "is_active"]
    )


class DriverResource(resources.ModelResource):
    subsidiary = fields.Field(
        column_name="subsidiary",
        attribute="subsidiary",
        widget=ForeignKeyWidget(models.Subsidiary, field="code"),
    )
    carrier = fields.Field(
        column_name="carrier", attribute="carrier", widget=ForeignKeyWidget(models.Carrier, "name")
    )

    Meta = _resource_meta(
        models.Driver,
        ["name"],
        [
            "name",
            "subsidiary",
            "driver_type",
            "contractor_type",
            "carrier",
            "email",
            "phone",
            "is_active",
        ],
    )


class ExternalAccountingIdResource(PartyColumns, resources.ModelResource):
    """Columns: subsidiary (code), party_type (customer/carrier/driver), party (name), external_id."""

    subsidiary = fields.Field(
        column_name="subsidiary",
        attribute="subsidiary",
        widget=ForeignKeyWidget(models.Subsidiary, field="code"),
    )
    party_type = fields.Field(column_name="party_type")
    party = fields.Field(column_name="party")

    Meta = _resource_meta(
        models.ExternalAccountingId,
        ["subsidiary", "external_id"],
        ["subsidiary", "party_type", "party", "external_id"],
    )

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        party_type, party = party_from_row(row)
        instance.customer = instance.carrier = instance.driver = None
        setattr(instance, party_type, party)


class LoadChargeResource(resources.ModelResource):
    """Loads with their charges, one row per charge; the load's columns repeat on each row.

    A row creates the load when its number is new (or updates its header), then the charge.
    """

    load = fields.Field(
        column_name="load_number", attribute="load", widget=ForeignKeyWidget(models.Load, "number")
    )
    LOAD_COLUMNS = (
        "invoice_as_subsidiary",
        "tender_as_subsidiary",
        "customer",
        "reference_number",
        "po_number",
        "shipper_name",
        "consignee_name",
        "pickup_date",
        "delivery_date",
    )

    Meta = _resource_meta(
        models.LoadCharge,
        ["load", "kind", "item_code", "description"],
        ["load", "kind", "item_code", "description", "quantity", "rate"],
    )

    def get_export_headers(self, selected_fields=None):
        return [*super().get_export_headers(selected_fields), *self.LOAD_COLUMNS]

    def export_resource(self, instance, selected_fields=None, **kwargs):
        load = instance.load
        header = [
            load.invoice_as_subsidiary.code if load.invoice_as_subsidiary_id else "",
            load.tender_as_subsidiary.code if load.tender_as_subsidiary_id else "",
            load.customer.name,
            load.reference_number,
            load.po_number,
            load.shipper_name,
            load.consignee_name,
            load.pickup_date.isoformat() if load.pickup_date else "",
            load.delivery_date.isoformat() if load.delivery_date else "",
        ]
        return [*super().export_resource(instance, selected_fields, **kwargs), *header]

    def get_queryset(self):
        return models.LoadCharge.objects.select_related(
            "load__customer", "load__invoice_as_subsidiary", "load__tender_as_subsidiary"
        )

    def before_import_row(self, row, **kwargs):
        """Create or update the row's load so the charge can point at it."""
        number = (row.get("load_number") or "").strip()
        if not number:
            raise ValueError("load_number is empty: every row needs the load's number.")
        for column in ("quantity", "rate"):
            try:
                if Decimal(str(row.get(column) or "0")) < 0:
                    raise ValueError(
                        f"{column} is negative ({row.get(column)}): enter zero or more."
                    )
            except InvalidOperation:
                raise ValueError(f"{column} '{row.get(column)}' is not a number.") from None
        customer_name = (row.get("customer") or "").strip()
        customer = models.Customer.objects.filter(name__iexact=customer_name).first()
        if customer is None:
            raise ValueError(f"No customer named '{customer_name}': import customers first.")
        invoice_as = self._subsidiary(row.get("invoice_as_subsidiary"), required=True)
        tender_as = self._subsidiary(row.get("tender_as_subsidiary"), required=False)
        load = models.Load.objects.filter(number=number).first() or models.Load(number=number)
        load.customer = customer
        load.invoice_as_subsidiary = invoice_as
        load.tender_as_subsidiary = tender_as
        for column in ("reference_number", "po_number", "shipper_name", "consignee_name"):
            setattr(load, column, (row.get(column) or "").strip())
        for column in ("pickup_date", "delivery_date"):
            setattr(load, column, row.get(column) or None)
        try:
            load.full_clean()
        except ValidationError as exc:
            raise ValueError("; ".join(exc.messages)) from None
        load.save()

    @staticmethod
    def _subsidiary(code, *, required):
        code = (code or "").strip()
        if not code:
            if required:
                raise ValueError(models.LOAD_NEEDS_INVOICE_AS)
            return None
        subsidiary = models.Subsidiary.objects.filter(code__iexact=code).first()
        if subsidiary is None:
            raise ValueError(f"No subsidiary with code '{code}'.")
        return subsidiary
