"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

They run only when selected (`bin/test -m browser -p no:xdist`): a plain `bin/test` deselects
them, so it needs no browser. Playwright cannot download its own browsers here, so it launches
/usr/bin/chromium (Debian's `chromium` package; `.ci/run` installs it when missing).
"""

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
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


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
