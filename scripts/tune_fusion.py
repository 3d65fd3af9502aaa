"""Grid-search the fusion weights on question files; prints R@1, R@5, MRR@10 per setting.

    python scripts/tune_fusion.py --index-dir store tests/data/dev_questions.jsonl tests/data/own_questions.jsonl

Signals are computed once per question, so the grid is cheap. Each setting fuses every
signal's top list as `ask` does (index/retrieval/ranking.py `fuse`), before the second stage.
Use it to choose the weights in index/retrieval/ranking.py; never report its figures on the
files it tuned on as unseen.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.retrieval import ranking  # noqa: E402
from index.retrieval.evaluate import answers, load_questions  # noqa: E402
from index.retrieval.query import language_of  # noqa: E402
from index.retrieval.search import open_searcher  # noqa: E402

GRID = [0.0, 0.5, 1.0, 2.0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--kind", help="only questions of this kind")
    parser.add_argument("--language", choices=["en", "sq"], default="en",
                        help="tune the weights for questions in this language")
    args = parser.parse_args()
    searcher = open_searcher(args.index_dir)
    questions = [q for f in args.files for q in load_questions(f) if q.answerable]
    if args.kind:
        questions = [q for q in questions if q.kind == args.kind]
    questions = [q for q in questions if language_of(q.q) == args.language]
    signals = [top_lists(searcher.signals(q.q).by_passage) for q in questions]
    names = list(signals[0])
    rows = []
    for weights in itertools.product(GRID, repeat=len(names)):
        if not any(weights):
            continue
        ranks = []
        for question, signal in zip(questions, signals):
            pool = np.unique(np.concatenate([signal[n].rows for n in names]))
            fused = ranking.fuse(pool, [(signal[n], w) for n, w in zip(names, weights)])
            order = pool[np.argsort(-fused, kind="stable")[:10]]
            ranks.append(next((r for r, row in enumerate(order, 1)
                               if answers(question, searcher.store.passages[row])), None))
        n = len(ranks)
        rows.append((sum(r == 1 for r in ranks) / n, sum(r is not None and r <= 5 for r in ranks) / n,
                     sum(1 / r for r in ranks if r) / n, weights))
    rows.sort(key=lambda r: (r[2], r[0], r[1]), reverse=True)
    print(f"{len(questions)} questions; signals: {', '.join(names)}")
    for r1, r5, mrr, weights in rows[:15]:
        print(f"R@1 {r1:.2f}  R@5 {r5:.2f}  MRR@10 {mrr:.2f}  weights {dict(zip(names, weights))}")
    current = tuple(ranking.WEIGHTS_BY_LANGUAGE[args.language].get(n, 0.0) for n in names)
    print("current:", [f"R@1 {r[0]:.2f} R@5 {r[1]:.2f} MRR {r[2]:.2f}" for r in rows if r[3] == current])
    return 0


def top_lists(by_passage: dict[str, np.ndarray]) -> dict[str, ranking.SignalList]:
    """Each signal's top passages, as the search hands them to the fusion."""
    depth = ranking.MIN_CANDIDATES
    lists = {}
    for name, scores in by_passage.items():
        order = np.argsort(-scores, kind="stable")[:depth]
        if name == "lexical":
            order = order[scores[order] > 0]  # as the lexical index: only passages holding a word
        lists[name] = ranking.SignalList(order.astype(np.int64), scores[order].astype(np.float32))
    return lists


if __name__ == "__main__":
    sys.exit(main())
