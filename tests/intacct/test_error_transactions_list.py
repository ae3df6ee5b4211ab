"""The Error Transactions list at scale: grouped causes worked out once per row and grouped by
the database, the date hierarchy without a DISTINCT over every row, search by reference prefix
and by words of the message; each page a constant number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounting import models as am
from intacct import export
from intacct import messages as msg
from intacct.errors import services as service
from tests import factories as f

from .conftest import *  # noqa: F403
from .test_export import make_load

LIST = reverse("admin:accounting_errortransaction_changelist")


def at(when: dt.datetime, **kwargs) -> am.ErrorTransaction:
    error = f.ErrorTransactionFactory(**kwargs)
    am.ErrorTransaction.objects.filter(pk=error.pk).update(created_at=when)
    return error


def local(*args) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


def get(client, query=""):
    with CaptureQueriesContext(db) as queries:
        response = client.get(LIST + query)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


def distinct_dates(sql: str) -> bool:
    return "DISTINCT" in sql.upper() and "created_at" in sql


# --- grouped causes ----------------------------------------------------------------------------


def test_each_open_failure_gets_its_cause_once_and_keeps_it(admin_client):
    subsidiary = f.SubsidiaryFactory()
    rows = [
        f.ErrorTransactionFactory(
            subsidiary=subsidiary, message=msg.MISSING_REVENUE_ACCOUNT.format(line=n)
        )
        for n in (1, 2)
    ]
    resolved = f.ErrorTransactionFactory(subsidiary=subsidiary, status="resolved")

    assert service.error_transactions_cause_fill() == 2
    assert service.error_transactions_cause_fill() == 0  # nothing left to work out
    causes = set(
        am.ErrorTransaction.objects.filter(pk__in=[r.pk for r in rows]).values_list(
            "cause", flat=True
        )
    )
    assert causes == {"revenue_account"}  # one cause for every line of the rule
    resolved.refresh_from_db()
    assert resolved.cause == ""  # only open failures are grouped


def test_a_new_message_from_the_export_is_grouped_by_its_new_cause(admin_client, connection):
    load = make_load(connection)
    am.Customer.objects.update(name="Nobody Sage knows")
    am.ExternalAccountingId.objects.filter(customer__isnull=False).delete()
    export.loads_export(connection=connection)
    error = am.ErrorTransaction.objects.get(document_id=load.pk)
    service.error_transactions_cause_fill()
    error.refresh_from_db()
    assert error.cause.startswith("customer:")

    am.ErrorTransaction.objects.filter(pk=error.pk).update(message="stale")  # a later export
    export.loads_export(connection=connection)  # fails again, with its message

    error.refresh_from_db()
    assert error.cause == ""  # emptied with the new message; worked out on the next page
    admin_client.get(LIST)
    error.refresh_from_db()
    assert error.cause.startswith("customer:")


def test_groups_cost_the_same_queries_for_3_and_30_causes(admin_client):
    subsidiary = f.SubsidiaryFactory()

    def failures(start, count):
        for n in range(start, start + count):
            for _ in range(2):  # two rows per message: a group each
                f.ErrorTransactionFactory(subsidiary=subsidiary, message=f"Sage said no ({n})")

    failures(0, 3)
    admin_client.get(LIST)  # their causes worked out once
    html, three = get(admin_client)
    assert html.count('class="error-group"') == 3
    failures(3, 27)
    admin_client.get(LIST)
    html, thirty = get(admin_client)
    assert html.count('class="error-group"') == 30
    assert len(thirty) == len(three)


def test_a_group_shows_its_first_ten_references_and_its_full_count(admin_client):
    subsidiary = f.SubsidiaryFactory()
    for n in range(12):
        f.ErrorTransactionFactory(
            subsidiary=subsidiary,
            reference=f"L{n:05d}",
            message=msg.MISSING_REVENUE_ACCOUNT.format(line=n),
        )

    [group] = service.error_transactions_group(queryset=am.ErrorTransaction.objects.all())

    assert group.count == 12
    assert group.references == [f"L{n:05d}" for n in range(10)]


# --- the date hierarchy ------------------------------------------------------------------------


def test_the_date_hierarchy_lists_the_periods_having_rows_without_a_distinct(admin_client):
    at(local(2025, 3, 4, 10), reference="L1")
    at(local(2026, 1, 2, 10), reference="L2")
    at(local(2026, 1, 9, 23, 30), reference="L3")
    at(local(2026, 5, 1, 0, 10), reference="L4")

    html, queries = get(admin_client)
    assert not any(distinct_dates(sql) for sql in queries)
    assert ">2025</a>" in html and ">2026</a>" in html and ">2024</a>" not in html

    html, _ = get(admin_client, "?created_at__year=2026")
    assert "January 2026</a>" in html and "May 2026</a>" in html
    assert "February 2026</a>" not in html

    html, queries = get(admin_client, "?created_at__year=2026&created_at__month=1")
    assert not any(distinct_dates(sql) for sql in queries)
    assert "January 2</a>" in html and "January 9</a>" in html
    assert "January 3</a>" not in html


def test_the_date_hierarchy_within_a_date_filter_lists_only_the_days_it_keeps(admin_client):
    at(local(2026, 11, 10, 10), reference="L1")  # in the month, before the filter's start
    at(local(2026, 11, 21, 9), reference="L2")
    at(local(2026, 11, 25, 18), reference="L3")

    html, _ = get(
        admin_client,
        "?created_at__year=2026&created_at__month=11&created_at__gte=2026-11-20T00:00:00%2B00:00",
    )

    assert "November 21</a>" in html and "November 25</a>" in html
    assert "November 10</a>" not in html and "November 22</a>" not in html


def test_the_date_hierarchy_costs_the_same_queries_for_a_month_and_for_years(admin_client):
    at(local(2026, 1, 2, 10))
    at(local(2026, 1, 20, 10))
    _, one_month = get(admin_client)
    for year in range(2018, 2026):
        at(local(year, 6, 1, 10))
    _, years = get(admin_client)
    assert len(years) == len(one_month)


# --- search ------------------------------------------------------------------------------------


def test_search_finds_a_reference_by_its_beginning_in_any_case(admin_client):
    f.ErrorTransactionFactory(reference="T0000123", message="Bill export requires a vendor")
    f.ErrorTransactionFactory(reference="T0000124", message="Bill export requires a vendor")
    f.ErrorTransactionFactory(reference="XT000012", message="Something else")

    html, _ = get(admin_client, "?q=t000012")

    assert "T0000123" in html and "T0000124" in html
    assert "XT000012" not in html  # a reference is searched from its beginning


def test_search_finds_words_inside_the_message(admin_client):
    f.ErrorTransactionFactory(reference="L00001", message="Invalid term: Net 45 is not valid")
    f.ErrorTransactionFactory(reference="L00002", message="Line 3 is missing a revenue account")

    html, _ = get(admin_client, "?q=net+45")

    assert "L00001" in html and "L00002" not in html


@pytest.mark.skipif(db.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
@pytest.mark.django_db
def test_postgresql_has_a_trigram_index_on_the_message():
    with db.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'error_message_trgm'")
        [(definition,)] = cursor.fetchall()
    assert "gin_trgm_ops" in definition and "upper(message)" in definition


# --- the rows ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["", "?status__exact=failed&o=6.-8", "?q=L0&created_at__year=2026&o=-7"],
)
def test_rows_are_the_html_django_draws(admin_client, query):
    """The list draws its rows in one piece (`listing.result_list`); each is, cell for cell,
    what Django's own `items_for_result` draws for it, links and their preserved filters
    included, on a plain, a filtered and sorted, and a searched page."""
    from django.contrib.admin.templatetags.admin_list import items_for_result

    f.ErrorTransactionFactory(reference="L0<&>\"'", message='Bad <b>"term"</b> & more ' * 9)
    f.ErrorTransactionFactory(transaction_type=" ", total=Decimal("1234567.5"))
    f.ErrorTransactionFactory(status="resolved", resolution="marked_synced")
    f.ErrorTransactionFactory(entity_type="Trip", transaction_type="Bill")
    at(local(2026, 3, 1, 23, 59), reference="L0 late")

    response = admin_client.get(LIST + query)

    cl = response.context["cl"]
    drawn = response.context["error_rows"]["results"]
    assert len(drawn) == len(cl.result_list) >= 3
    django = ["".join(items_for_result(cl, obj, None)) for obj in cl.result_list]
    assert [row[0] for row in drawn] == django
    html = response.content.decode()
    assert all(f"<tr>{row}</tr>" in html for row in django)
