"""How a quote is cited. Plain Python, shared by `python -m index ask`, the app and the exports.

Three styles, the same citation in each:

plain:
    “…” — 2006 CAAHT Annual Conference Report, p. 38, presentation by Mr. Azem Tema (Kukes—Prefect's Office)
footnote:
    “…”[1]

    [1] Mr. Azem Tema, Kukes—Prefect's Office (Technical Secretariat), presentation “Recent developments …”,
    2006 CAAHT Annual Conference Report, p. 38.
author-date:
    “…” (Mr. Azem Tema 2006, Kukes—Prefect's Office, 2006 CAAHT Annual Conference Report, p. 38)

`citation_text` is the citation without the quote; the exports put it after a block quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.language import LANGUAGE_NAMES
from index.passage_kind import TABLE
from index.records import Passage
from index.text import CAPTION, table_head, table_row_spans

STYLES = ("plain", "footnote", "author-date")
DEFAULT_STYLE = "plain"
TRAILING_PARENTHESIS = re.compile(r"\s*\([^()]*\)\s*$")
ROLE = {"presentation": "presentation by", "discussion": "discussion of the presentation by"}
# How a full note names what kind of talk the section was.
NOTE_ROLE = {"presentation": "presentation", "discussion": "discussion of the presentation"}
NO_DATE = "n.d."
OCR_NOTE = "text read by OCR, check the quote against the page"
# Between a section's title and the heading within it, in a citation.
SUBSECTION_SEPARATOR = " — "
# Languages a citation names (the reports' usual language, English, goes unsaid).
FLAGGED_LANGUAGES = ("sq",)


class UnknownStyle(ValueError):
    """A citation style that is not one of STYLES."""

    def __init__(self, style: str):
        self.style = style
        super().__init__(f"unknown citation style {style!r}; choose one of {', '.join(STYLES)}")


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
    section: str | None  # with the heading within it: "D. Survivor Testimonials — James Dold"
    report: str
    part: str | None = None  # "presentation", "discussion", "actions", …
    ocr: bool = False  # the text was read by OCR from a scan: the user should check it against the page
    language: str = "en"  # the passage's language ("sq": Albanian)
    # A table row quoted alone: the table it is a row of (caption, and header as "columns: …")
    table: str | None = None

    @classmethod
    def of(cls, passage: Passage, quote: str | None = None) -> "Citation":
        quote = passage.text if quote is None else quote
        return cls(quote=quote, title=passage.title, year=passage.year,
                   pages=page_reference(passage), source=source_description(passage),
                   speaker=passage.speaker, organisation=passage.organisation, section=section_title(passage),
                   report=passage.report, part=passage.part, ocr=passage.ocr, language=passage.language,
                   table=table_description(passage, quote))


def table_description(passage: Passage, quote: str) -> str | None:
    """What table a quoted row belongs to: "Table 17. Detected victims … (columns: Country 2019 …)".
    None for other passages, and for a quote that is no row or holds the table's header itself."""
    head = table_head(passage.text) if passage.kind == TABLE else []
    if not head or head[-1] in quote or not table_row_spans(quote):
        return None
    header = None if CAPTION.match(head[-1]) else head[-1]  # a table may have a caption alone
    caption = " ".join(head[:-1] if header else head)
    columns = f"columns: {header}" if header else None
    return f"{caption} ({columns})" if caption and columns else caption or columns


def caveats(citation: Citation) -> str | None:
    """What a reader must know before pasting the quote: "in Albanian; text read by OCR …"."""
    notes = [f"in {LANGUAGE_NAMES[citation.language]}"] if citation.language in FLAGGED_LANGUAGES else []
    if citation.ocr:
        notes.append(OCR_NOTE)
    return "; ".join(notes) or None


def page_reference(passage: Passage) -> str | None:
    """The page as printed, saying so when it differs from the PDF's own page number.

    Word reports have no fixed pages: their passages cite the paragraph ("para. 12")."""
    if passage.page is None:
        return f"para. {passage.paragraph}" if passage.paragraph is not None else None
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


def section_title(passage: Passage) -> str | None:
    """The section, and the heading within it that the passage is under: "D. Survivor
    Testimonials — James Dold"."""
    parts = [p for p in (passage.section, passage.subsection) if p]
    return SUBSECTION_SEPARATOR.join(parts) or None


