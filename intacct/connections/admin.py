"""Sage Intacct connections in the admin: the connection wizard, the settings tabs, disconnect,
and the mapping lists. `ConnectionAdmin` is registered in intacct/admin.py, with the export's
and the payment import's pages added to it.

Only users with "manage company profile" (Admin, Partner Admin, Support) see or use any of it.
Views hold no business logic: each calls a service and turns its errors into form errors.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounting.admin import CsvAdmin, ModelAdmin, TabularInline
from intacct import messages as msg
from intacct.client import errors

from . import forms as f
from . import mapping_forms as mf
from . import models as m
from . import resources, services

PERMISSION = "accounting.manage_company_profile"
NOT_SYNCING = "This connection is not syncing (not Active, or Primary Sync is off)."
Step = m.Connection.Step
STEP_URLS = {
    Step.SUBSIDIARY: "wizard_start",
    Step.DESTINATION: "wizard_destination",
    Step.CREDENTIALS: "wizard_credentials",
    Step.AP: "wizard_ap",
    Step.AR: "wizard_ar",
    Step.ADVANCED: "wizard_advanced",
    Step.FINISH: "wizard_finish",
}


class ProfileManagerOnly:
    """Everything here needs the "manage company profile" permission."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.has_perm(PERMISSION)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)

    # CSV import and export (django-import-export) allow every staff user unless told otherwise.
    def has_import_permission(self, request, *args, **kwargs):
        return self.has_module_permission(request)

    def has_export_permission(self, request, *args, **kwargs):
        return self.has_module_permission(request)


