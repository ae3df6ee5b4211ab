"""Fuzzing: random and hostile values (control characters, very long text, emoji, XML
metacharacters, CSV formulae, numbers at the limits) through every form of the wizard and the
settings tabs, every CSV import, admin URLs and the sandbox gateway (random and truncated XML).

Never a 500, never a traceback shown, nothing half-saved: a refused form leaves every row of
the connection as it was. Each test records how many inputs it generated (`fuzz_inputs`),
summed at the end of the run. CI runs 40 examples per test, the same every run; FUZZ_EXAMPLES
sets more, drawn at random each time (e.g. FUZZ_EXAMPLES=500 bin/test tests/reliability/test_fuzz.py).
"""

import os
from urllib.parse import quote

import pytest
import xmltodict
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting import models as am
from intacct import models as m
from intacct.sandbox import gateway
from intacct.sandbox.models import SandboxRecord
from tests import factories as f
from tests.intacct.sandbox.test_standalone import LOOKUP
from tests.intacct.test_wizard import credentials, start

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written beside the project
    derandomize="FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- hostile values ------------------------------------------------------------------------------

CONTROL = st.characters(max_codepoint=0x1F) | st.sampled_from(["\x7f", "\x85", "\ufffe", "\uffff"])
XML_META = st.sampled_from(
    [
        "<",
        ">",
        "&",
        '"',
        "'",
        "]]>",
        "<![CDATA[x]]>",
        "&amp;",
        "&#0;",
        "&lol;",
        "</password>",
        "<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>",
        "<sessionid>x</sessionid>",
    ]
)
FORMULAE = st.sampled_from(
    ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", '=HYPERLINK("http://evil.example")']
)
EMOJI = st.sampled_from(["🚚", "👨‍👩‍👧", "🏳️‍🌈", "\u200d", "\u202e", "Ω", "東京", "é"])
NUMBERS = st.sampled_from(
    [
        "0",
        "-0",
        "-1",
        "1e309",
        "NaN",
        "Infinity",
        "9" * 40,
        "-9223372036854775809",
        "18446744073709551616",
        "32768",
        "0.000000001",
        "1,000.00",
        " 1 ",
        "0x10",
    ]
)
LONG = st.integers(200, 20_000).map(lambda n: "x" * n) | st.text(min_size=100, max_size=400)
PIECE = st.one_of(st.text(max_size=20), CONTROL, XML_META, FORMULAE, EMOJI, NUMBERS)
HOSTILE = st.one_of(
    st.lists(PIECE, min_size=1, max_size=5).map("".join),
    LONG,
    NUMBERS,
    st.just(""),
)


def count(record_property, name: str, inputs: list) -> None:
    record_property("fuzz_inputs", (name, len(inputs)))


def assert_answered_without_failure(response) -> str:
    """A page: never a server error, never a traceback."""
    assert response.status_code < 500, response.content[:2000]
    page = response.content.decode("utf-8", "replace")
    assert "Traceback" not in page and 'File "/' not in page
    return page


