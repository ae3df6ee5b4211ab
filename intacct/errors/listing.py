"""The Error Transactions list at any size: what Django's change list does with every row
(counts, the date hierarchy's periods, the filters' values, each row's cells) done with index
lookups and one pass where Django reads the whole table or works cell by cell.

Queries stay the same in number whatever the rows (`tests/intacct/test_counts.py`); the rows
are the same HTML Django draws (`tests/intacct/test_error_transactions_list.py`).
"""

import datetime as dt
import functools
import itertools
from functools import cached_property

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_value, quote
from django.contrib.admin.views.main import (
    ALL_VAR,
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    ORDER_VAR,
    TO_FIELD_VAR,
    ChangeList,
)
from django.core.paginator import Paginator
from django.db import connection as db
from django.db.models import Count, DateTimeField, F, Max, Min, Q, Subquery
from django.db.models.constants import LOOKUP_SEP
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


def reference_starts(prefix: str) -> Q:
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


class CountAndSpan(Paginator):
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


class PeriodsFound:
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
        self._counted = span  # found with the count (CountAndSpan)

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
        span = self._span(field)
        if span["first"] is None:
            return []
        rows = self._queryset.order_by()
        if self._dates_only:
            # Filtered by one range of dates: every period between the span's ends lies inside
            # it, and the two ends are rows of it, so the table's first row at or after a
            # period's start is the filtered rows' first there. Without the filter's own bounds
            # beside the period's, SQLite's index range starts at the period, not at the
            # filter's start (38 ms for a year's months at 100,000 rows, 0.1 ms after).
            rows = self._queryset.model._default_manager.order_by()
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


class ErrorChangeList(ChangeList):
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


# --- the rows -------------------------------------------------------------------------------

_PK = "__pk__"  # where each row's key goes in its link (the change URL takes any text there)


def result_list(cl) -> dict:
    """What Django's `{% result_list cl %}` gives its template, with each row drawn in one
    piece: the admin's display methods called directly, the change link reversed and its
    preserved filters encoded once for the page, the checkbox written rather than rendered as a
    widget. Django's `items_for_result` does each of those per cell (a field lookup that fails
    before it tries the admin's method, a widget template per checkbox, a URL per link): about
    half of the list's CPU at 100 rows. The HTML is the same, cell for cell
    (`test_rows_are_the_html_django_draws`). Columns must be the admin's methods; a list with
    editable rows or in a popup is drawn by Django."""
    headers = list(result_headers(cl))
    context = {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
    }
    model_admin = cl.model_admin
    methods = all(callable(getattr(model_admin, name, None)) for name in cl.list_display)
    if cl.formset or cl.is_popup or cl.to_field or not methods:
        context["results"] = list(results(cl))
        return context
    url = reverse(
        f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
        args=(_PK,),
        current_app=model_admin.admin_site.name,
    )
    url = escape(
        add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)
    )
    empty = model_admin.get_empty_value_display()
    links = set(cl.list_display_links or ())
    columns = [(name, getattr(model_admin, name), name in links) for name in cl.list_display]
    label = _("Select this object for an action - {}")
    rows = []
    for obj in cl.result_list:
        pk = str(obj.pk)
        cells = []
        linked = False
        for name, method, link in columns:
            if name == "action_checkbox":
                cells.append(
                    f'<td class="action-checkbox"><input type="checkbox" name="{ACTION_CHECKBOX_NAME}"'
                    f' value="{escape(pk)}" class="action-select"'
                    f' aria-label="{format_html(label, str(obj))}"></td>'
                )
                continue
            value = method(obj)
            classes = f"field-{name}"
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if isinstance(value, (dt.date, dt.time)):
                classes += " nowrap"
            if not isinstance(value, SafeString):
                value = conditional_escape(
                    display_for_value(
                        value,
                        getattr(method, "empty_value_display", empty),
                        getattr(method, "boolean", False),
                    )
                )
            if link:
                tag = "td" if linked else "th"
                linked = True
                href = url.replace(_PK, escape(quote(pk)), 1)
                value = f'<a href="{href}">{value}</a>'
            else:
                tag = "td"
            cells.append(f'<{tag} class="{classes}">{value}</{tag}>')
        rows.append(ResultList(None, [mark_safe("".join(cells))]))  # noqa: S308 - escaped above
    context["results"] = rows
    return context
