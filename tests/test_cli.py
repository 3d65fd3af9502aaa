"""The command-line contract of `python -m index` with the real packaged model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

HIT_FIELDS = {"rank": int, "score": float, "id": str, "text": str, "quote": str, "report": str, "title": str,
              "page": (int, type(None)), "page_end": (int, type(None)), "page_label": (str, type(None)),
              "section": (str, type(None)), "speaker": (str, type(None)),
              "organisation": (str, type(None)), "part": (str, type(None))}
EXTRA_HIT_FIELDS = {"ocr": bool, "language": str, "paragraph": (int, type(None)), "subsection": (str, type(None))}


def run_index(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "index", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_ask_json_contract_for_questions_on_stdin(real_store: Path):
    questions = "How many flyers were distributed?\n\nHow do I bake sourdough bread?\n"
    result = run_index("ask", "--index-dir", str(real_store), "--json", "-k", "3", stdin=questions)
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(a["question"], a["answered"], len(a["hits"])) for a in answers] == [
        ("How many flyers were distributed?", True, 3), ("How do I bake sourdough bread?", False, 3)]
    for answer in answers:
        assert set(answer) == {"question", "answered", "hits"}
        for rank, hit in enumerate(answer["hits"], start=1):
            # The contract's fields, plus the documented extra ones (OCR'd text, language, Word paragraph, subsection).
            assert set(hit) == set(HIT_FIELDS) | set(EXTRA_HIT_FIELDS)
            assert all(isinstance(hit[name], kind) for name, kind in {**HIT_FIELDS, **EXTRA_HIT_FIELDS}.items()), hit
            assert hit["rank"] == rank and hit["quote"] in hit["text"]
    top = answers[0]["hits"][0]
    assert (top["page"], top["page_end"], top["page_label"], top["speaker"], top["part"]) == \
        (23, 23, "23", "Ms. Aida Orgocka", "presentation")
    assert "1,500 flyers and 150 posters" in top["quote"]


def test_ask_readable_output_cites_the_page(real_store: Path):
    result = run_index("ask", "--index-dir", str(real_store), "-k", "1", "How many flyers were distributed?")
    assert result.returncode == 0, result.stderr
    assert "2006 CAAHT Annual Conference Report, p. 23, presentation by Ms. Aida Orgocka" in result.stdout


def test_stats_json(real_store: Path):
    result = run_index("stats", "--index-dir", str(real_store), "--json")
    assert json.loads(result.stdout) == {"passages": 63, "reports": [
        {"report": "caaht-2006-kukes-extract.txt", "passages": 63}]}


def test_missing_store_is_a_clear_error(tmp_path: Path):
    result = run_index("stats", "--index-dir", str(tmp_path / "none"), "--json")
    assert result.returncode == 2
    assert "no index has been built here yet" in result.stderr and "python -m ingest" in result.stderr
    assert "Traceback" not in result.stderr


def run_ingest(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "ingest", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_reread_reads_the_kept_copy_again_and_names_an_unknown_report(tmp_path: Path):
    report = tmp_path / "one-2009.txt"
    report.write_text("[p. 1]\nThe shelter hosted 12 women in 2009.\n", "utf-8")
    store = str(tmp_path / "store")
    assert run_ingest("--index-dir", store, str(report)).returncode == 0
    report.unlink()  # the kept copy in the store is what is read again
    again = run_ingest("--index-dir", store, "--reread", "one-2009.txt")
    assert again.returncode == 0, again.stderr
    assert "one-2009.txt: ok — 1 passages from 1 page(s), read again" in again.stdout
    unknown = run_ingest("--index-dir", store, "--reread", "two-2010.txt")
    assert (unknown.returncode, unknown.stderr) == (2, "error: no report named 'two-2010.txt' in the store. "
                                                       "Fix: `python -m index stats` lists the reports by name.\n")
