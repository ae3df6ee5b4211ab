import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files (carrier invoices, ...) go to a throwaway folder in every test."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _export_requests_on_the_test_thread(settings):
    """Export requests go out on the test's own thread (INTACCT_REQUESTS_IN_FLIGHT=0), through
    the same pipeline: the sandbox that answers them reads and writes inside the test's
    transaction, which a sender thread's own database connection cannot see. The sender
    threads have their own tests, on committed data (tests/intacct/test_export_in_flight.py)."""
    settings.INTACCT_REQUESTS_IN_FLIGHT = 0


def pytest_terminal_summary(terminalreporter):
    """The fuzz suite's count of generated inputs (tests/reliability/test_fuzz.py)."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call":
                continue
            seen: dict[str, int] = {}
            for key, value in getattr(report, "user_properties", []):
                if key == "fuzz_inputs":
                    seen[value[0]] = max(seen.get(value[0], 0), value[1])
            for name, number in seen.items():
                counts[name] = counts.get(name, 0) + number
    scenarios = sum(
        value
        for report in terminalreporter.stats.get("passed", [])
        if getattr(report, "when", "call") == "call"
        for key, value in getattr(report, "user_properties", [])
        if key == "fault_scenarios"
    )
    if scenarios:
        terminalreporter.write_sep("-", f"fault matrix: {scenarios} scenarios settled")
    if counts:
        terminalreporter.write_sep("-", f"fuzz: {sum(counts.values())} generated inputs")
        for name, number in sorted(counts.items()):
            terminalreporter.write_line(f"  {name}: {number}")