def quoted_title(title: str) -> str:
    """A title in quotation marks, its own ones made single: “C. Action Cards — ‘It’s Never Too Late’”."""
    return f"“{title.replace('“', '‘').replace('”', '’')}”"


def source_description(passage: Passage) -> str | None:
    organisation = short_organisation(passage.organisation)
    section = section_title(passage)
    if passage.speaker and passage.paragraph is not None and not passage.part:
        # A Word report's author or presenter line: "by …" (it is a document, not a talk).
        return f"by {passage.speaker}" + (f" ({organisation})" if organisation else "") + \
            (f", {quoted_title(section)}" if section else "")
    if passage.speaker:
        role = ROLE.get(passage.part or "", "presentation by")
        return f"{role} {passage.speaker}" + (f" ({organisation})" if organisation else "")
    if section:
        return quoted_title(section)
    return None


def format_citation(citation: Citation, style: str = DEFAULT_STYLE, *, note_number: int = 1) -> str:
    """The quote and its citation as one paste-ready string."""
    text = citation_text(citation, style)
    if style == "footnote":
        return f"“{citation.quote}”[{note_number}]\n\n[{note_number}] {text}"
    return f"“{citation.quote}” {text}"


def citation_text(citation: Citation, style: str = DEFAULT_STYLE) -> str:
    """The citation alone, as it follows the quote in `style` (for footnote: the note's text)."""
    if style == "plain":
        return f"— {reference(citation)}"
    if style == "footnote":
        return footnote_text(citation)
    if style == "author-date":
        return f"({author_date(citation)})"
    raise UnknownStyle(style)


def reference(citation: Citation) -> str:
    """Title, page, who: "2006 CAAHT Annual Conference Report, p. 38, presentation by …"."""
    parts = [citation.title, citation.pages, citation.source, citation.table]
    return ", ".join(p for p in parts if p) + _bracketed(caveats(citation))


def _bracketed(note: str | None) -> str:
    return f" [{note}]" if note else ""


def footnote_text(citation: Citation) -> str:
    """A full note: who (with the whole organisation), which section, the report, its year and the page.

    "Mr. Azem Tema, Kukes—Prefect's Office (Technical Secretariat), presentation “Recent developments …”,
    2006 CAAHT Annual Conference Report, p. 38."
    """
    parts = [citation.speaker, citation.organisation, _note_section(citation), _titled_year(citation),
             citation.pages, citation.table]
    note = caveats(citation)
    return ", ".join(p for p in parts if p) + "." + (f" {note[0].upper()}{note[1:]}." if note else "")


def _note_section(citation: Citation) -> str | None:
    """'presentation “Title”', 'discussion of the presentation “Title”', or just '“Title”'."""
    role = NOTE_ROLE.get(citation.part or "")
    section = quoted_title(citation.section) if citation.section else None
    return " ".join(p for p in (role, section) if p) or None


def _titled_year(citation: Citation) -> str:
    # Report titles usually carry their year ("2006 CAAHT Annual Conference Report"); a note
    # repeats it only when the title does not say it.
    year = str(citation.year) if citation.year else NO_DATE
    return citation.title if year in citation.title else f"{citation.title} ({year})"


def author_date(citation: Citation) -> str:
    """Presenter Year, Organisation, Title, p. N: the organisation, else the title, is the author when
    no presenter is named."""
    organisation = short_organisation(citation.organisation)
    author = citation.speaker or organisation or citation.title
    year = str(citation.year) if citation.year else NO_DATE
    # A title standing in for the author keeps its own year ("Global Report … 2024", not "… 2024 2024").
    parts = [author if author == citation.title and year in author else f"{author} {year}"]
    if citation.speaker and organisation:
        parts.append(organisation)
    if author != citation.title:
        parts.append(citation.title)
    if citation.pages:
        # The whole citation is in parentheses already: inner ones become brackets, as Chicago style has it.
        parts.append(citation.pages.replace("(", "[").replace(")", "]"))
    if citation.table:
        parts.append(citation.table.replace("(", "[").replace(")", "]"))
    note = caveats(citation)
    return ", ".join(parts) + (f"; {note}" if note else "")
