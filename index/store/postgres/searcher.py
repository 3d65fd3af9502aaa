"""Answering questions from PostgreSQL: the same `Answer` and `Hit` records as the embedded searcher.

One SQL statement per question does the whole retrieval: a candidate list per signal (HNSW on the
passage vectors, on the sentence vectors and on the multilingual vectors; BM25 over the GIN-indexed
tsvector), the fusion of those lists' scaled scores with the embedded searcher's weights,
and, for the k passages kept, their sentences' scores for the quote and the "answered" decision.

BM25 is computed in SQL (Lucene's idf and length normalisation, k1 = 1.2, b = 0.75, as bm25s does)
rather than with `ts_rank`, which has no idf: see README, "Serving an organisation", for the
figures that made the difference.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from index.errors import StoreMismatch, StoreMissing
from index.records import Passage
from index.retrieval import ranking, rerank
from index.retrieval.query import gloss, language_of
from index.retrieval.search import DEFAULT_K, Answer, FilterChoices, Filters, Hit, WordHolders, best_span
from index.store.lexical import BM25_B, BM25_K1, STOPWORDS, TOKEN
from index.store.postgres.connection import DatabaseUnavailable, connect, redact
from index.store.postgres.schema import SCHEMA, TEXT_SEARCH_CONFIG, Layout, read_layout
from index.store.postgres.writer import read_reports, vector_text
from index.text import fold

# A word of the question as the passages' lexemes are made (English stem, or folded as written).
QUESTION_WORD_QUERY = f"(plainto_tsquery('{TEXT_SEARCH_CONFIG}', %(w)s) || plainto_tsquery('simple', %(w)s))"

# Sentences fetched for the sentence signal per passage candidate: passages hold a few each.
SENTENCES_PER_CANDIDATE = 3
# With a selective filter, HNSW keeps scanning until the LIMIT is met (pgvector 0.8).
ITERATIVE_SCAN = "relaxed_order"
MAX_SCAN_TUPLES = 50_000
MAX_EF_SEARCH = 1000  # pgvector's limit; deeper lists come from the iterative scan
# How the full-text candidates are ranked: "bm25" (computed in SQL, as bm25s does) or PostgreSQL's
# own "ts_rank" (ts_rank_cd, no idf). bm25 is the default; ts_rank is kept for the comparison in
# benchmarks/postgres_fulltext.py.
LEXICAL_RANKINGS = ("bm25", "ts_rank")

# The whole record is kept as jsonb, so fields added to Passage round-trip unchanged.
PASSAGE_FIELDS = ("record",)


@dataclass(frozen=True)
class _Row:
    row_id: int
    score: float
    similarity: float
    multilingual: float | None
    passage: Passage
    before: Passage | None  # the passage before it in the same report (for the key-term check)
    after: Passage | None
    starts: list[int]
    stops: list[int]
    sentence_scores: list[float]


class PostgresSearcher:
    """Answers questions from a PostgreSQL store. Safe to share between sessions (one connection,
    used by one question at a time; reconnects once if the server went away)."""

    def __init__(self, url: str, embedder, multilingual=None, *, lexical_ranking: str = "bm25"):
        if lexical_ranking not in LEXICAL_RANKINGS:
            raise ValueError(f"lexical_ranking must be one of {LEXICAL_RANKINGS}, not {lexical_ranking!r}")
        self.lexical_ranking = lexical_ranking
        self.url = url
        self.embedder = embedder
        self._lock = threading.Lock()
        self._conn = connect(url, autocommit=True)
        layout = read_layout(self._conn)
        if layout is None:
            raise StoreMissing(redact(url))
        if layout.model != embedder.name:
            raise StoreMismatch(redact(url), f"the database was built with model {layout.model!r}, "
                                             f"this code uses {embedder.name!r}",
                                fix="re-ingest: `python -m ingest --rebuild --database-url …`")
        self.layout: Layout = layout
        self.multilingual = multilingual if layout.multilingual_model else None
        # Which reports hold a word (for the report a question names or implies), and the reports'
        # title words: kept until the reports change.
        self._holders = WordHolders()
        self._characterised = WordHolders()
        self._shelf: tuple[tuple, rerank.ReportWords] = ((), rerank.words_of_titles({}))

    # ------------------------------------------------------------ the searcher interface

    def ask(self, question: str, *, k: int = DEFAULT_K, filters: Filters = Filters(),
            interpreted: str | None = None, focus: str | None = None) -> Answer:
        """As the embedded Searcher.ask; `focus` is the report in focus ("this report")."""
        query = interpreted or question
        focus = focus or (filters.reports[0] if len(filters.reports) == 1 else None)
        if not question.strip() or k <= 0:
            return Answer(question, False, (), query, filters)
        language = language_of(query)
        english = gloss(query) if language == "sq" else query
        q = self.embedder.encode([english])[0]
        vectors = {"q": vector_text(q)}
        if self.multilingual is not None:
            vectors["qm"] = vector_text(self.multilingual.encode_query(query))
        # The same weights and the same verdict as the embedded searcher (index.retrieval.ranking);
        # only the fusion itself runs in SQL.
        weights = ranking.weights(language, multilingual=self.multilingual is not None)
        rq = ranking.RankingQuery(question, query, english, language)
        named, naming, implied = self._named_and_implied(rq)
        within = rerank.within_report_query(english, naming)
        rows = self._run(weights, vectors, _lexical_text(english),
                         _lexical_text(within) if within != english else "", filters, k)
        order, answered = second_stage(rq, rows, k=k, focus=focus, named=named, implied=implied,
                                       characterised=self._characterised_by)
        hits = tuple(self._hit(rank, rows[i], english, score) for rank, (i, score) in enumerate(order, start=1))
        return Answer(question, answered, hits, query, filters)

    def _named_and_implied(self, rq: ranking.RankingQuery) -> tuple[str | None, frozenset[str] | None, str | None]:
        """The report an English question names by its title (and that title's words), and the one
        report holding a name it uses: as the embedded Searcher finds them, the word lookups made
        through the GIN index. Whatever the language, a changed shelf first empties the word caches
        (the key-term check of an Albanian question reads them too)."""
        reports = self.reports()
        known, words = self._shelf
        if known != reports:  # a report was added, replaced or removed: look again
            words = rerank.words_of_titles({info.report: info.title for info in reports})
            self._holders.clear()
            self._characterised.clear()
            self._shelf = (reports, words)
        if rq.language != "en":
            return None, None, None

        def holders(word: str, stemmed: bool) -> frozenset[str]:
            return self._holders.get((word, stemmed), lambda: self._reports_holding(word, stemmed=stemmed))

        named = rerank.named_report(rq.english, words, spread=lambda token: len(holders(token, True)))
        implied = rerank.implied_report(rq.english, lambda name: holders(name, False))
        return named, words.by_report[named] if named is not None else None, implied

    def _characterised_by(self, name: str) -> frozenset[str]:
        """The reports printing `name` all through (`rerank.characterising_reports`): how many
        passages of each hold it, against its passage count, looked up once per shelf."""
        def look_up() -> frozenset[str]:
            with self._lock:
                holding = self._with_retry(lambda conn: conn.execute(
                    f"SELECT report, count(*) FROM {SCHEMA}.passages WHERE lexemes @@ {QUESTION_WORD_QUERY} "
                    f"GROUP BY report", {"w": fold(name)}).fetchall())
            return rerank.characterising_reports(dict(holding), {r.report: r.passages for r in self.reports()})
        return self._characterised.get((name, False), look_up)

    def _reports_holding(self, word: str, *, stemmed: bool) -> frozenset[str]:
        """The reports whose passages hold `word`: a token as `tokenize` gives it (`stemmed`), or a
        word of the question, read as the passages' lexemes are made (English stem or folded)."""
        match = "quote_literal(%(w)s)::tsquery" if stemmed else QUESTION_WORD_QUERY
        with self._lock:
            rows = self._with_retry(lambda conn: conn.execute(
                f"SELECT DISTINCT report FROM {SCHEMA}.passages WHERE lexemes @@ {match}",
                {"w": word if stemmed else fold(word)}).fetchall())
        return frozenset(r[0] for r in rows)

    def reports(self):
        with self._lock:
            return self._with_retry(lambda conn: read_reports(conn))

    def filter_choices(self) -> FilterChoices:
        def read(conn):
            years = [r[0] for r in conn.execute(
                f"SELECT DISTINCT year FROM {SCHEMA}.passages WHERE year IS NOT NULL ORDER BY year")]
            sections = [r[0] for r in conn.execute(
                f"SELECT section FROM {SCHEMA}.passages WHERE section IS NOT NULL "
                f"GROUP BY section ORDER BY min(row_id)")]
            organisations = [r[0] for r in conn.execute(
                f"SELECT DISTINCT organisation FROM {SCHEMA}.passages WHERE organisation IS NOT NULL "
                f"ORDER BY organisation")]
            return years, sections, organisations
        with self._lock:
            years, sections, organisations = self._with_retry(read)
        return FilterChoices(reports=tuple(r.report for r in self.reports()), years=tuple(years),
                             sections=tuple(sections), organisations=tuple(organisations))

    def passage_count(self) -> int:
        with self._lock:
            return self._with_retry(lambda conn: conn.execute(
                f"SELECT count(*) FROM {SCHEMA}.passages").fetchone()[0])

    def close(self) -> None:
        self._conn.close()

    # ------------------------------------------------------------ the statement

    def _run(self, weights: dict, vectors: dict, lexical: str, within: str, filters: Filters,
             k: int) -> list[_Row]:
        """The fused head: `lexical` is the question's words for full-text search, `within` the
        same without the words naming its report (empty: no within-report list)."""
        sql, params = build_statement(weights, filters, k, lexical=bool(lexical), within=bool(within),
                                      multilingual="qm" in vectors, lexical_ranking=self.lexical_ranking)
        params.update(vectors, lex=lexical, lex_within=within)

        def query(conn):
            with conn.transaction():
                conn.execute(f"SET LOCAL hnsw.iterative_scan = {ITERATIVE_SCAN}")
                conn.execute(f"SET LOCAL hnsw.ef_search = {min(MAX_EF_SEARCH, params['sentence_depth'])}")
                conn.execute(f"SET LOCAL hnsw.max_scan_tuples = {MAX_SCAN_TUPLES}")
                return conn.execute(sql, params).fetchall()

        with self._lock:
            records = self._with_retry(query)
        out = []
        for row_id, score, similarity, ml_score, record, before, after, starts, stops, sentence_scores in records:
            out.append(_Row(int(row_id), float(score), float(similarity),
                            None if ml_score is None else float(ml_score), Passage.from_json(record),
                            Passage.from_json(before) if before else None,
                            Passage.from_json(after) if after else None,
                            list(starts or []), list(stops or []), [float(s) for s in sentence_scores or []]))
        return out

    def _with_retry(self, action):
        import psycopg

        try:
            return action(self._conn)
        except psycopg.OperationalError:
            # The server restarted or the connection was cut: one fresh attempt.
            try:
                self._conn.close()
            finally:
                self._conn = connect(self.url, autocommit=True)
            try:
                return action(self._conn)
            except psycopg.OperationalError as exc:
                raise DatabaseUnavailable(self.url, f"lost the connection to PostgreSQL ({exc})") from exc

    def _hit(self, rank: int, row: _Row, english: str, score: float) -> Hit:
        text = row.passage.text
        sentences = np.array([[0, a, b] for a, b in zip(row.starts, row.stops)], dtype=np.int32).reshape(-1, 3)
        start, end = best_span(text, sentences, 0, np.asarray(row.sentence_scores, dtype=np.float32), english,
                               kind=row.passage.kind)
        return Hit(rank=rank, score=score, passage=row.passage, quote=text[start:end], quote_start=start,
                   similarity=row.similarity)


def second_stage(rq, rows: list[_Row], *, k: int, focus: str | None, named: str | None = None,
                 implied: str | None = None, characterised: Callable[[str], frozenset[str]] | None = None
                 ) -> tuple[list[tuple[int, float]], bool]:
    """What `ranking.rank` does after fusing, on the head SQL fused: the rerank of
    `index.retrieval.rerank` (with the report the question names or implies), the answered
    verdict and the key-term check (with the reports a name characterises), so both backends
    rank alike.
    Returns (index into rows, score) best first, and the verdict."""
    if not rows:
        return [], False
    lookup = {}
    for row in rows:
        lookup[row.row_id] = row.passage
        if row.before is not None:
            lookup.setdefault(row.row_id - 1, row.before)
        if row.after is not None:
            lookup.setdefault(row.row_id + 1, row.after)
    ids = np.array([row.row_id for row in rows], dtype=np.int64)
    fused = np.array([row.score for row in rows], dtype=np.float64)
    if ranking.RERANK:
        fused = rerank.adjust(rq.text, ids, fused, _Lookup(lookup), focus=focus, named=named, implied=implied)
    order = [int(i) for i in np.argsort(-fused, kind="stable")[:max(k, rerank.KEY_TERM_WINDOWS)]]
    head = tuple(int(ids[i]) for i in order)
    first = sorted((rows[i] for i in order[:ranking.ANSWER_DEPTH] if rows[i].multilingual is not None),
                   key=lambda row: -row.multilingual)
    lists = {"multilingual": ranking.SignalList(np.array([row.row_id for row in first], np.int64),
                                                np.array([row.multilingual for row in first], np.float32))} \
        if first else {}
    best = {rows[i].row_id: ranking.verdict_sentence_score(rows[i].passage, rows[i].starts, rows[i].sentence_scores)
            for i in order[:ranking.ANSWER_DEPTH]}
    answered = ranking.answers(rq, head, ranking.Candidates(lists, best))
    if answered and ranking.KEY_TERM_CHECK:
        answered = not rerank.unanswered_terms(rq.text, head, _Lookup(lookup), characterised=characterised)
    return [(i, float(fused[i])) for i in order[:k]], answered


class _Lookup(dict):
    """Passages by row id, for the second stage: rows it does not hold are missing (KeyError)."""


def _lexical_text(english: str) -> str:
    """The question's words for full-text search: folded like the passages, stopwords out."""
    return " ".join(w for w in TOKEN.findall(fold(english)) if w not in STOPWORDS)


def filter_sql(filters: Filters, alias: str = "p") -> tuple[str, dict]:
    """WHERE conditions for `filters` on passages `alias`, and their parameters."""
    conditions, params = [], {}
    if filters.reports:
        conditions.append(f"{alias}.report = ANY(%(f_reports)s)")
        params["f_reports"] = list(filters.reports)
    if filters.year is not None:
        conditions.append(f"{alias}.year = %(f_year)s")
        params["f_year"] = filters.year
    if filters.section:
        conditions.append(f"lower({alias}.section) = lower(%(f_section)s)")
        params["f_section"] = filters.section
    if filters.organisation:
        conditions.append(f"strpos(lower({alias}.organisation), lower(%(f_organisation)s)) > 0")
        params["f_organisation"] = filters.organisation
    return (" AND ".join(conditions) or "true"), params


def build_statement(weights: dict, filters: Filters, k: int, *, lexical: bool,
                    multilingual: bool, lexical_ranking: str = "bm25", within: bool = False) -> tuple[str, dict]:
    """The one SQL statement that answers a question: candidates per signal, fusion, top k."""
    where, params = filter_sql(filters)
    depth = ranking.candidate_depth(k)
    # The fused head the second stage (index.retrieval.rerank) may reorder, and whose top rows the
    # key-term check reads with their neighbours.
    params.update(head=max(k, rerank.RERANK_DEPTH, rerank.KEY_TERM_WINDOWS), k=k, depth=depth, sentence_depth=SENTENCES_PER_CANDIDATE * depth,
                  scale_depth=ranking.SCALE_DEPTH,
                  k1=BM25_K1, b=BM25_B)
    ctes, lists = [], []

    def use(name: str, cte: str) -> None:
        if weights.get(name, 0.0) > 0:
            table = name.replace("-", "_")
            ctes.append(f"{table} AS MATERIALIZED ({cte})")
            params[f"w_{table}"] = float(weights[name])
            # Each list's scores scaled as `ranking.scaled` does: its best 1, its SCALE_DEPTH-th 0.
            lists.append(f"""SELECT row_id, %(w_{table})s::float8 * CASE
                    WHEN high > low THEN greatest((score - low) / (high - low), 0)
                    WHEN score >= low THEN 1.0 ELSE 0.0 END AS part
                FROM (SELECT row_id, score, max(score) OVER () AS high,
                             min(score) FILTER (WHERE place <= %(scale_depth)s) OVER () AS low
                      FROM (SELECT row_id, score, row_number() OVER (ORDER BY score DESC, row_id) AS place
                            FROM {table}) placed) bounded""")

    use("dense", _nearest("p.embedding", "q", where))
    if multilingual:
        use("multilingual", _nearest("p.multilingual", "qm", where))
    use("sentence", _nearest_sentences(where, filters.active))
    lexical_list = _BM25 if lexical_ranking == "bm25" else _TS_RANK
    if lexical and weights.get("lexical", 0.0) > 0:
        ctes.append(_QTERMS.format(name="qterms", text="lex"))
        use("lexical", lexical_list.format(schema=SCHEMA, where=where, qterms="qterms"))
    if within and weights.get("within-report", 0.0) > 0:
        ctes.append(_QTERMS.format(name="qterms_within", text="lex_within"))
        use("within-report", lexical_list.format(schema=SCHEMA, where=where, qterms="qterms_within"))
    fused = " UNION ALL ".join(lists)
    multilingual_score = "-(p.multilingual <#> %(qm)s::vector)" if multilingual else "NULL::float8"
    sql = f"""
WITH {', '.join(ctes)},
fused AS (
    SELECT row_id, sum(part) AS score FROM ({fused}) lists
    GROUP BY row_id ORDER BY score DESC, row_id LIMIT %(head)s)
SELECT f.row_id, f.score, -(p.embedding <#> %(q)s::vector), {multilingual_score}, p.record,
       before.record, after.record, ss.starts, ss.stops, ss.scores
FROM fused f JOIN {SCHEMA}.passages p USING (row_id)
LEFT JOIN {SCHEMA}.passages before ON before.row_id = p.row_id - 1 AND before.report = p.report
LEFT JOIN {SCHEMA}.passages after ON after.row_id = p.row_id + 1 AND after.report = p.report
LEFT JOIN LATERAL (
    SELECT array_agg(s.start ORDER BY s.start) AS starts, array_agg(s.stop ORDER BY s.start) AS stops,
           array_agg(-(s.embedding <#> %(q)s::vector) ORDER BY s.start) AS scores
    FROM {SCHEMA}.sentences s WHERE s.passage = p.row_id) ss ON true
ORDER BY f.score DESC, f.row_id"""
    return sql, params


def _nearest(column: str, vector: str, where: str) -> str:
    return f"""
    SELECT row_id, -distance AS score FROM (
        SELECT p.row_id, {column} <#> %({vector})s::vector AS distance FROM {SCHEMA}.passages p
        WHERE {where} ORDER BY {column} <#> %({vector})s::vector LIMIT %(depth)s) candidates"""


def _nearest_sentences(where: str, filtered: bool) -> str:
    join = f"JOIN {SCHEMA}.passages p ON p.row_id = s.passage WHERE {where}" if filtered else ""
    return f"""
    SELECT passage AS row_id, -min(distance) AS score FROM (
        SELECT s.passage, s.embedding <#> %(q)s::vector AS distance FROM {SCHEMA}.sentences s {join}
        ORDER BY s.embedding <#> %(q)s::vector LIMIT %(sentence_depth)s) candidates
    GROUP BY passage"""


# The question's lexemes, stemmed for English passages and only folded for Albanian ones, with
# their BM25 idf over the whole store, as bm25s computes it ("lucene": ln(1 + (N - df + .5) / (df + .5))).
# ({name}: the CTE's name; {text}: the parameter holding the words.)
_QTERMS = f"""{{name}} AS MATERIALIZED (
    SELECT t.lexeme, ln(1 + (m.passage_count - d.df + 0.5) / (d.df + 0.5)) AS idf
    FROM {SCHEMA}.store_meta m,
         (SELECT DISTINCT lexeme FROM unnest(to_tsvector('{TEXT_SEARCH_CONFIG}'::regconfig, %({{text}})s)
                                             || to_tsvector('simple', %({{text}})s))) t,
         LATERAL (SELECT count(*) AS df FROM {SCHEMA}.passages x
                  WHERE x.lexemes @@ quote_literal(t.lexeme)::tsquery) d
    WHERE d.df > 0)"""

# BM25 of the passages that contain any of the question's lexemes (found through the GIN index).
_BM25 = """
    SELECT row_id, score FROM (
        SELECT p.row_id, sum(q.idf * u.tf / (u.tf + %(k1)s * (1 - %(b)s + %(b)s * p.doc_length / m.avgdl))) AS score
        FROM {schema}.passages p
        CROSS JOIN LATERAL (SELECT lexeme, coalesce(array_length(positions, 1), 1) AS tf
                            FROM unnest(p.lexemes)) u
        JOIN {qterms} q ON q.lexeme = u.lexeme
        CROSS JOIN (SELECT greatest(total_length::float8 / nullif(passage_count, 0), 1) AS avgdl
                    FROM {schema}.store_meta) m
        WHERE p.lexemes @@ (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery FROM {qterms})
          AND {where}
        GROUP BY p.row_id ORDER BY score DESC, p.row_id LIMIT %(depth)s) candidates"""


# PostgreSQL's own ranking of the same candidates: ts_rank_cd (cover density, normalised by
# document length), which has no idf. Kept for the comparison only.
_TS_RANK = """
    SELECT row_id, score FROM (
        SELECT p.row_id, ts_rank_cd(p.lexemes, q.tsq, 1) AS score
        FROM {schema}.passages p,
             (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS tsq FROM {qterms}) q
        WHERE p.lexemes @@ q.tsq AND {where}
        ORDER BY score DESC, p.row_id LIMIT %(depth)s) candidates"""


def open_postgres_searcher(url: str, *, embedder=None) -> PostgresSearcher:
    """A searcher on the database at `url`, with the model it was built with."""
    from index.embedder import load_embedder, load_multilingual

    probe = connect(url, autocommit=True)
    try:
        layout = read_layout(probe)
    finally:
        probe.close()
    if layout is None:
        raise StoreMissing(redact(url))
    multilingual = load_multilingual() if layout.multilingual_model else None
    # Without an embedder: the one the database was built with, as its layout names it.
    return PostgresSearcher(url, embedder if embedder is not None else load_embedder(layout.model), multilingual)
