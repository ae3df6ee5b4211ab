"""What the configured log handlers write holds no password and no session ID: not in the
message, its arguments, the exception text, the formatted traceback or the stack."""

import io
import logging

import pytest

from intacct.client import errors, wire

PASSWORD = "Pa55 w0rd, with spaces"
SESSION_ID = "sess-4f9c2a-Zt8q.."
# Every logger the product writes to, its libraries' included; the test adds every other
# logger that exists once Django is set up.
PRODUCT_LOGGERS = [
    "",
    "accounting",
    "axes",
    "django",
    "django-q",
    "django.request",
    "django.security.csrf",
    "django.server",
    "django.db.backends",
    "import_export",
    "intacct",
    "intacct.client",
    "intacct.export",
    "intacct.sandbox",
    "intacct.tasks",
    "py.warnings",
]


def sign_in_with_a_secret():
    """A sign-in that fails the way real code fails: the XML builder refuses the password,
    then the error carries Sage's answer and the credentials as code tends to print them."""
    try:
        wire.element("login", {"userid": "ws", "password": f"{PASSWORD}\x01"})
    except ValueError as exc:
        raise errors.IntacctError(
            f"sign-in failed: {{'userid': 'ws', 'password': '{PASSWORD}'}} "
            f"<sessionid>{SESSION_ID}</sessionid> sessionid={SESSION_ID}"
        ) from exc


@pytest.fixture
def written():
    """Everything the configured handlers write, as text (their streams pointed at a buffer)."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    handlers = {
        handler
        for logger in loggers
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
        if not type(handler).__module__.startswith("_pytest")
        and not isinstance(handler, logging.NullHandler)  # libraries' "write nothing"
    }
    assert handlers, "no configured handler to read"
    assert all(isinstance(h, logging.StreamHandler) for h in handlers), handlers
    buffer = io.StringIO()
    saved = {handler: handler.setStream(buffer) for handler in handlers}
    yield buffer
    for handler, stream in saved.items():
        handler.setStream(stream)


def test_an_exception_carrying_a_password_and_a_session_id_is_masked_through_every_logger(
    written,
):
    names = sorted(
        {*PRODUCT_LOGGERS, *logging.Logger.manager.loggerDict}
        - {name for name in logging.Logger.manager.loggerDict if name.startswith("_pytest")}
    )
    for name in names:
        logger = logging.getLogger(name)
        try:
            sign_in_with_a_secret()
        except errors.IntacctError:
            logger.critical(
                "[%s] request failed: %s",
                name,
                f"<password>{PASSWORD}</password>",
                exc_info=True,
                stack_info=True,
            )

    text = written.getvalue()
    assert all(f"[{name}] request failed" in text for name in PRODUCT_LOGGERS), "not written"
    assert "Traceback (most recent call last)" in text and "Stack (most recent call last)" in text
    assert text.count("IntacctError: sign-in failed") >= len(PRODUCT_LOGGERS)
    assert PASSWORD not in text and "Pa55" not in text
    assert SESSION_ID not in text and "sess-4f9c2a" not in text
