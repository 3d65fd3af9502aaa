"""The fast search (top candidates per signal, filters as masks, sentences of candidates only)
gives the same hits as an exhaustive search on a small store, whatever the filters and k.

The reference scores every passage in every signal (`Searcher.signals`), applies the filters
passage by passage (`Filters.allows`), sorts whole arrays, and then makes the same ranking
decisions (`ranking.rank`). The candidate depth is made small so that the lists are cut.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.embedder import HashingEmbedder
from index.retrieval import ranking, rerank
from index.retrieval.search import Filters, Searcher, best_span
from index.store.arrays import VectorSet
from index.store.embedded import load_store
from index.store.lexical import top_rows
from ingest.pipeline import IngestRun

from tests.conftest import CORPUS_FILE

QUESTIONS = ["How many flyers were distributed?", "Which police officers collaborate with AFCR?",
             "How many women did the shelter in Kukes host?", "funding for reintegration",
             "Sa fletëpalosje u shpërndanë?", "zzzz qqqq"]
FILTERS = [Filters(), Filters(reports=("tiny-2009.txt",)), Filters(reports=("caaht-2006-kukes-extract.txt",)),
           Filters(year=2006), Filters(organisation="vma"), Filters(section="Shelter capacity in the north"),
           Filters(year=2006, organisation="child"), Filters(year=1999)]
FILTER_IDS = ["none", "tiny-report", "caaht-report", "year", "organisation", "section", "year+organisation",
              "nothing-allowed"]


class HashingMultilingual:
    """A stand-in multilingual model for the fast tests: hashes word endings, not beginnings,
    so that its ranking differs from the hashing embedder's."""

    name = "test/hashing-multilingual"
    dimension = 128

    def encode_passages(self, texts, *, progress=None):
        vectors = HashingEmbedder().encode([" ".join(w[::-1] for w in t.split()) for t in texts])[:, :self.dimension]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)

    def encode_query(self, text):
        return self.encode_passages([text])[0]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory) -> Searcher:
    from tests.conftest import TINY_REPORT

    folder = tmp_path_factory.mktemp("exact")
    tiny = folder / "tiny-2009.txt"
    tiny.write_text(TINY_REPORT, encoding="utf-8")
    run = IngestRun(folder / "store", embedder_factory=HashingEmbedder, multilingual_factory=HashingMultilingual)
    assert run.execute([CORPUS_FILE, tiny]).ok
    return Searcher(load_store(folder / "store"), HashingEmbedder(), HashingMultilingual())


@pytest.fixture(autouse=True)
def shallow_lists(monkeypatch):
    """Cut every signal's list short, so the fast path must rank exactly what it keeps."""
    monkeypatch.setattr(ranking, "MIN_CANDIDATES", 7)
    monkeypatch.setattr(ranking, "CANDIDATES_PER_K", 2)


def exhaustive(searcher: Searcher, question: str, *, k: int, filters: Filters) -> list[tuple]:
    """Hits as (row, fused score, quote, similarity), and the verdict, by scoring everything."""
    passages = searcher.store.passages
    allowed = np.array([filters.allows(p) for p in passages], dtype=bool)
    if not allowed.any():
        return [], False
    signals = searcher.signals(question)
    q = searcher.embedder.encode([signals.english])[0]
    depth = ranking.candidate_depth(k)
    rows = np.flatnonzero(allowed)

    def top(scores, among):
        order = sorted(among, key=lambda r: (-scores[r], r))[:depth]
        return ranking.SignalList(np.array(order, np.int64), scores[order])

    lexical = signals.by_passage["lexical"]
    lists = {"lexical": top(lexical, [r for r in rows if lexical[r] > 0]),
             "multilingual": top(signals.by_passage["multilingual"], rows),
             "dense": top(signals.by_passage["dense"], rows)}
    pool = sorted(set().union(*(lst.rows.tolist() for lst in lists.values())))
    lists["sentence"] = top(signals.by_passage["sentence"], pool)
    candidates = ranking.Candidates(lists, {r: float(signals.by_passage["sentence"][r]) for r in pool})
    rq = ranking.RankingQuery(question, question, signals.english, signals.language)
    named, implied = named_and_implied(searcher, signals)
    ranked = ranking.rank(rq, candidates, passages, k=k, multilingual=True, named=named, implied=implied)
    sentences = np.asarray(searcher.store.contents.sentences)
    hits = []
    for row, score in zip(ranked.rows, ranked.scores):
        text = passages[row].text
        start, end = best_span(text, sentences, row, signals.sentence_scores, signals.english,
                               kind=passages[row].kind)
        hits.append((row, score, text[start:end], float(signals.by_passage["dense"][row])))
    return hits, ranked.answered


def named_and_implied(searcher: Searcher, signals) -> tuple[str | None, str | None]:
    """The report the question names and the one it implies, from every passage's BM25 score."""
    if signals.language != "en":
        return None, None
    passages = searcher.store.passages

    def holding(word: str) -> set[str]:
        return {passages[r].report for r in np.flatnonzero(searcher.store.lexical.scores(word) > 0)}

    named = rerank.named_report(signals.english, rerank.report_words(passages),
                                spread=lambda token: len(holding(token)))
    return named, rerank.implied_report(signals.english, lambda name: frozenset(holding(name)))


