"""Several requests of one client in flight at once, so that the caller prepares the next
batch while Sage works on the last ones. Plain Python, no Django.

Sage Intacct limits how many API requests of one company it works on at the same time: its
performance tiers grant "concurrent API requests" per company (developer.sage.com, "API
transaction volume, concurrency, and scaling"; the tier table is in Sage's "Performance Tiers"
white paper), and a request beyond the limit waits or is refused with HTTP 429 / GW-0010, which
the client retries with backoff (`IntacctClient._delay`). The older FAQ said a company at the
standard level of service runs "one API transaction job (online or offline)" at a time
(developer.intacct.com/support/faq); a third-party connector documents "most customers are
allowed 2 concurrent requests" (Domo's Sage Intacct connector article). The default of 2 in
flight comes from that last source and is inferred, not read in a Sage table: a company whose
tier allows more can raise it (`INTACCT_REQUESTS_IN_FLIGHT`), one that meets 429s can lower it.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from . import functions as fn
from .client import IntacctClient
from .types import Result


class InFlight:
    """Sends `execute` requests of one client on up to `limit` worker threads.

    `submit` returns a Future of the results (or of the exception `execute` raised). With
    `limit` 0 the request is sent on the caller's thread before `submit` returns (nothing
    overlaps; for debugging and for tests whose database a thread cannot see). `after_each`
    runs on the worker thread after each request (to close what the thread opened, such as a
    database connection). The caller bounds how many futures it leaves unsettled; this class
    never queues more than `limit` requests at a time on the wire. Use as a context manager:
    leaving it waits for the requests still in flight.
    """

    def __init__(
        self,
        client: IntacctClient,
        *,
        limit: int,
        after_each: Callable[[], None] | None = None,
    ):
        if limit < 0:
            raise ValueError("limit is the number of requests in flight: 0 or more.")
        self.client = client
        self.limit = limit
        self.after_each = after_each
        self._pool = (
            ThreadPoolExecutor(max_workers=limit, thread_name_prefix="intacct-send")
            if limit
            else None
        )

    def submit(self, functions: Sequence[fn.Function]) -> Future:
        if self._pool is None:
            future: Future = Future()
            try:
                future.set_result(self.client.execute(functions))
            except Exception as error:
                future.set_exception(error)
            return future
        return self._pool.submit(self._execute, list(functions))

    def _execute(self, functions: list[fn.Function]) -> list[Result]:
        try:
            return self.client.execute(functions)
        finally:
            if self.after_each is not None:
                self.after_each()

    def close(self, *, cancel: bool = False) -> None:
        """Wait for the requests on the wire; `cancel` drops those not yet started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)

    def __enter__(self) -> "InFlight":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(cancel=exc_type is not None)
