"""Typed errors for Sage Intacct answers, decided once at the boundary.

Permanent errors (sign-in, permissions, business rules) are shown to people and never retried
blindly; transient ones (network, 5xx, 429) are retried with backoff by the client. Every
message is a sentence a person can act on and none contains a password or a session ID.
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote

_SUPPORT_ID = re.compile(r"\[Support ID:\s*([^\]]+)\]")

# errornos we classify on (see the protocol table in the README's Sage section)
SIGN_IN_FAILED = "XL03000006"
XML_PARSE_ERROR = "XL03000003"
TRANSACTION_ROLLED_BACK = "XL03000009"
# No Sage source names the errorno of a controlid already applied under uniqueid=true
# (reference §1); XL03000010 is what the sandbox answers. Sage uses that errorno for other
# refusals too ("Field requested is not valid: gldetail.STATUS", fylein/sageintacct-sdk-py
# issue 93), so only an error that also speaks of the control ID counts as one.
DUPLICATE_CONTROL_ID = "XL03000010"
PERMISSION_DENIED = "DL02000001"
# The gateway's own refusal of the user's sign-in, with HTTP 401 (PHP SDK
# test/Intacct/Xml/RequestHandlerTest.php, testMock400LevelErrorWithXmlResponse).
GATEWAY_SIGN_IN = "XMLGW_JPP0002"
RATE_LIMITED = "GW-0010"


@dataclass(frozen=True)
class ErrorDetail:
    """One `<error>` of Sage's `<errormessage>`."""

    errorno: str = ""
    description: str = ""
    description2: str = ""
    correction: str = ""

    @property
    def support_id(self) -> str | None:
        match = _SUPPORT_ID.search(self.description2 or "")
        return unquote(match.group(1).strip()) if match else None

    @property
    def is_duplicate_control(self) -> bool:
        """Sage refused a function controlid it already applied (uniqueid=true)."""
        words = f"{self.description} {self.description2}".lower()
        return self.errorno == DUPLICATE_CONTROL_ID and "control" in words

    @property
    def text(self) -> str:
        """The readable part: description and description2, without the Support ID."""
        parts = [self.description, _SUPPORT_ID.sub("", self.description2 or "").strip()]
        return " ".join(p.strip().rstrip(".") + "." for p in parts if p and p.strip())


def describe(errors: list[ErrorDetail]) -> str:
    """Sage's errors as one sentence, with the first Support ID and correction kept."""
    text = (
        " ".join(dict.fromkeys(e.text for e in errors if e.text)) or "Sage Intacct gave no reason."
    )
    corrections = [e.correction for e in errors if e.correction]
    if corrections:
        text += f" {corrections[0].rstrip('.')}."
    support = next((e.support_id for e in errors if e.support_id), None)
    if support:
        text += f" (Sage Support ID: {support})"
    return text


class IntacctError(Exception):
    """Base of every error the client raises."""

    default_message = "Sage Intacct returned an error."

    def __init__(self, message: str | None = None, *, errors=None, http_status=None):
        self.errors: list[ErrorDetail] = list(errors or [])
        self.http_status = http_status
        super().__init__(
            message or (describe(self.errors) if self.errors else self.default_message)
        )

    @property
    def errorno(self) -> str | None:
        return self.errors[0].errorno if self.errors else None

    @property
    def support_id(self) -> str | None:
        return next((e.support_id for e in self.errors if e.support_id), None)

    @property
    def message(self) -> str:
        return str(self)


class AuthenticationError(IntacctError):
    default_message = "Sage Intacct refused the credentials."


class SignInError(AuthenticationError):
    default_message = (
        "Sage Intacct sign-in information is incorrect: check the Company ID, the Web Services "
        "User ID and its password."
    )


class SenderNotAuthorizedError(AuthenticationError):
    default_message = (
        "This application's sender ID is not authorized for the Sage company: add it under "
        "Company > Web Services Authorizations in Sage Intacct."
    )


class WebServicesNotSubscribedError(AuthenticationError):
    default_message = (
        "Web Services is not enabled for this Sage company: enable it under Company > "
        "Subscriptions in Sage Intacct."
    )


class SessionExpiredError(AuthenticationError):
    default_message = "The Sage Intacct session expired or is invalid."


class PermissionDeniedError(IntacctError):
    default_message = (
        "The Web Services user lacks a Sage module permission: set the permission level to "
        "All for the module in the user's role."
    )


class BusinessError(IntacctError):
    """Sage refused the data (unknown customer, inactive account, invalid term, state...)."""


class DuplicateControlIdError(IntacctError):
    """The function's controlid was already applied (uniqueid=true): nothing was done again."""


class ResponseFormatError(IntacctError):
    """The answer was not usable XML (not XML, truncated, oversized, or declaring entities)."""


class TransientError(IntacctError):
    """Worth retrying later: the request was not applied, or is safe to resend."""


class NetworkError(TransientError):
    default_message = "Sage Intacct could not be reached."


class ServerError(TransientError):
    default_message = "Sage Intacct answered with a server error."


class RateLimitError(TransientError):
    default_message = "Sage Intacct is rate limiting this company (too many requests)."

    def __init__(self, message=None, *, retry_after: float | None = None, **kwargs):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class OutcomeUnknownError(IntacctError):
    """A write may or may not have been applied (timeout or HTTP 524 after sending).

    Never resend blindly: look the document up first.
    """

    default_message = (
        "Sage Intacct did not answer in time after the request was sent; it may still have "
        "been applied. Look the document up in Sage before sending it again."
    )


def classify_control_errors(errors: list[ErrorDetail], http_status: int | None) -> IntacctError:
    """The exception for a control-level failure (the whole request was refused)."""
    joined = " ".join(f"{e.description} {e.description2}" for e in errors).lower()
    if "authorization" in joined and "web services" in joined:
        return SenderNotAuthorizedError(errors=errors, http_status=http_status)
    if "subscri" in joined:
        return WebServicesNotSubscribedError(errors=errors, http_status=http_status)
    if any(e.errorno == RATE_LIMITED for e in errors):
        return RateLimitError(errors=errors, http_status=http_status)
    if http_status == 401 or any(e.errorno == GATEWAY_SIGN_IN for e in errors):
        return SignInError(errors=errors, http_status=http_status)
    if any(e.errorno == SIGN_IN_FAILED for e in errors):
        return SenderNotAuthorizedError(
            "Sage Intacct refused this application's sender ID or sender password: check "
            "INTACCT_SENDER_ID and INTACCT_SENDER_PASSWORD.",
            errors=errors,
            http_status=http_status,
        )
    return IntacctError(errors=errors, http_status=http_status)


def classify_function_errors(errors: list[ErrorDetail]) -> IntacctError:
    """The exception for one failed function."""
    if any(e.is_duplicate_control for e in errors):
        return DuplicateControlIdError(errors=errors)
    if any(e.errorno == PERMISSION_DENIED for e in errors) or any(
        (e.description2 or "").lower().startswith("you do not have permission") for e in errors
    ):
        return PermissionDeniedError(errors=errors)
    return BusinessError(errors=errors)
