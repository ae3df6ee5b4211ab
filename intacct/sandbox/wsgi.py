"""A WSGI app that serves only the sandbox gateway (for `manage.py intacct_sandbox`)."""

from http import HTTPStatus

from django.db import close_old_connections

from .gateway import SANDBOX_PATH, handle, read_request, request_too_large


def sandbox_app(environ, start_response):
    """POST /intacct-sandbox/xmlgw.phtml -> the gateway (a body over the size limit: 413,
    unread); anything else 404 / 405."""
    try:
        if environ.get("PATH_INFO") != SANDBOX_PATH:
            return _plain(
                start_response, HTTPStatus.NOT_FOUND, f"The sandbox gateway is at {SANDBOX_PATH}"
            )
        if environ.get("REQUEST_METHOD") != "POST":
            return _plain(start_response, HTTPStatus.METHOD_NOT_ALLOWED, "POST an XML request.")
        body = read_request(environ["wsgi.input"], environ.get("CONTENT_LENGTH"))
        if body is None:
            answer = request_too_large()
        else:
            scheme = environ.get("wsgi.url_scheme", "http")
            host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
            answer = handle(body, endpoint_url=f"{scheme}://{host}{SANDBOX_PATH}")
        reason = _reason(answer.status)
        start_response(
            f"{answer.status} {reason}",
            [*answer.headers.items(), ("Content-Length", str(len(answer.body)))],
        )
        return [answer.body]
    finally:
        close_old_connections()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Origin Timeout" if status == 524 else "Error"


def _plain(start_response, status: HTTPStatus, text: str):
    body = text.encode()
    start_response(
        f"{status.value} {status.phrase}",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
