"""Every list and change page of the admin on the demo company (`seed_demo`, connected to the
sandbox, exported, payments imported): each answers, and costs the same number of queries and
lists the same number of select options when the demo holds five times as many loads."""

import contextlib

import pytest

from accounting import models as am
from accounting.services import demo_seed
from benchmarks.admin_pages import admin_pages, walk
from intacct import export
from intacct.payments import payments_import
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import SandboxActionError, sandbox_payment_record
from tests import factories as f
from tests.intacct.conftest import *  # noqa: F403


def demo(connection, loads: int) -> None:
    """The demo with `loads` loads, exported to Sage, some paid there and imported back,
    and a few failures on the Error Transactions page."""
    demo_seed(loads=loads)
    export.connection_export(connection=connection)
    for record in am.SyncRecord.objects.filter(
        connection=connection, sage_object="ARINVOICE", state="synced"
    ).exclude(record_no="")[: loads // 2]:
        invoice = SandboxRecord.objects.get(pk=int(record.record_no))
        with contextlib.suppress(SandboxActionError):  # paid off by the first demo
            sandbox_payment_record(document=invoice)
    payments_import(connection=connection)
    for _ in range(loads // 4):
        f.ErrorTransactionFactory(subsidiary=connection.subsidiary)


@pytest.mark.django_db
def test_every_admin_page_of_the_demo_costs_the_same_queries_as_it_grows(admin_client, connection):
    demo(connection, loads=8)
    small = {v.name: v for v in walk(admin_client)}
    assert len(small) >= len(admin_pages()) - 5  # most models have rows to show
    demo(connection, loads=40)
    grown = {v.name: v for v in walk(admin_client)}

    failed = [v for v in grown.values() if v.status != 200]
    assert failed == []
    changed = {
        name: (small[name].queries, v.queries, small[name].options, v.options)
        for name, v in grown.items()
        if name in small and (v.queries, v.options) != (small[name].queries, small[name].options)
    }
    assert changed == {}, "pages whose (queries, options) grew: small → grown"
