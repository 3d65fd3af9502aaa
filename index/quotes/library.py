"""What the Library page shows about each indexed report. Plain Python, no Streamlit.

Derived from the manifest's ReportInfo and the report's passages, so it works for any backend
that gives `reports()` and the passages. Where the manifest has no field for a fact, it is
derived from the passages (and says so in its name): a page that holds no passage is counted
as a page with no text (a scanned page without a text layer, or a blank one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

from index.records import Passage

from index.quotes.pages import passage_pages

if TYPE_CHECKING:
    from index.store.embedded import ReportInfo

SHA_PREFIX = 12  # characters of the sha256 shown: enough to tell files apart by eye
OK, NO_TEXT, PARTLY = "ok", "no text layer", "some pages without text"


@dataclass(frozen=True)
class ReportFacts:
    report: str  # the report's name in the index (its file name)
    title: str
    year: int | None
    kind: str
    pages: int
    passages: int
    pages_without_text: tuple[int, ...]
    printed_labels: int  # pages whose printed number differs from the PDF's (e.g. "69" on PDF p. 5)
    sections: int
    speakers: int
    ocr_pages: tuple[int, ...]
    ingested_at: str
    sha256: str
    source_file: str

    @property
    def status(self) -> str:
        if self.passages == 0:
            return NO_TEXT
        return PARTLY if self.pages_without_text else OK

    @property
    def sha_prefix(self) -> str:
        return self.sha256[:SHA_PREFIX]


def report_facts(reports: Iterable["ReportInfo"], passages: Sequence[Passage]) -> list[ReportFacts]:
    by_report: dict[str, list[Passage]] = {}
    for passage in passages:
        by_report.setdefault(passage.report, []).append(passage)
    return [_facts(info, by_report.get(info.report, [])) for info in reports]


def _facts(info: "ReportInfo", passages: list[Passage]) -> ReportFacts:
    covered = {page for p in passages for page in passage_pages(p)}
    labels = {(p.page, p.page_label) for p in passages if p.page is not None and p.page_label}
    labels |= {(p.page_end, p.page_end_label) for p in passages if p.page_end is not None and p.page_end_label}
    # Optional fields added by other parts of the pipeline (OCR); absent on older stores.
    ocr = set(getattr(info, "ocr_pages", ()) or ())
    ocr |= {page for p in passages if getattr(p, "ocr", False) for page in passage_pages(p)}
    return ReportFacts(
        report=info.report, title=info.title, year=info.year, kind=info.kind, pages=info.pages,
        passages=info.passages,
        # An extract numbers its pages as the printed report does (not 1..n) and has no text layer.
        pages_without_text=tuple(n for n in range(1, info.pages + 1) if n not in covered)
        if info.kind == "pdf" else (),
        printed_labels=sum(1 for page, label in labels if label != str(page)),
        sections=len({p.section for p in passages if p.section}),
        speakers=len({p.speaker for p in passages if p.speaker}),
        ocr_pages=tuple(sorted(ocr)), ingested_at=info.ingested_at, sha256=info.sha256,
        source_file=info.source_file)


def page_list(pages: Sequence[int], limit: int = 8) -> str:
    """"3, 5–7, 12" for a short list of pages; "none" when empty."""
    if not pages:
        return "none"
    runs, start, previous = [], pages[0], pages[0]
    for page in list(pages[1:]) + [None]:
        if page is not None and page == previous + 1:
            previous = page
            continue
        runs.append(str(start) if start == previous else f"{start}–{previous}")
        if page is not None:
            start = previous = page
    shown = ", ".join(runs[:limit])
    return shown + (f" … ({len(pages)} pages)" if len(runs) > limit else "")


def example_questions(passages: Sequence[Passage], count: int = 3) -> list[str]:
    """Questions about the indexed reports' own sections, the largest section of each report first."""
    by_report: dict[str, dict[str, int]] = {}
    for passage in passages:
        if passage.section and passage.speaker:
            sections = by_report.setdefault(passage.report, {})
            sections[passage.section] = sections.get(passage.section, 0) + 1
    if not by_report:  # no presenters named: any section
        for passage in passages:
            if passage.section:
                sections = by_report.setdefault(passage.report, {})
                sections[passage.section] = sections.get(passage.section, 0) + 1
    ranked = [sorted(s, key=lambda name: (-s[name], name)) for s in by_report.values()]
    chosen: list[str] = []
    for depth in range(max((len(r) for r in ranked), default=0)):  # one per report, round robin
        for sections in ranked:
            if depth < len(sections) and len(chosen) < count:
                chosen.append(sections[depth])
    return [f"What was said about {' '.join(section.split())}?" for section in chosen]
