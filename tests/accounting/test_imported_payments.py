"""Payments imported from Sage Intacct are Sage's record: read-only on the document's page
and in the payments admin, whatever is posted; payments entered in the TMS stay editable."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounting import models as am
from accounting.admin import IMPORTED_PAYMENT_READ_ONLY
from tests import factories as f

from .test_admin import _inline_management, _load_form

pytestmark = pytest.mark.django_db

IMPORTED = am.Payment.Source.IMPORTED


@pytest.fixture
def load():
    load = f.LoadFactory()
    f.LoadChargeFactory(load=load, rate=Decimal("100"))
    return load


@pytest.fixture
def imported(load):
    return f.PaymentFactory(
        load=load,
        amount=Decimal("60.00"),
        source=IMPORTED,
        check_number="10452",
        note="From Sage",
        sage_payment_id="77",
        sage_detail_id="78",
    )


def change_url(load):
    return reverse("admin:accounting_load_change", args=[load.pk])


def posted_load(load, manual=(), imported=None, **extra):
    """The load page's form as a browser posts it, with its manual and imported payments."""
    line = load.lines.get()
    data = _load_form(
        load,
        **{
            "lines-INITIAL_FORMS": "1",
            "lines-0-id": str(line.pk),
            "lines-0-load": str(load.pk),
        },
    )
    data.update(_inline_management("payments", total=len(manual), initial=len(manual)))
    for i, payment in enumerate(manual):
        data.update(
            {
                f"payments-{i}-id": str(payment.pk),
                f"payments-{i}-load": str(load.pk),
                f"payments-{i}-paid_on": payment.paid_on.isoformat(),
                f"payments-{i}-amount": str(payment.amount),
                f"payments-{i}-method": payment.method,
                f"payments-{i}-check_number": payment.check_number,
                f"payments-{i}-reference": payment.reference,
                f"payments-{i}-note": payment.note,
                f"payments-{i}-source": "manual",
            }
        )
    if imported is not None:
        data.update(_inline_management("payments-2", total=1, initial=1))
        data.update({"payments-2-0-id": str(imported.pk), "payments-2-0-load": str(load.pk)})
    data.update(extra)
    return data


def test_the_load_page_shows_an_imported_payment_read_only_with_its_sage_link(
    admin_client, load, imported, settings
):
    settings.INTACCT_SANDBOX = True
    html = admin_client.get(change_url(load)).content.decode()

    assert "Payments imported from Sage Intacct (read-only)" in html
    sandbox_payment = reverse("admin:intacct_sandbox_sandboxpayment_change", args=["77"])
    assert f'<a href="{sandbox_payment}">Sage payment 77</a>' in html
    assert "10452" in html and "From Sage" in html
    # No input for it, no delete box: nothing on the page edits it.
    assert f'value="{imported.pk}"' in html  # only the hidden id of the read-only row
    assert 'name="payments-2-0-amount"' not in html
    assert 'name="payments-2-0-DELETE"' not in html
    assert 'name="payments-0-amount"' not in html


def test_without_the_sandbox_the_sage_payment_is_named_by_its_record_number(
    admin_client, load, imported, settings
):
    settings.INTACCT_SANDBOX = False
    html = admin_client.get(change_url(load)).content.decode()
    assert "Sage payment 77" in html
    assert "/intacct_sandbox/sandboxpayment/77/" not in html


def test_a_crafted_post_cannot_change_or_delete_an_imported_payment(admin_client, load, imported):
    # The imported payment's id slipped into the editable formset, changed and deleted,
    # and its read-only row posted with new values: none of it is applied.
    imported.amount = Decimal("1.00")
    imported.note = "Edited by hand"
    data = posted_load(
        load,
        manual=[imported],
        imported=imported,
        **{"payments-0-DELETE": "on", "payments-2-0-amount": "2.00", "payments-2-0-DELETE": "on"},
    )

    response = admin_client.post(change_url(load), data)

    assert response.status_code in (200, 302)
    stored = am.Payment.objects.get(pk=imported.pk)
    assert (stored.amount, stored.note, stored.source) == (Decimal("60.00"), "From Sage", IMPORTED)


def test_a_manual_payment_stays_editable_beside_an_imported_one(admin_client, load, imported):
    manual = f.PaymentFactory(load=load, amount=Decimal("10.00"))
    manual.amount = Decimal("40.00")

    response = admin_client.post(change_url(load), posted_load(load, [manual], imported))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert am.Payment.objects.get(pk=manual.pk).amount == Decimal("40.00")
    assert am.Payment.objects.get(pk=imported.pk).amount == Decimal("60.00")


def test_no_one_can_mark_a_payment_typed_in_the_tms_as_imported(admin_client, load):
    manual = f.PaymentFactory(load=load, amount=Decimal("10.00"))
    data = posted_load(load, [manual])
    data["payments-0-source"] = IMPORTED

    response = admin_client.post(change_url(load), data)

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert am.Payment.objects.get(pk=manual.pk).source == "manual"


def test_the_payments_admin_refuses_to_change_or_delete_an_imported_payment(admin_client, imported):
    change = reverse("admin:accounting_payment_change", args=[imported.pk])
    page = admin_client.get(change)
    html = page.content.decode()
    assert page.status_code == 200 and escape(IMPORTED_PAYMENT_READ_ONLY) in html
    assert 'name="amount"' not in html and "deletelink" not in html

    assert admin_client.post(change, {"amount": "1.00"}).status_code == 403
    delete = reverse("admin:accounting_payment_delete", args=[imported.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        reverse("admin:accounting_payment_changelist"),
        {"action": "delete_selected", "_selected_action": [imported.pk], "post": "yes"},
    )
    assert bulk.status_code == 403
    stored = am.Payment.objects.get(pk=imported.pk)
    assert (stored.amount, stored.source) == (Decimal("60.00"), IMPORTED)


def test_a_manual_payment_can_still_be_deleted_from_the_payments_admin(admin_client, load):
    manual = f.PaymentFactory(load=load, amount=Decimal("10.00"))
    response = admin_client.post(
        reverse("admin:accounting_payment_changelist"),
        {"action": "delete_selected", "_selected_action": [manual.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not am.Payment.objects.filter(pk=manual.pk).exists()
