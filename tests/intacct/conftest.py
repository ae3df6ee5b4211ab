from pathlib import Path

import pytest
import responses

from accounting import demo_data
from intacct import models as m
from intacct.connections import services
from intacct.sandbox import gateway
from intacct.sandbox.services import sandbox_faults_clear, sandbox_seed
from tests import factories as f

from .sandbox_routing import SANDBOX_URL

SCHEMA_PATH = (
    Path(__file__).resolve().parents[2].parent / "shared/reference/intacct-dtd/api.v3.0.xsd"
)


@pytest.fixture(scope="session")
def intacct_schema():
    """Sage's published v3.0 request schema, loaded once (it takes a few seconds)."""
    if not SCHEMA_PATH.is_file():
        pytest.skip(
            f"Sage's request schema is not at {SCHEMA_PATH} (../shared is not beside "
            "the project), so requests cannot be validated here."
        )
    import xmlschema

    return xmlschema.XMLSchema10(str(SCHEMA_PATH), validation="lax")


@pytest.fixture(scope="session")
def assert_valid_request(intacct_schema):
    """Assert that a request body validates against Sage's schema; shows every error."""

    def check(body: bytes | str):
        text = body.decode() if isinstance(body, bytes) else body
        errors = [str(e).splitlines()[0] for e in intacct_schema.iter_errors(text)]
        assert errors == [], f"request does not validate against api.v3.0.xsd: {errors}"

    return check


@pytest.fixture
def sandbox_requests() -> list[bytes]:
    """Every request body the client sent to the sandbox during the test, in order."""
    return []


@pytest.fixture
def sandbox_http(db, settings, sandbox_requests):
    """The `responses` mock every HTTP request of the test goes through, with Sage's gateway
    URL routed into the sandbox (tests may route more URLs through it)."""
    settings.INTACCT_ENDPOINT_URL = SANDBOX_URL
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:

        def reply(request):
            sandbox_requests.append(request.body)
            answer = gateway.handle(request.body, endpoint_url=SANDBOX_URL)
            return answer.status, answer.headers, answer.body

        rsps.add_callback(responses.POST, SANDBOX_URL, callback=reply)
        yield rsps


@pytest.fixture
def sandbox(sandbox_http):
    """The seeded demo Sage company, with the client's HTTP seam routed into the gateway and
    the app's settings pointed at it."""
    company = sandbox_seed()
    sandbox_faults_clear()
    return company


@pytest.fixture
def connection(sandbox):
    """Ridgeline Freight connected to the sandbox's E100 entity and Active, with master default
    accounts, one specific-item account (DETENTION) and the required custom fields mapped."""
    return connect("RF", "Ridgeline Freight")


def connect(code: str, name: str) -> m.Connection:
    """A subsidiary connected to the sandbox entity of its name, set up like `connection`."""
    subsidiary = f.SubsidiaryFactory(code=code, name=name)
    connection = services.connection_start(subsidiary=subsidiary)
    services.connection_set_destination(
        connection=connection, destination=m.Connection.Destination.MATCHING_ENTITY
    )
    services.connection_connect(
        connection=connection,
        company_id=demo_data.SAGE_COMPANY_ID,
        user_id=demo_data.SAGE_USER_ID,
        password=demo_data.SAGE_USER_PASSWORD,
    )
    for side, account in (("ar", "4000"), ("ap", "5000")):
        m.AccountMapping.objects.create(connection=connection, side=side, gl_account_no=account)
    m.AccountMapping.objects.create(
        connection=connection,
        side="ar",
        category="accessorials",
        item_code="DETENTION",
        gl_account_no="4025",
    )
    for target, field, source in (
        ("ar_invoice", "LOAD_NUMBER", "load_number"),
        ("ap_bill", "TRIP_NUMBER", "trip_number"),
    ):
        m.CustomFieldMapping.objects.create(
            connection=connection, target=target, sage_field_id=field, source=source
        )
    assert services.connection_activate(connection=connection) == []
    connection.refresh_from_db()
    return connection
