"""The multilingual pass in the background: `python -m ingest` returns with every report
searchable in English, a detached worker adds the multilingual vectors, and the next ingest
stops a running worker instead of waiting for it. Real models, real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest import background
from index.embedder import load_multilingual
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(load_multilingual() is None, reason="the multilingual model is not installed here")

REPORT = ("Regional Anti-Trafficking Committee report.\n\n"
          "The committee met the prefect every month to review the referral of victims from Kukes.\n")
WORKER_WAIT_S = 120


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, background.PASS_ENV: background.BACKGROUND}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _pending(store: Path) -> list[str]:
    stats = json.loads(_run("-m", "index", "stats", "--json", "--index-dir", str(store)).stdout)
    return stats.get("multilingual_pending", [])


def _wait_for_worker(store: Path) -> None:
    deadline = time.monotonic() + WORKER_WAIT_S
    while background.running_worker(store) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert background.running_worker(store) is None, "the background worker did not finish"


def test_ingest_returns_searchable_in_english_and_the_worker_completes_the_rest(tmp_path: Path):
    store, report = tmp_path / "store", tmp_path / "committee.txt"
    report.write_text(REPORT, "utf-8")
    done = _run("-m", "ingest", "--index-dir", str(store), str(report))
    assert done.returncode == 0, done.stderr
    assert "being added in the background" in done.stdout
    answer = json.loads(_run("-m", "index", "ask", "--json", "--index-dir", str(store),
                             "How often did the committee meet the prefect?").stdout)
    assert answer["hits"][0]["text"].startswith("The committee met the prefect every month")
    _wait_for_worker(store)
    assert _pending(store) == []
    assert not (store / background.PID_FILE).exists()
    verify = _run("-m", "index", "verify", "--index-dir", str(store))
    assert verify.returncode == 0, verify.stdout


def test_a_new_ingest_stops_a_running_worker_and_finishes_its_work(tmp_path: Path):
    store, first, second = tmp_path / "store", tmp_path / "committee.txt", tmp_path / "shelter.txt"
    first.write_text(REPORT, "utf-8")
    second.write_text("The shelter in Kukes hosted twelve women in 2006.\n", "utf-8")
    assert _run("-m", "ingest", "--index-dir", str(store), str(first)).returncode == 0
    worker = background.running_worker(store)
    now = subprocess.run([sys.executable, "-m", "ingest", "--index-dir", str(store), "--multilingual-pass", "now",
                          str(second)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert now.returncode == 0, now.stderr
    if worker is not None:  # it may have finished before the second ingest began
        assert background.running_worker(store) is None
    assert _pending(store) == []
