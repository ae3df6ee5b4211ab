"""Sage-shaped response XML for the client's tests, and a stub of the gateway with `responses`."""

import re
from pathlib import Path

import responses

from intacct.client import Credentials, IntacctClient, SenderCredentials

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "intacct"
ENDPOINT = "https://api.intacct.test/ia/xml/xmlgw.phtml"
SESSION_ENDPOINT = "https://unittest.intacct.com/ia/xml/xmlgw.phtml"
SENDER = SenderCredentials("LedgerlineTest", "sender-Secret-1")
CREDENTIALS = Credentials("ACME-CO", "ws_user", "user-Secret-2", location_id="E100")


def fixture(name: str, **values) -> str:
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def envelope(*results: str, auth_status="success") -> str:
    return (
        "<?xml version='1.0' encoding='UTF-8'?><response><control><status>success</status>"
        "<senderid>LedgerlineTest</senderid><controlid>c</controlid><uniqueid>false</uniqueid>"
        "<dtdversion>3.0</dtdversion></control><operation><authentication>"
        f"<status>{auth_status}</status><userid>ws_user</userid><companyid>ACME-CO</companyid>"
        "</authentication>" + "".join(results) + "</operation></response>"
    )


def session_refused() -> str:
    """Sage's answer to a request on a session it no longer knows."""
    return envelope(auth_status="failure").replace(
        "</authentication>",
        "</authentication><errormessage><error><errorno>XL03000006</errorno><description2>"
        "Invalid session. Please log in again.</description2></error></errormessage>",
    )


def ok(controlid: str, data: str = "", function: str = "read", key: str = "") -> str:
    key_xml = f"<key>{key}</key>" if key else ""
    return (
        f"<result><status>success</status><function>{function}</function>"
        f"<controlid>{controlid}</controlid>{key_xml}{data}</result>"
    )


def failed(
    controlid: str,
    errorno="BL01001973",
    description="",
    description2="",
    correction="",
    function="create",
    status="failure",
) -> str:
    return (
        f"<result><status>{status}</status><function>{function}</function>"
        f"<controlid>{controlid}</controlid><errormessage><error><errorno>{errorno}</errorno>"
        f"<description>{description}</description><description2>{description2}</description2>"
        f"<correction>{correction}</correction></error></errormessage></result>"
    )


def control_failure(errorno, description, description2, correction="") -> str:
    return (
        "<response><control><status>failure</status><senderid>x</senderid><controlid>c</controlid>"
        "<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control><errormessage><error>"
        f"<errorno>{errorno}</errorno><description>{description}</description>"
        f"<description2>{description2}</description2><correction>{correction}</correction>"
        "</error></errormessage></response>"
    )


def controlids(body: bytes | str) -> list[str]:
    text = body.decode() if isinstance(body, bytes) else body
    return re.findall(r'<function controlid="([^"]+)">', text)


def function_names(body: bytes | str) -> list[str]:
    text = body.decode() if isinstance(body, bytes) else body
    return re.findall(r'<function controlid="[^"]+"><(\w+)', text)


def make_client(**kwargs) -> tuple[IntacctClient, list[float]]:
    """A client whose sleeps are recorded, not slept; jitter fixed at its midpoint."""
    sleeps: list[float] = []
    options = {
        "endpoint_url": ENDPOINT,
        "sender": SENDER,
        "credentials": CREDENTIALS,
        "sleep": sleeps.append,
        "rng": lambda: 0.5,
        **kwargs,
    }
    return IntacctClient(**options), sleeps


def add_session(rsps: responses.RequestsMock, *, url: str = ENDPOINT) -> None:
    """Answer getAPISession requests at `url` with Sage's documented sample."""

    def reply(request):
        (controlid,) = controlids(request.body)
        return 200, {}, fixture("get_api_session.xml", controlid=controlid)

    rsps.add_callback(responses.POST, url, callback=reply)


def reply_per_function(rsps, answer, *, url: str = SESSION_ENDPOINT, status: int = 200):
    """Answer each request by calling answer(controlid, function_name) for its functions."""

    def reply(request):
        results = [
            answer(cid, name)
            for cid, name in zip(
                controlids(request.body), function_names(request.body), strict=True
            )
        ]
        return status, {}, envelope(*results)

    rsps.add_callback(responses.POST, url, callback=reply)
