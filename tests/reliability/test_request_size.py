"""The sandbox, mounted in the app or standalone, refuses a request over its size limit with
Sage's failure shape and without reading it; the client refuses an answer over its cap."""

import io

import pytest
import responses
import xmltodict
from django.test import Client

from intacct.client import IntacctClient, errors
from intacct.client.types import Credentials, SenderCredentials
from intacct.sandbox.gateway import REQUEST_TOO_LARGE, REQUEST_TOO_LARGE_2, SANDBOX_PATH
from intacct.sandbox.services import sandbox_seed
from intacct.sandbox.wsgi import sandbox_app
from tests.intacct.sandbox.test_standalone import LOOKUP
from tests.intacct.sandbox.test_standalone import call as call_standalone
from tests.intacct.sandbox_routing import SANDBOX_URL


class Endless(io.RawIOBase):
    """A request body that never ends, counting what the server read of it."""

    def __init__(self):
        self.read_bytes = 0

    def readable(self):
        return True

    def read(self, size=-1):
        size = 65536 if size is None or size < 0 else size
        self.read_bytes += size
        return b"<" * size


def assert_refused_as_sage_does(status, content, limit):
    assert status in (413, "413 Request Entity Too Large")
    error = xmltodict.parse(content)["response"]["errormessage"]["error"]
    assert xmltodict.parse(content)["response"]["control"]["status"] == "failure"
    assert error["description"] == REQUEST_TOO_LARGE
    assert error["description2"] == REQUEST_TOO_LARGE_2.format(limit=limit)


def standalone(body_stream, content_length: str):
    status_headers = {}

    def start_response(status, headers):
        status_headers["status"] = status

    environ = {
        "PATH_INFO": SANDBOX_PATH,
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": content_length,
        "wsgi.input": body_stream,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8765",
    }
    content = b"".join(sandbox_app(environ, start_response))
    return status_headers["status"], content


def test_the_default_limit_is_a_few_megabytes(settings):
    assert 1024 * 1024 <= settings.INTACCT_SANDBOX_MAX_REQUEST_BYTES <= 16 * 1024 * 1024


def test_a_50_mb_request_to_the_standalone_sandbox_is_refused_unread(db, settings):
    body = Endless()

    status, content = standalone(body, str(50 * 1024 * 1024))

    assert_refused_as_sage_does(status, content, settings.INTACCT_SANDBOX_MAX_REQUEST_BYTES)
    assert body.read_bytes == 0


def test_a_request_lying_about_its_length_is_read_no_further_than_the_limit(
    transactional_db, settings
):  # the standalone app closes the connection after each request, as a server would
    settings.INTACCT_SANDBOX_MAX_REQUEST_BYTES = 1000
    body = Endless()

    status, content = standalone(body, "999")  # then the body goes on for ever
    assert status == "200 OK" and b"XML Parse error" in content  # 999 bytes of '<'
    assert body.read_bytes == 999

    status, content = standalone(Endless(), "not a number")
    assert status == "200 OK" and b"XML Parse error" in content  # an empty body


def test_the_limit_is_exact_and_a_request_within_it_is_answered(sandbox, settings):
    settings.INTACCT_SANDBOX_MAX_REQUEST_BYTES = len(LOOKUP)
    status, _, content = call_standalone(SANDBOX_PATH, body=LOOKUP)
    assert status == "200 OK" and b"<sessionid>" in content

    settings.INTACCT_SANDBOX_MAX_REQUEST_BYTES = len(LOOKUP) - 1
    status, _, content = call_standalone(SANDBOX_PATH, body=LOOKUP)
    assert_refused_as_sage_does(status, content, len(LOOKUP) - 1)


def test_the_sandbox_mounted_in_the_app_refuses_a_large_request_too(db, settings):
    settings.INTACCT_SANDBOX_MAX_REQUEST_BYTES = 4096
    client = Client(raise_request_exception=False)

    response = client.post(
        "/intacct-sandbox/xmlgw.phtml", b"<request>" + b"x" * 5000, content_type="application/xml"
    )

    assert_refused_as_sage_does(response.status_code, response.content, 4096)


def test_the_client_reports_the_refusal_as_a_permanent_sage_error(db, settings):
    """The client's HTTP seam routed through the app's own sandbox URL (the Django view)."""
    sandbox_seed()
    settings.INTACCT_SANDBOX_MAX_REQUEST_BYTES = 100
    browser = Client(raise_request_exception=False)
    client = IntacctClient(
        endpoint_url=SANDBOX_URL,
        sender=SenderCredentials(settings.INTACCT_SENDER_ID, settings.INTACCT_SENDER_PASSWORD),
        credentials=Credentials("c", "u", "p"),
        sleep=lambda _: None,
    )

    def through_the_view(request):
        answer = browser.post(SANDBOX_PATH, request.body, content_type="application/xml")
        return answer.status_code, dict(answer.headers), answer.content

    with responses.RequestsMock() as http:
        http.add_callback(responses.POST, SANDBOX_URL, callback=through_the_view)
        with pytest.raises(errors.IntacctError, match=REQUEST_TOO_LARGE) as raised:
            client.open_session()
        assert len(http.calls) == 1  # permanent: not retried
    assert not isinstance(raised.value, errors.ServerError)
