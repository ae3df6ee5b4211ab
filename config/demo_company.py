"""The demo company, in one file both demos read (`config/demo_company.json`): the TMS demo
(`accounting.demo_data`, for `seed_demo`) and the sandbox's Sage company (`intacct.sandbox.demo`)
agree by sharing its IDs, not by importing each other."""

import functools
import json
from pathlib import Path

FIXTURE = Path(__file__).with_name("demo_company.json")


@functools.cache
def demo_company() -> dict:
    """The parsed fixture (read once per process)."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))
