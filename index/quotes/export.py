"""Export quotes with their citations: Markdown, Word (.docx) and CSV. Plain Python.

A basket and a single answer export through the same code: an answer's hits become
basket items first (`basket.items_from_hits`). Every export keeps each quote exactly as
collected and marks a quote that was edited away from its source.

    to_markdown(basket.items, "footnote")      # str, read back by parse_markdown
    to_docx(basket.items, "author-date")       # bytes, for st.download_button
    to_csv(basket.items)                       # str, one row per quote
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.shared import Cm, Pt, RGBColor

from index.records import Passage

from index.quotes.basket import BasketItem
from index.quotes.citations import DEFAULT_STYLE, STYLES, UnknownStyle, citation_text

DEFAULT_TITLE = "Quotes from the reports"
EDITED_FLAG = "[edited: does not match the source]"
NOTE_LABEL = "Note: "
MIME_TYPES = {"markdown": "text/markdown", "csv": "text/csv",
              "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
CSV_FIELDS = ("quote", "report", "page", "section", "subsection", "speaker", "organisation", "passage_id",
              "report_sha256", "ingested_at", "note", "verified")


@dataclass(frozen=True)
class ExportEntry:
    """One quote as an export shows it: the quote, its citation in the chosen style, the note."""

    quote: str
    citation: str  # citation_text(...) in the export's style; for footnotes, the note's text
    note: str
    verified: bool


def export_entries(items: Iterable[BasketItem], style: str = DEFAULT_STYLE) -> tuple[ExportEntry, ...]:
    if style not in STYLES:
        raise UnknownStyle(style)
    return tuple(ExportEntry(item.quote, citation_text(item.citation, style), item.note, item.verified)
                 for item in items)


# --- Markdown ---------------------------------------------------------------------------------
#
# Layout of one entry (entries are separated by a line "---"):
#
#     > first line of the quote\          (a trailing backslash is a hard line break)
#     > last line[^1]                     (the marker only in the footnote style)
#
#     **[edited: does not match the source]**      (only when the quote was edited)
#
#     [^1]: the footnote text   |   — plain reference   |   (Author Year, …)
#
#     Note: the visitor's note
#
# Report text is untrusted and may hold Markdown ("*", "<script>", "1." at a line start):
# such characters are backslash-escaped, so a Markdown viewer shows them literally and
# parse_markdown can undo exactly what was done.

INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>&~|])")
LINE_START_SPECIAL = re.compile(r"^([#=+-])|^(\d+)([.)])")
UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
FOOTNOTE_MARK = re.compile(r"\[\^(\d+)\]$")
FOOTNOTE_DEFINITION = re.compile(r"^\[\^(\d+)\]: ")
ENTRY_SEPARATOR = "---"
FLAG_LINE = f"**{EDITED_FLAG}**"


class MarkdownFormatError(ValueError):
    """Text that parse_markdown cannot read as an export of to_markdown."""

    def __init__(self, entry: int, detail: str):
        self.entry = entry
        super().__init__(f"entry {entry} of the Markdown export {detail}; only text written by "
                         "to_markdown (and not edited by hand) can be read back")


def to_markdown(items: Sequence[BasketItem], style: str = DEFAULT_STYLE, *, title: str = DEFAULT_TITLE) -> str:
    blocks = [f"# {_escape_line(' '.join(title.split()))}"]
    for number, entry in enumerate(export_entries(items, style), start=1):
        blocks.append(_markdown_entry(entry, number if style == "footnote" else None))
    return f"\n\n{ENTRY_SEPARATOR}\n\n".join(blocks) + "\n"


def _markdown_entry(entry: ExportEntry, note_number: int | None) -> str:
    quote = [f"> {line}" if line else ">" for line in _encode_lines(entry.quote)]
    if note_number is not None:
        quote[-1] += f"[^{note_number}]"
    paragraphs = ["\n".join(quote)]
    if not entry.verified:
        paragraphs.append(FLAG_LINE)
    citation = "\n".join(_encode_lines(entry.citation))
    paragraphs.append(f"[^{note_number}]: {citation}" if note_number is not None else citation)
    if entry.note:
        paragraphs.append(NOTE_LABEL + "\n".join(_encode_lines(entry.note)))
    return "\n\n".join(paragraphs)


def parse_markdown(text: str) -> tuple[ExportEntry, ...]:
    """Read back the entries of a to_markdown export: the exact quotes, citations and notes."""
    # Only "\n" ends a line: splitlines() would also split at characters a quote may hold (U+2028, \f).
    chunks = _split_entries(text.split("\n"))
    return tuple(_parse_entry(number, lines) for number, lines in enumerate(chunks, start=1))


def _split_entries(lines: list[str]) -> list[list[str]]:
    chunks, current = [], []
    for line in lines + [ENTRY_SEPARATOR]:
        if line == ENTRY_SEPARATOR:
            chunks.append(current)
            current = []
        else:
            current.append(line)
    return chunks[1:]  # the first chunk is the title


def _parse_entry(number: int, lines: list[str]) -> ExportEntry:
    lines = _trim_blank(lines)
    quote_end = next((i for i, line in enumerate(lines) if not line.startswith(">")), len(lines))
    if quote_end == 0:
        raise MarkdownFormatError(number, "does not start with a block quote")
    quote_lines = lines[:quote_end]
    quote_lines[-1] = FOOTNOTE_MARK.sub("", quote_lines[-1])
    quote = _decode_lines([line[2:] if line.startswith("> ") else line[1:] for line in quote_lines])
    rest = _trim_blank(lines[quote_end:])
    verified = not (rest and rest[0] == FLAG_LINE)
    rest = rest if verified else _trim_blank(rest[1:])
    note_start = next((i for i, line in enumerate(rest) if line.startswith(NOTE_LABEL)), len(rest))
    citation_lines = _trim_blank(rest[:note_start])
    if not citation_lines:
        raise MarkdownFormatError(number, "has no citation after its quote")
    citation_lines[0] = FOOTNOTE_DEFINITION.sub("", citation_lines[0])
    note_lines = rest[note_start:]
    if note_lines:
        note_lines[0] = note_lines[0][len(NOTE_LABEL):]
    return ExportEntry(quote=quote, citation=_decode_lines(citation_lines), note=_decode_lines(note_lines),
                       verified=verified)


def _encode_lines(text: str) -> list[str]:
    """Escaped lines; a line followed by a non-empty line ends in a hard break ("\\")."""
    lines = [_escape_line(line) for line in text.split("\n")]
    return [line + "\\" if line and i + 1 < len(lines) and lines[i + 1] else line
            for i, line in enumerate(lines)]


def _decode_lines(lines: list[str]) -> str:
    """The inverse of _encode_lines."""
    plain = [line[:-1] if line and i + 1 < len(lines) and lines[i + 1] else line
             for i, line in enumerate(lines)]
    return "\n".join(UNESCAPE.sub(r"\1", line) for line in plain)


def _escape_line(line: str) -> str:
    line = INLINE_SPECIAL.sub(r"\\\1", line)
    return LINE_START_SPECIAL.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", line)


def _trim_blank(lines: list[str]) -> list[str]:
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    end = len(lines)
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


# --- Word -------------------------------------------------------------------------------------
#
# python-docx 1.2.0 has no API for footnotes (a document needs a footnotes part it does not
# create), so the citation follows each quote in a smaller paragraph instead; in the footnote
# style both carry the same superscript number, as a footnote would.

QUOTE_STYLE = "Block Quote"
CITATION_STYLE = "Quote Citation"
NOTE_STYLE = "Quote Note"
INDENT = Cm(1.25)
PAGE_IMAGE_WIDTH = Cm(9)  # a small image of the quote's page: readable, not a page of its own
FLAG_COLOUR = RGBColor(0xC0, 0x00, 0x00)
# Characters XML (hence Word) cannot hold at all; none of them is visible.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def to_docx(items: Sequence[BasketItem], style: str = DEFAULT_STYLE, *, title: str = DEFAULT_TITLE,
            page_image: Callable[[BasketItem], bytes | None] | None = None) -> bytes:
    """The quotes as a Word document, as bytes (for a download button).

    With `page_image`, each quote is followed by the image it returns (PNG bytes, e.g. its page
    with the quote marked), when it returns one."""
    document = Document()
    document.core_properties.title = _xml_safe(title)
    document.core_properties.author = ""
    document.core_properties.comments = ""
    _add_styles(document)
    document.add_heading(_xml_safe(title), level=1)
    for number, (item, entry) in enumerate(zip(items, export_entries(items, style)), start=1):
        _docx_entry(document, entry, number if style == "footnote" else None)
        image = page_image(item) if page_image is not None else None
        if image:
            document.add_picture(io.BytesIO(image), width=PAGE_IMAGE_WIDTH)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_docx(items: Sequence[BasketItem], path: Path | str, style: str = DEFAULT_STYLE, *,
               title: str = DEFAULT_TITLE) -> Path:
    path = Path(path)
    path.write_bytes(to_docx(items, style, title=title))
    return path


def _add_styles(document) -> None:
    styles = document.styles
    quote = styles.add_style(QUOTE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    quote.base_style = styles["Normal"]
    quote.paragraph_format.left_indent = quote.paragraph_format.right_indent = INDENT
    quote.paragraph_format.space_after = Pt(4)
    quote.paragraph_format.keep_with_next = True  # a quote is not parted from its citation
    citation = styles.add_style(CITATION_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    citation.base_style = styles["Normal"]
    citation.font.size = Pt(9)
    citation.paragraph_format.left_indent = citation.paragraph_format.right_indent = INDENT
    citation.paragraph_format.space_after = Pt(8)
    note = styles.add_style(NOTE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    note.base_style = styles["Normal"]
    note.paragraph_format.left_indent = INDENT
    note.paragraph_format.space_after = Pt(14)


def _docx_entry(document, entry: ExportEntry, note_number: int | None) -> None:
    quote = document.add_paragraph(style=QUOTE_STYLE)
    quote.add_run(_xml_safe(entry.quote))
    if note_number is not None:
        quote.add_run(str(note_number)).font.superscript = True
    if not entry.verified:
        flag = document.add_paragraph(style=CITATION_STYLE)
        flag.paragraph_format.keep_with_next = True
        run = flag.add_run(EDITED_FLAG)
        run.bold = True
        run.font.color.rgb = FLAG_COLOUR
    citation = document.add_paragraph(style=CITATION_STYLE)
    if note_number is not None:
        citation.add_run(f"{note_number} ").font.superscript = True
    citation.add_run(_xml_safe(entry.citation))
    if entry.note:
        note = document.add_paragraph(style=NOTE_STYLE)
        note.add_run(NOTE_LABEL).bold = True
        note.add_run(_xml_safe(entry.note))


def _xml_safe(text: str) -> str:
    return XML_ILLEGAL.sub("", text)


# --- CSV --------------------------------------------------------------------------------------


def to_csv(items: Iterable[BasketItem]) -> str:
    """One row per quote with its provenance, header first (UTF-8 text, RFC 4180 quoting)."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(csv_row(item) for item in items)
    return out.getvalue()


