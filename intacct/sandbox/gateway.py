"""The sandbox gateway: one request body in, one Sage-shaped answer out, as Sage's xmlgw does.

`handle(body)` works without HTTP (tests route the client into it); the Django view and the
standalone server wrap it. Order of checks follows Sage: faults (the CDN in front), XML parse,
control (sender), authentication, then each function.
"""

import datetime as dt
import logging
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import xmltodict
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from intacct.client.wire import element

from . import engine
from . import errors as e
from .models import (
    SandboxAppliedControl,
    SandboxFaults,
    SandboxSender,
    SandboxSession,
    SandboxUser,
)

logger = logging.getLogger("intacct.sandbox")

SANDBOX_PATH = "/intacct-sandbox/xmlgw.phtml"
DEFAULT_ENDPOINT = "http://127.0.0.1:8000" + SANDBOX_PATH
# The largest request read (settings.INTACCT_SANDBOX_MAX_REQUEST_BYTES): a batch of 50
# documents is a few hundred kilobytes; a larger body is refused before it is read.
MAX_REQUEST_BYTES = 4 * 1024 * 1024
REQUEST_TOO_LARGE = "Request too large"
REQUEST_TOO_LARGE_2 = (
    "The request is larger than {limit} bytes and was not read. Send fewer functions per request."
)
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass
class GatewayResponse:
    status: int
    body: bytes
    headers: dict = field(default_factory=dict)


def _xml(root: ET.Element) -> GatewayResponse:
    return GatewayResponse(
        200,
        b'<?xml version="1.0" encoding="UTF-8"?>'
        + ET.tostring(root, encoding="utf-8", xml_declaration=False),
        {"Content-Type": "application/xml; charset=utf-8"},
    )


def _error_elements(faults: list[e.SageFault]) -> ET.Element:
    return element(
        "errormessage",
        [
            element(
                "error",
                {
                    "errorno": f.errorno,
                    "description": f.description,
                    "description2": f.description2,
                    "correction": f.correction,
                },
            )
            for f in faults
        ],
    )


def _control(control: dict, status: str) -> ET.Element:
    return element(
        "control",
        {
            "status": status,
            "senderid": engine.text(control.get("senderid")),
            "controlid": engine.text(control.get("controlid")),
            "uniqueid": engine.text(control.get("uniqueid")) or "false",
            "dtdversion": engine.text(control.get("dtdversion")) or "3.0",
        },
    )


def _control_failure(control: dict, fault: e.SageFault) -> GatewayResponse:
    return _xml(element("response", [_control(control, "failure"), _error_elements([fault])]))


def max_request_bytes() -> int:
    return getattr(settings, "INTACCT_SANDBOX_MAX_REQUEST_BYTES", MAX_REQUEST_BYTES)


