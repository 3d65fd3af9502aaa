"""Retrieval quality on a file of questions: Recall@1, Recall@5, MRR@10, abstention.

Question files are JSON lines: {"id", "q", "pages": [..], "evidence": [..], "kind"?, "report"?}.
A question without "evidence" is unanswerable: the right response is to abstain.
A hit answers a question when its page is one of `pages` (or `pages` is empty), its
report name contains `report` (when given; case-insensitive) and its text contains one
of `evidence`, compared case-insensitively with whitespace collapsed and `*`/`_` removed.
`pages` are physical 1-based pages (Passage.page to page_end), not printed labels.
Counted by page (`on_page`, `index eval --by-page`), a hit answers when its report and page are
right, whatever its text: the measure of a check that knows only the gold pages.

On a shelf of several reports, the distractor rate is the share of answerable questions
where a passage from another report is ranked above the first right one (or, when none
is found, tops the list).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from index.records import Passage
from index.text import normalise_for_match

from index.retrieval.search import Answer

EVAL_DEPTH = 10


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    q: str
    pages: tuple[int, ...]
    evidence: tuple[str, ...]
    kind: str
    report: str | None = None  # a part of the right report's name, when the file says
    source: str = ""  # the question file's name

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


@dataclass(frozen=True)
class QuestionResult:
    question: EvalQuestion
    rank: int | None  # 1-based rank of the first answering hit within EVAL_DEPTH
    answered: bool
    top_id: str | None
    quote_has_evidence: bool = False  # the first answering hit's quote holds the evidence
    distracted: bool | None = None  # another report's hit ranked above the right one (None: unknown)


def load_questions(path: Path) -> list[EvalQuestion]:
    questions = []
    for number, line in enumerate(Path(path).read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            evidence = tuple(data.get("evidence") or ())
            kind = data.get("kind") or ("answerable" if evidence else "unanswerable")
            questions.append(EvalQuestion(str(data["id"]), data["q"], tuple(data.get("pages") or ()),
                                          evidence, kind, data.get("report") or None, Path(path).name))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a question line ({exc}); "
                             'expected {"id": ..., "q": ..., "pages": [...], "evidence": [...]}') from exc
    return questions


def answers(question: EvalQuestion, passage: Passage) -> bool:
    if question.pages and not any(_on_pages(passage, page) for page in question.pages):
        return False
    if question.report and question.report.casefold() not in passage.report.casefold():
        return False
    text = normalise_for_match(passage.text)
    return any(normalise_for_match(e) in text for e in question.evidence)


def on_page(question: EvalQuestion, passage: Passage) -> bool:
    """Whether a passage is on one of the question's pages, in its report (evidence not read).
    A question that gives no pages (the answer may be anywhere) is judged by its evidence."""
    if not question.pages:
        return answers(question, passage)
    if not any(_on_pages(passage, page) for page in question.pages):
        return False
    return question.report is None or question.report.casefold() in passage.report.casefold()


def _on_pages(passage: Passage, page: int) -> bool:
    """Whether `page` is among the pages a passage is cited to (a passage that runs on over a
    page break is cited to both)."""
    if passage.page is None:
        return False
    return passage.page <= page <= (passage.page_end or passage.page)


def evaluate(ask: Callable[[str], Answer], questions: Sequence[EvalQuestion], *,
             match: Callable[[EvalQuestion, Passage], bool] = answers) -> list[QuestionResult]:
    """Ask every question; `match` says whether a hit answers it (`answers`, or `on_page`)."""
    results = []
    for question in questions:
        answer = ask(question.q)
        first = next((h for h in answer.hits if match(question, h.passage)), None) \
            if question.answerable else None
        top = answer.hits[0].passage.id if answer.hits else None
        in_quote = first is not None and any(normalise_for_match(e) in normalise_for_match(first.quote)
                                             for e in question.evidence)
        results.append(QuestionResult(question, first.rank if first else None, answer.answered, top, in_quote,
                                      _distracted(question, answer, first)))
    return results


def _distracted(question: EvalQuestion, answer: Answer, first) -> bool | None:
    """Whether a hit from another report outranks the right one; None when the right report
    is unknown (unanswerable, or not found and the file names no report)."""
    if not question.answerable:
        return None
    if first is not None:
        right = first.passage.report
        return any(h.passage.report != right for h in answer.hits[:first.rank - 1])
    if question.report is None:
        return None
    return bool(answer.hits) and question.report.casefold() not in answer.hits[0].passage.report.casefold()


@dataclass(frozen=True)
class Metrics:
    n: int
    recall_1: float
    recall_5: float
    mrr_10: float
    false_abstention: float
    n_unanswerable: int
    abstention: float | None
    quote_evidence: float = 0.0
    distractor: float | None = None  # share of answerable questions with a known right report


def metrics(results: Sequence[QuestionResult]) -> Metrics:
    answerable = [r for r in results if r.question.answerable]
    unanswerable = [r for r in results if not r.question.answerable]
    n = len(answerable)

    def share(values) -> float:
        return sum(values) / n if n else 0.0

    return Metrics(
        n=n,
        recall_1=share(r.rank == 1 for r in answerable),
        recall_5=share(r.rank is not None and r.rank <= 5 for r in answerable),
        mrr_10=share(1.0 / r.rank if r.rank else 0.0 for r in answerable),
        false_abstention=share(not r.answered for r in answerable),
        n_unanswerable=len(unanswerable),
        abstention=(sum(not r.answered for r in unanswerable) / len(unanswerable)) if unanswerable else None,
        quote_evidence=share(r.quote_has_evidence for r in answerable),
        distractor=_share_known([r.distracted for r in answerable]),
    )


def _share_known(values: Sequence[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def render(results: Sequence[QuestionResult], *, per_question: bool = True) -> str:
    """Per-question lines, then a table per question file and per kind. quote-ev: share of
    found answers whose quote (the highlighted sentence) itself holds the evidence;
    distract: share where another report's hit outranks the right one."""
    lines = []
    if per_question:
        lines.append(f"{'id':<8} {'kind':<14} {'rank':>4} {'answered':>8}  question")
        for r in results:
            rank = "-" if r.rank is None else str(r.rank)
            lines.append(f"{r.question.id:<8} {r.question.kind:<14} {rank:>4} {str(r.answered):>8}  {r.question.q}")
        lines.append("")
    lines.append(f"{'group':<30} {'n':>3} {'R@1':>6} {'R@5':>6} {'MRR@10':>7} {'false-abst':>10} "
                 f"{'n-unans':>7} {'abstained':>9} {'quote-ev':>8} {'distract':>8}")
    sources = list(dict.fromkeys(r.question.source for r in results))
    kinds = sorted({r.question.kind for r in results})
    groups = [(kind, [r for r in results if r.question.kind == kind]) for kind in kinds]
    if len(sources) > 1:
        groups = [(s, [r for r in results if r.question.source == s]) for s in sources] + groups
    if len(groups) > 1:
        groups.append(("overall", list(results)))
    for name, group in groups:
        lines.append(_metrics_row(name, metrics(group)))
    return "\n".join(lines) + "\n"


def _metrics_row(name: str, m: Metrics) -> str:
    name = name.removesuffix(".jsonl")
    abst = "-" if m.abstention is None else f"{m.abstention:.2f}"
    if m.n == 0:
        return (f"{name:<30} {m.n:>3} {'-':>6} {'-':>6} {'-':>7} {'-':>10} {m.n_unanswerable:>7} {abst:>9} "
                f"{'-':>8} {'-':>8}")
    distract = "-" if m.distractor is None else f"{m.distractor:.2f}"
    return (f"{name:<30} {m.n:>3} {m.recall_1:>6.2f} {m.recall_5:>6.2f} {m.mrr_10:>7.2f} "
            f"{m.false_abstention:>10.2f} {m.n_unanswerable:>7} {abst:>9} {m.quote_evidence:>8.2f} {distract:>8}")
