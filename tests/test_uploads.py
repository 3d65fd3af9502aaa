"""Uploaded files: names are labels, never paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.embedder import HashingEmbedder
from index.store.embedded import load_store
from ingest.uploads import ingest_uploads, safe_report_name

from tests.conftest import TINY_REPORT


@pytest.mark.parametrize(
    "name, expected",
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\Desktop\\Raport 2024.pdf", "Raport 2024.pdf"),
        ("evil\x00name\n.txt", "evilname.txt"),
        ("<b onclick=x>.pdf", "_b onclick_x_.pdf"),
        ("..", "uploaded-report"),
        ("Kukës raport.txt", "Kukës raport.txt"),
    ],
    ids=["plain", "traversal", "windows-path", "control-chars", "markup", "dots-only", "accents"],
)
def test_safe_report_name(name, expected):
    assert safe_report_name(name) == expected


def test_upload_is_ingested_under_its_clean_name_and_nothing_is_written_beside_it(tmp_path: Path):
    index_dir = tmp_path / "store"
    summary = ingest_uploads(index_dir, [("../../tiny-2009.txt", TINY_REPORT.encode()), ("empty.pdf", b"")],
                             embedder_factory=HashingEmbedder, multilingual_factory=lambda: None)
    assert [(o.source, o.outcome) for o in summary.outcomes] == [("tiny-2009.txt", "ok"),
                                                                 ("empty.pdf", "unsupported type")]
    assert [r.report for r in load_store(index_dir).manifest.reports] == ["tiny-2009.txt"]
    assert not (tmp_path / "tiny-2009.txt").exists()
