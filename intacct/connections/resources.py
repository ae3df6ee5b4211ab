"""CSV import/export (previewed before confirming) for account mappings, dimension value maps
and custom payment terms. A file with any bad row imports nothing."""

from import_export import fields
from import_export.widgets import ForeignKeyWidget

from accounting.models import Carrier, Customer, Driver
from accounting.resources import PARTY_MODELS, ModelResource, PartyColumns, party_from_row

from . import models as m


def _meta(model, import_id_fields, fields_):
    return type(
        "Meta",
        (),
        {
            "model": model,
            "import_id_fields": import_id_fields,
            "fields": fields_,
            "clean_model_instances": True,
            "skip_unchanged": True,
            "report_skipped": True,
            "use_transactions": True,
        },
    )


class HelperColumns:
    """Columns the importer fills from friendlier ones (names instead of IDs)."""

    HELPERS: tuple[str, ...] = ()

    def before_import(self, dataset, **kwargs):
        for column in self.HELPERS:
            if column not in (dataset.headers or []):
                dataset.append_col([""] * len(dataset), header=column)
        return super().before_import(dataset, **kwargs)

    def get_export_fields(self, selected_fields=None):
        return [
            f
            for f in super().get_export_fields(selected_fields)
            if f.column_name not in self.HELPERS
        ]


def connection_field() -> fields.Field:
    return fields.Field(
        column_name="subsidiary",
        attribute="connection",
        widget=ForeignKeyWidget(m.Connection, field="subsidiary__code"),
    )


class AccountMappingResource(ModelResource):
    """Columns: subsidiary (code), side (ar/ap), category (blank = master), item_code, account."""

    connection = connection_field()
    REQUIRED_COLUMNS = ("gl_account_no",)

    Meta = _meta(
        m.AccountMapping,
        ["connection", "side", "category", "item_code"],
        ["connection", "side", "category", "item_code", "gl_account_no"],
    )


class DimensionValueMapResource(HelperColumns, ModelResource):
    """Columns: subsidiary (code), dimension (location, class, ...), tms_value, sage_value."""

    subsidiary = fields.Field(column_name="subsidiary")
    dimension = fields.Field(column_name="dimension")
    mapping = fields.Field(
        attribute="mapping", column_name="mapping", widget=ForeignKeyWidget(m.DimensionMapping)
    )
    HELPERS = ("mapping",)
    REQUIRED_COLUMNS = ("subsidiary", "dimension", "sage_value")

    Meta = _meta(
        m.DimensionValueMap,
        ["mapping", "tms_value"],
        ["subsidiary", "dimension", "tms_value", "sage_value", "mapping"],
    )

    def dehydrate_subsidiary(self, obj):
        return obj.mapping.connection.subsidiary.code

    def dehydrate_dimension(self, obj):
        return obj.mapping.dimension

    def before_import_row(self, row, **kwargs):
        code, dimension = (
            (row.get("subsidiary") or "").strip(),
            (row.get("dimension") or "").strip(),
        )
        mapping = m.DimensionMapping.objects.filter(
            connection__subsidiary__code=code, dimension=dimension.lower()
        ).first()
        if mapping is None:
            raise ValueError(
                f"Subsidiary {code} has no {dimension or '(blank)'} dimension "
                "mapping: add the mapping on the connection page first."
            )
        row["mapping"] = mapping.pk


class CustomPaymentTermResource(PartyColumns, HelperColumns, ModelResource):
    """Columns: subsidiary (code), party_type (customer/carrier/driver), party (name), term."""

    connection = connection_field()
    party_type = fields.Field(column_name="party_type")
    party = fields.Field(column_name="party")
    customer = fields.Field(
        attribute="customer", column_name="customer", widget=ForeignKeyWidget(Customer)
    )
    carrier = fields.Field(
        attribute="carrier", column_name="carrier", widget=ForeignKeyWidget(Carrier)
    )
    driver = fields.Field(attribute="driver", column_name="driver", widget=ForeignKeyWidget(Driver))
    HELPERS = ("customer", "carrier", "driver")
    REQUIRED_COLUMNS = ("party_type", "party", "term_name")

    Meta = _meta(
        m.CustomPaymentTerm,
        ["connection", "customer", "carrier", "driver"],
        ["connection", "party_type", "party", "term_name", "customer", "carrier", "driver"],
    )

    def before_import_row(self, row, **kwargs):
        party_type, party = party_from_row(row)
        for key in PARTY_MODELS:
            row[key] = party.pk if key == party_type else None
