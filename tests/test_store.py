"""The store: round trip, manifest checks, incremental ingest, removal (hashing embedder)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from index.embedder import HashingEmbedder
from index.errors import StoreCorrupt, StoreMismatch, StoreMissing
from index.retrieval.search import Searcher
from index.store.embedded import CURRENT, MANIFEST, current_generation, load_store

from tests.conftest import CORPUS_FILE, ingest_files

QUESTIONS = ["How many flyers were distributed?", "Which police officers collaborate with AFCR?",
             "How many women did the shelter in Kukes host?"]


def answers(index_dir: Path) -> list[list[tuple[str, str]]]:
    searcher = Searcher(load_store(index_dir, model=HashingEmbedder.name), HashingEmbedder())
    return [[(h.passage.id, h.quote) for h in searcher.ask(q).hits] for q in QUESTIONS]


def manifest_path(index_dir: Path) -> Path:
    return index_dir / current_generation(index_dir) / MANIFEST


def edit_manifest(index_dir: Path, **changes) -> None:
    path = manifest_path(index_dir)
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_round_trip_gives_the_same_hits(hashing_store: Path, tiny_report: Path, tmp_path: Path):
    store = load_store(hashing_store, model=HashingEmbedder.name)
    before = answers(hashing_store)
    assert before[0][0] == ("caaht-2006-kukes-extract.txt:p23:6",
                            "An awareness raising campaign distributed 1,500 flyers and 150 posters "
                            "with anti-trafficking messages.")
    # The same files ingested into a fresh store give the same passages, rows and hits.
    again = tmp_path / "again"
    ingest_files(again, [CORPUS_FILE, tiny_report])
    assert load_store(again, model=HashingEmbedder.name).passages == store.passages
    assert answers(again) == before


def test_line_separators_inside_a_passage_survive_the_round_trip(tmp_path: Path):
    # JSON written with ensure_ascii=False leaves U+2028, U+2029 and U+0085 unescaped: the reader
    # must cut passages.jsonl at newlines only (str.splitlines cut them in two before).
    report = tmp_path / "separators-2010.txt"
    report.write_text("[p. 1]\nThe shelter hosted 12 women\u2028in 2009 and 9 children\u0085in 2010.\n", "utf-8")
    ingest_files(tmp_path / "store", [report])
    [passage] = load_store(tmp_path / "store", model=HashingEmbedder.name).passages
    assert passage.text == "The shelter hosted 12 women\u2028in 2009 and 9 children\u0085in 2010."


def test_counts_agree(hashing_store: Path):
    store = load_store(hashing_store)
    assert store.faiss_index.ntotal == len(store.passages) == store.lexical.size == store.manifest.passage_count
    assert [(r.report, r.passages) for r in store.manifest.reports] == [
        ("caaht-2006-kukes-extract.txt", 63), ("tiny-2009.txt", 5)]


def test_model_mismatch_is_refused_with_the_fix(hashing_store: Path):
    with pytest.raises(StoreMismatch) as info:
        load_store(hashing_store, model="sentence-transformers/all-MiniLM-L6-v2")
    assert "test/hashing-embedder" in str(info.value) and "python -m ingest" in str(info.value)


@pytest.mark.parametrize("field, value", [("format_version", 99), ("tokenizer_version", 99)],
                         ids=["format", "tokenizer"])
def test_manifest_version_mismatch_is_refused(hashing_store: Path, field: str, value: int):
    edit_manifest(hashing_store, **{field: value})
    with pytest.raises(StoreMismatch, match="re-run `python -m ingest"):
        load_store(hashing_store)


def test_tampered_file_is_detected(hashing_store: Path):
    passages = hashing_store / current_generation(hashing_store) / "passages.jsonl"
    passages.write_text(passages.read_text().replace("1,500 flyers", "9,999 flyers"))
    with pytest.raises(StoreCorrupt, match="passages.jsonl does not match its checksum"):
        load_store(hashing_store)


def test_missing_store_says_how_to_build_it(tmp_path: Path):
    with pytest.raises(StoreMissing, match="run `python -m ingest`"):
        load_store(tmp_path / "nothing-here")


def test_same_file_twice_adds_nothing(hashing_store: Path, tiny_report: Path):
    generation = current_generation(hashing_store)
    summary = ingest_files(hashing_store, [tiny_report])
    assert [(o.outcome, o.detail) for o in summary.outcomes] == [("unchanged", "already indexed, nothing added")]
    assert current_generation(hashing_store) == generation


def test_changed_file_replaces_its_passages(hashing_store: Path, tiny_report: Path):
    tiny_report.write_text(tiny_report.read_text().replace("42 women", "57 women"), "utf-8")
    summary = ingest_files(hashing_store, [tiny_report])
    assert summary.outcomes[0].detail == "5 passages from 2 page(s), replaced the earlier version"
    store = load_store(hashing_store)
    texts = [p.text for p in store.passages if p.report == "tiny-2009.txt"]
    assert any("The shelter in Kukes hosted 57 women during the year." in t for t in texts)
    assert not any("42 women" in t for t in texts)
    assert len(store.passages) == 68


def test_remove_a_report(hashing_store: Path):
    summary = ingest_files(hashing_store, [], remove=["tiny-2009.txt"])
    assert [o.outcome for o in summary.outcomes] == ["removed"]
    store = load_store(hashing_store)
    assert {p.report for p in store.passages} == {"caaht-2006-kukes-extract.txt"}
    assert int(store.contents.sentences[:, 0].max()) == len(store.passages) - 1


def test_removing_every_report_leaves_an_empty_store_that_answers_nothing(hashing_store: Path, tiny_report: Path):
    from index.store.verify import verify_store

    summary = ingest_files(hashing_store, [], remove=["tiny-2009.txt", "caaht-2006-kukes-extract.txt"])
    assert (summary.ok, summary.passages, summary.reports) == (True, 0, 0)
    answer = Searcher(load_store(hashing_store), HashingEmbedder()).ask("How many flyers were distributed?")
    assert (answer.answered, answer.hits) == (False, ())
    assert verify_store(hashing_store).ok
    assert ingest_files(hashing_store, [tiny_report]).passages == 5


def test_reread_replaces_an_unchanged_report_in_one_publish(hashing_store: Path, tiny_report: Path):
    before = current_generation(hashing_store)
    summary = ingest_files(hashing_store, [tiny_report], reread=["tiny-2009.txt"])
    assert [(o.outcome, o.detail) for o in summary.outcomes] == [("ok", "5 passages from 2 page(s), read again")]
    assert int(current_generation(hashing_store).split("-")[1]) == int(before.split("-")[1]) + 1
    assert len(load_store(hashing_store).passages) == 68


def test_removing_an_unknown_report_fails_and_changes_nothing(hashing_store: Path):
    generation = current_generation(hashing_store)
    summary = ingest_files(hashing_store, [], remove=["nope.pdf"])
    assert not summary.ok and summary.outcomes[0].outcome == "not found"
    assert current_generation(hashing_store) == generation


def test_current_points_at_a_complete_generation(hashing_store: Path):
    pointer = json.loads((hashing_store / CURRENT).read_text())
    assert (hashing_store / pointer["generation"] / MANIFEST).exists()


class OtherHashingEmbedder(HashingEmbedder):
    name = "test/other-hashing-embedder"
    dimension = 128


def test_changing_the_model_rebuilds_every_report_from_its_kept_source(hashing_store: Path):
    from ingest.pipeline import IngestRun

    before = load_store(hashing_store).passages
    summary = IngestRun(hashing_store, embedder_factory=OtherHashingEmbedder,
                        multilingual_factory=lambda: None).execute([])
    assert summary.note == ("Rebuilt every report: the model changed "
                            "(test/hashing-embedder → test/other-hashing-embedder).")
    store = load_store(hashing_store, model=OtherHashingEmbedder.name)
    assert store.passages == before and store.faiss_index.d == 128


def test_changing_the_splitter_rebuilds(hashing_store: Path, monkeypatch):
    import ingest.pipeline

    monkeypatch.setattr(ingest.pipeline, "SPLITTER_VERSION", 999)
    summary = ingest_files(hashing_store, [])
    assert summary.note.startswith("Rebuilt every report: the splitter or the sentence vectors changed")
    assert load_store(hashing_store).manifest.splitter_version == 999
    assert sorted(r.report for r in load_store(hashing_store).manifest.reports) == [
        "caaht-2006-kukes-extract.txt", "tiny-2009.txt"]


def test_a_file_name_that_is_not_utf8_on_disk_is_read_as_windows_1252(tmp_path: Path):
    # An old Windows or zip name ("réport" in Windows-1252) reaches Python as lone surrogates;
    # stored as they are, the store could not be written (UTF-8).
    path = tmp_path / os.fsdecode(b"r\xe9port-2009.txt")
    path.write_text("[p. 1]\nThe shelter hosted 12 women in 2009.\n", "utf-8")
    summary = ingest_files(tmp_path / "store", [path])
    assert [(o.outcome, o.report) for o in summary.outcomes] == [("ok", "réport-2009.txt")]
    assert [r.report for r in load_store(tmp_path / "store").manifest.reports] == ["réport-2009.txt"]
    assert ingest_files(tmp_path / "store", [path]).outcomes[0].outcome == "unchanged"
