"""How `index eval` counts a hit: with its evidence on the right page, or (--by-page) by page alone."""

from __future__ import annotations

import json

import pytest

from index.records import Passage
from index.retrieval.evaluate import EvalQuestion, answers, evaluate, load_questions, metrics, on_page
from index.retrieval.search import Answer, Filters, Hit


def _passage(pid: str, text: str, page: int, report: str = "kukes.txt", page_end: int | None = None) -> Passage:
    return Passage(id=pid, report=report, title="Kukes", year=2006, text=text, page=page,
                   page_end=page_end or page, page_label=str(page), page_end_label=None, section=None,
                   speaker=None, organisation=None, part=None)


QUESTION = EvalQuestion("q1", "Which routes make Kukës a transit location?", (38,),
                        ("Albania-Kosovo-Serbia",), "fact", "kukes")
ROUTES = _passage("k:38:1", "Kukes is a transit location via Albania-Kosovo-Serbia.", 38)
SAME_PAGE = _passage("k:38:2", "The committee prepared its bylaws.", 38)
SPANS_PAGES = _passage("k:37:9", "… via Albania-Kosovo-Serbia and on to Italy.", 37, page_end=38)
OTHER_REPORT = _passage("g:38:1", "Routes via Albania-Kosovo-Serbia.", 38, report="glotip.pdf")
OTHER_PAGE = _passage("k:40:1", "Routes via Albania-Kosovo-Serbia.", 40)


@pytest.mark.parametrize("passage, with_evidence, by_page", [
    (ROUTES, True, True),
    (SAME_PAGE, False, True),
    (SPANS_PAGES, True, True),
    (OTHER_REPORT, False, False),
    (OTHER_PAGE, False, False),
], ids=["evidence-on-page", "right-page-other-text", "runs-over-a-page-break", "other-report", "other-page"])
def test_a_hit_counts_with_its_evidence_or_by_page(passage, with_evidence, by_page):
    assert (answers(QUESTION, passage), on_page(QUESTION, passage)) == (with_evidence, by_page)


def test_by_page_a_question_without_pages_is_judged_by_its_evidence():
    anywhere = EvalQuestion("q2", "Which routes?", (), ("Albania-Kosovo-Serbia",), "fact")
    assert [(answers(anywhere, p), on_page(anywhere, p)) for p in (ROUTES, SAME_PAGE)] == \
        [(True, True), (False, False)]


def _answer(question: str, passages: list[Passage], answered: bool = True) -> Answer:
    hits = tuple(Hit(rank=n, score=1.0 / n, passage=p, quote=p.text, quote_start=0, similarity=0.5)
                 for n, p in enumerate(passages, start=1))
    return Answer(question, answered, hits, question, Filters())


def test_evaluate_ranks_the_first_hit_the_measure_counts():
    """The same answer scores rank 2 with evidence and rank 1 by page: the page's other passage
    comes first."""
    ask = lambda q: _answer(q, [SAME_PAGE, ROUTES, OTHER_REPORT])  # noqa: E731
    strict, by_page = evaluate(ask, [QUESTION]), evaluate(ask, [QUESTION], match=on_page)
    assert [(r.rank, r.distracted) for r in strict + by_page] == [(2, False), (1, False)]
    assert (metrics(strict).recall_1, metrics(by_page).recall_1) == (0.0, 1.0)


def test_load_questions_reads_answerable_and_unanswerable_lines(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in [
        {"id": "a", "q": "Which routes?", "pages": [38], "evidence": ["Albania-Kosovo-Serbia"], "report": "kukes"},
        {"id": "n", "kind": "near-miss", "q": "How many shelters are in Shkodër?"},
    ]) + "\n", "utf-8")
    assert load_questions(path) == [
        EvalQuestion("a", "Which routes?", (38,), ("Albania-Kosovo-Serbia",), "answerable", "kukes", "q.jsonl"),
        EvalQuestion("n", "How many shelters are in Shkodër?", (), (), "near-miss", None, "q.jsonl")]
