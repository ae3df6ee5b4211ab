"""The Sage Intacct admin pages cost a constant number of queries whatever their size."""

from html.parser import HTMLParser

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from intacct import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db


def _rows(count):
    """`count` connections, each with a mapping of every kind."""
    for _ in range(count):
        connection = f.ConnectionFactory(status=m.Connection.Status.ACTIVE)
        m.AccountMapping.objects.create(connection=connection, side="ar", gl_account_no="4000")
        dimension = m.DimensionMapping.objects.create(
            connection=connection, dimension="location", source="office"
        )
        m.DimensionValueMap.objects.create(mapping=dimension, tms_value="Dallas", sage_value="DAL")
        m.CustomPaymentTerm.objects.create(
            connection=connection, customer=f.CustomerFactory(), term_name="Net 15"
        )
        m.CustomPaymentTerm.objects.create(
            connection=connection, carrier=f.CarrierFactory(), term_name="Net 30"
        )


def _queries(client, url):
    client.get(url)
    with CaptureQueriesContext(db) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "model",
    ["connection", "accountmapping", "dimensionmapping", "dimensionvaluemap", "custompaymentterm"],
)
def test_each_list_page_costs_the_same_queries_for_2_and_8_connections(admin_client, model):
    url = reverse(f"admin:intacct_{model}_changelist")
    _rows(2)
    few = _queries(admin_client, url)
    _rows(6)
    assert _queries(admin_client, url) == few


def test_the_connection_page_costs_the_same_queries_with_more_mappings(admin_client):
    _rows(1)
    connection = m.Connection.objects.get()
    url = reverse("admin:intacct_connection_change", args=[connection.pk])
    few = _queries(admin_client, url)
    for code in ("FUEL", "TOLL", "LUMPER"):
        m.AccountMapping.objects.create(
            connection=connection,
            side="ap",
            category="accessorials",
            item_code=code,
            gl_account_no="5020",
        )
        m.CustomPaymentTerm.objects.create(
            connection=connection, driver=f.DriverFactory(), term_name="Net 15"
        )
    assert _queries(admin_client, url) == few


def test_the_account_mappings_tab_lists_one_connections_mappings(admin_client):
    _rows(2)
    first, second = m.Connection.objects.order_by("pk")
    m.AccountMapping.objects.filter(connection=second).update(gl_account_no="4999")
    url = reverse("admin:intacct_accountmapping_changelist") + f"?connection__id__exact={first.pk}"
    response = admin_client.get(url)
    assert response.status_code == 200
    assert [row.connection_id for row in response.context["cl"].result_list] == [first.pk]


class _FormNesting(HTMLParser):
    """Records each form's id and how many forms were open around it."""

    def __init__(self):
        super().__init__()
        self.depth, self.forms = 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.forms.append((dict(attrs).get("id", ""), self.depth))
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth -= 1


def test_the_connection_page_buttons_post_forms_a_browser_keeps(admin_client):
    connection = f.ConnectionFactory(status=m.Connection.Status.ACTIVE)
    page = admin_client.get(reverse("admin:intacct_connection_change", args=[connection.pk]))
    parser = _FormNesting()
    parser.feed(page.content.decode())
    forms = dict(parser.forms)
    # A browser drops a form nested in another, so Pause/Test connection would do nothing.
    assert forms["primary-sync"] == 0
    assert forms["test-connection"] == 0
    assert 'form="primary-sync"' in page.content.decode()
