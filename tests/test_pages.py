"""The page a quote comes from: a real PDF rendered with pypdfium2, the quote's characters marked."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from index.quotes.pages import Box, page_image, pdf_page_views, searchable, text_pages
from index.records import Passage
from tests.conftest import DATA

PDF = DATA / "pdfs" / "dhs-retail-awareness-guide.pdf"
QUOTE = ("victims can be any age, race, gender identity, sex, ethnicity, nationality, immigration status, "
         "and socioeconomic class")
PASSAGE = Passage(id="guide.pdf:p2:5", report="guide.pdf", title="Guide", year=2020, text=f"Human trafficking {QUOTE}.",
                  page=2, page_end=2, page_label="2", page_end_label="2", section=None, speaker=None,
                  organisation=None, part=None)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def char_boxes(page_number: int, text: str, scale: float) -> list[Box]:
    """The quote's character boxes as PDFium's own search finds them (independent of the app's code)."""
    pdf = pdfium.PdfDocument(str(PDF))
    page = pdf[page_number - 1]
    textpage = page.get_textpage()
    searcher = textpage.search(text, match_case=False)
    found = searcher.get_next()
    assert found is not None, text
    start, count = found
    _, height = page.get_size()
    boxes = []
    for index in range(start, start + count):
        left, bottom, right, top = textpage.get_charbox(index)
        if right > left and top > bottom:
            boxes.append(Box(left * scale, (height - top) * scale, right * scale, (height - bottom) * scale))
    pdf.close()
    return boxes


def inside(x: float, y: float, boxes) -> bool:
    return any(b.left <= x <= b.right and b.top <= y <= b.bottom for b in boxes)


def test_the_quote_is_marked_over_its_own_characters_and_nowhere_else():
    [view] = pdf_page_views(PDF, PASSAGE, QUOTE)
    assert view.located and view.page == 2 and len(view.boxes) == 2  # the quote wraps onto a second line
    marked, plain = pixels(view.image), pixels(page_image(PDF, 2, scale=view.scale))
    changed = np.argwhere((marked != plain).any(axis=2))  # (y, x) of every painted pixel
    # Every character of the quote lies under the mark …
    expected = char_boxes(2, "can be any age, race, gender identity", view.scale) \
        + char_boxes(2, "immigration status, and socioeconomic class", view.scale)
    for box in expected:
        centre = ((box.left + box.right) / 2, (box.top + box.bottom) / 2)
        assert inside(*centre, view.boxes), box
        y, x = int(centre[1]), int(centre[0])
        assert (marked[y, x] != plain[y, x]).any(), box
    # … and nothing outside the mark's line rectangles changed.
    assert len(changed) > 1000
    assert all(inside(x, y, [replace(b, left=b.left - 1, top=b.top - 1, right=b.right + 1, bottom=b.bottom + 1)
                             for b in view.boxes]) for y, x in changed[::97])
    # The mark starts at the quote's first letter, not at the line's start ("Human trafficking vi|ctims").
    first = char_boxes(2, "victims can be", view.scale)[0]
    assert abs(min(b.left for b in view.boxes[:1]) - first.left) < 3


def test_a_quote_not_on_the_page_is_not_marked_anywhere():
    [view] = pdf_page_views(PDF, PASSAGE, "Words that this guide never prints anywhere at all")
    assert (view.located, view.boxes) == (False, ())
    assert (pixels(view.image) == pixels(page_image(PDF, 2))).all()


def test_an_ambiguous_quote_is_not_marked():
    [view] = pdf_page_views(PDF, PASSAGE, "human trafficking")  # many times on the page
    assert (view.located, view.boxes) == (False, ())


def test_a_quote_across_a_page_break_marks_both_pages():
    pdf = pdfium.PdfDocument(str(PDF))
    end_of_2 = " ".join(pdf[1].get_textpage().get_text_range().split()[-6:])
    start_of_3 = " ".join(pdf[2].get_textpage().get_text_range().split()[:6])
    pdf.close()
    spanning = replace(PASSAGE, page=2, page_end=3, page_end_label="3", text=f"{end_of_2} {start_of_3}")
    views = pdf_page_views(PDF, spanning, spanning.text)
    assert [(v.page, v.located, bool(v.boxes)) for v in views] == [(2, True, True), (3, True, True)]


def test_searchable_keeps_letters_and_where_they_came_from():
    assert searchable("Kukës —\r\ntrans-\nit") == ("kukëstransit", [0, 1, 2, 3, 4, 9, 10, 11, 12, 13, 16, 17])


def test_an_extract_page_shows_its_passages_with_the_quote_marked():
    first = replace(PASSAGE, id="x.txt:p2:1", report="x.txt", text="Opening words.")
    second = replace(PASSAGE, id="x.txt:p2:2", report="x.txt", text="Victims pass through Kukës.")
    other_page = replace(second, id="x.txt:p3:1", page=3, page_end=3, text="Elsewhere.")
    [view] = text_pages([first, second, other_page], second, "pass through Kukës", 8)
    assert view.text == "Opening words.\n\nVictims pass through Kukës."
    assert view.text[view.quote_span[0]:view.quote_span[1]] == "pass through Kukës"


@pytest.mark.parametrize("page", [0, 99], ids=["before-first", "after-last"])
def test_pages_outside_the_file_are_skipped(page):
    assert pdf_page_views(PDF, replace(PASSAGE, page=page, page_end=page), QUOTE) == []