def to_csv_file(items: Iterable[BasketItem]) -> bytes:
    """The CSV as a download: UTF-8 with a byte-order mark, which Excel needs to read
    "Kukës" as UTF-8 rather than in the machine's legacy code page."""
    return to_csv(items).encode("utf-8-sig")


# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(…) can leak data
# or open a stranger's address). OWASP: prefix such a cell with an apostrophe, which Excel,
# LibreOffice and Google Sheets show as text and do not display.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DEFUSE_PREFIX = "'"


def defuse_cell(value: str) -> str:
    """`value` as spreadsheet text that cannot be taken for a formula."""
    return DEFUSE_PREFIX + value if value.startswith(FORMULA_START) else value


def csv_row(item: BasketItem) -> dict[str, str]:
    """One quote's cells, every one defused: report text is untrusted."""
    return {name: defuse_cell(value) for name, value in _raw_row(item).items()}


def _raw_row(item: BasketItem) -> dict[str, str]:
    p = item.passage
    return {"quote": item.quote, "report": p.report, "page": printed_pages(p), "section": p.section or "",
            "subsection": p.subsection or "",
            "speaker": p.speaker or "", "organisation": p.organisation or "", "passage_id": p.id,
            "report_sha256": item.report_sha256, "ingested_at": item.ingested_at, "note": item.note,
            "verified": "yes" if item.verified else "no"}


def printed_pages(passage: Passage) -> str:
    """The page(s) as printed: "38", "40–41", or "" before the first page."""
    if passage.page is None:
        return ""
    label = passage.page_label or str(passage.page)
    if passage.page_end is None or passage.page_end == passage.page:
        return label
    return f"{label}–{passage.page_end_label or passage.page_end}"