class ConnectionLogAdmin(ProfileManagerOnly, ModelAdmin):
    """A log the integration writes per connection (payment import runs, notifications): read
    in the admin, never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="subsidiary", ordering="connection__subsidiary__code")
    def subsidiary(self, row):
        return row.connection.subsidiary.code


class AccountMappingInline(ProfileManagerOnly, TabularInline):
    model = m.AccountMapping
    extra = 0
    verbose_name_plural = "Account mappings (specific item → category default → master default)"


class CustomFieldMappingInline(ProfileManagerOnly, TabularInline):
    model = m.CustomFieldMapping
    extra = 0


class DimensionValueInline(ProfileManagerOnly, TabularInline):
    model = m.DimensionValueMap
    extra = 1


@admin.register(m.DimensionMapping)
class DimensionMappingAdmin(ProfileManagerOnly, ModelAdmin):
    list_display = ["connection", "dimension", "source", "default_value", "required"]
    list_select_related = ["connection__subsidiary"]
    list_filter = ["dimension"]
    inlines = [DimensionValueInline]


@admin.register(m.AccountMapping)
class AccountMappingAdmin(ProfileManagerOnly, CsvAdmin):
    resource_classes = [resources.AccountMappingResource]
    list_display = ["connection", "side", "category", "item_code", "gl_account_no"]
    list_select_related = ["connection__subsidiary"]
    # By subsidiary: a filter on the connection would read each connection's subsidiary apart.
    list_filter = ["side", "category", "connection__subsidiary"]
    search_fields = ["item_code", "gl_account_no"]


@admin.register(m.DimensionValueMap)
class DimensionValueMapAdmin(ProfileManagerOnly, CsvAdmin):
    resource_classes = [resources.DimensionValueMapResource]
    list_display = ["mapping", "tms_value", "sage_value"]
    list_select_related = ["mapping__connection__subsidiary"]
    search_fields = ["tms_value", "sage_value"]


@admin.register(m.CustomPaymentTerm)
class CustomPaymentTermAdmin(ProfileManagerOnly, CsvAdmin):
    resource_classes = [resources.CustomPaymentTermResource]
    list_display = ["connection", "party", "term_name"]
    list_select_related = ["connection__subsidiary", "customer", "carrier", "driver"]
    autocomplete_fields = ["customer", "carrier", "driver"]


class DimensionMappingInline(ProfileManagerOnly, TabularInline):
    model = m.DimensionMapping
    extra = 0
    show_change_link = True
    verbose_name_plural = "Dimension Mappings (open one to map TMS values to Sage IDs)"


class ConnectionAdmin(ProfileManagerOnly, ModelAdmin):
    list_display = [
        "subsidiary",
        "company_id",
        "entity_display",
        "status_badge",
        "primary_sync",
        "activated_at",
        "next_action",
    ]
    list_select_related = ["subsidiary"]
    list_filter = ["status"]
    readonly_fields = [
        "subsidiary",
        "company_id",
        "user_id",
        "posting_destination",
        "entity_id",
        "entity_name",
        "status",
        "primary_sync",
        "activated_at",
        "last_test_at",
        "last_test_ok",
        "last_test_message",
        "sage_choices_refreshed_at",
    ]
    fields = readonly_fields
    # Custom terms are edited on the Advanced tab, where every party's name is read once.
    inlines = [
        AccountMappingInline,
        DimensionMappingInline,
        CustomFieldMappingInline,
    ]
    change_form_template = "admin/intacct/connection_change_form.html"
    change_list_template = "admin/intacct/connection_change_list.html"

    def has_add_permission(self, request, obj=None):
        return False  # connections are made through the wizard

    def has_delete_permission(self, request, obj=None):
        return False  # disconnect instead

    @admin.display(description="Sage entity")
    def entity_display(self, obj):
        if obj.posting_destination == m.Connection.Destination.TOP_LEVEL:
            return "Top level"
        return obj.entity_name or "—"

    @admin.display(description="Status")
    def status_badge(self, obj):
        colour = {"active": "#2e7d32", "paused": "#ef6c00", "disconnected": "#757575"}.get(
            obj.status, "#1565c0"
        )
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.get_status_display())

    @admin.display(description="")
    def next_action(self, obj):
        if obj.status in (m.Connection.Status.NOT_SET_UP,):
            step = min(obj.wizard_step + 1, Step.FINISH)
            url = (
                reverse(f"admin:intacct_{STEP_URLS[step]}", args=[obj.pk])
                if step > Step.SUBSIDIARY
                else reverse("admin:intacct_wizard_start")
            )
            return format_html('<a href="{}">Continue setup ({})</a>', url, Step(step).label)
        if obj.status == m.Connection.Status.DISCONNECTED:
            return format_html(
                '<a href="{}">Connect again</a>', reverse("admin:intacct_wizard_start")
            )
        return format_html(
            '<a href="{}">Edit</a>', reverse("admin:intacct_connection_change", args=[obj.pk])
        )

    # --- URLs --------------------------------------------------------------------------------

    def get_urls(self):
        urls = [
            path(pattern, self.admin_site.admin_view(self._guard(func)), name=f"intacct_{name}")
            for func, name, pattern in self.connection_views()
        ]
        return [*urls, *super().get_urls()]

    def connection_views(self) -> list[tuple]:
        """(view, URL name, pattern) of every page of the connection; the export and the
        payment import add theirs (see intacct/admin.py)."""
        return [
            (self.wizard_start, "wizard_start", "wizard/"),
            (self.wizard_destination, "wizard_destination", "<int:pk>/wizard/destination/"),
            (self.wizard_credentials, "wizard_credentials", "<int:pk>/wizard/credentials/"),
            (self.wizard_ap, "wizard_ap", "<int:pk>/wizard/ap/"),
            (self.wizard_ar, "wizard_ar", "<int:pk>/wizard/ar/"),
            (self.wizard_advanced, "wizard_advanced", "<int:pk>/wizard/advanced/"),
            (self.wizard_finish, "wizard_finish", "<int:pk>/wizard/finish/"),
            (self.disconnect, "disconnect", "<int:pk>/disconnect/"),
            (require_POST(self.test_connection), "test", "<int:pk>/test/"),
            (require_POST(self.refresh_choices), "refresh", "<int:pk>/refresh/"),
            (require_POST(self.primary_sync), "primary_sync", "<int:pk>/primary-sync/"),
        ]

    def _guard(self, func):
        def wrapped(request, *args, **kwargs):
            if not self.has_module_permission(request):
                raise PermissionDenied
            return func(request, *args, **kwargs)

        return wrapped

    def _render(
        self, request, connection, step, form, template="admin/intacct/wizard_step.html", **extra
    ):
        set_up = connection is not None and connection.status != m.Connection.Status.NOT_SET_UP
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "connection": connection,
            "step": step,
            "title": f"{'Sage Intacct' if set_up else 'Connect Sage Intacct'}: {Step(step).label}",
            "steps": self._steps(connection, step),
            "tabs": _tabs(connection, STEP_URLS.get(step)) if set_up else [],
            **extra,
        }
        return TemplateResponse(request, template, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        connection = m.Connection.objects.filter(pk=object_id).first()
        tabs = (
            _tabs(connection, "change")
            if connection and connection.status != m.Connection.Status.NOT_SET_UP
            else []
        )
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "tabs": tabs}
        )

    def save_related(self, request, form, formsets, change):
        """Mapping edits on the connection page save with the same reconciliation check."""
        super().save_related(request, form, formsets, change)
        connection = form.instance
        if change and connection.status in (
            m.Connection.Status.ACTIVE,
            m.Connection.Status.PAUSED,
        ):
            self._report_reconciliation(request, connection)

    @staticmethod
    def _steps(connection, current):
        rows = []
        for step in Step:
            reachable = (
                connection is not None
                and step <= (connection.wizard_step + 1)
                and step > Step.SUBSIDIARY
            )
            url = (
                reverse(f"admin:intacct_{STEP_URLS[step]}", args=[connection.pk])
                if reachable
                else ""
            )
            rows.append(
                {
                    "number": step.value,
                    "label": step.label,
                    "url": url,
                    "current": step == current,
                    "done": connection is not None and step <= connection.wizard_step,
                }
            )
        return rows

    def _connection(self, pk):
        return get_object_or_404(m.Connection.objects.select_related("subsidiary"), pk=pk)

    def _next(self, connection, step):
        return redirect(f"admin:intacct_{STEP_URLS[step]}", connection.pk)

    # --- wizard steps ------------------------------------------------------------------------

    def wizard_start(self, request):
        form = f.SubsidiaryForm(request.POST or None)
        if not form.fields["subsidiary"].queryset.exists():
            self.message_user(request, msg.NO_SUBSIDIARY_TO_CONNECT, messages.WARNING)
        if request.method == "POST" and form.is_valid():
            connection = services.connection_start(subsidiary=form.cleaned_data["subsidiary"])
            services.connection_advance(connection=connection, step=Step.SUBSIDIARY)
            return self._next(connection, Step.DESTINATION)
        return self._render(request, None, Step.SUBSIDIARY, form)

    def wizard_destination(self, request, pk):
        connection = self._connection(pk)
        locked = connection.wizard_step >= Step.CREDENTIALS
        form = f.DestinationForm(
            request.POST or None, initial={"posting_destination": connection.posting_destination}
        )
        if locked:
            form.fields["posting_destination"].disabled = True
        if request.method == "POST" and form.is_valid():
            if not locked:
                try:
                    services.connection_set_destination(
                        connection=connection, destination=form.cleaned_data["posting_destination"]
                    )
                except ValidationError as error:
                    form.add_error(None, error.messages[0])
                    return self._render(request, connection, Step.DESTINATION, form)
            return self._next(connection, Step.CREDENTIALS)
        return self._render(
            request,
            connection,
            Step.DESTINATION,
            form,
            note=msg.DESTINATION_IMMUTABLE if locked else "",
        )

    def wizard_credentials(self, request, pk):
        connection = self._connection(pk)
        if not connection.posting_destination:
            return self._next(connection, Step.DESTINATION)
        form = f.CredentialsForm(
            request.POST or None,
            connection=connection,
            initial={"company_id": connection.company_id, "user_id": connection.user_id},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.connection_connect(
                    connection=connection,
                    company_id=data["company_id"],
                    user_id=data["user_id"],
                    password=data["password"],
                    entity_id=data.get("entity") or "",
                )
                if data["setup"] == "template":
                    services.connection_copy_from_template(
                        source=data["template"], target=connection
                    )
                services.connection_refresh_choices(connection=connection)
            except errors.IntacctError as error:
                form.add_error(
                    None, msg.CONNECT_UNREACHABLE.format(detail=services.unreachable_detail(error))
                )
            except services.ConnectError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    f"Connected to Sage company {connection.company_id}"
                    f" ({connection.entity_name or 'top level'}).",
                    messages.SUCCESS,
                )
                return self._next(connection, Step.AP)
        return self._render(request, connection, Step.CREDENTIALS, form)

    def _settings_step(self, request, pk, step, form_class, instance_attr, next_step):
        connection = self._connection(pk)
        if connection.wizard_step < Step.CREDENTIALS:
            return self._next(connection, Step.CREDENTIALS)
        services.settings_ensure(connection=connection)
        instance = getattr(m.Connection.objects.get(pk=connection.pk), instance_attr)
        form = form_class(request.POST or None, instance=instance, connection=connection)
        # The Advanced step also edits custom terms, dimension and custom-field mappings.
        data = request.POST if request.method == "POST" else None
        if step == Step.ADVANCED:
            mappings = mf.AdvancedMappings(data, connection=connection)
        else:
            side = m.Side.AR if step == Step.AR else m.Side.AP
            mappings = mf.ItemAccountMappings(data, connection=connection, side=side)
        mappings_valid = mappings.is_valid()
        if request.method == "POST" and form.is_valid() and mappings_valid:
            changes = {
                name: value
                for name, value in form.cleaned_data.items()
                if not name.startswith("account__")
            }
            side = "ar" if step == Step.AR else "ap" if step == Step.AP else None
            try:
                with transaction.atomic():
                    services.connection_update_settings(
                        connection=connection, **{side or "advanced": changes}
                    )
                    if side:
                        services.account_defaults_set(
                            connection=connection, side=side, accounts=form.accounts()
                        )
                    mappings.save()
                    services.connection_advance(connection=connection, step=step)
            except services.SettingsError as error:
                form.add_error(None, str(error))
            else:
                if connection.status != m.Connection.Status.NOT_SET_UP:
                    return self._after_edit(request, connection)
                return self._next(connection, next_step)
        return self._render(request, connection, step, form, mappings=mappings)

    def _after_edit(self, request, connection):
        """Edits after setup save with the same reconciliation check."""
        self._report_reconciliation(request, connection)
        return redirect("admin:intacct_connection_change", connection.pk)

    def _report_reconciliation(self, request, connection) -> None:
        """Run the reconciliation check and show each problem with a link to its fix."""
        try:
            problems = services.connection_reconcile(connection=connection)
        except errors.IntacctError as error:
            self.message_user(
                request,
                "Saved, but Sage could not be reached for the "
                f"reconciliation check ({error}). Run it again later.",
                messages.WARNING,
            )
            return
        for problem in problems:
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">Fix it in {}</a>',
                    problem.message,
                    _problem_url(connection, problem),
                    Step(problem.step).label,
                ),
                messages.WARNING,
            )
        if not problems:
            self.message_user(request, "Saved; the configuration matches Sage.", messages.SUCCESS)

    def wizard_ap(self, request, pk):
        return self._settings_step(request, pk, Step.AP, f.APSettingsForm, "ap_settings", Step.AR)

    def wizard_ar(self, request, pk):
        return self._settings_step(
            request, pk, Step.AR, f.ARSettingsForm, "ar_settings", Step.ADVANCED
        )

    def wizard_advanced(self, request, pk):
        return self._settings_step(
            request, pk, Step.ADVANCED, f.AdvancedSettingsForm, "advanced_settings", Step.FINISH
        )

    def wizard_finish(self, request, pk):
        connection = self._connection(pk)
        problems = []
        if request.method == "POST":
            try:
                problems = services.connection_activate(connection=connection)
            except errors.IntacctError as error:
                self.message_user(
                    request,
                    msg.CONNECT_UNREACHABLE.format(detail=services.unreachable_detail(error)),
                    messages.ERROR,
                )
                return redirect("admin:intacct_wizard_finish", connection.pk)
            if not problems:
                self.message_user(
                    request,
                    f"{connection.subsidiary} is connected to Sage Intacct and Active.",
                    messages.SUCCESS,
                )
                return redirect("admin:intacct_connection_changelist")
        rows = [
            {
                "message": p.message,
                "step": Step(p.step).label,
                "url": _problem_url(connection, p),
            }
            for p in problems
        ]
        return self._render(
            request,
            connection,
            Step.FINISH,
            None,
            template="admin/intacct/wizard_finish.html",
            problems=rows,
        )

    # --- after setup -------------------------------------------------------------------------

    def disconnect(self, request, pk):
        connection = self._connection(pk)
        form = f.DisconnectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.connection_disconnect(connection=connection)
            self.message_user(
                request,
                f"{connection.subsidiary} is disconnected from Sage "
                "Intacct; its settings and mappings were deleted.",
                messages.SUCCESS,
            )
            return redirect("admin:intacct_connection_changelist")
        return self._render(
            request, connection, Step.FINISH, form, template="admin/intacct/disconnect.html"
        )

    def test_connection(self, request, pk):
        connection = self._connection(pk)
        ok, message = services.connection_test(connection=connection)
        self.message_user(request, message, messages.SUCCESS if ok else messages.ERROR)
        return redirect("admin:intacct_connection_change", pk)

    def refresh_choices(self, request, pk):
        connection = self._connection(pk)
        try:
            services.connection_refresh_choices(connection=connection)
        except errors.IntacctError as error:
            self.message_user(request, f"Sage could not be read: {error}", messages.ERROR)
        else:
            self.message_user(request, "Choices refreshed from Sage.", messages.SUCCESS)
        return redirect(
            _local_url(request, request.POST.get("next"))
            or reverse("admin:intacct_connection_change", args=[pk])
        )

    def primary_sync(self, request, pk):
        connection = self._connection(pk)
        try:
            services.connection_set_primary_sync(
                connection=connection, on=request.POST.get("on") == "1"
            )
        except ValueError as error:
            self.message_user(request, str(error), messages.ERROR)
        return redirect("admin:intacct_connection_change", pk)


# Where on its step each reconciliation problem is fixed (the formset's anchor).
PROBLEM_ANCHORS = {
    "dimension_mappings": "dimensions",
    "custom_field_mappings": "custom_fields",
    "custom_terms": "terms",
    "default_payment_term": "id_default_payment_term",
    "item_accounts": "items",
}


def _local_url(request, url: str | None) -> str:
    """`url` when it is a path on this site (where to go back to), else ""; never a URL name,
    another host or a header break."""
    if (
        url
        and url.startswith("/")
        and url.isprintable()
        and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return url
    return ""


def _problem_url(connection, problem) -> str:
    if problem.step <= Step.SUBSIDIARY:
        return reverse("admin:intacct_wizard_start")
    url = reverse(f"admin:intacct_{STEP_URLS[problem.step]}", args=[connection.pk])
    anchor = PROBLEM_ANCHORS.get(problem.field)
    return f"{url}#{anchor}" if anchor else url


def _tabs(connection, current) -> list[dict]:
    """The connection page's tabs: Settings, AR, AP, Advanced, Account Mappings, Dimensions &
    Custom Fields. `current` is the URL name of the page shown."""
    pk = connection.pk
    rows = [
        ("change", "Settings", reverse("admin:intacct_connection_change", args=[pk])),
        ("wizard_ar", "AR Settings", reverse("admin:intacct_wizard_ar", args=[pk])),
        ("wizard_ap", "AP Settings", reverse("admin:intacct_wizard_ap", args=[pk])),
        ("wizard_advanced", "Advanced", reverse("admin:intacct_wizard_advanced", args=[pk])),
        (
            "accounts",
            "Account Mappings",
            reverse("admin:intacct_accountmapping_changelist") + f"?connection__id__exact={pk}",
        ),
        (
            "dimensions",
            "Dimensions & Custom Fields",
            reverse("admin:intacct_wizard_advanced", args=[pk]) + "#dimensions",
        ),
        ("disconnect", "Disconnect", reverse("admin:intacct_disconnect", args=[pk])),
    ]
    return [
        {"key": key, "label": label, "url": url, "current": key == current}
        for key, label, url in rows
    ]
