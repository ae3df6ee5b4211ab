"""Idempotency keys that cannot collide: every ledger row's controlid carries a random key,
written before the first send and reused for every resend of that version, so a restored
database, a copy of it, or a second installation writing into the same Sage company never
hands Sage a key it has seen (README "Exporting to Sage Intacct")."""

import re

from accounting import models as am
from intacct import export
from intacct import models as m
from intacct.client import functions as fn
from intacct.export import DOCUMENT_TYPES, controlid_new
from intacct.sandbox.services import sandbox_faults_clear, sandbox_faults_set

from .conftest import connect
from .sandbox_routing import make_client
from .test_export import invoices, make_load

CONTROLID = re.compile(rb'<function controlid="([^"]+)"><create_invoice>')
SAGE_MAX_CONTROLID = 256  # api.v3.0.xsd: function/@controlid maxLength


def signed_in(connection, **options):
    """A client of the connection's entity with its session open (faults then hit writes)."""
    client = make_client(location_id=connection.location_id, **options)
    client.open_session()
    return client


def sent_controlids(bodies: list[bytes]) -> list[str]:
    return [c.decode() for body in bodies for c in CONTROLID.findall(body)]


def forget_installation(connection) -> None:
    """What another database than this one (a restore from before, a copy, another
    installation) does not have: the TMS documents and ledger rows written here."""
    am.Payment.objects.all().delete()
    am.ErrorTransaction.objects.all().delete()
    am.SyncRecord.objects.filter(connection=connection).delete()
    am.LoadCharge.objects.all().delete()
    am.Load.objects.all().delete()


def load_numbered(connection, *, pk: int, number: str, customer: str, external_id: str):
    return make_load(
        connection, pk=pk, number=number, customer_name=customer, external_id=external_id
    )


def test_a_ledger_key_is_random_and_reused_for_every_resend_of_its_version(
    connection, sandbox_requests
):
    load = make_load(connection)
    client = signed_in(connection)
    sandbox_faults_set(fail_next=1, fail_status=503)  # the first send is refused: resent
    export.loads_export(connection=connection, client=client)
    record = am.SyncRecord.objects.get(document_id=load.pk)

    assert re.fullmatch(rf"ar-invoice-load-{load.pk}-v1-[0-9a-f]{{16}}", record.controlid)
    assert sent_controlids(sandbox_requests) == [record.controlid, record.controlid]
    assert record.state == "synced" and invoices().count() == 1


def test_the_key_is_written_before_the_first_send_and_kept_by_the_next_run(
    connection, sandbox_requests
):
    load = make_load(connection)
    m.AccountMapping.objects.filter(connection=connection, side="ar").delete()
    export.loads_export(connection=connection)  # fails before anything is sent
    written = am.SyncRecord.objects.get(document_id=load.pk).controlid
    assert sent_controlids(sandbox_requests) == []

    connect_accounts(connection)
    export.loads_export(connection=connection)
    assert sent_controlids(sandbox_requests) == [written]


def connect_accounts(connection) -> None:
    connection.account_mappings.create(side="ar", gl_account_no="4000")


def test_two_keys_for_one_document_id_are_never_equal():
    kind = DOCUMENT_TYPES["load"]
    keys = {controlid_new(kind, 17, 1) for _ in range(1000)}
    assert len(keys) == 1000


def test_an_existing_row_keeps_the_controlid_it_was_written_with(connection, sandbox_requests):
    load = make_load(connection)
    am.SyncRecord.objects.create(
        connection=connection,
        document_type="load",
        document_id=load.pk,
        reference=load.number,
        sage_object="ARINVOICE",
        controlid=f"ar-invoice-load-{load.pk}-v1",  # written before random keys existed
        state="failed",
    )
    export.loads_export(connection=connection)
    assert sent_controlids(sandbox_requests) == [f"ar-invoice-load-{load.pk}-v1"]
    assert invoices().count() == 1


def test_a_restored_database_gets_a_new_load_with_a_reused_id_into_sage(connection):
    """Restored from a backup taken before load 501 was exported: the TMS hands id 501 to
    another load, which Sage must take as the new document it is."""
    load_numbered(
        connection, pk=501, number="L-501", customer="Acme Distribution", external_id="C1001"
    )
    assert export.loads_export(connection=connection).created == 1
    forget_installation(connection)  # the restore

    load_numbered(
        connection, pk=501, number="L-502", customer="Acme Distribution", external_id="C1001"
    )
    summary = export.loads_export(connection=connection)

    assert (summary.created, summary.failed) == (1, 0)
    assert sorted(invoices().values_list("key", flat=True)) == ["L-501", "L-502"]
    record = am.SyncRecord.objects.get()
    assert record.record_no == str(invoices().get(key="L-502").pk)


