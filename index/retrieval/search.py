"""Hybrid retrieval: dense (FAISS inner product) and BM25, fused by weighted reciprocal rank.

Every hit carries its passage, a score and the sentence that best answers the question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from index.records import Passage

from index.embedder import Embedder, MultilingualEmbedder
from index.store.lexical import tokenize
from index.retrieval.query import gloss, language_of
from index.store.embedded import Store
from index.retrieval import ranking
from index.retrieval.ranking import (  # noqa: F401 - re-exported for older callers
    ANSWER_THRESHOLD, MIN_GLOSS_COVERAGE, RRF_K, WEIGHTS_BY_LANGUAGE, WEIGHTS_WITHOUT_MULTILINGUAL)

DEFAULT_K = 5
# A neighbouring sentence joins the quote when it scores at least this share of the best.
QUOTE_NEIGHBOUR_SHARE = 0.9
QUOTE_LEXICAL_WEIGHT = 0.5


@dataclass(frozen=True)
class Filters:
    """Restrict a question to some reports, a year, a section or an organisation."""

    reports: tuple[str, ...] = ()
    year: int | None = None
    section: str | None = None
    organisation: str | None = None

    def allows(self, passage: Passage) -> bool:
        if self.reports and passage.report not in self.reports:
            return False
        if self.year is not None and passage.year != self.year:
            return False
        if self.section and (passage.section or "").casefold() != self.section.casefold():
            return False
        if self.organisation and self.organisation.casefold() not in (passage.organisation or "").casefold():
            return False
        return True

    @property
    def active(self) -> bool:
        return bool(self.reports or self.year is not None or self.section or self.organisation)


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    passage: Passage
    quote: str
    quote_start: int
    similarity: float  # cosine of question and passage (dense), for calibration and display

    @property
    def quote_end(self) -> int:
        return self.quote_start + len(self.quote)


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    hits: tuple[Hit, ...]
    interpreted: str = ""
    filters: Filters = field(default_factory=Filters)


@dataclass(frozen=True)
class Signals:
    by_passage: dict[str, np.ndarray]
    sentence_scores: np.ndarray
    language: str
    english: str  # the question, or its English gloss


class Searcher:
    """Answers questions from one loaded store. Safe to share between sessions (read-only)."""

    def __init__(self, store: Store, embedder: Embedder, multilingual: MultilingualEmbedder | None = None):
        self.store = store
        self.embedder = embedder
        # The multilingual signal is used only when the store holds its vectors.
        has_vectors = store.contents.multilingual_vectors is not None
        self.multilingual = multilingual if has_vectors else None
        contents = store.contents
        self._sentence_rows = contents.sentences[:, 0] if len(contents.sentences) else np.zeros(0, np.int64)

    def ask(self, question: str, *, k: int = DEFAULT_K, filters: Filters = Filters(),
            interpreted: str | None = None) -> Answer:
        query = interpreted or question
        passages = self.store.passages
        allowed = np.array([filters.allows(p) for p in passages], dtype=bool)
        if not question.strip() or not allowed.any():
            return Answer(question, False, (), query, filters)
        signals = self.signals(query)
        allowed_rows = np.flatnonzero(allowed)
        lists = {}
        for name, scores in signals.by_passage.items():
            order = allowed_rows[np.argsort(-scores[allowed_rows], kind="stable")]
            lists[name] = ranking.SignalList(order, scores[order])
        best_sentence = signals.by_passage["sentence"]
        candidates = ranking.Candidates(lists, {int(r): float(best_sentence[r]) for r in allowed_rows})
        rq = ranking.RankingQuery(question, query, signals.english, signals.language)
        ranked = ranking.rank(rq, candidates, self.store.passages, k=k, multilingual=self.multilingual is not None)
        dense = signals.by_passage["dense"]
        hits = tuple(self._hit(rank, row, score, dense[row], signals.english, signals.sentence_scores)
                     for rank, (row, score) in enumerate(zip(ranked.rows, ranked.scores), start=1))
        answered = ranked.answered
        return Answer(question, answered, hits, query, filters)

    def signals(self, query: str) -> "Signals":
        """Every ranking signal for `query`: one score per passage each, and one per sentence.

        The English-only signals read an Albanian question through its English gloss; the
        multilingual model reads it as written.
        """
        language = language_of(query)
        english = gloss(query) if language == "sq" else query
        q = self.embedder.encode([english])[0]
        sentence_scores = self._sentence_scores(q)
        by_passage = {"dense": self._dense_scores(q),
                      "sentence": self._best_sentence_per_passage(sentence_scores),
                      "lexical": self.store.lexical.scores(english)}
        if self.multilingual is not None:
            by_passage["multilingual"] = self._multilingual_scores(query)
        return Signals(by_passage, sentence_scores, language, english)

    def _dense_scores(self, q: np.ndarray) -> np.ndarray:
        index = self.store.faiss_index
        scores, rows = index.search(q.reshape(1, -1).astype(np.float32), index.ntotal)
        dense = np.full(index.ntotal, -1.0, dtype=np.float32)
        valid = rows[0] >= 0
        dense[rows[0][valid]] = scores[0][valid]
        return dense

    def _multilingual_scores(self, query: str) -> np.ndarray:
        return self.store.contents.multilingual_vectors @ self.multilingual.encode_query(query)

    def _sentence_scores(self, q: np.ndarray) -> np.ndarray:
        vectors = self.store.contents.sentence_vectors
        return vectors @ q if len(vectors) else np.zeros(0, np.float32)

    def _best_sentence_per_passage(self, sentence_scores: np.ndarray) -> np.ndarray:
        best = np.full(len(self.store.passages), -1.0, dtype=np.float32)
        np.maximum.at(best, self._sentence_rows, sentence_scores)
        return best

    def _hit(self, rank: int, row: int, score: float, similarity: float, query: str,
             sentence_scores: np.ndarray) -> Hit:
        passage = self.store.passages[row]
        start, end = best_span(passage.text, self.store.contents.sentences, row, sentence_scores, query)
        return Hit(rank=rank, score=float(score), passage=passage, quote=passage.text[start:end],
                   quote_start=start, similarity=float(similarity))


def _fuse(signals: Sequence[tuple[np.ndarray, float]], allowed: np.ndarray) -> np.ndarray:
    """Weighted reciprocal-rank fusion over the allowed passages."""
    fused = np.zeros(len(allowed), dtype=np.float64)
    for scores, weight in signals:
        masked = np.where(allowed, scores, -np.inf)
        ranks = np.empty(len(scores), dtype=np.int64)
        ranks[np.argsort(-masked, kind="stable")] = np.arange(1, len(scores) + 1)
        fused += weight / (RRF_K + ranks)
    return fused


def best_span(text: str, sentences: np.ndarray, row: int, sentence_scores: np.ndarray,
              query: str) -> tuple[int, int]:
    """The shortest span of passage `row` that answers `query`: its best sentence, joined by
    a neighbour that scores almost as well, or the whole list a lead-in line introduces.
    Returned as (start, end) offsets, so the quote is always an exact slice of the text."""
    mine = np.flatnonzero(sentences[:, 0] == row) if len(sentences) else np.zeros(0, np.int64)
    if len(mine) == 0:
        return 0, len(text)
    query_tokens = set(tokenize(query))
    scores = [float(sentence_scores[s]) + QUOTE_LEXICAL_WEIGHT * _overlap(query_tokens, text, sentences[s])
              for s in mine]
    best = int(np.argmax(scores))
    start, end = int(sentences[mine[best]][1]), int(sentences[mine[best]][2])
    if text[start:end].rstrip().endswith(":"):
        return start, len(text.rstrip())  # a lead-in: the list it introduces is the answer
    for neighbour in (best - 1, best + 1):
        if 0 <= neighbour < len(mine) and scores[neighbour] >= QUOTE_NEIGHBOUR_SHARE * scores[best]:
            start = min(start, int(sentences[mine[neighbour]][1]))
            end = max(end, int(sentences[mine[neighbour]][2]))
            break
    return start, end


def _overlap(query_tokens: set[str], text: str, sentence: np.ndarray) -> float:
    words = set(tokenize(text[int(sentence[1]):int(sentence[2])]))
    return len(query_tokens & words) / max(1, len(query_tokens))


def open_searcher(index_dir, *, embedder: Embedder | None = None, database_url: str | None = None):
    """Load the store at `index_dir` and the model it was built with (the packaged one by default).
    With `database_url`, a searcher on that PostgreSQL database instead (same `ask`, same records)."""
    from index.embedder import MODEL_NAME, MiniLMEmbedder, load_multilingual
    from index.store.embedded import load_store

    if database_url:
        from index.store.postgres.searcher import open_postgres_searcher
        return open_postgres_searcher(database_url, embedder=embedder)

    expected = embedder.name if embedder is not None else MODEL_NAME
    store = load_store(index_dir, model=expected)
    multilingual = load_multilingual() if store.contents.multilingual_model else None
    return Searcher(store, embedder if embedder is not None else MiniLMEmbedder(), multilingual)


@dataclass(frozen=True)
class FilterChoices:
    """What a question can be restricted to, as found in the store."""

    reports: tuple[str, ...]
    years: tuple[int, ...]
    sections: tuple[str, ...]
    organisations: tuple[str, ...]


def filter_choices(store: Store) -> FilterChoices:
    passages = store.passages
    return FilterChoices(
        reports=tuple(r.report for r in store.manifest.reports),
        years=tuple(sorted({p.year for p in passages if p.year is not None})),
        sections=tuple(dict.fromkeys(p.section for p in passages if p.section)),
        organisations=tuple(sorted({p.organisation for p in passages if p.organisation})),
    )
