"""Forms of the mapping sections: the Advanced step's custom terms, dimension mappings with
their value maps and custom-field mappings, and the AR / AP steps' specific-item GL accounts.
Each offers Sage's own choices (read once, kept on the connection)."""

from django import forms
from django.core.exceptions import ValidationError

from accounting.models import Carrier, Customer, Driver
from config.validators import PlainTextForm

from . import models as m
from .forms import AP_ACCOUNT_CATEGORIES, AR_ACCOUNT_CATEGORIES, account_choices

# --- Advanced step: custom terms, dimension mappings and value maps, custom-field mappings -----
#
# Every choice comes from what Sage reported (the connection's cached choices), so a person picks
# a Sage ID instead of typing one. A formset whose management data is absent from the POST is
# left untouched, so the settings can still be saved on their own.

PARTY_KINDS = (("customer", "Customers"), ("carrier", "Carriers"), ("driver", "Drivers"))


def _sage_values(connection, key) -> list[tuple[str, str]]:
    return [
        (v["id"], f"{v['id']} {v['name']}".strip() if v["name"] != v["id"] else v["id"])
        for v in connection.sage_choices.get(key, [])
        if v.get("active", True)
    ]


def _term_choices(connection, current=()) -> list[tuple[str, str]]:
    terms = sorted(
        {
            t["id"]
            for key in ("ar_terms", "ap_terms")
            for t in connection.sage_choices.get(key, [])
            if t["active"]
        }
    )
    # Keep saved values visible even when Sage no longer has them; reconciliation flags them.
    terms += sorted({c for c in current if c and c not in terms})
    return [("", "—")] + [(t, t) for t in terms]


def _dimension_value_choices(connection, current=()) -> list:
    """Sage dimension values grouped by dimension; option values are 'dimension:ID'."""
    groups = []
    for dimension in m.Dimension:
        values = [
            (f"{dimension.value}:{value}", label)
            for value, label in _sage_values(connection, dimension.value)
        ]
        known = {v for v, _ in values}
        values += [
            (key, f"{key.split(':', 1)[1]} (not in Sage)")
            for key in current
            if key.startswith(f"{dimension.value}:") and key not in known
        ]
        if values:
            groups.append((dimension.label, values))
    return [("", "—"), *groups]


def _custom_field_choices(connection, current=()) -> list:
    """Sage custom fields grouped by target; option values are 'target:FIELDID'."""
    groups = []
    for target in m.CustomFieldTarget:
        sage_object = m.SAGE_OBJECT_OF_TARGET[target.value]
        options = []
        for field in connection.sage_choices.get("custom_fields", {}).get(sage_object, []):
            notes = [field["type"]]
            if field["required"]:
                notes.insert(0, "required")
            if field["max_length"]:
                notes.append(f"max {field['max_length']}")
            options.append(
                (
                    f"{target.value}:{field['id']}",
                    f"{field['label']} ({field['id']}, {', '.join(notes)})",
                )
            )
        known = {v for v, _ in options}
        options += [
            (key, f"{key.split(':', 1)[1]} (not in Sage)")
            for key in current
            if key.startswith(f"{target.value}:") and key not in known
        ]
        if options:
            groups.append((target.label, options))
    return [("", "—"), *groups]


class ConnectionFormMixin(PlainTextForm):
    """Forms built for one connection, with choice lists computed once per formset; free text
    refuses control characters."""

    def __init__(self, *args, connection, choices, mappings=None, side="", **kwargs):
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.mappings = mappings or {}
        self.side = side
        for name, options in choices.items():
            if name in self.fields:
                self.fields[name].choices = options