@pytest.fixture
def as_admin(admin_user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


def snapshot(connection) -> dict:
    """Every row of the connection's configuration, to find a half-saved form."""
    connection = m.Connection.objects.get(pk=connection.pk)
    rows = {
        "connection": m.Connection.objects.filter(pk=connection.pk).values().get(),
        "ar": m.ARSettings.objects.filter(connection=connection).values().first(),
        "ap": m.APSettings.objects.filter(connection=connection).values().first(),
        "advanced": m.AdvancedSettings.objects.filter(connection=connection).values().first(),
    }
    for name, model in (
        ("accounts", m.AccountMapping),
        ("dimensions", m.DimensionMapping),
        ("custom_fields", m.CustomFieldMapping),
        ("terms", m.CustomPaymentTerm),
    ):
        rows[name] = list(model.objects.filter(connection=connection).order_by("pk").values())
    rows["values"] = list(
        m.DimensionValueMap.objects.filter(mapping__connection=connection).order_by("pk").values()
    )
    for volatile in ("last_test_at", "sage_choices_refreshed_at", "updated_at"):
        rows["connection"].pop(volatile, None)
    return rows


def assert_all_or_nothing(response, before: dict, connection) -> dict:
    """A refused form (the page again) changed nothing; a saved one (a redirect) is the new
    baseline."""
    after = snapshot(connection)
    if response.status_code == 200:
        assert after == before, "a refused form saved part of its data"
    return after


# --- the wizard ---------------------------------------------------------------------------------


@FUZZ
@given(
    company_id=HOSTILE,
    user_id=HOSTILE,
    password=HOSTILE,
    setup=st.sampled_from(["new", "template"]) | HOSTILE,
    template=st.sampled_from(["", "1", "999999"]) | HOSTILE,
    entity=HOSTILE,
)
def test_the_credentials_step(
    sandbox, as_admin, record_property, company_id, user_id, password, setup, template, entity
):
    seen = fuzz_inputs.setdefault("wizard credentials", [])
    seen.append(1)
    connection = m.Connection.objects.filter(subsidiary__code="FZ").first() or start(
        as_admin, f.SubsidiaryFactory(code="FZ", name="Fuzz Freight")
    )
    before = snapshot(connection)

    response = credentials(
        as_admin,
        connection,
        password=password,
        company_id=company_id,
        user_id=user_id,
        setup=setup,
        template=template,
        entity=entity,
    )

    assert_answered_without_failure(response)
    assert response.status_code == 200  # no hostile value signs in to the demo company
    assert snapshot(connection) == before
    count(record_property, "wizard credentials", seen)


@FUZZ
@given(subsidiary=NUMBERS | HOSTILE, destination=st.sampled_from(["top_level"]) | HOSTILE)
def test_the_first_two_steps(db, as_admin, record_property, subsidiary, destination):
    seen = fuzz_inputs.setdefault("wizard start and destination", [])
    seen.append(1)
    if not am.Subsidiary.objects.filter(code="FZ").exists():
        f.SubsidiaryFactory(code="FZ", name="Fuzz Freight")

    started = as_admin.post(reverse("admin:intacct_wizard_start"), {"subsidiary": subsidiary})
    assert_answered_without_failure(started)
    connection = m.Connection.objects.first()
    if connection is not None:
        chosen = as_admin.post(
            reverse("admin:intacct_wizard_destination", args=[connection.pk]),
            {"posting_destination": destination},
        )
        assert_answered_without_failure(chosen)
        connection.refresh_from_db()
        assert connection.posting_destination in ("", *m.Connection.Destination.values)
    count(record_property, "wizard start and destination", seen)


def formset_data(prefix: str, total, rows: list[dict]) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for number, row in enumerate(rows):
        data.update({f"{prefix}-{number}-{key}": value for key, value in row.items()})
    return data


ROW = st.dictionaries(
    st.sampled_from(
        [
            "category",
            "item_code",
            "gl_account_no",
            "party",
            "term_name",
            "dimension",
            "source",
            "default_value",
            "required",
            "tms_value",
            "sage_value",
            "sage_field",
            "id",
            "DELETE",
        ]
    ),
    HOSTILE | st.sampled_from(["4000", "accessorials", "location", "office", "on", "1"]),
    max_size=6,
)
SETTINGS_FIELDS = st.dictionaries(
    st.sampled_from(
        [
            "primary",
            "export_ar_invoices",
            "export_ap_bills",
            "include_fuel",
            "auto_create_customer",
            "auto_create_vendor",
            "name_matching_fallback",
            "account__",
            "account__fuel",
            "account__accessorials",
            "default_payment_term",
            "cross_subsidiary_billing",
            "payment_lookback_days",
        ]
    ),
    HOSTILE | NUMBERS | st.sampled_from(["on", "4000", "5000", "Net 30", "8"]),
    max_size=8,
)
TOTAL = st.sampled_from(["0", "1", "2"]) | NUMBERS | HOSTILE


@FUZZ
@given(
    step=st.sampled_from(["wizard_ar", "wizard_ap", "wizard_advanced"]),
    fields=SETTINGS_FIELDS,
    prefix=st.sampled_from(["items", "terms", "dimensions", "values", "custom_fields"]),
    total=TOTAL,
    rows=st.lists(ROW, max_size=3),
)
def test_the_settings_tabs(
    connection, as_admin, record_property, step, fields, prefix, total, rows
):
    seen = fuzz_inputs.setdefault("settings tabs", [])
    seen.append(1)
    before = snapshot(connection)

    response = as_admin.post(
        reverse(f"admin:intacct_{step}", args=[connection.pk]),
        {**fields, **formset_data(prefix, total, rows)},
    )

    assert_answered_without_failure(response)
    assert_all_or_nothing(response, before, connection)
    count(record_property, "settings tabs", seen)


@FUZZ
@given(
    total=TOTAL,
    rows=st.lists(
        st.dictionaries(
            st.sampled_from(["side", "category", "item_code", "gl_account_no", "id", "DELETE"]),
            HOSTILE | st.sampled_from(["ar", "ap", "4000", "fuel"]),
            max_size=5,
        ),
        max_size=3,
    ),
)
def test_the_connection_page_mapping_rows(connection, as_admin, record_property, total, rows):
    seen = fuzz_inputs.setdefault("connection page", [])
    seen.append(1)
    before = snapshot(connection)
    data = {
        **formset_data("account_mappings", total, rows),
        **formset_data("dimension_mappings", "0", []),
        **formset_data("custom_field_mappings", "0", []),
    }

    response = as_admin.post(reverse("admin:intacct_connection_change", args=[connection.pk]), data)

    assert_answered_without_failure(response)
    assert_all_or_nothing(response, before, connection)
    count(record_property, "connection page", seen)


# --- CSV imports --------------------------------------------------------------------------------

IMPORTS = {
    "accounting_customer": ["name", "email", "phone", "city", "is_active"],
    "accounting_carrier": ["name", "mc_number", "dot_number", "is_active"],
    "accounting_driver": ["name", "subsidiary", "driver_type", "carrier"],
    "accounting_externalaccountingid": ["subsidiary", "party_type", "party", "external_id"],
    "accounting_load": [
        "load_number",
        "invoice_as_subsidiary",
        "customer",
        "pickup_date",
        "kind",
        "item_code",
        "description",
        "quantity",
        "rate",
    ],
    "intacct_accountmapping": ["subsidiary", "side", "category", "item_code", "gl_account_no"],
    "intacct_dimensionvaluemap": ["subsidiary", "dimension", "tms_value", "sage_value"],
    "intacct_custompaymentterm": ["subsidiary", "party_type", "party", "term_name"],
}
IMPORTED = [
    am.Customer,
    am.Carrier,
    am.Driver,
    am.ExternalAccountingId,
    am.Load,
    am.LoadCharge,
    m.AccountMapping,
    m.DimensionValueMap,
    m.CustomPaymentTerm,
]


def csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@st.composite
def csv_files(draw, columns: list[str]) -> bytes:
    """A file of the right columns (some left out, some added) and hostile cells; or random
    bytes; or a good file cut short."""
    kind = draw(st.sampled_from(["hostile cells", "random bytes", "cut short"]))
    if kind == "random bytes":
        return draw(st.binary(max_size=400))
    header = [c for c in columns if draw(st.booleans()) or c == columns[0]]
    header += draw(st.lists(HOSTILE, max_size=2))
    lines = [",".join(csv_cell(h) for h in header)]
    for _ in range(draw(st.integers(1, 3))):
        lines.append(",".join(csv_cell(draw(HOSTILE)) for _ in header))
    text = "\n".join(lines).encode("utf-8", "surrogatepass")
    if kind == "cut short":
        text = text[: draw(st.integers(0, len(text)))]
    return text


@pytest.mark.parametrize("model", IMPORTS)
def test_the_csv_imports(connection, as_admin, record_property, model):
    """Each import, previewed with a generated file: never saved, never a 500."""
    before = [model_class.objects.count() for model_class in IMPORTED]
    url = reverse(f"admin:{model}_import")
    form = as_admin.get(url).context["form"]
    formats = {name: value for value, name in form.fields["format"].choices if value != ""}
    seen = []

    @FUZZ
    @given(content=csv_files(IMPORTS[model]), label=st.sampled_from(sorted(formats)))
    def preview(content, label):
        seen.append(1)
        response = as_admin.post(
            url,
            {
                "resource": "0",
                "format": str(formats[label]),
                "import_file": SimpleUploadedFile(f"fuzz.{label}", content),
            },
        )
        assert_answered_without_failure(response)
        assert [model_class.objects.count() for model_class in IMPORTED] == before

    preview()
    count(record_property, f"CSV import {model}", seen)


# --- admin URLs ---------------------------------------------------------------------------------

URL_NAMES = [
    "admin:accounting_errortransaction_changelist",
    "admin:accounting_load_changelist",
    "admin:accounting_customer_changelist",
    "admin:accounting_syncrecord_changelist",
    "admin:intacct_connection_changelist",
    "admin:intacct_accountmapping_changelist",
    "admin:intacct_paymentimportrun_changelist",
]
QUERY_KEYS = st.sampled_from(
    ["q", "o", "p", "e", "status__exact", "created_at__gte", "all", "_to_field"]
)


@FUZZ
@given(
    name=st.sampled_from(URL_NAMES),
    query=st.dictionaries(QUERY_KEYS | HOSTILE, HOSTILE, max_size=3),
    model=HOSTILE,
    pk=NUMBERS,
)
def test_admin_urls(connection, as_admin, record_property, name, query, model, pk):
    seen = fuzz_inputs.setdefault("admin URLs", [])
    seen.append(1)
    assert_answered_without_failure(as_admin.get(reverse(name), query))
    preview = reverse("admin:intacct_preview_document", args=["load", 1])
    hostile_path = preview.replace("/load/1/", f"/{quote(model, safe='')}/{quote(pk, safe='')}/")
    assert_answered_without_failure(as_admin.get(hostile_path))
    back = as_admin.post(reverse("admin:intacct_refresh", args=[connection.pk]), {"next": model})
    assert back.status_code == 302 and back["Location"].startswith("/admin/")
    count(record_property, "admin URLs", seen)


# --- the sandbox gateway ------------------------------------------------------------------------


def assert_sage_shaped(answer) -> None:
    """A Sage-shaped answer: parseable XML with a control status; never the sandbox's own
    internal error."""
    assert answer.status in (200, 413)
    doc = xmltodict.parse(answer.body)
    assert doc["response"]["control"]["status"] in ("success", "failure")
    assert b"Internal error" not in answer.body


@st.composite
def gateway_bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["random", "cut short", "spliced", "nested"]))
    if kind == "random":
        return draw(st.binary(max_size=600))
    if kind == "cut short":
        return LOOKUP[: draw(st.integers(0, len(LOOKUP)))]
    if kind == "nested":
        depth = draw(st.integers(1, 3000))
        return b"<request>" + b"<a>" * depth + b"</a>" * depth + b"</request>"
    at = draw(st.integers(0, len(LOOKUP)))
    piece = draw(HOSTILE).encode("utf-8", "replace")
    return LOOKUP[:at] + piece + LOOKUP[at:]


