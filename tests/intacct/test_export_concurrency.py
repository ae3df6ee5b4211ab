"""Two exporters at once on PostgreSQL: each load reaches Sage exactly once."""

import threading

import pytest
from django.db import connection as db
from django.db import connections

from accounting import models as am
from intacct import export
from intacct.sandbox.models import SandboxRecord

from .test_export import make_load

pytestmark = pytest.mark.skipif(
    db.vendor != "postgresql", reason="row claims under concurrency need PostgreSQL (CI runs it)"
)


@pytest.mark.django_db(transaction=True)
def test_two_exporters_running_at_once_send_each_load_once(connection):
    loads = [make_load(connection) for _ in range(30)]
    summaries, failures = [], []
    start = threading.Barrier(2)

    def exporter():
        try:
            start.wait()
            summaries.append(export.loads_export(connection=connection, batch_size=10))
        except Exception as error:  # surfaced below; a thread cannot fail the test itself
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=exporter) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == len(loads)
    assert sorted(
        SandboxRecord.objects.filter(object="ARINVOICE").values_list("key", flat=True)
    ) == sorted(load.number for load in loads)
    assert am.SyncRecord.objects.filter(state="synced").count() == len(loads)
    assert not am.ErrorTransaction.objects.exists()
    assert sum(s.created for s in summaries) == len(loads)
