"""How a quote is cited. Plain Python, shared by `python -m index ask` and the app.

    "…" — 2006 CAAHT Annual Conference Report, p. 38, presentation by Mr. Azem Tema (Kukes—Prefect's Office)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.records import Passage

STYLES = ("plain", "footnote", "author-date")
DEFAULT_STYLE = "plain"
TRAILING_PARENTHESIS = re.compile(r"\s*\([^()]*\)\s*$")
ROLE = {"presentation": "presentation by", "discussion": "discussion of the presentation by"}


@dataclass(frozen=True)
class Citation:
    """The parts of a citation, before any style puts them in order."""

    quote: str
    title: str
    year: int | None
    pages: str | None  # "p. 38", "pp. 40–41", "p. 69 (printed page; PDF p. 5)"
    source: str | None  # who and where in the report
    speaker: str | None
    organisation: str | None
    section: str | None
    report: str

    @classmethod
    def of(cls, passage: Passage, quote: str | None = None) -> "Citation":
        return cls(quote=passage.text if quote is None else quote, title=passage.title, year=passage.year,
                   pages=page_reference(passage), source=source_description(passage),
                   speaker=passage.speaker, organisation=passage.organisation, section=passage.section,
                   report=passage.report)


def page_reference(passage: Passage) -> str | None:
    """The page as printed, saying so when it differs from the PDF's own page number."""
    if passage.page is None:
        return None
    label = passage.page_label or str(passage.page)
    end_label = passage.page_end_label or (str(passage.page_end) if passage.page_end else label)
    spans = passage.page_end is not None and passage.page_end != passage.page
    text = f"pp. {label}–{end_label}" if spans else f"p. {label}"
    if label != str(passage.page):
        physical = f"{passage.page}–{passage.page_end}" if spans else str(passage.page)
        text += f" (printed page; PDF {'pp.' if spans else 'p.'} {physical})"
    return text


def short_organisation(organisation: str | None) -> str | None:
    """"Kukes—Prefect's Office (Technical Secretariat)" → "Kukes—Prefect's Office"."""
    if not organisation:
        return None
    return TRAILING_PARENTHESIS.sub("", organisation) or organisation


def source_description(passage: Passage) -> str | None:
    organisation = short_organisation(passage.organisation)
    if passage.speaker:
        role = ROLE.get(passage.part or "", "presentation by")
        return f"{role} {passage.speaker}" + (f" ({organisation})" if organisation else "")
    if passage.section:
        return f"“{passage.section}”"
    return None


def format_citation(citation: Citation, style: str = DEFAULT_STYLE) -> str:
    """The quote and its citation as one paste-ready string."""
    if style == "plain":
        return f"“{citation.quote}” — {reference(citation)}"
    if style == "footnote":
        return f"“{citation.quote}”[1]\n\n[1] {reference(citation)}."
    if style == "author-date":
        return f"“{citation.quote}” ({author_date(citation)})"
    raise ValueError(f"unknown citation style {style!r}; choose one of {', '.join(STYLES)}")


def reference(citation: Citation) -> str:
    """Title, page, who: "2006 CAAHT Annual Conference Report, p. 38, presentation by …"."""
    parts = [citation.title, citation.pages, citation.source]
    return ", ".join(p for p in parts if p)


def author_date(citation: Citation) -> str:
    author = citation.speaker or short_organisation(citation.organisation) or citation.title
    year = str(citation.year) if citation.year else "n.d."
    pages = citation.pages.replace("p. ", "p. ", 1) if citation.pages else None
    parts = [f"{author} {year}"]
    if citation.speaker and citation.organisation:
        parts.append(short_organisation(citation.organisation))
    parts.append(citation.title)
    if pages:
        parts.append(pages)
    return ", ".join(p for p in parts if p)
