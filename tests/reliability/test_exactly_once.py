"""Exactly once on the second branches: a Net 30 retry, an auto-created customer, an outcome Sage
never answered, a document another run holds. Each fault is followed by ordinary runs; the final
state is checked (Sage, the ledger, the Error Transactions), not the calls."""

import pytest
from django.utils import timezone

from accounting import models as am
from intacct import export, tasks
from intacct import models as m
from intacct.connections import services
from intacct.errors import services as errors
from intacct.sandbox.models import SandboxRecord
from tests import factories as f

from .conftest import (
    Timeout,
    assert_exported_exactly_once,
    make_load,
    raise_from_callback,
    sage_document,
)


@pytest.fixture
def no_client_retries(settings):
    settings.INTACCT_MAX_RETRIES = 0  # a lost answer stays lost within the run


def lose_answers_to(sage_gateway, marker: bytes):
    """Sage applies every request carrying `marker`; its answer never comes back."""
    sage_gateway.on(
        lambda n, body, answer: (
            raise_from_callback(Timeout("Read timed out.")) if marker in body else answer
        )
    )


def net_45(connection, load):
    m.CustomPaymentTerm.objects.create(
        connection=connection, customer=load.customer, term_name="Net 45"
    )


def invoices():
    return SandboxRecord.objects.filter(object="ARINVOICE")


def test_a_net_30_retry_whose_answer_is_lost_is_linked_by_the_next_run(
    connection, sage_gateway, no_client_retries
):
    load = make_load(connection)
    net_45(connection, load)
    lose_answers_to(sage_gateway, b"-net30")

    first = export.loads_export(connection=connection)

    assert (first.created, first.failed) == (0, 1)
    assert invoices().count() == 1  # Sage applied the retry
    row = am.SyncRecord.objects.get()
    assert row.state == "unknown"
    error = am.ErrorTransaction.objects.get(status="failed")
    assert error.message.startswith("Sage Intacct did not answer whether it applied")
    assert "looks it up in Sage first" in error.message

    sage_gateway.rules.clear()
    second = export.loads_export(connection=connection)

    assert (second.created, second.failed) == (1, 0)
    assert_exported_exactly_once(load)
    error.refresh_from_db()
    assert error.status == "resolved"


def test_a_net_30_retry_refused_as_a_duplicate_is_linked_not_failed(
    connection, sage_gateway, no_client_retries
):
    """An older ledger that recorded the lost retry as a failure: the next run sends the first
    controlid (term not valid) and the retry again (duplicate control ID), and links."""
    load = make_load(connection)
    net_45(connection, load)
    lose_answers_to(sage_gateway, b"-net30")
    export.loads_export(connection=connection)
    sage_gateway.rules.clear()
    am.SyncRecord.objects.update(state="failed")

    summary = export.loads_export(connection=connection)

    assert (summary.created, summary.failed) == (1, 0)
    assert_exported_exactly_once(load)
    assert am.SyncRecord.objects.get().controlid.endswith("-net30")


def test_a_net_30_retry_failing_in_transport_does_not_hide_the_batchs_successes(
    connection, sage_gateway, no_client_retries
):
    loads = [make_load(connection) for _ in range(3)]
    odd = f.CustomerFactory(name="Harbor Imports")
    f.ExternalIdFactory(subsidiary=connection.subsidiary, customer=odd, external_id="C1008")
    net_term = make_load(connection, customer=odd)
    net_45(connection, net_term)
    lose_answers_to(sage_gateway, b"-net30")

    summary = export.loads_export(connection=connection)

    assert (summary.created, summary.failed) == (3, 1)
    assert am.SyncRecord.objects.filter(state="synced").count() == 3
    sage_gateway.rules.clear()
    assert export.loads_export(connection=connection).created == 1
    assert_exported_exactly_once(*loads, net_term)


