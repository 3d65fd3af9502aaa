"""The benchmark command runs end to end (`--quick --no-peer`), and its small parts hold.

Figures are printed by `python -m benchmarks`, never asserted here: this only checks that the
command works and reports every part it promises, so a broken benchmark cannot go unseen.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import report
from benchmarks.__main__ import parse_sizes, parse_steps
from benchmarks.probe import Stopwatch

ROOT = Path(__file__).resolve().parent.parent
QUICK_TIMEOUT_S = 1200  # generous: the machine may be shared; --quick takes 1–2 minutes when idle


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    command = [sys.executable, "-m", "benchmarks", "--quick", "--no-peer", "--out", str(out)]
    # Its own process group, so a timeout also ends the children it measures (ingest, ask, probes).
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=QUICK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"python -m benchmarks --quick took more than {QUICK_TIMEOUT_S} s")
    done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    assert done.returncode == 0, f"python -m benchmarks --quick failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done, json.loads(out.read_text("utf-8"))


def test_quick_run_measures_every_part(quick_run):
    _, results = quick_run
    assert results["failed"] == {}
    assert sorted(k for k in results if k not in ("meta", "rows", "skipped", "failed")) == \
        ["ask", "ask_split", "floors", "ingest", "ingest_split", "scale"]
    assert results["skipped"] == {"app": "browser part not asked for (--quick or --no-browser)", "peer": "--no-peer"}


def test_quick_run_prints_one_table_with_floors_and_ratios(quick_run):
    done, results = quick_run
    sections = {row["section"] for row in results["rows"]}
    assert {"ingest", "ingest split", "scale: 1,000 synthetic passages", "scale: 3,000 synthetic passages"} <= sections
    assert any(s.startswith("questions (6, k=10)") for s in sections)
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert table[0] == "| section | measure | this project | floor | ×floor | peer | ×peer | note |"
    assert len(table) == len(results["rows"]) + 1
    assert "×" in next(line for line in table if "warm question p50, `ask --json`" in line).split("|")[5]


def test_quick_run_figures_are_measured(quick_run):
    _, results = quick_run
    assert results["ingest"]["wall_s"] > 0 and results["ingest"]["peak_rss_mb"] > 100
    assert results["ingest_split"]["embedded_texts"]["minilm"] > results["ingest"]["passages"] / 2
    assert results["floors"]["minilm"]["encode_s"] > 0 and results["floors"]["minilm"]["question_s"] > 0
    assert results["ask"]["warm"]["n"] == 5  # 6 questions piped: 5 gaps between answers
    assert {"encode question minilm", "bm25", "fusion", "quote selection", "other"} <= set(results["ask_split"]["stages"])
    for size in ("1000", "3000"):
        assert results["scale"][size]["query"]["search"]["n"] == 6
        assert results["scale"][size]["build"]["disk_bytes"] > 0


def test_stopwatch_counts_nested_time_once():
    ticks = iter([0.0, 2.0, 5.0, 6.0, 10.0, 11.0])  # outer in, inner in/out, outer out, inner again
    watch = Stopwatch(clock=lambda: next(ticks))
    with watch.stage("outer"):
        with watch.stage("inner"):
            pass
    with watch.stage("inner"):
        pass
    assert watch.take() == {"outer": 3.0, "inner": 4.0}
    assert watch.take() == {}


@pytest.mark.parametrize("text, sizes", [("10000,100000", (10000, 100000)), ("1_000", (1000,))],
                         ids=["two", "underscore"])
def test_sizes_parse(text, sizes):
    assert parse_sizes(text) == sizes


@pytest.mark.parametrize("text", ["ten", "0", ","], ids=["word", "zero", "empty"])
def test_bad_sizes_are_refused(text):
    import argparse
    with pytest.raises(argparse.ArgumentTypeError):
        parse_sizes(text)


def test_steps_parse_and_unknown_ones_are_refused():
    import argparse
    assert parse_steps("ask, scale") == ("ask", "scale")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown step"):
        parse_steps("ask,bogus")


def test_markdown_row_shows_both_ratios():
    rows = [report.row("s", "m", 0.5, "s", floor=0.25, peer=1.0, note="n")]
    assert report.markdown(rows).splitlines()[2] == "| s | m | 500.0 ms | 250.0 ms | 2.00× | 1.00 s | 0.50× | n |"
