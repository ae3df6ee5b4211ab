"""The Sage Intacct XML Web Services client (API v3.0). Plain Python: no Django.

One HTTP seam (`_post`) sets the timeout, caps the response size and maps transport errors.
`execute` batches functions into one request, opens and reuses an API session, retries what is
transient with bounded exponential backoff and jitter, and matches results back by controlid.
"""

import logging
import random
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence

import requests

from . import functions as fn
from .errors import (
    IntacctError,
    NetworkError,
    OutcomeUnknownError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    SessionExpiredError,
    SignInError,
    TransientError,
    classify_control_errors,
)
from .redaction import redact_xml
from .types import (
    AuditRecord,
    Credentials,
    ObjectDefinition,
    Result,
    SenderCredentials,
    Session,
    merge_definitions,
    parse_errors,
    parse_inspect,
    parse_lookup,
    parse_result,
)
from .wire import as_list, convert, element, parse, text_of, to_bytes

logger = logging.getLogger("intacct.client")

DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024 * 1024
CONTENT_TYPE = "application/xml"


class IntacctClient:
    """A client for one Sage company's Web Services user, through one sender.

    Args mirror settings: endpoint_url (Sage's gateway or the sandbox), sender, credentials,
    timeout (seconds per HTTP call), max_retries (extra attempts for transient failures),
    backoff_base/backoff_max (seconds), max_response_bytes, audit (called with an AuditRecord
    after every HTTP call), http (a requests.Session), sleep and rng (injectable for tests).
    `session`: an API session opened earlier (by another client, run or process) to use
    until Sage says it expired; `on_session` is called with each session this client opens,
    and with None when Sage refused the one it had, so the caller can keep it for the next
    client.
    """

    def __init__(
        self,
        *,
        endpoint_url: str,
        sender: SenderCredentials,
        credentials: Credentials,
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 300.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        audit: Callable[[AuditRecord], None] | None = None,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        session: Session | None = None,
        on_session: Callable[[Session | None], None] | None = None,
    ):
        self.endpoint_url = endpoint_url
        self.sender = sender
        self.credentials = credentials
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.max_response_bytes = max_response_bytes
        self.audit = audit
        self.http = http or requests.Session()
        self.sleep = sleep
        self.rng = rng
        self.session: Session | None = session
        self.on_session = on_session
        self.requests_sent = 0  # HTTP calls made, retries included (benchmarks read it)
        # `execute` may run on several threads at once (`inflight.InFlight`): the count and
        # the session are the only state they share.
        self._lock = threading.Lock()

    def __repr__(self):
        return (
            f"IntacctClient(company={self.credentials.company_id!r}, "
            f"user={self.credentials.user_id!r}, endpoint={self.endpoint_url!r})"
        )

    # --- sessions ---------------------------------------------------------------------------

    def open_session(self) -> Session:
        """Sign in with the user's credentials and open an API session at the configured level.

        getAPISession goes alone in its request. Raises SignInError, SenderNotAuthorizedError,
        WebServicesNotSubscribedError, or a transient error.
        """
        function = fn.get_api_session(location_id=self.credentials.location_id)
        (result,) = self._send(
            [function],
            auth=self._login_element(),
            url=self.endpoint_url,
            transaction=False,
            unique=False,
        )
        result.raise_for_status()
        api = result.data[0] if result.data else {}
        session_id = api.get("sessionid")
        if not session_id:
            raise ResponseFormatError("Sage Intacct opened no session (no sessionid returned).")
        # an empty <locationid></locationid> is the top level (PHP SDK SessionProviderTest)
        location = api.get("locationid", self.credentials.location_id)
        self.session = Session(
            session_id=session_id,
            endpoint_url=api.get("endpoint") or self.endpoint_url,
            location_id=text_of(location) if "locationid" in api else location,
        )
        if self.on_session:
            self.on_session(self.session)
        return self.session

    def _login_element(self) -> ET.Element:
        """`login` in the schema's order; an entity's `locationid` signs in at that entity
        (getAPISession then asks for the same level); top level and login level send none."""
        creds = self.credentials
        return element(
            "authentication",
            element(
                "login",
                {
                    "userid": creds.user_id,
                    "companyid": creds.company_id,
                    "password": creds.password,
                    "locationid": creds.location_id or None,
                },
            ),
        )

    # --- executing functions ----------------------------------------------------------------

    def execute(
        self,
        functions: Sequence[fn.Function],
        *,
        transaction: bool = False,
        unique: bool | None = None,
    ) -> list[Result]:
        """Send `functions` in one request and return their results in the same order.

        Each function succeeds or fails on its own unless `transaction` (all or nothing).
        `unique` (default: True when any function writes) sends uniqueid=true, so Sage
        refuses to apply a controlid twice; that makes a resend after a timeout safe. A function
        whose resend met "duplicate control ID" comes back ok with `already_applied=True`.
        Raises AuthenticationError, TransientError once retries are spent, OutcomeUnknownError
        when writes may have been applied without uniqueid protection, ResponseFormatError.
        """
        if not functions:
            return []
        ids = [f.controlid for f in functions]
        if len(set(ids)) != len(ids):
            raise ValueError("Function controlids must be unique within one request.")
        unique = any(f.is_write for f in functions) if unique is None else unique
        session = self.session or self.open_session()
        try:
            return self._send(
                functions,
                auth=self._session_element(session),
                url=session.endpoint_url,
                transaction=transaction,
                unique=unique,
            )
        except SessionExpiredError:
            # The session lapsed: sign in again once and resend. Nothing was applied, since
            # Sage refused the request before running any function.
            self.session = None
            if self.on_session:
                self.on_session(None)
            session = self.open_session()
            return self._send(
                functions,
                auth=self._session_element(session),
                url=session.endpoint_url,
                transaction=transaction,
                unique=unique,
            )

    def call(self, function: fn.Function) -> Result:
        """Send one function; raise its typed error when it fails."""
        return self.execute([function])[0].raise_for_status()

    @staticmethod
    def _session_element(session: Session) -> ET.Element:
        return element("authentication", element("sessionid", session.session_id))

    def _send(self, functions, *, auth, url, transaction, unique) -> list[Result]:
        request_controlid = f"req-{uuid.uuid4()}"
        body = self.build_request(
            functions,
            auth=auth,
            request_controlid=request_controlid,
            transaction=transaction,
            unique=unique,
        )
        writes = any(f.is_write for f in functions)
        resent = False  # a write went out at least once without an answer
        attempt = 0
        while True:
            attempt += 1
            try:
                status, response_body = self._post(url, body, functions, request_controlid, attempt)
                results = self._parse_response(
                    status,
                    response_body,
                    functions,
                    using_session=auth.find("sessionid") is not None,
                )
            except (OutcomeUnknownError, ServerError) as exc:
                # Sent but unanswered (timeout, 524) or failed mid-way (5xx): writes may have
                # been applied. Resending is safe only under uniqueid protection.
                possibly_applied = writes
                if possibly_applied and (not unique or attempt > self.max_retries):
                    if isinstance(exc, OutcomeUnknownError):
                        raise
                    raise OutcomeUnknownError(http_status=exc.http_status) from exc
                if attempt > self.max_retries:
                    raise
                resent = resent or possibly_applied
                self.sleep(self._delay(attempt, exc))
            except TransientError as exc:  # not sent (network) or refused (429): resend
                if attempt > self.max_retries:
                    raise
                self.sleep(self._delay(attempt, exc))
            else:
                if resent:
                    _mark_already_applied(functions, results)
                return results

    def _delay(self, attempt: int, exc: Exception | None) -> float:
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after)
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return ceiling * (0.5 + self.rng() / 2)  # jitter in [ceiling/2, ceiling]

    # --- building ---------------------------------------------------------------------------

    def build_request(
        self,
        functions: Sequence[fn.Function],
        *,
        auth: ET.Element,
        request_controlid: str,
        transaction: bool = False,
        unique: bool = False,
    ) -> bytes:
        """The request XML, in the schema's element order."""
        control = element(
            "control",
            {
                "senderid": self.sender.sender_id,
                "password": self.sender.sender_password,
                "controlid": request_controlid,
                "uniqueid": unique,
                "dtdversion": "3.0",
                "includewhitespace": False,
            },
        )
        content = element(
            "content", [element("function", f.body, controlid=f.controlid) for f in functions]
        )
        operation = element("operation", [auth, content], transaction=transaction)
        return to_bytes(element("request", [control, operation]))

    # --- the HTTP seam ----------------------------------------------------------------------

    def _post(self, url, body: bytes, functions, request_controlid, attempt) -> tuple[int, bytes]:
        """POST one request. Returns (status, body) for any answer Sage gave in XML.

        Raises NetworkError (not sent, or a read failure on a read-only request),
        OutcomeUnknownError (sent, no answer: timeout or 524), ServerError (5xx), RateLimitError.
        """
        writes = any(f.is_write for f in functions)
        started = time.monotonic()
        status, response_body, outcome = None, b"", "success"
        with self._lock:
            self.requests_sent += 1
        try:
            response = self.http.post(
                url,
                data=body,
                timeout=self.timeout,
                stream=True,
                headers={"Content-Type": CONTENT_TYPE},
            )
            status = response.status_code
            response_body = self._read_capped(response)
            error = self._http_error(response, response_body, writes)
            if error is not None:
                outcome = f"{error.__class__.__name__}: {error}"
                raise error
            return status, response_body
        except requests.ConnectTimeout as exc:
            outcome = "connect timeout"
            raise NetworkError(
                f"Sage Intacct could not be reached (connect timeout: {exc.__class__.__name__})."
            ) from None
        except requests.Timeout:
            outcome = "timeout"
            if writes:
                raise OutcomeUnknownError() from None
            raise NetworkError(
                f"Sage Intacct did not answer within {self.timeout:g} seconds."
            ) from None
        except requests.ConnectionError as exc:
            outcome = "connection error"
            if writes and _maybe_sent(exc):
                raise OutcomeUnknownError() from None
            raise NetworkError(
                f"Sage Intacct could not be reached ({exc.__class__.__name__})."
            ) from None
        finally:
            if self.audit or logger.isEnabledFor(logging.DEBUG):
                record = AuditRecord(
                    request_controlid=request_controlid,
                    functions=tuple((f.name, f.controlid) for f in functions),
                    url=url,
                    attempt=attempt,
                    http_status=status,
                    duration_ms=round((time.monotonic() - started) * 1000, 1),
                    outcome=outcome,
                    request_xml=redact_xml(body.decode("utf-8", "replace")),
                    response_xml=redact_xml(response_body.decode("utf-8", "replace")),
                )
                logger.debug(
                    "Sage call %s attempt %s: HTTP %s %s (%s ms)",
                    record.functions,
                    attempt,
                    status,
                    outcome,
                    record.duration_ms,
                )
                if self.audit:
                    self.audit(record)

    def _read_capped(self, response: requests.Response) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > self.max_response_bytes:
                response.close()
                raise ResponseFormatError(
                    f"Sage Intacct's answer (HTTP {response.status_code}) is larger than "
                    f"{self.max_response_bytes} bytes; it was not read. Ask for smaller pages.",
                    http_status=response.status_code,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _http_error(self, response, body: bytes, writes: bool) -> IntacctError | None:
        status = response.status_code
        if status == 524:
            # The CDN gave up waiting; Sage may still have applied the request.
            if writes:
                return OutcomeUnknownError(http_status=status)
            return ServerError(
                "Sage Intacct took too long to answer (HTTP 524).", http_status=status
            )
        if status == 429:
            return RateLimitError(
                f"Sage Intacct is rate limiting this company (HTTP 429, {_gateway_text(body)}).",
                retry_after=_retry_after(response.headers.get("Retry-After")),
                http_status=status,
            )
        if status >= 500:
            return ServerError(
                f"Sage Intacct answered with a server error (HTTP {status}).", http_status=status
            )
        return None

    # --- parsing ----------------------------------------------------------------------------

    def _parse_response(
        self, status: int, body: bytes, functions, *, using_session: bool
    ) -> list[Result]:
        doc = parse(body, http_status=status)
        response = doc.get("response")
        if not isinstance(response, dict):
            raise ResponseFormatError(
                f"Sage Intacct's answer (HTTP {status}) has no <response> element.",
                http_status=status,
            )
        control = response.get("control") or {}
        if text_of(control.get("status")) == "failure":
            raise classify_control_errors(parse_errors(response.get("errormessage")), status)
        if status >= 400:
            raise IntacctError(
                f"Sage Intacct answered HTTP {status}.",
                http_status=status,
                errors=parse_errors(response.get("errormessage")),
            )
        operation = response.get("operation")
        if not isinstance(operation, dict):
            raise ResponseFormatError(
                f"Sage Intacct's answer (HTTP {status}) has no <operation> element.",
                http_status=status,
            )
        authentication = operation.get("authentication") or {}
        if text_of(authentication.get("status")) != "success":
            errors = parse_errors(operation.get("errormessage"))
            if using_session:
                raise SessionExpiredError(errors=errors, http_status=status)
            raise SignInError(
                SignInError.default_message if not errors else None,
                errors=errors,
                http_status=status,
            )
        by_controlid = {}
        for raw in as_list(operation.get("result")):
            result = parse_result(raw)
            by_controlid[result.controlid] = result
        results = []
        for function in functions:
            result = by_controlid.get(function.controlid)
            if result is None:
                raise ResponseFormatError(
                    f"Sage Intacct's answer (HTTP {status}) has no result for function "
                    f"{function.name} (controlid {function.controlid}).",
                    http_status=status,
                )
            results.append(result)
        return results

    # --- conveniences -----------------------------------------------------------------------

    def iter_query(
        self,
        object: str,
        fields: Sequence[str],
        *,
        filter=None,
        orderby=(),
        page_size: int = fn.MAX_QUERY_PAGE,
        schema: Mapping[str, Callable] | None = None,
        **options,
    ) -> Iterator[dict]:
        """Every record a `query` matches, page after page (offset paging). With `schema`
        (field -> converter, e.g. {"TOTALDUE": to_decimal}) those leaves are converted."""
        offset = 0
        while True:
            result = self.call(
                fn.query(
                    object,
                    fields,
                    filter=filter,
                    orderby=orderby,
                    page_size=page_size,
                    offset=offset,
                    **options,
                )
            )
            yield from _typed(result.data, schema)
            offset += len(result.data)
            if not result.data or not result.numremaining:
                return

    def iter_read_by_query(
        self,
        object: str,
        query: str = "",
        *,
        fields="*",
        page_size: int = fn.MAX_READ_BY_QUERY_PAGE,
        schema: Mapping[str, Callable] | None = None,
    ) -> Iterator[dict]:
        """Every record a readByQuery matches, following readMore until nothing remains."""
        result = self.call(fn.read_by_query(object, query, fields=fields, page_size=page_size))
        yield from _typed(result.data, schema)
        while result.numremaining and result.result_id:
            result = self.call(fn.read_more(result.result_id))
            yield from _typed(result.data, schema)

    def read(
        self,
        object: str,
        keys: Sequence,
        *,
        fields="*",
        schema: Mapping[str, Callable] | None = None,
    ) -> list[dict]:
        records = []
        for start in range(0, len(keys), fn.MAX_READ_KEYS):
            records += self.call(
                fn.read(object, keys[start : start + fn.MAX_READ_KEYS], fields=fields)
            ).data
        return list(_typed(records, schema))

    def read_by_name(self, object: str, names: Sequence[str], *, fields="*") -> list[dict]:
        return self.call(fn.read_by_name(object, names, fields=fields)).data

    def lookup(self, object: str) -> dict:
        result = self.call(fn.lookup(object))
        return result.data[0] if result.data else {}

    def inspect(self, object: str) -> ObjectDefinition:
        """Field definitions (required flags, max lengths) of a Sage object, as `inspect`
        gives them: it does not say which fields are custom (see `describe`)."""
        result = self.call(fn.inspect(object))
        return parse_inspect(object, result.data)

    def describe(self, objects: Sequence[str]) -> dict[str, ObjectDefinition]:
        """Each object's fields with custom flags (`lookup`), required flags and max lengths
        (`inspect`): both functions for every object in one request."""
        functions = [f(object) for object in objects for f in (fn.lookup, fn.inspect)]
        results = [result.raise_for_status() for result in self.execute(functions)]
        return {
            object: merge_definitions(
                parse_lookup(object, results[2 * i].data),
                parse_inspect(object, results[2 * i + 1].data),
            )
            for i, object in enumerate(objects)
        }


def _typed(records: list[dict], schema) -> Iterator[dict]:
    return (convert(r, schema) for r in records) if schema else iter(records)


def _mark_already_applied(functions, results) -> None:
    """After a resend, "duplicate control ID" means the first send was applied: not a failure."""
    for function, result in zip(functions, results, strict=True):
        if (
            function.is_write
            and not result.ok
            and any(e.is_duplicate_control for e in result.errors)
        ):
            result.status, result.already_applied = "success", True


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _gateway_text(body: bytes) -> str:
    try:
        doc = parse(body)
    except ResponseFormatError:
        return "no details"
    errors = parse_errors((doc.get("response") or {}).get("errormessage"))
    return " ".join(f"{e.errorno} {e.description}".strip() for e in errors) or "no details"


def _maybe_sent(exc: requests.ConnectionError) -> bool:
    """A connection dropped after the request went out (vs. refused before sending)."""
    text = repr(exc).lower()
    return not any(
        word in text
        for word in ("refused", "name or service", "nodename", "failed to establish", "no route")
    )