def read_request(stream, content_length) -> bytes | None:
    """The request body from `stream`, or None when it is over the size limit.

    A declared length over the limit is refused unread; never more than the limit plus one
    byte is read, whatever the length claims.
    """
    limit = max_request_bytes()
    try:
        declared = int(content_length or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = stream.read(min(declared, limit + 1)) if declared > 0 else b""
    return None if len(body) > limit else body


def request_too_large() -> GatewayResponse:
    """Sage's failure shape for a request refused by its size (HTTP 413)."""
    fault = e.SageFault(
        e.PARSE,
        REQUEST_TOO_LARGE,
        REQUEST_TOO_LARGE_2.format(limit=max_request_bytes()),
        support=False,
    )
    answer = _control_failure({}, fault)
    return GatewayResponse(413, answer.body, answer.headers)


class _Rollback(Exception):
    pass


def handle(
    body: bytes, *, endpoint_url: str = DEFAULT_ENDPOINT, now: dt.datetime | None = None
) -> GatewayResponse:
    """Answer one gateway request. Never raises: every failure is a Sage-shaped answer."""
    faults = SandboxFaults.objects.filter(pk=1).first()
    if faults and faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    if faults and SandboxFaults.objects.filter(pk=1, fail_next__gt=0).update(
        fail_next=F("fail_next") - 1
    ):
        return _gateway_fault(faults)
    drop = bool(
        faults
        and SandboxFaults.objects.filter(pk=1, drop_next__gt=0).update(drop_next=F("drop_next") - 1)
    )
    try:
        answer = _handle(body, endpoint_url=endpoint_url, now=now or timezone.now())
    except Exception:
        logger.exception("The sandbox failed to answer a request")
        answer = _control_failure(
            {}, e.SageFault("XL03000001", "Internal error", "The request could not be processed.")
        )
    if drop:
        # Applied, then the answer is lost: what a client sees when the CDN gives up (524).
        return GatewayResponse(524, b"", {})
    return answer


def _gateway_fault(faults: SandboxFaults) -> GatewayResponse:
    status = faults.fail_status
    if status == 429:
        fault = e.SageFault(
            e.RATE_LIMIT,
            "Too many requests",
            "The company made too many requests in a short period.",
            "Wait and retry.",
            support=False,
        )
        answer = _control_failure({}, fault)
        return GatewayResponse(
            429, answer.body, {**answer.headers, "Retry-After": str(faults.retry_after)}
        )
    if status == 524:
        return GatewayResponse(524, b"", {})
    return GatewayResponse(
        status, b"<html><body>Service unavailable</body></html>", {"Content-Type": "text/html"}
    )


def _handle(body: bytes, *, endpoint_url: str, now: dt.datetime) -> GatewayResponse:
    if _DECLARATION.search(body):
        return _control_failure(
            {},
            e.SageFault(
                e.PARSE,
                "XML Parse error",
                "DOCTYPE and ENTITY declarations are not allowed.",
                support=False,
            ),
        )
    try:
        doc = xmltodict.parse(body, disable_entities=True)
    except Exception as exc:  # expat's errors: all mean "not XML"
        return _control_failure(
            {}, e.SageFault(e.PARSE, "XML Parse error", str(exc), support=False)
        )
    request = doc.get("request") if isinstance(doc, dict) else None
    control = (request or {}).get("control") if isinstance(request, dict) else None
    if not isinstance(control, dict) or not isinstance(request.get("operation"), dict):
        return _control_failure(
            control if isinstance(control, dict) else {},
            e.SageFault(
                e.PARSE,
                "XML Parse error",
                "The request needs <request> with <control> and <operation>.",
                support=False,
            ),
        )
    sender = SandboxSender.objects.filter(sender_id=engine.text(control.get("senderid"))).first()
    if sender is None or sender.password != engine.text(control.get("password")):
        return _control_failure(
            control, e.SageFault(e.SIGN_IN, e.SIGN_IN_INCORRECT, e.INVALID_SENDER, support=False)
        )
    operation = request["operation"]
    auth = operation.get("authentication") or {}
    try:
        user, location_id, session = _authenticate(auth, now)
    except e.SageFault as fault:
        return _auth_failure(control, auth, fault)
    company = user.company
    if not sender.authorized_companies.filter(pk=company.pk).exists():
        return _control_failure(
            control,
            e.SageFault(
                e.SIGN_IN,
                e.SENDER_NOT_AUTHORIZED,
                e.SENDER_NOT_AUTHORIZED_2.format(
                    sender=sender.sender_id, company=company.company_id
                ),
                e.SENDER_NOT_AUTHORIZED_FIX,
                support=False,
            ),
        )
    if not company.web_services_subscribed:
        return _control_failure(
            control,
            e.SageFault(
                e.SIGN_IN,
                e.NOT_SUBSCRIBED,
                e.NOT_SUBSCRIBED_2.format(company=company.company_id),
                e.NOT_SUBSCRIBED_FIX,
                support=False,
            ),
        )
    if session is not None:
        engine.session_touch(session, now)
    ctx = engine.Context(
        company=company,
        user=user,
        sender_id=sender.sender_id,
        location_id=location_id,
        now=now,
        endpoint_url=endpoint_url,
    )
    unique = engine.text(control.get("uniqueid")).lower() == "true"
    all_or_nothing = engine.text(operation.get("@transaction")).lower() == "true"
    functions = engine.listed((operation.get("content") or {}).get("function"))
    results = _run_functions(ctx, functions, unique=unique, all_or_nothing=all_or_nothing)
    auth_block = element(
        "authentication",
        {
            "status": "success",
            "userid": user.user_id,
            "companyid": company.company_id,
            "locationid": location_id,
            "sessiontimestamp": now.isoformat(timespec="seconds"),
            "sessiontimeout": (now + dt.timedelta(minutes=engine.SESSION_MINUTES)).isoformat(
                timespec="seconds"
            ),
        },
    )
    return _xml(
        element(
            "response", [_control(control, "success"), element("operation", [auth_block, *results])]
        )
    )


def _authenticate(auth: dict, now: dt.datetime):
    """(user, location, session) for a login or a sessionid; raises SageFault."""
    if auth.get("sessionid") is not None:
        session = (
            SandboxSession.objects.select_related("user__company")
            .filter(session_id=engine.text(auth.get("sessionid")), expires_at__gt=now)
            .first()
        )
        if session is None or not session.user.is_active:
            raise e.SageFault(e.SIGN_IN, "", e.INVALID_SESSION, support=False)
        return session.user, session.location_id, session
    login = auth.get("login")
    if not isinstance(login, dict):
        raise e.SageFault(e.SIGN_IN, "", e.SIGN_IN_INCORRECT, support=False)
    user = (
        SandboxUser.objects.select_related("company")
        .filter(
            company__company_id=engine.text(login.get("companyid")),
            user_id=engine.text(login.get("userid")),
        )
        .first()
    )
    if user is None or not user.is_active or user.password != engine.text(login.get("password")):
        raise e.SageFault(e.SIGN_IN, "", e.SIGN_IN_INCORRECT, support=False)
    return user, engine.text(login.get("locationid")), None


def _auth_failure(control, auth, fault) -> GatewayResponse:
    login = auth.get("login") if isinstance(auth.get("login"), dict) else {}
    block = element(
        "authentication",
        {  # as Sage's (PHP SDK test/Intacct/Xml/OnlineResponseTest.php)
            "status": "failure",
            "userid": engine.text(login.get("userid")),
            "companyid": engine.text(login.get("companyid")),
            "locationid": engine.text(login.get("locationid")),
        },
    )
    return _xml(
        element(
            "response",
            [
                _control(control, "success"),
                element("operation", [block, _error_elements([fault])]),
            ],
        )
    )


def _run_functions(ctx, functions, *, unique: bool, all_or_nothing: bool) -> list[ET.Element]:
    outcomes = []
    try:
        with transaction.atomic():
            for raw in functions:
                outcomes.append(_run_one(ctx, raw, unique=unique))
                if not _keeps_memo(raw, outcomes[-1]):
                    ctx.memo.clear()
            if all_or_nothing and any(o[2] for o in outcomes):
                raise _Rollback
    except _Rollback:
        rolled_back = e.SageFault(e.ROLLED_BACK, "", e.ROLLED_BACK_TEXT, support=False)
        # Every function is "aborted"; the one that failed keeps its errors, then the
        # rollback's (PHP SDK ResultTest.php testStatusAbort: "Query Failed ... VENDOR9 not
        # found", then XL03000009).
        outcomes = [
            (controlid, name, [*faults, rolled_back] if faults else None, None, "aborted")
            for controlid, name, faults, _, _ in outcomes
        ]
    return [_result_element(*outcome) for outcome in outcomes]


# Functions that never write master data: what a request read of it stays true after them.
_READS = {"getAPISession", "read", "readByName", "readByQuery", "readMore", "query", "lookup"}


def _keeps_memo(raw, outcome) -> bool:
    """Whether the request's memo of master data (`engine.Context.memo`) still holds after
    this function: it succeeded and wrote no customer, vendor, term, account or dimension."""
    name, faults = outcome[1], outcome[2]
    if faults:
        return False  # its writes were rolled back: what it read may be gone
    if name in _READS or name in ("inspect", "create_invoice"):
        return True
    body = raw.get(name) if isinstance(raw, dict) else None
    return name == "create" and isinstance(body, dict) and list(body) == ["APBILL"]


def _run_one(ctx, raw, *, unique: bool):
    """(controlid, function name, faults or None, reply, status) for one <function>."""
    raw = raw if isinstance(raw, dict) else {}
    controlid = raw.get("@controlid", "")
    names = [k for k in raw if not k.startswith("@")]
    name = names[0] if names else ""
    handler = engine.HANDLERS.get(name)
    if handler is None:
        return (
            controlid,
            name,
            [
                e.fault(
                    "Unknown function",
                    f"Function '{name}' is not supported.",
                    "Check the function name against the API reference.",
                )
            ],
            None,
            "failure",
        )
    body = raw.get(name)
    try:
        with transaction.atomic():
            if unique and name in engine.WRITES:
                try:
                    with transaction.atomic():
                        SandboxAppliedControl.objects.create(
                            company=ctx.company, sender_id=ctx.sender_id, controlid=controlid
                        )
                except IntegrityError:
                    raise e.SageFault(
                        e.DUPLICATE_CONTROL,
                        e.DUPLICATE_CONTROL_TEXT,
                        e.DUPLICATE_CONTROL_2.format(controlid=controlid),
                        e.DUPLICATE_CONTROL_FIX,
                    ) from None
            reply = handler(ctx, body if body is not None else {})
    except e.SageFault as fault:
        return controlid, name, [fault], None, "failure"
    except e.SageFaults as group:
        return controlid, name, group.faults, None, "failure"
    except Exception:
        logger.exception("Sandbox function %s failed", name)
        return (
            controlid,
            name,
            [e.fault("Internal error", "The function could not be run.")],
            None,
            "failure",
        )
    return controlid, name, None, reply, "success"


def _result_element(controlid, name, faults, reply, status) -> ET.Element:
    parts = [element("status", status), element("function", name), element("controlid", controlid)]
    if faults:
        parts.append(_error_elements(faults))
        return element("result", parts)
    if reply is None:
        return element("result", parts)
    if reply.key is not None:
        parts.append(element("key", reply.key))
    elif reply.records or reply.listtype:
        attrs = {k: v for k, v in reply.attrs.items() if not k.startswith("_")}
        if not reply.attrs.get("_bare"):
            attrs.setdefault("count", len(reply.records))
        tag = reply.attrs.get("_record_tag") or reply.listtype or "record"
        data = element("data", listtype=reply.listtype, **attrs)
        for record in reply.records:
            data.append(_record_element("Type" if "@Name" in record else tag, record))
        parts.append(data)
    return element("result", parts)


def _record_element(tag: str, record: dict) -> ET.Element:
    attrs = {k[1:]: v for k, v in record.items() if k.startswith("@")}
    node = element(tag, **attrs)
    for key, value in record.items():
        if key.startswith("@"):
            continue
        if key == "ITEMS":
            line_tag = "ITEM"
            node.append(element(f"{tag.upper()}ITEMS", {line_tag: value}))
            continue
        if isinstance(value, list):
            for item in value:
                node.append(
                    _record_element(key, item) if isinstance(item, dict) else element(key, item)
                )
        elif isinstance(value, dict):
            node.append(_record_element(key, value))
        else:
            node.append(element(key, value))
    return node