@FUZZ
@given(body=gateway_bodies())
def test_the_sandbox_gateway(sandbox, record_property, body):
    seen = fuzz_inputs.setdefault("sandbox gateway", [])
    seen.append(1)
    records = SandboxRecord.objects.count()

    answer = gateway.handle(body)

    assert_sage_shaped(answer)
    assert SandboxRecord.objects.count() == records  # a sign-in writes no record
    count(record_property, "sandbox gateway", seen)


@FUZZ
@given(
    function=st.sampled_from(
        [
            "<readByQuery><object>{v}</object><fields>*</fields><query>{v}</query>"
            "<pagesize>{n}</pagesize></readByQuery>",
            "<read><object>CUSTOMER</object><keys>{v}</keys><fields>{v}</fields></read>",
            "<create><CUSTOMER><CUSTOMERID>{v}</CUSTOMERID><NAME>{v}</NAME></CUSTOMER></create>",
            "<inspect><object>{v}</object></inspect>",
            "<readMore><resultId>{v}</resultId></readMore>",
            "<query><object>ARINVOICE</object><select><field>{v}</field></select>"
            "<filter><equalto><field>{v}</field><value>{v}</value></equalto></filter>"
            "<pagesize>{n}</pagesize></query>",
            "<create_invoice><customerid>{v}</customerid><datecreated><year>{n}</year>"
            "<month>{n}</month><day>{n}</day></datecreated><invoiceitems><lineitem>"
            "<glaccountno>{v}</glaccountno><amount>{n}</amount></lineitem></invoiceitems>"
            "</create_invoice>",
        ]
    ),
    value=HOSTILE,
    number=NUMBERS,
)
def test_the_sandbox_functions(sandbox, record_property, function, value, number):
    """Well-formed requests from a signed-in user whose functions carry hostile values."""
    seen = fuzz_inputs.setdefault("sandbox functions", [])
    seen.append(1)
    from xml.sax.saxutils import escape

    text = escape(_xml_safe(value))
    body = LOOKUP.replace(b"<getAPISession/>", function.format(v=text, n=escape(number)).encode())

    assert_sage_shaped(gateway.handle(body))
    count(record_property, "sandbox functions", seen)


def _xml_safe(value: str) -> str:
    """XML 1.0 cannot carry most control characters at all: those make a parse error, which
    the gateway fuzz covers; here the functions get everything else."""
    return "".join(c for c in value if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"))


fuzz_inputs: dict[str, list] = {}
