import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files (carrier invoices, ...) go to a throwaway folder in every test."""
    settings.MEDIA_ROOT = tmp_path / "media"


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
