"""Forms of the connection wizard and the settings pages."""

from django import forms

from accounting.models import Subsidiary
from config.validators import PlainTextForm

from . import models as m

AP_ACCOUNT_CATEGORIES = [c for c in m.Category]
AR_ACCOUNT_CATEGORIES = list(m.AR_CATEGORIES)


class SubsidiaryForm(forms.Form):
    subsidiary = forms.ModelChoiceField(
        queryset=Subsidiary.objects.none(), empty_label="Choose the subsidiary to connect"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        connected = (
            m.Connection.objects.exclude(status=m.Connection.Status.DISCONNECTED)
            .exclude(status=m.Connection.Status.NOT_SET_UP)
            .values("subsidiary")
        )
        self.fields["subsidiary"].queryset = Subsidiary.objects.filter(is_active=True).exclude(
            pk__in=connected
        )


class DestinationForm(forms.Form):
    posting_destination = forms.ChoiceField(
        choices=m.Connection.Destination.choices,
        widget=forms.RadioSelect,
        help_text="Important: this selection is permanent. To change it later you must "
        "disconnect the subsidiary and connect it again.",
    )


class CredentialsForm(PlainTextForm, forms.Form):
    company_id = forms.CharField(label="Company ID", max_length=60)
    user_id = forms.CharField(label="Web Services User ID", max_length=60)
    # The password is write-only: never rendered back, even after an error.
    password = forms.CharField(widget=forms.PasswordInput(render_value=False), max_length=128)
    setup = forms.ChoiceField(
        label="Setup method",
        initial="new",
        widget=forms.RadioSelect,
        choices=[("new", "Set up from scratch"), ("template", "From an existing integration")],
    )
    template = forms.ModelChoiceField(
        queryset=m.Connection.objects.none(),
        label="Existing integration to use as a template",
        required=False,
        help_text="Copies its AR, AP and advanced settings and every mapping.",
    )
    entity = forms.ChoiceField(
        label="Sage entity for this subsidiary",
        required=False,
        help_text="With a template and the Matching child entities destination: the Sage "
        "entity this subsidiary posts to. Leave it to use the entity named like the subsidiary.",
    )

    def __init__(self, *args, connection=None, **kwargs):
        super().__init__(*args, **kwargs)
        others = m.Connection.objects.filter(
            status__in=[m.Connection.Status.ACTIVE, m.Connection.Status.PAUSED]
        ).select_related("subsidiary")
        if connection is not None:
            others = others.exclude(pk=connection.pk)
        self.fields["template"].queryset = others
        # The entities other connections read from Sage; Connect checks the choice against Sage.
        entities = {}
        for other in others:
            for entity in other.sage_choices.get("entities", []):
                if entity.get("active", True):
                    entities.setdefault(entity["id"], f"{entity['name']} ({entity['id']})")
        self.fields["entity"].choices = [
            ("", "The entity named like the subsidiary"),
            *sorted(entities.items(), key=lambda item: item[1]),
        ]

    def clean(self):
        data = super().clean()
        if data.get("setup") == "template" and not data.get("template"):
            self.add_error("template", "Choose the integration to copy, or set up from scratch.")
        if data.get("setup") != "template":
            data["entity"] = ""  # picking an entity is part of the template setup only
        return data


def account_choices(connection) -> list[tuple[str, str]]:
    accounts = connection.sage_choices.get("gl_accounts", [])
    return [("", "—")] + [(a["id"], f"{a['id']} {a['name']}") for a in accounts if a["active"]]


class SettingsForm(PlainTextForm, forms.ModelForm):
    """AR or AP settings plus that side's default GL accounts (master and per category)."""

    side: str = ""
    categories: list = []

    def __init__(self, *args, connection, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection = connection
        choices = account_choices(connection)
        existing = {
            (a.category, a.item_code): a.gl_account_no
            for a in connection.account_mappings.filter(side=self.side)
        }
        master_label = (
            "Master default revenue account"
            if self.side == "ar"
            else "Master default expense account"
        )
        self.fields["account__"] = forms.ChoiceField(
            label=master_label, choices=choices, required=False, initial=existing.get(("", ""))
        )
        for category in self.categories:
            self.fields[f"account__{category.value}"] = forms.ChoiceField(
                label=f"{category.label} default account",
                choices=choices,
                required=False,
                initial=existing.get((category.value, "")),
            )

    def account_fields(self):
        return [self[name] for name in self.fields if name.startswith("account__")]

    def setting_fields(self):
        return [self[name] for name in self.fields if not name.startswith("account__")]

    def accounts(self) -> dict[str, str]:
        """category ('' for master) -> account number ('' to clear)."""
        return {
            name.removeprefix("account__"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("account__")
        }


class ARSettingsForm(SettingsForm):
    side = "ar"
    categories = AR_ACCOUNT_CATEGORIES

    class Meta:
        model = m.ARSettings
        fields = [
            m.ARSettings.MASTER,
            *m.ARSettings.INDIVIDUAL,
            "auto_create_customer",
            "name_matching_fallback",
        ]


class APSettingsForm(SettingsForm):
    side = "ap"
    categories = AP_ACCOUNT_CATEGORIES

    class Meta:
        model = m.APSettings
        fields = [
            m.APSettings.MASTER,
            *m.APSettings.INDIVIDUAL,
            "auto_create_vendor",
            "name_matching_fallback",
        ]


class AdvancedSettingsForm(PlainTextForm, forms.ModelForm):
    default_payment_term = forms.ChoiceField(label="Default Payment Terms")

    class Meta:
        model = m.AdvancedSettings
        fields = ["default_payment_term", "cross_subsidiary_billing", "payment_lookback_days"]

    def __init__(self, *args, connection, **kwargs):
        super().__init__(*args, **kwargs)
        terms = sorted(
            {
                t["id"]
                for key in ("ar_terms", "ap_terms")
                for t in connection.sage_choices.get(key, [])
                if t["active"]
            }
        )
        current = self.instance.default_payment_term
        if current and current not in terms:
            terms.append(current)  # keep what is saved visible; reconciliation flags it
        self.fields["default_payment_term"].choices = [(t, t) for t in terms]


class DisconnectForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand: syncing stops and this subsidiary's settings and mappings are "
        "deleted. Data already in Sage Intacct is not touched."
    )