class CustomTermForm(ConnectionFormMixin, forms.ModelForm):
    party = forms.ChoiceField(label="Customer, carrier or driver")
    term_name = forms.ChoiceField(label="Payment term")

    class Meta:
        model = m.CustomPaymentTerm
        fields = ["term_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["party", "term_name"])
        party = self.instance.party if self.instance.pk else None
        if party is not None:
            kind = next(k for k, _ in PARTY_KINDS if getattr(self.instance, f"{k}_id"))
            self.initial["party"] = f"{kind}:{party.pk}"

    def clean_party(self):
        kind, _, pk = self.cleaned_data["party"].partition(":")
        if kind not in dict(PARTY_KINDS) or not pk.isdigit():
            raise forms.ValidationError("Choose a customer, carrier or driver from the list.")
        return kind, int(pk)

    def _post_clean(self):
        kind, pk = self.cleaned_data.get("party") or (None, None)
        for name, _ in PARTY_KINDS:
            setattr(self.instance, f"{name}_id", pk if name == kind else None)
        super()._post_clean()


class DimensionMappingForm(ConnectionFormMixin, forms.ModelForm):
    default_value = forms.ChoiceField(
        required=False,
        label="Default value",
        help_text="Used when the TMS field is empty. Must be a value of the same dimension.",
    )

    class Meta:
        model = m.DimensionMapping
        fields = ["dimension", "source", "default_value", "required"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.default_value:
            self.initial["default_value"] = (
                f"{self.instance.dimension}:{self.instance.default_value}"
            )

    def clean(self):
        data = super().clean()
        dimension, default = data.get("dimension"), data.get("default_value") or ""
        if default:
            chosen, _, value = default.partition(":")
            if dimension and chosen != dimension:
                self.add_error(
                    "default_value",
                    f"{value} is a {m.Dimension(chosen).label} value: choose a "
                    f"{m.Dimension(dimension).label} value as the default.",
                )
            data["default_value"] = value
        if data.get("required") and not data.get("default_value"):
            self.add_error(
                "default_value",
                "A required dimension needs a Default value, so lines without a TMS value "
                "still export.",
            )
        return data


class DimensionValueMapForm(ConnectionFormMixin, forms.ModelForm):
    """One TMS value → Sage ID row; the dimension comes from the chosen Sage value."""

    sage_value = forms.ChoiceField(label="Sage value")

    class Meta:
        model = m.DimensionValueMap
        fields = ["tms_value", "sage_value"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["sage_value", "tms_value"])
        self.fields["sage_value"].help_text = ""
        if self.instance.pk:
            self.initial["sage_value"] = (
                f"{self.instance.mapping.dimension}:{self.instance.sage_value}"
            )

    def clean_sage_value(self):
        dimension, _, value = self.cleaned_data["sage_value"].partition(":")
        mapping = self.mappings.get(dimension)
        if mapping is None:
            raise forms.ValidationError(
                f"{m.Dimension(dimension).label} is not mapped: add a dimension mapping for it "
                "above first (save, then add its value map)."
            )
        self.instance.mapping = mapping
        return value


class CustomFieldMappingForm(ConnectionFormMixin, forms.ModelForm):
    sage_field = forms.ChoiceField(label="Sage custom field")

    class Meta:
        model = m.CustomFieldMapping
        fields = ["source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["sage_field", "source"])
        if self.instance.pk:
            self.initial["sage_field"] = f"{self.instance.target}:{self.instance.sage_field_id}"

    def clean_sage_field(self):
        target, _, field_id = self.cleaned_data["sage_field"].partition(":")
        probe = m.CustomFieldMapping(
            connection=self.connection, target=target, sage_field_id=field_id
        )
        try:
            probe.fill_from_sage()
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["sage_field_id"]) from None
        self.instance.target, self.instance.sage_field_id = target, field_id
        return field_id

    def _post_clean(self):
        if "sage_field" in self.errors:
            return  # the model's own check would only repeat it
        self.instance.connection = self.connection
        super()._post_clean()


class _ConnectionFormSet(forms.BaseModelFormSet):
    """A model formset of one connection's rows; `unique_key` names what must not repeat."""

    def __init__(self, *args, connection, choices, mappings=None, side="", **kwargs):
        self.connection = connection
        kwargs.setdefault("form_kwargs", {}).update(
            connection=connection, choices=choices, mappings=mappings, side=side
        )
        super().__init__(*args, **kwargs)

    def unique_key(self, form):
        return None

    def clean(self):
        super().clean()
        seen = {}
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            key = self.unique_key(form) if form.is_valid() else None
            if key is None:
                continue
            if key in seen:
                raise forms.ValidationError(self.duplicate_message(key))
            seen[key] = form

    def save(self, commit=True):
        instances = super().save(commit=False)
        for obj in self.deleted_objects:
            obj.delete()
        for obj in instances:
            if hasattr(obj, "connection_id"):
                obj.connection = self.connection
            obj.save()
        return instances


class CustomTermFormSet(_ConnectionFormSet):
    def unique_key(self, form):
        return form.cleaned_data.get("party")

    def duplicate_message(self, key):
        return "The same customer, carrier or driver has two custom terms: keep one row."


class DimensionMappingFormSet(_ConnectionFormSet):
    def unique_key(self, form):
        return form.cleaned_data.get("dimension")

    def duplicate_message(self, key):
        return f"{m.Dimension(key).label} is mapped twice: keep one row per dimension."


class DimensionValueMapFormSet(_ConnectionFormSet):
    def unique_key(self, form):
        mapping = form.instance.mapping if form.instance.mapping_id else None
        return (
            (mapping.dimension, form.cleaned_data.get("tms_value", "").lower()) if mapping else None
        )

    def duplicate_message(self, key):
        return f"TMS value {key[1]} is mapped twice for {m.Dimension(key[0]).label}: keep one row."


class CustomFieldMappingFormSet(_ConnectionFormSet):
    def unique_key(self, form):
        return (form.instance.target, form.instance.sage_field_id)

    def duplicate_message(self, key):
        return f"Sage custom field {key[1]} is mapped twice: keep one row."


def _formset(form, formset):
    return forms.modelformset_factory(
        form.Meta.model, form=form, formset=formset, extra=1, can_delete=True
    )


class AdvancedMappings:
    """The Advanced step's formsets: custom terms, dimension mappings, dimension value maps and
    custom-field mappings, each bound only when its rows were posted."""

    PREFIXES = {
        "terms": "Custom Payment Terms",
        "dimensions": "Dimension Mappings",
        "values": "Dimension value maps (TMS value → Sage ID)",
        "custom_fields": "Custom Field Mappings",
    }

    def __init__(self, data=None, *, connection):
        self.connection = connection
        terms = m.CustomPaymentTerm.objects.filter(connection=connection).select_related(
            "customer", "carrier", "driver"
        )
        dimensions = m.DimensionMapping.objects.filter(connection=connection).order_by("dimension")
        values = (
            m.DimensionValueMap.objects.filter(mapping__connection=connection)
            .select_related("mapping")
            .order_by("mapping__dimension", "tms_value")
        )
        custom = m.CustomFieldMapping.objects.filter(connection=connection).order_by(
            "target", "sage_field_id"
        )
        mappings = {d.dimension: d for d in dimensions}
        parties = [
            (
                label,
                [
                    (f"{kind}:{pk}", name)
                    for pk, name in model.objects.filter(is_active=True).values_list("pk", "name")
                ],
            )
            for (kind, label), model in zip(PARTY_KINDS, (Customer, Carrier, Driver), strict=True)
        ]
        specs = {
            "terms": (
                CustomTermForm,
                CustomTermFormSet,
                terms,
                {
                    "party": [("", "—"), *parties],
                    "term_name": _term_choices(connection, {t.term_name for t in terms}),
                },
            ),
            "dimensions": (
                DimensionMappingForm,
                DimensionMappingFormSet,
                dimensions,
                {
                    "default_value": _dimension_value_choices(
                        connection,
                        [f"{d.dimension}:{d.default_value}" for d in dimensions if d.default_value],
                    )
                },
            ),
            "values": (
                DimensionValueMapForm,
                DimensionValueMapFormSet,
                values,
                {
                    "sage_value": _dimension_value_choices(
                        connection, [f"{v.mapping.dimension}:{v.sage_value}" for v in values]
                    )
                },
            ),
            "custom_fields": (
                CustomFieldMappingForm,
                CustomFieldMappingFormSet,
                custom,
                {
                    "sage_field": _custom_field_choices(
                        connection, [f"{c.target}:{c.sage_field_id}" for c in custom]
                    )
                },
            ),
        }
        self.formsets = {}
        for prefix, (form, formset, rows, choices) in specs.items():
            bound = data is not None and f"{prefix}-TOTAL_FORMS" in data
            fs = _formset(form, formset)(
                data if bound else None,
                prefix=prefix,
                queryset=rows,
                connection=connection,
                choices=choices,
                mappings=mappings,
            )
            fs.title = self.PREFIXES[prefix]
            fs.is_posted = bound
            self.formsets[prefix] = fs

    def __iter__(self):
        return iter(self.formsets.values())

    def is_valid(self) -> bool:
        return all(fs.is_valid() for fs in self.formsets.values() if fs.is_posted)

    def save(self) -> None:
        """Save the posted formsets, dimension mappings before their value maps."""
        for prefix in ("terms", "dimensions", "values", "custom_fields"):
            fs = self.formsets[prefix]
            if fs.is_posted:
                fs.save()


# --- AR / AP steps: specific-item GL accounts ----------------------------------------------------


class ItemAccountForm(ConnectionFormMixin, forms.ModelForm):
    """A specific item's account (e.g. Accessorials / DETENTION → 4025), which wins over the
    category default and the master default."""

    category = forms.ChoiceField()
    gl_account_no = forms.ChoiceField(label="Sage GL account")

    class Meta:
        model = m.AccountMapping
        fields = ["category", "item_code", "gl_account_no"]

    def clean_item_code(self):
        code = (self.cleaned_data.get("item_code") or "").strip().upper()
        if not code:
            raise forms.ValidationError(
                "Enter the item code (e.g. DETENTION); category defaults are set above."
            )
        return code

    def _post_clean(self):
        self.instance.connection, self.instance.side = self.connection, self.side
        super()._post_clean()


class ItemAccountFormSet(_ConnectionFormSet):
    def unique_key(self, form):
        return (form.cleaned_data.get("category"), form.cleaned_data.get("item_code"))

    def duplicate_message(self, key):
        return f"Item {key[1]} has two accounts in the same category: keep one row."


class ItemAccountMappings:
    """The AR or AP step's specific-item accounts, bound only when its rows were posted."""

    def __init__(self, data=None, *, connection, side):
        rows = m.AccountMapping.objects.filter(connection=connection, side=side).exclude(
            item_code=""
        )
        categories = AR_ACCOUNT_CATEGORIES if side == m.Side.AR else AP_ACCOUNT_CATEGORIES
        accounts = account_choices(connection)
        known = {a for a, _ in accounts}
        accounts += [
            (r.gl_account_no, f"{r.gl_account_no} (not active in Sage)")
            for r in rows
            if r.gl_account_no not in known
        ]
        bound = data is not None and "items-TOTAL_FORMS" in data
        fs = _formset(ItemAccountForm, ItemAccountFormSet)(
            data if bound else None,
            prefix="items",
            queryset=rows,
            connection=connection,
            side=side,
            choices={
                "category": [("", "—")] + [(c.value, c.label) for c in categories],
                "gl_account_no": accounts,
            },
        )
        fs.title = "Specific-item accounts (win over the category and master defaults)"
        fs.is_posted = bound
        self.formsets = {"items": fs}

    def __iter__(self):
        return iter(self.formsets.values())

    def is_valid(self) -> bool:
        return all(fs.is_valid() for fs in self if fs.is_posted)

    def save(self) -> None:
        for fs in self:
            if fs.is_posted:
                fs.save()
