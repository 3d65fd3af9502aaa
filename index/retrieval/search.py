"""Hybrid retrieval: dense (vectors, inner product) and BM25 candidates, fused by `ranking`.

A question costs about the same whatever the store's size: each signal returns only its best
passages (`ranking.candidate_depth`), restricted by the filters before it ranks; the
sentence signal scores the sentences of those candidates only; the quote is chosen for the
hits shown. `ranking.rank` then fuses the lists and judges whether the top answers.

Every hit carries its passage, a score and the sentence that best answers the question.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from index.passage_kind import TABLE, TITLE
from index.records import Passage
from index.retrieval import ranking, rerank
from index.retrieval.query import gloss, language_of
from index.store.arrays import VectorSet
from index.text import (CELL_NUMBER, MAX_TEXT_HEADING_WORDS, WORD, is_heading_like, table_row_spans,
                        word_count)
from index.retrieval.ranking import (  # noqa: F401 - re-exported for older callers
    ANSWER_THRESHOLD, MIN_GLOSS_COVERAGE, WEIGHTS_BY_LANGUAGE, WEIGHTS_WITHOUT_MULTILINGUAL)

if TYPE_CHECKING:
    from index.embedder import Embedder, MultilingualEmbedder
    from index.store.embedded import Store

DEFAULT_K = 5
# A neighbouring sentence joins the quote when it scores at least this share of the best.
QUOTE_NEIGHBOUR_SHARE = 0.9
QUOTE_LEXICAL_WEIGHT = 0.5
# A section title as printed, up to this long, is quoted whole: the talk's title with its presenter.
QUOTE_WHOLE_TITLE_WORDS = 60
# Filters are compiled to a mask of allowed rows once per distinct filter, and kept.
MASK_CACHE_SIZE = 64
# Which reports hold a word (for the report a question names or implies), kept for this many words.
HOLDER_CACHE_SIZE = 10_000


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
    """Every signal scored over every passage (the slow, exhaustive path, for tuning and checks)."""

    by_passage: dict[str, np.ndarray]
    sentence_scores: np.ndarray
    language: str
    english: str  # the question, or its English gloss


class Searcher:
    """Answers questions from one loaded store. Safe to share between sessions (read-only)."""

    def __init__(self, store: "Store", embedder: "Embedder", multilingual: "MultilingualEmbedder | None" = None):
        self.store = store
        self.embedder = embedder
        # The multilingual signal is used only when the store holds its vectors for every report:
        # while some are still being added (ingest/background.py) their rows are zeros, and a
        # signal that sees only some reports would rank the others down. Until then the search
        # runs as it does without the model.
        has_vectors = store.contents.multilingual_vectors is not None and \
            not any(r.multilingual_pending for r in store.manifest.reports)
        self.multilingual = multilingual if has_vectors else None
        self._sentences = _SentenceTable(store.contents.sentences, len(store.passages))
        self._dense = store.faiss_index if isinstance(store.faiss_index, VectorSet) \
            else VectorSet(np.asarray(store.contents.vectors))
        self._multilingual = getattr(store, "multilingual_index", None) or (
            VectorSet(store.contents.multilingual_vectors) if has_vectors else None)
        self._masks = _FilterMasks(store.passages)
        self._holders = WordHolders()
        self._characterised = WordHolders()

    def reports(self):
        """The reports held, as the manifest records them."""
        return self.store.manifest.reports

    def ask(self, question: str, *, k: int = DEFAULT_K, filters: Filters = Filters(),
            interpreted: str | None = None, focus: str | None = None) -> Answer:
        """`focus`: the report in focus (e.g. the last one cited); "this report/region/..." in the
        question then means it. A filter to one report puts that report in focus."""
        query = interpreted or question
        focus = focus or (filters.reports[0] if len(filters.reports) == 1 else None)
        allowed = self._masks.allowed(filters)
        if not question.strip() or k <= 0 or (allowed is not None and not allowed.any()):
            return Answer(question, False, (), query, filters)
        language = language_of(query)
        english = gloss(query) if language == "sq" else query
        rq = ranking.RankingQuery(question, query, english, language)
        q = self.embedder.encode([english])[0]
        named, implied = self._named_and_implied(rq)
        candidates, sentence_scores = self._candidates(rq, q, k=k, allowed=allowed, named=named)
        ranked = ranking.rank(rq, candidates, self.store.passages, k=k, multilingual=self.multilingual is not None,
                              focus=focus, named=named, implied=implied, characterised=self._characterised_by)
        vectors = self.store.contents.vectors
        hits = tuple(self._hit(rank, row, score, float(np.dot(vectors[row], q)), english, sentence_scores[row])
                     for rank, (row, score) in enumerate(zip(ranked.rows, ranked.scores), start=1))
        return Answer(question, ranked.answered, hits, query, filters)

    def _candidates(self, rq: ranking.RankingQuery, q: np.ndarray, *, k: int, allowed: np.ndarray | None,
                    named: str | None = None) -> tuple[ranking.Candidates, dict[int, np.ndarray]]:
        """Each signal's top passages among the allowed ones, and the sentence scores of every
        candidate (for the sentence signal, the verdict and the quote)."""
        weights = ranking.weights(rq.language, multilingual=self.multilingual is not None)
        depth = ranking.candidate_depth(k)
        contents = self.store.contents
        lists: dict[str, ranking.SignalList] = {}
        if weights.get("lexical"):
            lists["lexical"] = ranking.SignalList(*self.store.lexical.top(rq.english, depth, allowed))
        naming = rerank.report_words(self.store.passages).by_report[named] if named is not None else None
        within = rerank.within_report_query(rq.english, naming) \
            if rq.language == "en" and weights.get("within-report") else rq.english
        if within != rq.english:
            lists["within-report"] = ranking.SignalList(*self.store.lexical.top(within, depth, allowed))
        if self.multilingual is not None and weights.get("multilingual"):
            qm = self.multilingual.encode_query(rq.text)
            lists["multilingual"] = ranking.SignalList(*self._multilingual.top(qm, depth, allowed))
        # The English passage vectors rank on their own when weighted, and in any case bring the
        # sentence signal the passages whose meaning is closest.
        lists["dense"] = ranking.SignalList(*self._dense.top(q, depth, allowed))
        pool = np.unique(np.concatenate([lst.rows for lst in lists.values()]))
        best, sentence_scores = self._sentences.best(pool, contents.sentence_vectors, q)
        from index.store.lexical import top_rows

        lists["sentence"] = ranking.SignalList(*top_rows(pool, best, depth))
        best_sentence = {int(r): float(s) for r, s in zip(pool, best)}
        for row in best_sentence:
            passage = self.store.passages[row]
            if passage.kind == TABLE:  # the verdict reads a table by its caption and header
                starts = [int(start) for _, start, _ in self._sentences.of(row)]
                best_sentence[row] = ranking.verdict_sentence_score(passage, starts, sentence_scores[row])
        return ranking.Candidates(lists, best_sentence), sentence_scores

    def _named_and_implied(self, rq: ranking.RankingQuery) -> tuple[str | None, str | None]:
        """The report an English question names by its title, and the one report holding a name it
        uses (`rerank.named_report`, `rerank.implied_report`); None, None for other questions."""
        if rq.language != "en":
            return None, None
        lexical = self.store.lexical

        def holders(word: str, stemmed: bool) -> frozenset[str]:
            rows_with = lexical.rows_with_token if stemmed else lexical.rows_with
            return self._holders.get((word, stemmed), lambda: self._reports_of(rows_with(word)))

        named = rerank.named_report(rq.english, rerank.report_words(self.store.passages),
                                    spread=lambda token: len(holders(token, True)))
        implied = rerank.implied_report(rq.english, lambda name: holders(name, False))
        return named, implied

    def _characterised_by(self, name: str) -> frozenset[str]:
        """The reports printing `name` all through (`rerank.characterising_reports`), looked up once."""
        def look_up() -> frozenset[str]:
            codes, reports = self._masks.column("report")
            # Every word of the name ("VMA-Kukes": both), as PostgreSQL's plainto_tsquery has it.
            rows = None
            for word in WORD.findall(name):
                found = self.store.lexical.rows_with(word)
                rows = found if rows is None else np.intersect1d(rows, found)
            rows = rows if rows is not None else np.zeros(0, np.int64)
            holding = np.bincount(codes[rows], minlength=len(reports))
            sizes = np.bincount(codes, minlength=len(reports))
            return rerank.characterising_reports({reports[c]: int(n) for c, n in enumerate(holding) if n},
                                                 {reports[c]: int(n) for c, n in enumerate(sizes)})
        return self._characterised.get((name, False), look_up)

    def _reports_of(self, rows: np.ndarray) -> frozenset[str]:
        codes, reports = self._masks.column("report")
        return frozenset(reports[int(c)] for c in np.unique(codes[rows]))

    def signals(self, query: str) -> Signals:
        """Every ranking signal for `query` over every passage, and every sentence's score.

        The exhaustive path, for tuning (scripts/tune_fusion.py) and for checking the fast one;
        `ask` never calls it. The English-only signals read an Albanian question through its
        English gloss; the multilingual model reads it as written.
        """
        language = language_of(query)
        english = gloss(query) if language == "sq" else query
        q = self.embedder.encode([english])[0]
        contents = self.store.contents
        sentence_scores = np.asarray(contents.sentence_vectors @ q if len(contents.sentence_vectors)
                                     else np.zeros(0, np.float32))
        best = np.full(len(self.store.passages), -1.0, dtype=np.float32)
        if len(sentence_scores):
            np.maximum.at(best, np.asarray(contents.sentences[:, 0]), sentence_scores)
        by_passage = {"dense": np.asarray(contents.vectors @ q, dtype=np.float32), "sentence": best,
                      "lexical": self.store.lexical.scores(english)}
        if self.multilingual is not None:
            by_passage["multilingual"] = np.asarray(
                contents.multilingual_vectors @ self.multilingual.encode_query(query), dtype=np.float32)
        return Signals(by_passage, sentence_scores, language, english)

    def _hit(self, rank: int, row: int, score: float, similarity: float, query: str,
             sentence_scores: np.ndarray) -> Hit:
        passage = self.store.passages[row]
        spans = self._sentences.of(row)
        start, end = best_span(passage.text, spans, row, sentence_scores, query, kind=passage.kind)
        return Hit(rank=rank, score=float(score), passage=passage, quote=passage.text[start:end],
                   quote_start=start, similarity=float(similarity))


class _SentenceTable:
    """Where each passage's sentences are in the sentence arrays (passage-ordered), so that the
    sentences of a few passages are scored without reading the others."""

    def __init__(self, sentences: np.ndarray, passage_count: int):
        self._sentences = sentences
        owners = np.asarray(sentences[:, 0]) if len(sentences) else np.zeros(0, np.int64)
        if len(owners) and np.any(owners[1:] < owners[:-1]):
            # Not grouped by passage (never written so, but cheap to survive): index by sorting.
            self._order = np.argsort(owners, kind="stable")
            owners = owners[self._order]
        else:
            self._order = None
        self._start = np.searchsorted(owners, np.arange(passage_count + 1), side="left")

    def indices(self, row: int) -> np.ndarray:
        ids = np.arange(self._start[row], self._start[row + 1])
        return self._order[ids] if self._order is not None else ids

    def of(self, row: int) -> np.ndarray:
        """The (passage row, start, end) lines of passage `row`'s sentences, in text order."""
        return np.asarray(self._sentences[self.indices(row)])

    def best(self, rows: np.ndarray, sentence_vectors, q: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Each of `rows`' best sentence score (-1 for a passage without sentences) and every
        sentence score of each, from the sentence vectors of those passages only."""
        per_row = [self.indices(int(r)) for r in rows]
        flat = np.concatenate(per_row) if per_row else np.zeros(0, np.int64)
        scores = np.asarray(sentence_vectors[flat] @ q, dtype=np.float32) if len(flat) else np.zeros(0, np.float32)
        best = np.full(len(rows), -1.0, dtype=np.float32)
        out: dict[int, np.ndarray] = {}
        at = 0
        for i, (row, ids) in enumerate(zip(rows, per_row)):
            mine = scores[at:at + len(ids)]
            at += len(ids)
            out[int(row)] = mine
            if len(mine):
                best[i] = mine.max()
        return best, out


class _FilterMasks:
    """Filters compiled to boolean masks over the passage rows, once per distinct filter.

    The metadata columns are read from the passages the first time a filter is used."""

    def __init__(self, passages: Sequence[Passage]):
        self._passages = passages
        self._columns: dict[str, tuple[np.ndarray, list]] | None = None
        self._cache: dict[Filters, np.ndarray] = {}

    def allowed(self, filters: Filters) -> np.ndarray | None:
        """The mask of passages `filters` allows, or None when it allows every passage."""
        if not filters.active:
            return None
        mask = self._cache.get(filters)
        if mask is None:
            mask = self._compile(filters)
            if len(self._cache) >= MASK_CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[filters] = mask
        return mask

    def column(self, name: str) -> tuple[np.ndarray, list]:
        """(code per row, distinct values) of one metadata field."""
        if self._columns is None:
            self._columns = {}
        if name not in self._columns:
            values = [getattr(p, name) for p in self._passages]
            distinct = list(dict.fromkeys(values))
            code = {v: i for i, v in enumerate(distinct)}
            self._columns[name] = (np.fromiter((code[v] for v in values), np.int32, len(values)), distinct)
        return self._columns[name]

    def _where(self, name: str, keep) -> np.ndarray:
        codes, distinct = self.column(name)
        wanted = np.array([i for i, value in enumerate(distinct) if keep(value)], dtype=np.int32)
        return np.isin(codes, wanted)

    def _compile(self, filters: Filters) -> np.ndarray:
        mask = np.ones(len(self._passages), dtype=bool)
        if filters.reports:
            mask &= self._where("report", lambda v: v in filters.reports)
        if filters.year is not None:
            mask &= self._where("year", lambda v: v == filters.year)
        if filters.section:
            section = filters.section.casefold()
            mask &= self._where("section", lambda v: (v or "").casefold() == section)
        if filters.organisation:
            organisation = filters.organisation.casefold()
            mask &= self._where("organisation", lambda v: organisation in (v or "").casefold())
        return mask


def best_span(text: str, sentences: np.ndarray, row: int, sentence_scores: np.ndarray,
              query: str, *, kind: str | None = None) -> tuple[int, int]:
    """The shortest span of passage `row` that answers `query`: its best sentence, joined by
    a neighbour that scores almost as well, or the whole list a lead-in line introduces. A
    heading line over the passage's paragraph is never part of the quote; a section title as printed
    (`kind` title: the talk's title and its presenter line) is quoted whole; in a table, the
    quote is the row the question names ("… in Cabo Verde in 2021?": the Cabo Verde row).
    `sentences` holds (passage row, start, end) lines and `sentence_scores` their scores.
    Returned as (start, end) offsets, so the quote is always an exact slice of the text."""
    from index.store.lexical import tokenize

    if kind == TITLE and word_count(text) <= QUOTE_WHOLE_TITLE_WORDS:
        return 0, len(text.rstrip())
    query_tokens = set(tokenize(query))
    named = _named_row(text, query_tokens) if kind == TABLE else None
    if named is not None:
        return named
    mine = np.flatnonzero(sentences[:, 0] == row) if len(sentences) else np.zeros(0, np.int64)
    heading_end = _heading_line_end(text) if kind != TABLE else 0
    if any(int(sentences[s][2]) > heading_end for s in mine):
        mine = np.array([s for s in mine if int(sentences[s][2]) > heading_end], dtype=np.int64)
    if len(mine) == 0:
        return 0, len(text)
    scores = [float(sentence_scores[s]) + QUOTE_LEXICAL_WEIGHT * _overlap(query_tokens, text, sentences[s])
              for s in mine]
    best = int(np.argmax(scores))
    start, end = int(sentences[mine[best]][1]), int(sentences[mine[best]][2])
    if text[start:end].rstrip().endswith(":"):
        return start, len(text.rstrip())  # a lead-in: the list it introduces is the answer
    if start == 0 and _title_line(text[start:end]) and "\n" in text[end:end + 1]:
        return start, _short_lines_end(text, end)  # a title over short lines: the card it heads
    for neighbour in (best - 1, best + 1):
        if 0 <= neighbour < len(mine) and scores[neighbour] >= QUOTE_NEIGHBOUR_SHARE * scores[best]:
            start = min(start, int(sentences[mine[neighbour]][1]))
            end = max(end, int(sentences[mine[neighbour]][2]))
            break
    return start, end


def _title_line(line: str) -> bool:
    """A title printed alone on a line: a few words ending no sentence (`is_heading_like` also
    rules out a question), not a lead-in ending in ':'."""
    return is_heading_like(line) and word_count(line) <= MAX_TEXT_HEADING_WORDS and not line.rstrip().endswith(":")


def _short_lines_end(text: str, end: int) -> int:
    """Where the run of short lines after offset `end` (a title's line end) stops: the title alone
    says nothing ("DoD Inspector General Hotline"), the card it heads does ("… / Hotline Phone
    Number: / 800-424-9098 (Toll-Free) / 703-604-8799 (Commercial)"). A long line ends the run;
    `end` itself when the lines hold no figure or label."""
    offset = end
    for line in text[end + 1:].split("\n"):
        if not line.strip() or word_count(line) > MAX_TEXT_HEADING_WORDS:
            break
        offset += 1 + len(line)
    card = text[end:offset]
    # A card gives figures or labelled values; short lines of words alone are a list's items, each
    # quoted on its own ("Poverty" / "Gang involvement").
    return len(text[:offset].rstrip()) if any(c.isdigit() for c in card) or ":" in card else end


def _heading_line_end(text: str) -> int:
    """Where a heading over the passage's paragraph ends ("Risk Factors", "Routine Rest Stop or
    Something More?", "Ronny Marty"): a first line of a few words that ends no sentence (a
    question may end it) over one line of text, as the splitter keeps a heading with the paragraph
    it heads. 0 for other passages: a list's first item, a lead-in ending in ':' (the list it
    introduces is its quote), a table's caption."""
    first, newline, rest = text.partition("\n")
    if not newline or not rest.strip() or "\n" in rest.strip() or word_count(first) > MAX_TEXT_HEADING_WORDS:
        return 0
    return len(first) if _title_line(first) or first.rstrip().endswith("?") else 0


def _named_row(text: str, query_tokens: set[str]) -> tuple[int, int] | None:
    """The table row whose name (its cells that are not figures) shares most words with the
    question, or None when no row's name is in the question (it asks about the whole table)."""
    from index.store.lexical import tokenize

    best, best_shared = None, 0
    for start, end in table_row_spans(text):
        name = " ".join(cell for cell in text[start:end].split() if not CELL_NUMBER.match(cell))
        shared = len(query_tokens & set(tokenize(name)))
        if shared > best_shared:
            best, best_shared = (start, end), shared
    return best


def _overlap(query_tokens: set[str], text: str, sentence: np.ndarray) -> float:
    from index.store.lexical import tokenize

    words = set(tokenize(text[int(sentence[1]):int(sentence[2])]))
    return len(query_tokens & words) / max(1, len(query_tokens))


def open_searcher(index_dir, *, embedder: "Embedder | None" = None, database_url: str | None = None):
    """A searcher on the store at `index_dir` (or on PostgreSQL when a database URL is given or
    set in the environment), with the model(s) it was built with (the English one as its
    manifest names it, unless `embedder` is given).

    The store loads in a thread while the model loads (which takes most of the time), so a
    cold `python -m index ask` costs little more than loading the model.
    """
    from index.store.backend import database_url as configured_url

    url = configured_url(database_url)
    if url:
        from index.store.postgres.searcher import open_postgres_searcher

        return open_postgres_searcher(url, embedder=embedder)
    from concurrent.futures import ThreadPoolExecutor

    from index.embedder import embedder_class, load_multilingual
    from index.store.embedded import load_store, read_current_manifest

    # Fail fast, before a model loads: a missing store, or one built by another model than `embedder`.
    manifest = read_current_manifest(index_dir, model=embedder.name if embedder is not None else None)
    # Without an embedder: the one the store was built with (an unknown name fails here, quickly).
    make = embedder_class(manifest.model) if embedder is None else None
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="open-searcher") as pool:
        store = pool.submit(load_store, index_dir, model=manifest.model)
        multilingual = pool.submit(load_multilingual) if manifest.multilingual_model else None
        if embedder is None:
            embedder = make()
        loaded = store.result()
        return Searcher(loaded, embedder, multilingual.result() if multilingual is not None else None)


class WordHolders:
    """Which reports a word leads to (those holding it, or those it characterises), kept for up
    to HOLDER_CACHE_SIZE words (a common word's postings cover much of a large store, so each is
    looked up once). Shared by the sessions that share a searcher."""

    def __init__(self):
        self._found: dict[tuple[str, bool], frozenset[str]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, bool], look_up: Callable[[], frozenset[str]]) -> frozenset[str]:
        """The reports for `key` (a word, and whether it is a stem), found by `look_up` once."""
        found = self._found.get(key)
        if found is None:
            found = look_up()
            with self._lock:
                if len(self._found) >= HOLDER_CACHE_SIZE:
                    self._found.pop(next(iter(self._found)))
                self._found[key] = found
        return found

    def clear(self) -> None:
        with self._lock:
            self._found.clear()


@dataclass(frozen=True)
class FilterChoices:
    """What a question can be restricted to, as found in the store."""

    reports: tuple[str, ...]
    years: tuple[int, ...]
    sections: tuple[str, ...]
    organisations: tuple[str, ...]


def filter_choices(store: "Store") -> FilterChoices:
    passages = store.passages
    return FilterChoices(
        reports=tuple(r.report for r in store.manifest.reports),
        years=tuple(sorted({p.year for p in passages if p.year is not None})),
        sections=tuple(dict.fromkeys(p.section for p in passages if p.section)),
        organisations=tuple(sorted({p.organisation for p in passages if p.organisation})),
    )
