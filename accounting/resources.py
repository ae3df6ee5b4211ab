"""CSV import/export (django-import-export) so a company can bring its data in.

Every import is previewed before it is confirmed; a file with any bad row shows each row's error
in the preview and imports nothing. A file whose columns are not the expected ones is refused
before any row is read, naming the missing and unknown columns; no error shows a traceback.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.results import Error, RowResult
from import_export.widgets import ForeignKeyWidget

from config.validators import control_character_problem

from . import models

COLUMNS_DO_NOT_MATCH = (
    "The file's columns do not match this import: {problems}. Its first line must name "
    "the columns {expected}. Nothing was imported."
)
FIRST_BAD_ROW = (
    "Nothing was imported: {count} of {total} rows have a problem. The first is at line "
    "number {line}: {problem}"
)
_SHOWN_COLUMNS = 10


class MessageOnly(Error):
    """An import error shown by its message alone: a traceback shows server paths and code."""

    traceback = ""


def _column_list(names) -> str:
    shown = [name if len(name) <= 40 else f"{name[:40]}…" for name in names[:_SHOWN_COLUMNS]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


class CheckedImport:
    """Columns checked before any row is read; control characters refused in every cell.

    REQUIRED_COLUMNS are needed beyond the import ID fields; OTHER_COLUMNS are read by the
    resource's own code (columns that are not fields). Columns named in HELPERS are filled by
    the resource itself, never required.
    """

    REQUIRED_COLUMNS: tuple[str, ...] = ()
    OTHER_COLUMNS: tuple[str, ...] = ()

    def get_error_result_class(self):
        return MessageOnly

    def expected_columns(self) -> list[str]:
        names = [field.column_name for field in self.get_import_fields()]
        return list(dict.fromkeys([*names, *self.OTHER_COLUMNS]))

    def required_columns(self) -> list[str]:
        helpers = set(getattr(self, "HELPERS", ()))
        ids = [self.fields[name].column_name for name in self.get_import_id_fields()]
        return [c for c in dict.fromkeys([*ids, *self.REQUIRED_COLUMNS]) if c not in helpers]

    def columns_problem(self, headers) -> str:
        """The message naming missing and unknown columns, or "" when they are right."""
        headers = [str(h) for h in headers or []]
        expected = self.expected_columns()
        missing = [c for c in self.required_columns() if c not in headers]
        unknown = [
            h for h in headers if h not in expected and h not in getattr(self, "HELPERS", ())
        ]
        problems = [
            f"{label} {_column_list(names)}"
            for label, names in (("missing", missing), ("unknown", unknown))
            if names
        ]
        if not problems:
            return ""
        return COLUMNS_DO_NOT_MATCH.format(
            problems="; ".join(problems), expected=_column_list(expected)
        )

    def import_data(self, dataset, *args, **kwargs):
        problem = self.columns_problem(dataset.headers)
        if problem:
            result = self.get_result_class()()
            result.total_rows = len(dataset)
            result.append_base_error(MessageOnly(ValueError(problem)))
            return result
        return super().import_data(dataset, *args, **kwargs)

    def import_row(self, row, instance_loader, **kwargs):
        for column, value in row.items():
            problem = control_character_problem(value or "", field=f"Column {column}")
            if problem:
                refused = self.get_row_result_class()()
                refused.import_type = RowResult.IMPORT_TYPE_ERROR
                refused.errors.append(
                    MessageOnly(ValueError(problem), row=row, number=kwargs.get("row_number"))
                )
                return refused
        return super().import_row(row, instance_loader, **kwargs)


def import_problem(result) -> str:
    """One sentence for the top of a failed preview: how many rows failed and the first."""
    if result.base_errors:
        return str(result.base_errors[0].error)
    bad = {line: str(errors[0].error) for line, errors in result.row_errors()}
    for row in result.invalid_rows:
        messages = [str(m) for ms in row.error_dict.values() for m in ms]
        bad.setdefault(row.number, "; ".join(messages))
    if not bad:
        return ""
    line = min(bad)
    return FIRST_BAD_ROW.format(
        count=len(bad), total=result.total_rows, line=line, problem=bad[line]
    )


class ModelResource(CheckedImport, resources.ModelResource):
    pass


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


class CustomerResource(ModelResource):
    Meta = _resource_meta(
        models.Customer,
        ["name"],
        ["name", "email", "phone", "address", "city", "state", "postal_code", "is_active"],
    )


class CarrierResource(ModelResource):
    Meta = _resource_meta(
        models.Carrier, ["name"], ["name", "mc_number", "dot_number", "email", "phone", "is_active"]
    )


class DriverResource(ModelResource):
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


class ExternalAccountingIdResource(PartyColumns, ModelResource):
    """Columns: subsidiary (code), party_type (customer/carrier/driver), party (name), external_id."""

    subsidiary = fields.Field(
        column_name="subsidiary",
        attribute="subsidiary",
        widget=ForeignKeyWidget(models.Subsidiary, field="code"),
    )
    party_type = fields.Field(column_name="party_type")
    party = fields.Field(column_name="party")
    REQUIRED_COLUMNS = ("party_type", "party")

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


class LoadChargeResource(ModelResource):
    """Loads with their charges, one row per charge; the load's columns repeat on each row.

    A row creates the load when its number is new (or updates its header), then the charge.
    """

    load = fields.Field(
        column_name="load_number", attribute="load", widget=ForeignKeyWidget(models.Load, "number")
    )
    REQUIRED_COLUMNS = ("customer", "invoice_as_subsidiary")
    OTHER_COLUMNS = LOAD_COLUMNS = (
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
