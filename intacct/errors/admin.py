"""The integration's pages under Accounting: Error Transactions (why each export failed, how to
fix it, Retry Sync, Sync All, Mark as Synced), the sync ledger, and Retry export on the summary
invoice and settlement lists.

The TMS's admin knows nothing of Sage: the integration registers these models' admins and
extends the TMS's summary invoice and settlement admins with its action, so they stay under
Accounting in the menu, at the same URLs.
"""

import datetime as dt
import functools
import itertools
from functools import cached_property

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.contrib.admin.views.main import (
    ALL_VAR,
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    ORDER_VAR,
    TO_FIELD_VAR,
    ChangeList,
)
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection as db
from django.db.models import Count, DateTimeField, F, Max, Min, Q, Subquery
from django.db.models.constants import LOOKUP_SEP
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounting import admin as tms
from accounting import models as am
from accounting.admin import BILLING
from intacct.export.admin import GroupMembersLeftOut

from . import kinds, services
from .fixes import error_transaction_detail
from .kinds import RETRYABLE_ENTITY_TYPES


def _reference_starts(prefix: str) -> Q:
    """References beginning with `prefix` as typed or in capitals, in a form the database's
    index on the reference serves: PostgreSQL's LIKE 'prefix%' uses the pattern index Django
    adds to an indexed text column; SQLite's LIKE ignores case and so no index, but a range
    of its binary order is the same set."""
    condition = Q()
    for variant in {prefix, prefix.upper()}:
        if db.vendor == "postgresql":
            condition |= Q(reference__startswith=variant)
        else:
            condition |= Q(reference__gte=variant, reference__lt=variant + "\U0010ffff")
    return condition