def test_an_auto_created_customer_is_remembered_even_when_its_answer_was_lost(
    connection, sage_gateway, no_client_retries
):
    services.connection_update_settings(
        connection=connection, ar={"auto_create_customer": True, "name_matching_fallback": False}
    )
    customer = f.CustomerFactory(name="Union Beverage Logistics")  # not in Sage
    load = make_load(connection, customer=customer)
    lose_answers_to(sage_gateway, b"<CUSTOMER>")

    export.loads_export(connection=connection)  # the create reached Sage, its answer did not

    customers = SandboxRecord.objects.filter(object="CUSTOMER", data__NAME=customer.name)
    assert customers.count() == 1
    sage_gateway.rules.clear()
    assert export.loads_export(connection=connection).created == 1
    sage_id = customers.get().key
    external = am.ExternalAccountingId.objects.get(customer=customer)
    assert (external.external_id, external.subsidiary) == (sage_id, connection.subsidiary)

    # Renamed in the TMS, with name matching off: the stored ID still finds it; nothing new.
    customer.name = "Union Beverage Logistics Inc."
    customer.save()
    later = make_load(connection, customer=customer)
    assert export.loads_export(connection=connection).created == 1
    assert invoices().get(key=later.number).data["CUSTOMERID"] == sage_id
    assert SandboxRecord.objects.filter(object="CUSTOMER", key__startswith="C-CUS").count() == 1
    assert_exported_exactly_once(load, later)


def test_retry_sync_on_a_document_a_live_run_holds_says_which_run(connection):
    load = make_load(connection)
    export.loads_export(connection=connection)
    # Another run has just claimed it (its export is in flight) when support presses Retry Sync.
    am.SyncRecord.objects.update(
        state="pending", claimed_by="7f3a9c2e" + "0" * 24, last_attempt_at=timezone.now()
    )
    am.ErrorTransaction.objects.create(
        entity_type="Load",
        transaction_type="Invoice",
        subsidiary=connection.subsidiary,
        document_type="load",
        document_id=load.pk,
        reference=load.number,
        message="Sage Intacct did not answer",
    )
    load.save()  # changed since: eligible again

    report = errors.error_transactions_retry(errors=am.ErrorTransaction.objects.all())

    (reason,) = report.reasons
    assert reason.startswith("not sent now: export run 7f3a9c2e has been sending it since")
    assert report.sent == 0


def test_a_dead_runs_claim_lapses_within_the_lease(connection, settings):
    assert export.CLAIM_LEASE.total_seconds() == settings.INTACCT_CLAIM_LEASE_SECONDS == 120
    loads = [make_load(connection) for _ in range(2)]
    export.loads_export(connection=connection)
    lapsed = timezone.now() - export.CLAIM_LEASE
    am.SyncRecord.objects.update(state="pending", claimed_by="dead", last_attempt_at=lapsed)
    for load in loads:
        load.save()

    assert tasks.connection_export(connection.pk)["held"] == 0
    assert_exported_exactly_once(*loads)
    assert not am.SyncRecord.objects.exclude(state="synced").exists()


def test_a_change_made_while_its_invoice_is_on_the_wire_reaches_sage_next_run(
    connection, sage_gateway
):
    """The ledger records a document synced as of when it was read: a change the TMS makes
    after the read (here while its invoice is on the wire) is newer, and the next run sends
    it, instead of Sage keeping the old invoice because the answer came back later."""
    load = make_load(connection, po_number="PO-1")
    edits = []

    @sage_gateway.before
    def edit_while_on_the_wire(n, body):
        if b"<create_invoice>" in body and not edits:
            edits.append(n)
            changed = am.Load.objects.get(pk=load.pk)
            changed.po_number = "PO-2"
            changed.save()

    first = export.loads_export(connection=connection)

    assert (first.created, len(edits)) == (1, 1)  # the change came while the create was sent
    assert sage_document(load).data["DOCNUMBER"] == "PO-1"  # Sage has what was read

    second = export.loads_export(connection=connection)

    assert second.failed == 0 and second.updated + second.created == 1
    assert sage_document(load).data["DOCNUMBER"] == "PO-2"
    third = export.loads_export(connection=connection)
    assert (third.created, third.updated, third.unchanged) == (0, 0, 0)
