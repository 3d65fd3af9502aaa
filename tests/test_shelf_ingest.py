"""A shelf at a time: per-report publishing, reading ahead, hash-first, progress, multilingual later."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ingest.pipeline as pipeline
from index.embedder import HashingEmbedder
from index.retrieval.search import Searcher
from index.store.embedded import load_store
from ingest.pipeline import IngestRun, ProgressEvent

from tests.conftest import ROOT, TINY_REPORT

CHILD = str(ROOT / "tests" / "ingest_child.py")
TOPICS = ["orchards", "bakeries", "ferries", "quarries", "vineyards", "tanneries"]


def shelf(folder: Path, count: int) -> list[Path]:
    """`count` tiny reports, each naming its own topic in one passage."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for number, topic in enumerate(TOPICS[:count], start=1):
        path = folder / f"report-{number}-2009.txt"
        path.write_text(TINY_REPORT.replace("42 women", f"42 women working in {topic}"), encoding="utf-8")
        files.append(path)
    return files


class HashingMultilingual:
    """A fast stand-in for the multilingual model (hashes reversed words)."""

    name = "test/hashing-multilingual"
    dimension = 64

    def __init__(self, fail_after: int | None = None):
        self.calls, self.fail_after = 0, fail_after

    def encode_passages(self, texts, *, progress=None):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise KeyboardInterrupt("killed during the multilingual pass")
        vectors = HashingEmbedder().encode([" ".join(w[::-1] for w in t.split()) for t in texts])[:, :self.dimension]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)

    def encode_query(self, text):
        return self.encode_passages([text])[0]


def run(index_dir: Path, multilingual=None, **kwargs) -> IngestRun:
    return IngestRun(index_dir, embedder_factory=HashingEmbedder, multilingual_factory=lambda: multilingual,
                     **kwargs)


def top_report(index_dir: Path, question: str) -> str:
    store = load_store(index_dir)
    return Searcher(store, HashingEmbedder()).ask(question, k=1).hits[0].passage.report


def test_each_report_is_published_as_soon_as_it_is_embedded(tmp_path: Path):
    files = shelf(tmp_path / "shelf", 3)
    seen: list[tuple[str, ...]] = []
    runner = run(tmp_path / "store", log=lambda line: seen.append(_reports_now(tmp_path / "store"))
                 if ": ok —" in line else None)
    summary = runner.execute(files)
    assert summary.ok, summary.render()
    # After each file's outcome line the store already held that report and those before it.
    assert seen == [("report-1-2009.txt",), ("report-1-2009.txt", "report-2-2009.txt"),
                    ("report-1-2009.txt", "report-2-2009.txt", "report-3-2009.txt")]
    assert summary.timings["publishes"] == 3


def _reports_now(index_dir: Path) -> tuple[str, ...]:
    return tuple(sorted(r.report for r in load_store(index_dir).manifest.reports))


