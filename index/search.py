"""Hybrid retrieval: dense (FAISS inner product) and BM25, fused by weighted reciprocal rank.

Every hit carries its passage, a score and the sentence that best answers the question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ingest.records import Passage

from .embedder import Embedder
from .lexical import tokenize
from .store import Store

DEFAULT_K = 5
RRF_K = 60
# Weights of the rank lists in the fusion. Chosen on the dev questions with
# `python -m index eval` (see README, "Retrieval quality").
WEIGHT_DENSE = 1.0
WEIGHT_SENTENCE = 1.0
WEIGHT_LEXICAL = 1.0
# Below this cosine similarity for the best passage, the question is judged not
# answered by the reports (calibrated on tests/data/dev_noanswer.jsonl).
ANSWER_THRESHOLD = 0.35
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


class Searcher:
    """Answers questions from one loaded store. Safe to share between sessions (read-only)."""

    def __init__(self, store: Store, embedder: Embedder):
        self.store = store
        self.embedder = embedder
        contents = store.contents
        self._sentence_rows = contents.sentences[:, 0] if len(contents.sentences) else np.zeros(0, np.int64)

    def ask(self, question: str, *, k: int = DEFAULT_K, filters: Filters = Filters(),
            interpreted: str | None = None) -> Answer:
        query = interpreted or question
        passages = self.store.passages
        allowed = np.array([filters.allows(p) for p in passages], dtype=bool)
        if not question.strip() or not allowed.any():
            return Answer(question, False, (), query, filters)
        q = self.embedder.encode([query])[0]
        dense = self._dense_scores(q)
        sentence_scores = self._sentence_scores(q)
        best_sentence = self._best_sentence_per_passage(sentence_scores)
        lexical = self.store.lexical.scores(query)
        fused = _fuse([(dense, WEIGHT_DENSE), (best_sentence, WEIGHT_SENTENCE), (lexical, WEIGHT_LEXICAL)],
                      allowed)
        order = [i for i in np.argsort(-fused, kind="stable") if allowed[i]][:k]
        hits = tuple(self._hit(rank, row, fused[row], dense[row], query, sentence_scores)
                     for rank, row in enumerate(order, start=1))
        answered = bool(hits) and bool(max(dense[order[0]], best_sentence[order[0]]) >= ANSWER_THRESHOLD)
        return Answer(question, answered, hits, query, filters)

    def _dense_scores(self, q: np.ndarray) -> np.ndarray:
        index = self.store.faiss_index
        scores, rows = index.search(q.reshape(1, -1).astype(np.float32), index.ntotal)
        dense = np.full(index.ntotal, -1.0, dtype=np.float32)
        valid = rows[0] >= 0
        dense[rows[0][valid]] = scores[0][valid]
        return dense

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
    """The sentence of passage `row` that best answers `query`, as (start, end) in its text."""
    mine = np.flatnonzero(sentences[:, 0] == row) if len(sentences) else np.zeros(0, np.int64)
    if len(mine) == 0:
        return 0, len(text)
    query_tokens = set(tokenize(query))
    best, best_score = mine[0], -np.inf
    for s in mine:
        _, start, end = sentences[s]
        overlap = len(query_tokens & set(tokenize(text[start:end]))) / max(1, len(query_tokens))
        score = sentence_scores[s] + QUOTE_LEXICAL_WEIGHT * overlap
        if score > best_score:
            best, best_score = s, score
    return int(sentences[best][1]), int(sentences[best][2])


def open_searcher(index_dir, *, embedder: Embedder | None = None) -> Searcher:
    """Load the store at `index_dir` and the model it was built with (the packaged one by default)."""
    from .embedder import MODEL_NAME, MiniLMEmbedder
    from .store import load_store

    expected = embedder.name if embedder is not None else MODEL_NAME
    store = load_store(index_dir, model=expected)
    return Searcher(store, embedder if embedder is not None else MiniLMEmbedder())
