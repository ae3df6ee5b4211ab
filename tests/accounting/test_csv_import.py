"""CSV imports show each bad row in the preview and import nothing when any row fails."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tablib import Dataset

from accounting import models as m
from accounting import resources, roles
from tests import factories as f

pytestmark = pytest.mark.django_db

LOADS_CSV = """load_number,invoice_as_subsidiary,tender_as_subsidiary,customer,reference_number,po_number,shipper_name,consignee_name,pickup_date,delivery_date,kind,item_code,description,quantity,rate
L-900,RF,,Acme Distribution,REF-1,PO-1,Acme DC,Store 12,2026-11-02,2026-11-04,linehaul,PER_MILE,Linehaul,500,2.50
L-900,RF,,Acme Distribution,REF-1,PO-1,Acme DC,Store 12,2026-11-02,2026-11-04,accessorial,DETENTION,Detention,1,150
L-901,RF,RL,Acme Distribution,REF-2,PO-2,Acme DC,Store 14,2026-11-03,2026-11-05,linehaul,FLAT,Flat rate,1,900
"""


@pytest.fixture
def company():
    f.SubsidiaryFactory(code="RF", name="Ridgeline Freight")
    f.SubsidiaryFactory(code="RL", name="Ridgeline Logistics")
    return f.CustomerFactory(name="Acme Distribution")


def _import(resource, text, *, dry_run):
    dataset = Dataset().load(text, format="csv")
    return resource.import_data(dataset, dry_run=dry_run, raise_errors=False)


def test_loads_with_their_charges_import_from_one_row_per_charge(company):
    result = _import(resources.LoadChargeResource(), LOADS_CSV, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    first = m.Load.objects.with_totals().get(number="L-900")
    assert first.total == Decimal("1400.00")
    assert first.customer == company and first.invoice_as_subsidiary.code == "RF"
    second = m.Load.objects.get(number="L-901")
    assert second.is_cross_subsidiary

    again = _import(resources.LoadChargeResource(), LOADS_CSV, dry_run=False)
    assert not again.has_errors()
    assert m.LoadCharge.objects.count() == 3  # re-importing the same file changes nothing


def test_a_bad_row_names_its_problem_and_nothing_is_imported(company):
    bad = LOADS_CSV + (
        "L-902,,,Acme Distribution,,,,,,,linehaul,FLAT,,1,100\n"
        "L-903,RF,,Nobody Inc,,,,,,,linehaul,FLAT,,1,100\n"
        "L-904,RF,,Acme Distribution,,,,,,,linehaul,FLAT,,-1,100\n"
    )
    result = _import(resources.LoadChargeResource(), bad, dry_run=False)
    assert result.has_errors()
    messages = [str(error.error) for _, errors in result.row_errors() for error in errors]
    assert messages == [
        m.LOAD_NEEDS_INVOICE_AS,
        "No customer named 'Nobody Inc': import customers first.",
        "quantity is negative (-1): enter zero or more.",
    ]
    assert not m.Load.objects.exists() and not m.LoadCharge.objects.exists()


def test_external_ids_import_by_subsidiary_code_and_party_name(company):
    f.CarrierFactory(name="Apex Carriers LLC")
    text = (
        "subsidiary,party_type,party,external_id\n"
        "RF,customer,acme distribution,C1001\n"
        "RF,carrier,Apex Carriers LLC,V2001\n"
    )
    result = _import(resources.ExternalAccountingIdResource(), text, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert company.external_accounting_id(m.Subsidiary.objects.get(code="RF")) == "C1001"

    clash = "subsidiary,party_type,party,external_id\nRF,driver,Nobody,V9\nRF,trucker,X,V8\n"
    result = _import(resources.ExternalAccountingIdResource(), clash, dry_run=False)
    messages = [str(error.error) for _, errors in result.row_errors() for error in errors]
    assert messages == [
        "No driver named 'Nobody': create it first or fix the name.",
        "party_type 'trucker' is not one of customer, carrier, driver.",
    ]
    assert m.ExternalAccountingId.objects.count() == 2


def test_the_admin_preview_shows_row_errors_and_offers_no_confirm(admin_client, company):
    upload = SimpleUploadedFile(
        "loads.csv", (LOADS_CSV + "L-905,XX,,Acme Distribution,,,,,,,linehaul,FLAT,,1,1\n").encode()
    )
    url = reverse("admin:accounting_load_import")
    form = admin_client.get(url).context["form"]
    csv_index = next(i for i, fmt in enumerate(form.fields["format"].choices) if fmt[1] == "csv")
    response = admin_client.post(
        url,
        {
            "resource": "0",
            "format": str(form.fields["format"].choices[csv_index][0]),
            "import_file": upload,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "No subsidiary with code &#x27;XX&#x27;." in page
    assert 'name="confirm"' not in page and "Confirm import" not in page
    assert not m.Load.objects.exists()


def test_a_clean_customer_file_previews_then_imports_on_confirm(admin_client):
    text = "name,email,city,state\nHarbor Imports,ap@harbor.example,Houston,TX\n"
    url = reverse("admin:accounting_customer_import")
    form = admin_client.get(url).context["form"]
    csv_choice = next(c for c in form.fields["format"].choices if c[1] == "csv")[0]
    preview = admin_client.post(
        url,
        {
            "resource": "0",
            "format": str(csv_choice),
            "import_file": SimpleUploadedFile("c.csv", text.encode()),
        },
    )
    assert preview.status_code == 200
    assert not m.Customer.objects.exists()  # preview only
    confirm = preview.context["confirm_form"]
    done = admin_client.post(
        reverse("admin:accounting_customer_process_import"), {**confirm.initial, "resource": "0"}
    )
    assert done.status_code == 302
    assert m.Customer.objects.get().city == "Houston"


@pytest.mark.parametrize(
    ("role", "status"), [(None, 403), (roles.SUPPORT, 200), (roles.ADMIN, 200)]
)
def test_only_users_who_may_change_customers_reach_the_import_page(
    db, client, django_user_model, role, status
):
    user = django_user_model.objects.create_user("clerk", password="pw-123456", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    assert client.get(reverse("admin:accounting_customer_import")).status_code == status
    assert client.get(reverse("admin:accounting_customer_export")).status_code == status
