"""PostgreSQL's full-text ranking against bm25s, and both backends' whole search, on question files.

    python -m benchmarks.postgres_fulltext --index-dir STORE [--database-url URL] FILE.jsonl ...

The embedded store at STORE is copied into PostgreSQL (a throw-away server from tests/pg_server.py
unless --database-url is given), so both backends hold the same passages and vectors. Then, per
question file, R@1 / R@5 / MRR@10 (and abstention where the file has unanswerable questions) for:

    lexical only   bm25s (embedded) | PostgreSQL, BM25 in SQL (shipped) | PostgreSQL ts_rank_cd
    whole search   embedded         | PostgreSQL (shipped)              | PostgreSQL with ts_rank_cd

"lexical only" ranks by the full-text signal alone (the fusion weights set to lexical = 1), which
isolates the ranking functions; "whole search" is what `python -m index ask` does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.proc import ROOT

COLUMNS = (("embedded", "embedded", "bm25"), ("pg-bm25", "postgres", "bm25"), ("pg-ts_rank", "postgres", "ts_rank"))


class CachedEncoder:
    """An embedder that remembers the vectors of the texts it has encoded (questions, here)."""

    def __init__(self, inner):
        self._inner = inner
        self._cache: dict = {}

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def encode(self, texts, **kwargs):
        import numpy as np
        key = ("encode", tuple(texts))
        if key not in self._cache:
            self._cache[key] = self._inner.encode(texts, **kwargs)
        return np.array(self._cache[key])

    def encode_query(self, text):
        key = ("query", text)
        if key not in self._cache:
            self._cache[key] = self._inner.encode_query(text)
        return self._cache[key]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.postgres_fulltext")
    parser.add_argument("--index-dir", type=Path, required=True, help="an embedded store (copied into PostgreSQL)")
    parser.add_argument("--database-url", help="an empty database to use (default: a throw-away server)")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from index.retrieval import ranking
    from index.retrieval.evaluate import EVAL_DEPTH, evaluate, load_questions, metrics
    from index.retrieval.search import open_searcher
    from index.store.postgres import PostgresSearcher, export_to_postgres

    server = None
    url = args.database_url
    if url is None:
        from tests.pg_server import PgServer
        server = PgServer.start()
        url = server.url
    try:
        export_to_postgres(args.index_dir, url)
        embedded = open_searcher(args.index_dir)
        # Each question is asked six times: encode it once.
        embedded.embedder = CachedEncoder(embedded.embedder)
        if embedded.multilingual is not None:
            embedded.multilingual = CachedEncoder(embedded.multilingual)
        searchers = {"embedded": embedded}
        for name, kind, lexical in COLUMNS[1:]:
            searchers[name] = PostgresSearcher(url, embedded.embedder, embedded.multilingual, lexical_ranking=lexical)
        shipped_weights = ranking.weights
        lines = ["| file | n | mode | " + " | ".join(f"{c[0]} R@1 / R@5 / MRR@10" for c in COLUMNS) + " |",
                 "|---|---|---|" + "---|" * len(COLUMNS)]
        for path in args.files:
            questions = load_questions(path)
            for mode in ("lexical only", "whole search"):
                ranking.weights = (lambda language, *, multilingual: {"lexical": 1.0}) \
                    if mode == "lexical only" else shipped_weights
                cells = []
                for name, _kind, _lexical in COLUMNS:
                    searcher = searchers[name]
                    m = metrics(evaluate(lambda q: searcher.ask(q, k=EVAL_DEPTH), questions))
                    cell = f"{m.recall_1:.2f} / {m.recall_5:.2f} / {m.mrr_10:.2f}" if m.n else "–"
                    if m.abstention is not None and mode == "whole search":
                        cell += f" (abstained {m.abstention * m.n_unanswerable:.0f}/{m.n_unanswerable})"
                    cells.append(cell)
                n = sum(q.answerable for q in questions)
                lines.append(f"| {path.name} | {n} | {mode} | " + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
        ranking.weights = shipped_weights
        print("\n" + "\n".join(lines))
    finally:
        if server is not None:
            server.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
