"""Every list and change page of the admin, walked as a signed-in superuser: the pages to
visit, and what one visit costs (server time, database queries, size, options in selects).

Used by `tests/accounting/test_admin_walk.py` (query counts constant as the demo grows) and by
`benchmarks/performance.py`'s admin scenario (server time of each page on the demo data).
"""

import re
import statistics
import time
from dataclasses import dataclass

_OPTION = re.compile(rb"<option\b")


@dataclass
class Visit:
    name: str
    url: str
    status: int
    queries: int
    ms: float  # server time: the request handled in this process, no network
    options: int  # <option> elements: a select listing a whole table shows here
    kb: float


def admin_pages() -> list[tuple[str, str]]:
    """(name, URL) of the list page of every model the admin site shows, and of the change
    page of its first row (by primary key) when it has one."""
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse

    pages = []
    for model in sorted(admin.site._registry, key=lambda model: model._meta.label):
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        try:
            pages.append((f"{model._meta.label} list", reverse(f"{prefix}_changelist")))
        except NoReverseMatch:
            continue
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            pages.append((f"{model._meta.label} change", reverse(f"{prefix}_change", args=[first])))
    return pages


def visit(client, name: str, url: str, *, repeat: int = 1) -> Visit:
    """GET `url` (after one request to warm the caches); the median of `repeat` requests."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        queries = len(captured)
    body = response.content
    return Visit(
        name,
        url,
        response.status_code,
        queries,
        statistics.median(times),
        len(_OPTION.findall(body)),
        len(body) / 1024,
    )


def walk(client, *, repeat: int = 1) -> list[Visit]:
    return [visit(client, name, url, repeat=repeat) for name, url in admin_pages()]
