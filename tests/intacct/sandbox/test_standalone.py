import io
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.management import call_command

from accounting import demo_data
from intacct.sandbox.gateway import SANDBOX_PATH
from intacct.sandbox.models import SandboxCompany, SandboxRecord
from intacct.sandbox.services import sandbox_seed
from intacct.sandbox.wsgi import sandbox_app

pytestmark = pytest.mark.django_db

LOOKUP = (
    f"<request><control><senderid>{demo_data.SAGE_SENDER_ID}</senderid><password>"
    f"{demo_data.SAGE_SENDER_PASSWORD}</password><controlid>c</controlid><uniqueid>false</uniqueid>"
    "<dtdversion>3.0</dtdversion></control><operation><authentication><login><userid>"
    f"{demo_data.SAGE_USER_ID}</userid><companyid>{demo_data.SAGE_COMPANY_ID}</companyid>"
    f"<password>{demo_data.SAGE_USER_PASSWORD}</password></login></authentication><content>"
    '<function controlid="f"><getAPISession/></function></content></operation></request>'
).encode()


def call(path, method="POST", body=b""):
    environ = {
        "PATH_INFO": path,
        "REQUEST_METHOD": method,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": "127.0.0.1:8765",
    }
    setup_testing_defaults(environ)
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    content = b"".join(sandbox_app(environ, start_response))
    return seen["status"], seen["headers"], content


def test_the_standalone_app_serves_the_gateway_with_its_own_endpoint():
    sandbox_seed()
    status, headers, content = call(SANDBOX_PATH, body=LOOKUP)
    assert status == "200 OK"
    assert headers["Content-Type"] == "application/xml; charset=utf-8"
    assert b"<endpoint>http://127.0.0.1:8765/intacct-sandbox/xmlgw.phtml</endpoint>" in content


def test_other_paths_and_methods_are_refused():
    assert call("/admin/")[0] == "404 Not Found"
    assert call(SANDBOX_PATH, method="GET")[0] == "405 Method Not Allowed"


def test_the_command_seeds_once_and_resets_on_request():
    call_command("intacct_sandbox", "--seed-only", stdout=io.StringIO())
    call_command("intacct_sandbox", "--seed-only", stdout=io.StringIO())
    assert SandboxCompany.objects.filter(company_id=demo_data.SAGE_COMPANY_ID).count() == 1
    SandboxRecord.objects.filter(object="CUSTOMER").delete()
    out = io.StringIO()
    call_command("intacct_sandbox", "--seed-only", "--reset", stdout=out)
    assert SandboxRecord.objects.filter(object="CUSTOMER").exists()
    assert "Sandbox company RIDGELINE-DEMO" in out.getvalue()