def test_kill_during_a_multi_report_ingest_keeps_every_report_published_before(tmp_path: Path):
    index_dir, files = tmp_path / "store", shelf(tmp_path / "shelf", 5)
    process = subprocess.Popen([sys.executable, "-u", CHILD, str(index_dir), *map(str, files), "--slow", "0.3"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    published = []
    for line in process.stdout:
        if ": ok —" in line:
            published.append(Path(line.split(": ok")[0].strip()).name)
        if len(published) == 2:
            break
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    store = load_store(index_dir)
    held = sorted(r.report for r in store.manifest.reports)
    assert held[:2] == ["report-1-2009.txt", "report-2-2009.txt"] and len(held) in (2, 3)
    for number, topic in enumerate(TOPICS[:2], start=1):
        assert top_report(index_dir, topic) == f"report-{number}-2009.txt"
    # The next run adds the rest and does not re-read the reports already there.
    summary = run(index_dir).execute(files)
    assert [o.outcome for o in summary.outcomes][:2] == ["unchanged", "unchanged"]
    assert sorted(r.report for r in load_store(index_dir).manifest.reports) == [f.name for f in files]


def test_an_unchanged_report_is_never_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    index_dir, files = tmp_path / "store", shelf(tmp_path / "shelf", 2)
    assert run(index_dir).execute(files).ok
    parsed = []
    real = pipeline.read_report
    monkeypatch.setattr(pipeline, "read_report", lambda path, *a, **k: (parsed.append(Path(path).name),
                                                                         real(path, *a, **k))[1])
    summary = run(index_dir).execute(files)
    assert [(o.outcome, o.detail) for o in summary.outcomes] == [("unchanged", "already indexed, nothing added")] * 2
    assert parsed == [] and summary.generation is None


def test_progress_events_count_files_and_pages_to_the_end(tmp_path: Path):
    events: list[ProgressEvent] = []
    summary = run(tmp_path / "store", progress=events.append).execute(shelf(tmp_path / "shelf", 3))
    assert summary.ok
    last = events[-1]
    assert (last.stage, last.files_done, last.files_total, last.pages_done, last.pages_total) == ("done", 3, 3, 6, 6)
    done = [e.pages_done for e in events if e.stage != "done"]
    assert done == sorted(done) and max(done) == 6
    assert any(e.seconds_left is not None and e.pages_per_s > 0 for e in events)
    assert {e.current_file for e in events if e.current_file} == {str(f) for f in shelf(tmp_path / "shelf", 3)}


def test_summary_says_per_file_what_happened(tmp_path: Path):
    files = shelf(tmp_path / "shelf", 2)
    empty = tmp_path / "shelf" / "empty.txt"
    empty.write_text("", encoding="utf-8")
    text = run(tmp_path / "store").execute([*files, empty]).render()
    lines = text.splitlines()
    assert lines[0] == "3 file(s): 2 ok, 1 unsupported type."
    assert lines[1].startswith(f"  {files[0]}: ok — 5 passages from 2 page(s), new")
    assert lines[3].startswith(f"  FAILED {empty}: unsupported type")


def test_english_first_then_multilingual_and_a_killed_pass_is_finished_next_time(tmp_path: Path):
    index_dir, files = tmp_path / "store", shelf(tmp_path / "shelf", 3)
    with pytest.raises(KeyboardInterrupt):
        run(index_dir, HashingMultilingual(fail_after=1)).execute(files)
    store = load_store(index_dir)
    pending = {r.report: r.multilingual_pending for r in store.manifest.reports}
    assert pending == {"report-1-2009.txt": False, "report-2-2009.txt": True, "report-3-2009.txt": True}
    rows = [i for i, p in enumerate(store.passages) if p.report != "report-1-2009.txt"]
    assert not store.contents.multilingual_vectors[rows].any()  # zeros until computed
    assert top_report(index_dir, "ferries") == "report-3-2009.txt"  # English works meanwhile
    # ... without the multilingual signal, which would see report 1 only.
    assert Searcher(store, HashingEmbedder(), HashingMultilingual()).multilingual is None
    summary = run(index_dir, HashingMultilingual()).execute(files)
    assert [o.outcome for o in summary.outcomes] == ["unchanged"] * 3
    store = load_store(index_dir)
    assert [r.multilingual_pending for r in store.manifest.reports] == [False] * 3
    assert store.contents.multilingual_vectors.any(axis=1).all()
    assert Searcher(store, HashingEmbedder(), HashingMultilingual()).multilingual is not None


def test_real_model_sentence_vectors_come_from_the_passage_pass():
    from index.embedder import MiniLMEmbedder

    model = MiniLMEmbedder()
    texts = ["Shelters · Ms. Ana\nThe shelter hosted 42 women. Social workers visited every commune.",
             "Flyers were distributed in Kukës."]
    spans = [[(19, 47), (48, 90)], [(0, 32)]]
    vectors, span_vectors = model.encode_with_spans(texts, spans)
    assert np.allclose(vectors, model.encode(texts), atol=1e-5)
    assert span_vectors.shape == (3, model.dimension)
    assert np.allclose(np.linalg.norm(span_vectors, axis=1), 1.0, atol=1e-5)
    separate = model.encode([texts[0][19:47], texts[0][48:90], texts[1]])
    # Each pooled sentence is nearest to the same sentence encoded on its own.
    assert list(np.argmax(span_vectors @ separate.T, axis=1)) == [0, 1, 2]


def test_a_large_store_publishes_a_report_without_rewriting_the_others(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch):
    import index.store.embedded_writer as writer_module

    monkeypatch.setattr(writer_module, "SEGMENTED_FROM_PASSAGES", 0)  # "large" from the first passage
    index_dir, files = tmp_path / "store", shelf(tmp_path / "shelf", 4)
    assert run(index_dir).execute(files[:2]).ok  # two segments of 6 passages, merged into one of 12
    before = load_store(index_dir)
    assert [len(s["reports"]) for s in before.manifest.segments] == [2]
    inodes = {p.stat().st_ino for p in (index_dir / before.generation).rglob("*") if p.is_file()}
    assert run(index_dir).execute(files[2:3]).ok
    after = load_store(index_dir)
    assert [len(s["reports"]) for s in after.manifest.segments] == [2, 1]
    first = (index_dir / after.generation / "segments" / after.manifest.segments[0]["name"]).iterdir()
    assert all(p.stat().st_ino in inodes for p in first), "the earlier segment is hard-linked, not rewritten"
    assert run(index_dir).execute(files[3:]).ok  # 12, 6, 6 → 12, 12 → 24
    after = load_store(index_dir)
    assert [len(s["reports"]) for s in after.manifest.segments] == [4]
    assert [r.report for r in after.manifest.reports] == [f.name for f in files]
    for number, topic in enumerate(TOPICS[:4], start=1):
        assert top_report(index_dir, topic) == f"report-{number}-2009.txt"
    summary = run(index_dir).execute([], remove=["report-2-2009.txt"])
    assert summary.ok and [r.report for r in load_store(index_dir).manifest.reports] == \
        ["report-1-2009.txt", "report-3-2009.txt", "report-4-2009.txt"]
    assert top_report(index_dir, "quarries") == "report-4-2009.txt"
    from index.store.verify import verify_store
    assert verify_store(index_dir).ok


def test_a_large_store_gets_its_multilingual_vectors_segment_by_segment(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch):
    import index.store.embedded_writer as writer_module

    monkeypatch.setattr(writer_module, "SEGMENTED_FROM_PASSAGES", 0)
    index_dir, files = tmp_path / "store", shelf(tmp_path / "shelf", 3)
    summary = run(index_dir, HashingMultilingual()).execute(files)
    assert summary.ok and summary.timings["publishes"] == 6
    store = load_store(index_dir)
    assert [r.multilingual_pending for r in store.manifest.reports] == [False] * 3
    assert store.contents.multilingual_vectors.any(axis=1).all()
    assert len(store.contents.multilingual_vectors) == len(store.passages) == 15


def test_uploads_drive_a_progress_bar(tmp_path: Path):
    from ingest.uploads import ingest_uploads

    events: list[ProgressEvent] = []
    summary = ingest_uploads(tmp_path / "store", [("a.txt", TINY_REPORT.encode()), ("b.txt", b"\x00binary")],
                             embedder_factory=HashingEmbedder, multilingual_factory=lambda: None,
                             progress=events.append)
    assert [o.outcome for o in summary.outcomes] == ["ok", "unsupported type"]
    assert (events[-1].stage, events[-1].files_done, events[-1].files_total) == ("done", 2, 2)
    assert any(e.stage == "embedding" and e.current_file == "a.txt" for e in events)