class IndexedValuesFilter(admin.AllValuesFieldListFilter):
    """Django's filter by each value a column holds, with the values read by skipping through
    the column's index (one recursive query: an index lookup per distinct value) instead of a
    DISTINCT over every row. The column needs an index."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        # Names from the model's own meta, quoted: nothing of the request reaches this SQL.
        quote = db.ops.quote_name
        table, column = quote(model._meta.db_table), quote(field.column)
        sql = (
            f"WITH RECURSIVE v(x) AS (SELECT MIN({column}) FROM {table} UNION ALL "  # noqa: S608
            f"SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > v.x) FROM v "
            "WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL"
        )
        with db.cursor() as cursor:
            cursor.execute(sql)
            self.lookup_choices = [row[0] for row in cursor.fetchall()]


def _dates_only(cl) -> bool:
    """Filtered only by dates (the hierarchy's own year, month or day, or "Date Created"): the
    span's two ends are still two ordered index lookups."""
    params = set(cl.params) - {ORDER_VAR, ALL_VAR, IS_POPUP_VAR, TO_FIELD_VAR, IS_FACETS_VAR}
    return not cl.query and all(name.split(LOOKUP_SEP)[0] == cl.date_hierarchy for name in params)


class _CountAndSpan(Paginator):
    """Filtered by more than dates: the rows' count and their first and last Date Created in
    one pass over the rows the filters find (the date hierarchy needs the span; a second pass
    cost as much as the count, 40 ms for a search at 100,000 rows)."""

    span = None

    @cached_property
    def count(self) -> int:
        field = "created_at"
        # On PostgreSQL through an expression, or it walks the date index until a row passes
        # the filter (the whole index for a rare search term).
        value = F(field) + dt.timedelta(0) if db.vendor == "postgresql" else F(field)
        found = self.object_list.order_by().aggregate(
            n=Count("*"),
            first=Min(value, output_field=DateTimeField()),
            last=Max(value, output_field=DateTimeField()),
        )
        self.span = {"first": found["first"], "last": found["last"]}
        return found["n"]


class _PeriodsFound:
    """The change list as Django's date hierarchy reads it, except that the years, months or
    days having rows are found with one query of indexed lookups, one per candidate period,
    instead of a DISTINCT over every row's truncated date."""

    def __init__(self, cl):
        self._cl = cl
        self.queryset = _Periods(
            cl.queryset,
            dates_only=_dates_only(cl),
            span=getattr(cl.paginator, "span", None),
        )

    def __getattr__(self, name):
        return getattr(self._cl, name)


class _Periods:
    def __init__(self, queryset, *, dates_only: bool = False, span: dict | None = None):
        self._queryset = queryset
        self._dates_only = dates_only
        self._counted = span  # found with the count (_CountAndSpan)

    def aggregate(self, *, first, last):
        """Django's `aggregate(first=Min(field), last=Max(field))`: on the whole table as two
        index lookups (one query computing both reads every row on SQLite), remembered for
        `datetimes`."""
        return self._span(first.source_expressions[0].name)

    @functools.cache  # noqa: B019 - one change list, one request
    def _span(self, field: str) -> dict:
        rows = self._queryset.order_by()
        if self._counted is not None and field == "created_at":
            return self._counted
        if rows.query.has_filters() and not self._dates_only:
            # Filtered: both ends in one pass over the rows the filters find. On PostgreSQL
            # through an expression, or it walks the date index until a row passes the filter
            # (the whole index for a rare search term).
            value = F(field) + dt.timedelta(0) if db.vendor == "postgresql" else F(field)
            return rows.aggregate(
                first=Min(value, output_field=DateTimeField()),
                last=Max(value, output_field=DateTimeField()),
            )
        if rows.query.has_filters():
            # Filtered by dates only: both ends as ordered lookups in the date index, in one
            # query as the filtered aggregate is (80 ms over a year's rows at 100,000).
            ends = {
                "first": rows.order_by(field).values(field)[:1],
                "last": rows.order_by(f"-{field}").values(field)[:1],
            }
            return (
                self._queryset.model._default_manager.order_by()
                .values(**{end: Subquery(query) for end, query in ends.items()})
                .first()
            ) or {"first": None, "last": None}
        return {
            "first": rows.order_by(field).values_list(field, flat=True).first(),
            "last": rows.order_by(f"-{field}").values_list(field, flat=True).first(),
        }

    def datetimes(self, field: str, kind: str) -> list[dt.datetime]:
        """The starts (local time) of the `kind` periods ("year", "month", "day") that have
        rows, as `QuerySet.datetimes` gives them: three queries, whatever the number of rows
        (the span's two ends, then one lookup per period in it: a few years, 12 months, 31
        days)."""
        rows = self._queryset.order_by()
        span = self._span(field)
        if span["first"] is None:
            return []
        first, last = (timezone.localtime(span[k]).date() for k in ("first", "last"))
        if kind == "year":
            days = [dt.date(year, 1, 1) for year in range(first.year, last.year + 2)]
        elif kind == "month":
            months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month + 1)
            days = [dt.date(m // 12, m % 12 + 1, 1) for m in months]
        else:
            days = [first + dt.timedelta(days=n) for n in range((last - first).days + 2)]
        starts = [timezone.make_aware(dt.datetime.combine(day, dt.time.min)) for day in days]
        periods = list(itertools.pairwise(starts))
        # For each period, the first row at or after its start (an ordered index lookup,
        # where EXISTS lets PostgreSQL read the table from its beginning): the period has rows
        # when that row falls before its end.
        found = (
            self._queryset.model._default_manager.order_by()
            .values(
                **{
                    f"p{i}": Subquery(
                        rows.filter(**{f"{field}__gte": a}).order_by(field).values(field)[:1]
                    )
                    for i, (a, _) in enumerate(periods)
                }
            )
            .first()
        ) or {}
        return [
            a
            for i, (a, b) in enumerate(periods)
            if found.get(f"p{i}") is not None and found[f"p{i}"] < b
        ]


class _SameCount:
    """The unfiltered list's "(N total)": the count its paginator has already read."""

    def __init__(self, request):
        self._request = request

    def count(self) -> int:
        return self._request.error_transactions_paginator.count


class _ErrorChangeList(ChangeList):
    """Django's change list, except that with no filter and no search the "(N total)" beside
    the count is that count rather than a second COUNT(*) of the whole table."""

    def get_results(self, request):
        request.error_transactions_span_counted = (
            self.queryset.query.has_filters() and not _dates_only(self)
        )
        if self.queryset.query.has_filters() or self.root_queryset.query.has_filters():
            return super().get_results(request)
        root, self.root_queryset = self.root_queryset, _SameCount(request)
        try:
            return super().get_results(request)
        finally:
            self.root_queryset = root


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the integration writes; people read them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(am.SyncRecord)
class SyncRecordAdmin(ReadOnlyAdmin):
    def has_delete_permission(self, request, obj=None):
        # A deleted row would forget which Sage document a TMS document is: never from here.
        return False

    list_display = [
        "reference",
        "document_type",
        "sage_object",
        "record_no",
        "state",
        "connection",
        "synced_at",
    ]
    list_filter = ["state", "document_type", "sage_object"]
    list_select_related = ["connection__subsidiary"]
    search_fields = ["reference", "record_no", "controlid"]


# --- Error Transactions ---------------------------------------------------------------------


@admin.register(am.ErrorTransaction)
class ErrorTransactionAdmin(ReadOnlyAdmin):
    """Admin → Accounting → Error Transactions: why each export failed, how to fix it, Retry
    Sync, Sync All and Mark as Synced. Only users with the "billing" permission see it."""

    list_display = [
        "entity_type_column",
        "transaction_type_column",
        "class_column",
        "message_column",
        "status_column",
        "reference_column",
        "total_column",
        "created_column",
    ]
    list_display_links = ["entity_type_column", "reference_column"]
    list_filter = [
        "status",
        ("entity_type", IndexedValuesFilter),
        ("transaction_type", IndexedValuesFilter),
        "subsidiary",
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["subsidiary"]
    search_fields = ["reference", "message"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["retry_sync", "mark_as_synced"]
    fieldsets = [
        (
            None,
            {
                # The columns, not the model fields: a read-only value needs no help text
                # under it saying what kind of value it is.
                "fields": [
                    "entity_type_column",
                    "transaction_type_column",
                    "subsidiary",
                    "reference",
                    "total",
                    "status",
                    "message",
                    "created_at",
                    "updated_at",
                    "attempts",
                ]
            },
        ),
        ("Resolution", {"fields": ["resolution", "resolved_at", "resolved_by_column"]}),
    ]

    # --- who may use it -----------------------------------------------------------------------

    def has_module_permission(self, request):
        return request.user.is_active and request.user.has_perm(BILLING)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_billing_permission(self, request):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail stays; Mark as Synced clears a row

    # --- the list -----------------------------------------------------------------------------

    @admin.display(description="Entity Type", ordering="entity_type")
    def entity_type_column(self, obj):
        return kinds.entity_type_label(obj.entity_type)

    @admin.display(description="Resolved by")
    def resolved_by_column(self, obj):
        return obj.resolved_by or "—"

    @admin.display(description="Transaction Type", ordering="transaction_type")
    def transaction_type_column(self, obj):
        return obj.transaction_type

    @admin.display(description="Class", ordering="subsidiary__name")
    def class_column(self, obj):
        return obj.subsidiary

    @admin.display(description="Error Message")
    def message_column(self, obj):
        short = obj.message if len(obj.message) <= 140 else obj.message[:139] + "…"
        return format_html('<span title="{}">{}</span>', obj.message, short)

    @admin.display(description="Status", ordering="status")
    def status_column(self, obj):
        if obj.status == am.ErrorTransaction.Status.FAILED:
            return format_html('<strong style="color:#c62828">{}</strong>', "Failed")
        how = " (marked as synced)" if obj.resolution == "marked_synced" else ""
        return format_html('<span style="color:#2e7d32">Resolved{}</span>', how)

    @admin.display(description="Reference", ordering="reference")
    def reference_column(self, obj):
        return obj.reference

    @admin.display(description="Transaction Total", ordering="total")
    def total_column(self, obj):
        return obj.total

    @admin.display(description="Date Created", ordering="created_at")
    def created_column(self, obj):
        return obj.created_at

    def get_changelist(self, request, **kwargs):
        return _ErrorChangeList

    def get_paginator(self, request, queryset, per_page, *args, **kwargs):
        if getattr(request, "error_transactions_span_counted", False):
            paginator = _CountAndSpan(queryset, per_page, *args, **kwargs)
        else:
            paginator = super().get_paginator(request, queryset, per_page, *args, **kwargs)
        request.error_transactions_paginator = paginator  # its count is the total (unfiltered)
        return paginator

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            context["error_groups"] = services.error_transactions_group(
                queryset=context["cl"].queryset
            )
            context["error_dates"] = date_hierarchy(_PeriodsFound(context["cl"]))
        return response

    def get_search_results(self, request, queryset, search_term):
        """Each word is a reference's beginning (an index finds it) or a part of the message
        (PostgreSQL: a trigram index finds it; SQLite reads the messages)."""
        for word in search_term.split():
            queryset = queryset.filter(_reference_starts(word) | Q(message__icontains=word))
        return queryset, False

    # --- the detail page ----------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        error = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if error is not None and self.has_view_permission(request, error):
            extra["detail"] = error_transaction_detail(error=error)
            extra["action_checkbox_name"] = helpers.ACTION_CHECKBOX_NAME
        return super().change_view(request, object_id, form_url, extra)

    # --- actions: each is a POST, confirmed on a second page ----------------------------------

    @admin.action(description="Retry Sync", permissions=["billing"])
    def retry_sync(self, request, queryset):
        queryset = queryset.select_related("subsidiary")
        if request.POST.get("post") != "yes":
            return self._confirm(request, queryset, "retry_sync")
        report = services.error_transactions_retry(errors=queryset, user=request.user)
        self._report(request, "Retry Sync", report)
        return None

    @admin.action(description="Mark as Synced", permissions=["billing"])
    def mark_as_synced(self, request, queryset):
        queryset = queryset.select_related("subsidiary")
        if request.POST.get("post") != "yes":
            return self._confirm(request, queryset, "mark_as_synced")
        count = services.error_transactions_mark_synced(errors=queryset, user=request.user)
        self.message_user(
            request,
            f"Marked {count} transaction(s) as synced; they will not be exported again unless "
            "they change in the TMS.",
            messages.SUCCESS,
        )
        return None

    CONFIRMATIONS = {
        "retry_sync": (
            "Retry Sync",
            "The documents of these transactions are sent to Sage Intacct again now. Make the "
            "corrections first: a transaction that still has the problem fails again.",
            "Yes, retry sync",
        ),
        "mark_as_synced": (
            "Mark as Synced",
            services.MARK_AS_SYNCED_WARNING,
            "Yes, mark as synced",
        ),
    }

    def _confirm(self, request, queryset, action):
        title, warning, button = self.CONFIRMATIONS[action]
        rows = list(queryset)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{title}: are you sure?",
            "action": action,
            "warning": warning,
            "button": button,
            "rows": rows,
            "open_rows": [row for row in rows if row.status == "failed"],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/accounting/errortransaction/confirm_action.html", context
        )

    def _report(self, request, title, report):
        level = messages.SUCCESS if not (report.failed or report.skipped) else messages.WARNING
        self.message_user(request, f"{title}: {report.summary}", level)
        reasons = report.reasons.most_common()
        for reason, count in reasons[:8]:
            self.message_user(request, f"{count} skipped: {reason}", messages.WARNING)
        if len(reasons) > 8:
            self.message_user(
                request, f"… and {len(reasons) - 8} more reasons for skipping.", messages.WARNING
            )

    # --- Sync All -----------------------------------------------------------------------------

    def get_urls(self):
        sync_all = self.admin_site.admin_view(self.sync_all_view)
        return [
            path("sync-all/", sync_all, name="accounting_errortransaction_sync_all"),
            *super().get_urls(),
        ]

    def sync_all_view(self, request):
        """GET: what Sync All will do; POST: do it, then show the report on the list."""
        if not self.has_billing_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            report = services.error_transactions_sync_all(user=request.user)
            self._report(request, "Sync All", report)
            return redirect("admin:accounting_errortransaction_changelist")
        failed = am.ErrorTransaction.objects.filter(status=am.ErrorTransaction.Status.FAILED)
        retryable = failed.filter(entity_type__in=RETRYABLE_ENTITY_TYPES).count()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Sync All: are you sure?",
            "failed": failed.count(),
            "retryable": retryable,
            "warning": services.SYNC_ALL_WARNING,
            "entity_types": ", ".join(RETRYABLE_ENTITY_TYPES),
            "changelist_url": reverse("admin:accounting_errortransaction_changelist"),
        }
        return TemplateResponse(request, "admin/accounting/errortransaction/sync_all.html", context)


class RetryExportMixin:
    """ "Retry export" on a document's own page: sends the selected documents to Sage now.

    Summary invoices, carrier settlements and driver settlements are not re-synced from the
    Error Transactions page (the seeds): this is where their failures are retried."""

    document_type = ""
    actions = ["retry_export"]

    def has_billing_permission(self, request):
        return request.user.is_active and request.user.has_perm(BILLING)

    @admin.action(description="Retry export to Sage Intacct", permissions=["billing"])
    def retry_export(self, request, queryset):
        report = services.documents_retry_export(
            document_type=self.document_type,
            documents=queryset.select_related("subsidiary"),
            user=request.user,
        )
        level = messages.SUCCESS if not (report.failed or report.skipped) else messages.WARNING
        self.message_user(
            request,
            f"Retry export: {report.exported} exported, {report.failed} failed (see Error "
            f"Transactions), {report.skipped} skipped.",
            level,
        )
        for reason, count in report.reasons.most_common():
            self.message_user(request, f"{count} skipped: {reason}", messages.WARNING)


# --- Retry export (and the members billed on their own) on the TMS's own group pages --------

admin.site.unregister([am.SummaryInvoice, am.CarrierSettlement, am.DriverSettlement])


@admin.register(am.SummaryInvoice)
class SummaryInvoiceAdmin(RetryExportMixin, GroupMembersLeftOut, tms.SummaryInvoiceAdmin):
    document_type = "summary_invoice"


@admin.register(am.CarrierSettlement)
class CarrierSettlementAdmin(RetryExportMixin, GroupMembersLeftOut, tms.CarrierSettlementAdmin):
    document_type = "carrier_settlement"


@admin.register(am.DriverSettlement)
class DriverSettlementAdmin(RetryExportMixin, GroupMembersLeftOut, tms.DriverSettlementAdmin):
    document_type = "driver_settlement"
