"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

They run only when selected (`bin/test -m browser -p no:xdist`): a plain `bin/test` deselects
them, so it needs no browser. Playwright cannot download its own browsers here, so it launches
/usr/bin/chromium (Debian's `chromium` package; `.ci/run` installs it when missing).
"""

import io
import logging
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google, which a closed
# network refuses; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def pytest_collection_modifyitems(config, items):
    """Leave browser tests out unless the run selects them with a -m expression."""
    if "browser" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("browser") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail(
            f"Browser tests need Debian's Chromium at {CHROMIUM}: apt-get install -y chromium",
            pytrace=False,
        )
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A common laptop screen: every page must fit its width (no sideways scroll).
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}}


@pytest.fixture(scope="session", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API keeps an event loop running in the test's thread from the first
    browser test to the end of the session, so Django would refuse every ORM call made there
    (test database setup and flush, the tests' own setup and assertions) as if it came from
    async code. Nothing async touches the database here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture
def screenshot():
    """Save a full-page screenshot as docs/screenshots/<name>.png (the README shows them)."""

    def save(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def console():
    """What the live server prints on its console while the test runs: the project's console
    log handler (config/settings.py LOGGING) writes into a buffer instead of stderr."""
    handlers = {
        handler
        for name in ("", "django")
        for handler in logging.getLogger(name).handlers
        if isinstance(handler, logging.StreamHandler) and handler.get_name() == "console"
    }
    assert handlers, "the console log handler is not configured"
    buffer = io.StringIO()
    previous = {handler: handler.setStream(buffer) for handler in handlers}
    try:
        yield buffer
    finally:
        for handler, stream in previous.items():
            handler.setStream(stream)


def loud_lines(output: str) -> list[str]:
    """The console lines that would worry someone watching it: warnings, errors and
    tracebacks."""
    return [
        line
        for line in output.splitlines()
        if any(word in line for word in (" WARNING ", " ERROR ", " CRITICAL ", "Traceback"))
    ]


# Runs in every page the browser loads: once it has loaded, report how wide the page and each
# list or inline table renders against the space it has.
REPORT_WIDTHS = """
window.addEventListener("load", () => {
  const root = document.documentElement;
  const boxes = [...document.querySelectorAll("#changelist-form .results, .inline-group .tabular")]
    .filter((e) => e.scrollWidth > e.clientWidth + 1)
    .map((e) => e.className);
  window.reportWidth(location.pathname + location.search, root.scrollWidth, root.clientWidth, boxes);
});
"""


class Widths:
    """Every page the browser loaded, with how wide it rendered against the window: a page
    wider than the window scrolls sideways, a table wider than its box hides columns."""

    def __init__(self):
        self.seen: list[tuple[str, int, int, list[str]]] = []

    def report(self, source, path, scroll, client, boxes) -> None:
        self.seen.append((path, scroll, client, boxes))

    def paths(self) -> set[str]:
        return {path.split("?")[0] for path, *_ in self.seen}

    def too_wide(self) -> list[str]:
        found = [
            f"{path}: {scroll} px wide in {client}" + (f" (cut off: {boxes})" if boxes else "")
            for path, scroll, client, boxes in self.seen
            if scroll > client or boxes
        ]
        return list(dict.fromkeys(found))


@pytest.fixture
def widths(page):
    """Reports the width of every page the test's browser loads (checked at the end)."""
    seen = Widths()
    page.expose_binding("reportWidth", seen.report)
    page.add_init_script(REPORT_WIDTHS)
    return seen