@pytest.mark.parametrize("k", [1, 5, 12], ids=["k1", "k5", "k12"])
@pytest.mark.parametrize("filters", FILTERS, ids=FILTER_IDS)
def test_fast_search_gives_the_exhaustive_hits(searcher: Searcher, filters: Filters, k: int):
    rows_of = {p.id: i for i, p in enumerate(searcher.store.passages)}
    for question in QUESTIONS:
        answer = searcher.ask(question, k=k, filters=filters)
        fast = [(rows_of[h.passage.id], h.score, h.quote, h.similarity) for h in answer.hits]
        expected, answered = exhaustive(searcher, question, k=k, filters=filters)
        assert [(r, round(s, 9), qt, round(sim, 5)) for r, s, qt, sim in fast] == \
            [(r, round(s, 9), qt, round(sim, 5)) for r, s, qt, sim in expected], question
        assert answer.answered == answered, question
        assert all(filters.allows(h.passage) for h in answer.hits)


def test_filters_that_allow_nothing_give_no_hits(searcher: Searcher):
    assert searcher.ask("flyers", filters=Filters(year=1999)).hits == ()


def test_vector_top_matches_a_full_sort_with_ties():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(300, 8)).astype(np.float32)
    vectors[50] = vectors[10]  # a tie: the lower row comes first
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    q = vectors[10]
    allowed = rng.random(300) < 0.1
    for mask in (None, allowed, ~allowed):
        rows = np.arange(300) if mask is None else np.flatnonzero(mask)
        scores = vectors[rows] @ q
        order = sorted(range(len(rows)), key=lambda i: (-scores[i], rows[i]))[:20]
        got_rows, got_scores = VectorSet(vectors).top(q, 20, mask)
        assert (got_rows.tolist(), got_scores.tolist()) == ([int(rows[i]) for i in order],
                                                            [float(scores[i]) for i in order])


def test_top_rows_keeps_ties_at_the_cut_in_row_order():
    rows, scores = top_rows(np.array([9, 3, 7, 1]), np.array([0.5, 0.5, 0.9, 0.5], np.float32), 2)
    assert (rows.tolist(), scores.tolist()) == ([7, 1], [0.8999999761581421, 0.5])


def clustered(n: int, d: int = 32, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, d))
    vectors = (centres[rng.integers(0, 40, n)] + 0.3 * rng.normal(size=(n, d))).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def approximate_set(vectors: np.ndarray, monkeypatch) -> VectorSet:
    import faiss

    from index.store import arrays

    monkeypatch.setattr(arrays, "ANN_MIN_ROWS", 1000)
    data = arrays.approximate_index_bytes(vectors)
    return VectorSet(vectors, faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8)))


def test_approximate_index_finds_most_of_the_exact_top_ten(monkeypatch):
    vectors = clustered(6000)
    approximate, exact = approximate_set(vectors, monkeypatch), VectorSet(vectors)
    queries = clustered(50, seed=9)
    recall = np.mean([len(set(approximate.top(q, 10)[0]) & set(exact.top(q, 10)[0])) / 10 for q in queries])
    assert recall >= 0.9


def test_approximate_index_keeps_to_the_filter(monkeypatch):
    vectors = clustered(6000)
    approximate, exact = approximate_set(vectors, monkeypatch), VectorSet(vectors)
    q = clustered(1, seed=11)[0]
    loose = np.arange(6000) % 3 != 0  # two thirds allowed: searched through the IVF with a selector
    rows, _ = approximate.top(q, 10, loose)
    assert len(rows) == 10 and loose[rows].all()
    strict = np.zeros(6000, dtype=bool)
    strict[[5, 17, 4000]] = True  # a few allowed: scanned exactly
    assert [r.tolist() for r in approximate.top(q, 10, strict)] == [r.tolist() for r in exact.top(q, 10, strict)]


def test_a_large_store_gets_approximate_indexes_that_survive_removal(hashing_store: Path, monkeypatch):
    from index.store import arrays

    from tests.conftest import ingest_files

    monkeypatch.setattr(arrays, "ANN_MIN_ROWS", 10)
    ingest_files(hashing_store, [], remove=["tiny-2009.txt"])
    store = load_store(hashing_store)
    assert store.faiss_index.approximate is not None and store.faiss_index.approximate.ntotal == 63
    answer = Searcher(store, HashingEmbedder()).ask("How many flyers were distributed?")
    assert "1,500 flyers" in answer.hits[0].passage.text


def test_asking_for_more_hits_never_reorders_the_first_ones(tmp_path, monkeypatch):
    """k = 3 reads each signal 7 deep here (shallow_lists), k = 25 reads it 50 deep: the first
    three stay, as the fusion scales every list between its best and its SCALE_DEPTH-th."""
    from tests.conftest import ingest_files

    monkeypatch.setattr(ranking, "SCALE_DEPTH", ranking.MIN_CANDIDATES)

    rng = np.random.default_rng(3)
    words = "victims shelter police border route school family court hotline labour mine farm".split()
    report = tmp_path / "many-paragraphs.txt"
    report.write_text("\n\n".join(" ".join(rng.choice(words, 9)).capitalize() + "." for _ in range(400)), "utf-8")
    assert ingest_files(tmp_path / "store", [report]).ok
    searcher = Searcher(load_store(tmp_path / "store"), HashingEmbedder())
    few, many = searcher.ask("police at the border route", k=3), searcher.ask("police at the border route", k=25)
    assert [(h.passage.id, h.score) for h in few.hits] == [(h.passage.id, h.score) for h in many.hits[:3]]
