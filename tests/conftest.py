"""Shared fixtures: tiny inline stores (fast, hashing embedder) and one real-model store."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# `python -m ingest` run by the tests adds the multilingual vectors before it returns, so that
# what a test reads next is settled; tests/test_background.py runs the background pass itself.
os.environ["CAAHT_MULTILINGUAL_PASS"] = "now"

from index.embedder import HashingEmbedder  # noqa: E402
from ingest.pipeline import IngestRun  # noqa: E402

CORPUS_FILE = ROOT / "corpus" / "caaht-2006-kukes-extract.txt"
DATA = ROOT / "tests" / "data"
# A report whose every sentence carries HTML, Markdown or script text (for the browser tests).
HOSTILE_REPORT = DATA / "hostile-report.txt"

TINY_REPORT = """Extracts from the 2009 Test Conference Report

This tiny report exists for tests only.

Shelter capacity in the north
Tirana Shelter Network — Ms. Ana Test
(2009 TC Report, page 5)

Highlights of the presentation

- The shelter in Kukes hosted 42 women during the year.
- Social workers visited every commune twice a month.

Highlights of the discussion

- Participants asked for more funding for reintegration.
"""


def ingest_files(index_dir: Path, files, **kwargs):
    """Run an ingest with the fast hashing embedder; returns the summary."""
    run = IngestRun(index_dir, embedder_factory=HashingEmbedder, multilingual_factory=lambda: None)
    return run.execute([Path(f) for f in files], **kwargs)


@pytest.fixture
def tiny_report(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-2009.txt"
    path.write_text(TINY_REPORT, encoding="utf-8")
    return path


@pytest.fixture
def hashing_store(tmp_path: Path, tiny_report: Path) -> Path:
    """A store of the CAAHT extract and the tiny report, built with the hashing embedder."""
    index_dir = tmp_path / "store"
    summary = ingest_files(index_dir, [CORPUS_FILE, tiny_report])
    assert summary.ok, summary.render()
    return index_dir


@pytest.fixture(scope="session")
def real_store(tmp_path_factory) -> Path:
    """The bundled corpus indexed with the real packaged model (built once per test run)."""
    index_dir = tmp_path_factory.mktemp("real") / "store"
    summary = IngestRun(index_dir).execute([CORPUS_FILE])
    assert summary.ok, summary.render()
    return index_dir


@pytest.fixture(scope="session")
def hostile_store(tmp_path_factory) -> Path:
    """The bundled corpus plus tests/data/hostile-report.txt, indexed with the real model."""
    index_dir = tmp_path_factory.mktemp("hostile") / "store"
    summary = IngestRun(index_dir).execute([CORPUS_FILE, HOSTILE_REPORT])
    assert summary.ok, summary.render()
    return index_dir


@pytest.fixture(scope="session")
def real_searcher(real_store: Path):
    from index.retrieval.search import open_searcher

    return open_searcher(real_store)
