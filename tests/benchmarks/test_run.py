"""benchmarks/run works: the whole suite at a tiny size, in its own process and database."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_prints_its_table_and_meets_its_targets_at_a_tiny_size(tmp_path):
    sizes = ["--loads", "6", "--trips", "6", "--payments", "30", "--errors", "1200"]
    sizes += ["--latency-ms", "0", "--baseline-sample", "3", "--batch-size", "4"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "performance.py"), *sizes],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # nothing is written beside the project
        check=False,
    )
    out = done.stdout
    # 12 documents in batches of 4 cannot save 20x the requests; every other target holds.
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert [line.split(":")[0] for line in failed] == [
        "FAIL  at least 20x fewer requests than batch size 1"
    ], done.stdout + done.stderr
    for scenario in ("1 export 6 loads + 6 trips, batch 4", "2 re-run", "3 import 30", "5 payload"):
        assert scenario in out
    assert "4 Error Transactions 1,200 rows: first page" in out
    assert not list(tmp_path.iterdir())


def test_the_peer_comparison_sends_one_call_per_document_through_the_sdk(tmp_path):
    import pytest

    pytest.importorskip("sageintacctsdk", reason='the bench extra: pip install -e ".[bench]"')
    sizes = ["--loads", "6", "--trips", "6", "--scenarios", "export", "--peer"]
    sizes += ["--peer-sample", "3", "--latency-ms", "0", "--baseline-sample", "3"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "performance.py"), *sizes],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )
    out = done.stdout
    row = next(line for line in out.splitlines() if line.startswith("6 peer"))
    # 3 loads + 3 trips: one request each, after the SDK's sign-in.
    assert row.split()[8:11] == ["6", "7", "6"], row  # documents, requests, writes
    assert "PASS  peer: every document created through sageintacctsdk (6 created, 0 failed" in out
    assert "peer / Ledgerline" in out and "requests" in out, out + done.stderr
