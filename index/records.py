"""The records that flow from a report file to the index: Document → Page → Passage.

They are small frozen dataclasses so that every module downstream (index, app) sees
the same fields, and page references stay fields rather than text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import cache


@dataclass(frozen=True)
class Heading:
    """What a section heading says: the title and, where named, who presented it."""

    section: str | None
    speaker: str | None = None
    organisation: str | None = None
    # The heading as printed (title and presenter lines), quotable as a passage of its own:
    # it is where "who presented ...?" is answered.
    text: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a report as a reader found it.

    `number` is the 1-based physical page (None before the first page marker of an
    extract); `label` is the page as printed. `heading` is set when a new section
    starts on this page (an extract's presentation title, a PDF outline entry).
    """

    number: int | None
    label: str | None
    text: str
    heading: Heading | None = None
    # Titles of the PDF outline entries that start on this page, in order: a heading line
    # in the text that matches one of them starts that section.
    outline: tuple[str, ...] = ()
    # True when the text was read by OCR from a scanned page (it may hold misread words).
    ocr: bool = False
    # For reports without fixed pages (Word): the 1-based paragraph number where this "page"
    # (one paragraph, list or table) starts; `number` and `label` are then None.
    paragraph: int | None = None
    # What the page prints larger than the report's body text (its headings), each run as
    # `index.text.print_key` gives it. None: not known (no font information: an extract, a
    # Word file, a scanned page, a PDF printed in one size).
    large_print: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Document:
    """A whole report: its stable name, bibliographic data and pages."""

    report: str
    title: str
    year: int | None
    sha256: str
    pages: tuple[Page, ...]
    kind: str = "text"  # "text" or "pdf"


@dataclass(frozen=True)
class Passage:
    """One quotable passage with everything a citation needs."""

    id: str
    report: str
    title: str
    year: int | None
    text: str
    page: int | None
    page_end: int | None
    page_label: str | None
    page_end_label: str | None
    section: str | None
    speaker: str | None
    organisation: str | None
    part: str | None
    # Read by OCR from a scanned page: a citation asks the user to check the quote against the page.
    ocr: bool = False
    # The passage's language, "en" or "sq" (Albanian), detected from its text.
    language: str = "en"
    # Word reports have no fixed pages: the 1-based paragraph number of the document where the
    # passage starts (counting non-empty paragraphs, list items and tables); None for paged reports.
    paragraph: int | None = None
    # What the text is (index.passage_kind): "content", "table", or report furniture such as
    # "reference", "contents", "running-head", "heading", "chart", "title". None: not marked (older stores).
    kind: str | None = None
    # The heading inside the section that the passage falls under, as printed: the name over a
    # survivor's testimony ("James Dold") on every passage of it, "Effects of Trauma". None: the
    # passage is under no such heading (or an older store).
    subsection: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Passage":
        """A passage from its JSON form; keys this version does not know are ignored."""
        try:  # the usual case, and the fast one (a store is read passage by passage)
            return cls(**data)
        except TypeError:
            names = _field_names(cls)
            return cls(**{k: v for k, v in data.items() if k in names})


@cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))