def test_a_copy_pointed_at_the_same_company_does_not_collide_with_the_original(connection):
    """A staging copy of the database, pointed at the production Sage company: each side
    exports a different new load under the same id."""
    load_numbered(
        connection, pk=601, number="L-601", customer="Acme Distribution", external_id="C1001"
    )
    export.loads_export(connection=connection)
    original = am.SyncRecord.objects.get().controlid
    forget_installation(connection)  # the copy was taken before that export

    load_numbered(
        connection, pk=601, number="L-601-STG", customer="Acme Distribution", external_id="C1001"
    )
    summary = export.loads_export(connection=connection)

    assert summary.created == 1
    assert am.SyncRecord.objects.get().controlid != original
    assert sorted(invoices().values_list("key", flat=True)) == ["L-601", "L-601-STG"]


def test_two_installations_export_different_loads_with_one_id_into_one_company(sandbox):
    """Two installations (two ledgers) write into one Sage company, each into its entity."""
    first = connect("RF", "Ridgeline Freight")
    load_numbered(first, pk=701, number="RF-701", customer="Acme Distribution", external_id="C1001")
    assert export.loads_export(connection=first).created == 1
    forget_installation(first)

    second = connect("RL", "Ridgeline Logistics")
    load_numbered(
        second, pk=701, number="RL-701", customer="Acme Distribution", external_id="C1001"
    )
    summary = export.loads_export(connection=second)

    assert (summary.created, summary.failed) == (1, 0)
    by_number = {i.key: i.entity for i in invoices()}
    assert by_number == {"RF-701": "E100", "RL-701": "E200"}


def test_a_lost_answer_is_never_linked_to_another_installations_document(connection):
    """Another installation already has a document numbered L-900 in the company. Ours was
    never applied and its answer was lost: the lookup by number must not take theirs."""
    load_numbered(
        connection, pk=900, number="L-900", customer="Acme Distribution", external_id="C1001"
    )
    export.loads_export(connection=connection)
    theirs = invoices().get()
    forget_installation(connection)

    mine = load_numbered(
        connection, pk=901, number="L-900", customer="Northwind Foods", external_id="C1002"
    )
    client = signed_in(connection, max_retries=0)
    sandbox_faults_set(fail_next=1, fail_status=524)  # not applied; the answer never comes
    export.loads_export(connection=connection, client=client)
    assert am.SyncRecord.objects.get(document_id=mine.pk).state == "unknown"
    sandbox_faults_clear()

    summary = export.loads_export(connection=connection)

    record = am.SyncRecord.objects.get(document_id=mine.pk)
    ours = invoices().exclude(pk=theirs.pk).get()
    assert (summary.created, record.state, record.record_no) == (1, "synced", str(ours.pk))
    assert ours.data["CUSTOMERID"] == "C1002"


def test_a_lost_answer_of_our_own_document_is_linked(connection):
    load = make_load(connection)
    client = signed_in(connection, max_retries=0)
    sandbox_faults_set(drop_next=1)  # applied; the answer is lost
    export.loads_export(connection=connection, client=client)
    assert am.SyncRecord.objects.get(document_id=load.pk).state == "unknown"

    summary = export.loads_export(connection=connection)

    record = am.SyncRecord.objects.get(document_id=load.pk)
    assert (summary.created, record.record_no) == (1, str(invoices().get().pk))


def test_the_longest_key_and_its_suffixes_fit_the_ledger_and_sage():
    longest = max(DOCUMENT_TYPES.values(), key=lambda kind: len(kind.prefix))
    key = controlid_new(longest, 2**63 - 1, 999)
    # the longest a function sent for that row can get: a Net 30 retry, then an update
    sent = f"{key}-net30-update-{'0' * 12}"
    ledger_max = am.SyncRecord._meta.get_field("controlid").max_length
    assert len(f"{key}-net30") <= ledger_max
    assert len(sent) <= SAGE_MAX_CONTROLID
    fn.create("APBILL", {"VENDORID": "V1"}, controlid=sent)  # the client accepts it


def test_an_auto_created_customer_is_created_under_a_random_controlid(connection, sandbox_requests):
    m.ARSettings.objects.filter(connection=connection).update(auto_create_customer=True)
    load = make_load(connection, customer_name="Westgate Retail", external_id=None)
    export.loads_export(connection=connection)
    customer = load.customer
    created = [
        c.decode()
        for body in sandbox_requests
        for c in re.findall(rb'<function controlid="([^"]+)"><create><CUSTOMER>', body)
    ]
    assert len(created) == 1
    assert re.fullmatch(rf"customer-customer-{customer.pk}-[0-9a-f]{{16}}", created[0])
