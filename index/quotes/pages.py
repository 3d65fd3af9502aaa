"""The page a quote comes from, with the quote marked. Plain Python (pypdfium2 and Pillow), no Streamlit.

For a PDF, the page is rendered as an image and the quote's own characters are found in the
page's text layer; their character boxes, merged into one rectangle per line, are painted over.
The passage text (read by pypdf) and the text layer (read by PDFium) differ in spacing, line
breaks and hyphenation, so the two are compared on letters and digits only; anything else
that differs means the quote is not located, and the page is shown without a mark rather
than with one in the wrong place.

For a text extract there is no image: the page's text is shown with the quote highlighted.

    view = pdf_page_views(source_path, passage, quote, quote_start)   # one PageView per page
    view.image (PNG bytes), view.boxes (pixel rectangles), view.located
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from index.records import Passage

RENDER_SCALE = 1.5  # pixels per PDF point: a readable page at about 900 px wide for A4/Letter
HIGHLIGHT_RGBA = (255, 200, 0, 110)  # translucent yellow, so the words stay legible
LINE_TOLERANCE = 0.5  # characters whose vertical centres differ by less than this share of a
# character's height belong to one line
BOX_PADDING_PT = 1.0  # the mark reaches a little beyond the glyphs


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels of the rendered image: left, top, right, bottom."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class PageView:
    """One rendered page with the quote marked (when `located`)."""

    page: int  # 1-based PDF page
    image: bytes  # PNG
    width: int
    height: int
    boxes: tuple[Box, ...]  # the painted line rectangles, in image pixels
    located: bool
    scale: float = RENDER_SCALE


@dataclass(frozen=True)
class TextPage:
    """A text extract's page: its text and where the quote is in it (None when not found)."""

    page: int | None
    label: str | None
    text: str
    quote_span: tuple[int, int] | None


def searchable(text: str) -> tuple[str, list[int]]:
    """Only the letters and digits of `text`, case-folded, and where each came from in `text`."""
    kept, where = [], []
    for index, char in enumerate(text):
        if char.isalnum():
            folded = char.casefold()
            kept.append(folded)
            where.extend([index] * len(folded))
    return "".join(kept), where


def passage_pages(passage: Passage) -> list[int]:
    if passage.page is None:
        return []
    last = passage.page_end if passage.page_end and passage.page_end >= passage.page else passage.page
    return list(range(passage.page, last + 1))


def pdf_page_views(pdf_path: Path | str, passage: Passage, quote: str, *, scale: float = RENDER_SCALE,
                   password: str | None = None) -> list[PageView]:
    """Each page the passage is on, rendered, with the quote's characters marked where found."""
    import pypdfium2 as pdfium

    pages = passage_pages(passage)
    pdf = pdfium.PdfDocument(str(pdf_path), password=password)
    try:
        pages = [p for p in pages if 1 <= p <= len(pdf)]
        located = _locate_quote(pdf, pages, quote)
        views = []
        for number in pages:
            page = pdf[number - 1]
            boxes = _line_boxes(page, located.get(number, []), scale) if located else []
            views.append(_render(page, number, boxes, scale, bool(located)))
        return views
    finally:
        pdf.close()


def _page_text(pdf, number: int) -> tuple[object, str] | None:
    textpage = pdf[number - 1].get_textpage()
    text = textpage.get_text_range()
    if len(text) != textpage.count_chars():  # indices would not match character boxes
        return None
    return textpage, text


def _locate_quote(pdf, pages: Sequence[int], quote: str) -> dict[int, list[tuple[object, int]]]:
    """{page: [(textpage, char index), ...]} for the quote's characters, or {} when not found
    exactly once across the passage's pages (in order, as one text)."""
    target, _ = searchable(quote)
    if not target:
        return {}
    combined, origin = [], []  # letters of all pages, and (page, textpage, char index) of each
    for number in pages:
        found = _page_text(pdf, number)
        if found is None:
            return {}
        textpage, text = found
        letters, where = searchable(text)
        combined.append(letters)
        origin.extend((number, textpage, i) for i in where)
    haystack = "".join(combined)
    start = haystack.find(target)
    if start < 0 or haystack.find(target, start + 1) >= 0:
        return {}  # absent, or ambiguous: better no mark than a mark in the wrong place
    first, last = origin[start], origin[start + len(target) - 1]
    chars: dict[int, list[tuple[object, int]]] = {}
    # Every character from the first to the last matched letter, page by page (spaces and
    # punctuation in between are part of the quote; their boxes are skipped if empty).
    for number, textpage, index in _span(origin, first, last):
        chars.setdefault(number, []).append((textpage, index))
    return chars


def _span(origin, first, last):
    """All (page, textpage, index) from `first` to `last`, including characters between letters."""
    pages = []
    for number, textpage, _ in origin:
        if not pages or pages[-1][0] != number:
            pages.append((number, textpage))
    started = False
    for number, textpage in pages:
        if number < first[0] or number > last[0]:
            continue
        begin = first[2] if number == first[0] else 0
        end = last[2] if number == last[0] else textpage.count_chars() - 1
        started = True
        for index in range(begin, end + 1):
            yield number, textpage, index
    assert started


def _line_boxes(page, chars: list[tuple[object, int]], scale: float) -> list[Box]:
    """The characters' boxes merged into one rectangle per line, in image pixels."""
    _, height = page.get_size()
    lines: list[list[float]] = []  # [left, bottom, right, top] in PDF points
    for textpage, index in chars:
        left, bottom, right, top = textpage.get_charbox(index)
        if right - left <= 0 or top - bottom <= 0:
            continue  # a space or line break: no glyph
        if lines and _same_line(lines[-1], bottom, top) and left >= lines[-1][0] - (top - bottom):
            line = lines[-1]
            line[0], line[1] = min(line[0], left), min(line[1], bottom)
            line[2], line[3] = max(line[2], right), max(line[3], top)
        else:
            lines.append([left, bottom, right, top])
    pad = BOX_PADDING_PT
    return [Box(left=(l - pad) * scale, top=(height - t - pad) * scale, right=(r + pad) * scale,
                bottom=(height - b + pad) * scale) for l, b, r, t in lines]


def _same_line(line: list[float], bottom: float, top: float) -> bool:
    centre, line_centre = (bottom + top) / 2, (line[1] + line[3]) / 2
    return abs(centre - line_centre) < LINE_TOLERANCE * max(top - bottom, line[3] - line[1])


def _render(page, number: int, boxes: list[Box], scale: float, located: bool) -> PageView:
    from PIL import Image, ImageDraw

    image = page.render(scale=scale).to_pil().convert("RGBA")
    if boxes:
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        for box in boxes:
            draw.rectangle((box.left, box.top, box.right, box.bottom), fill=HIGHLIGHT_RGBA)
        image = Image.alpha_composite(image, overlay)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=False)
    return PageView(page=number, image=buffer.getvalue(), width=image.width, height=image.height,
                    boxes=tuple(boxes), located=located, scale=scale)


def page_image(pdf_path: Path | str, number: int, *, scale: float = RENDER_SCALE,
               password: str | None = None) -> bytes:
    """A page rendered without any mark (PNG), e.g. for comparing with a marked one."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path), password=password)
    try:
        return _render(pdf[number - 1], number, [], scale, False).image
    finally:
        pdf.close()


# ---------------------------------------------------------------- text extracts

def text_pages(passages: Sequence[Passage], passage: Passage, quote: str, quote_start: int) -> list[TextPage]:
    """A text extract's page(s) for `passage`, rebuilt from the report's passages in order, with the
    quote's place in it. The extract's own page text is the passages of that page joined."""
    views = []
    for number in passage_pages(passage) or [None]:
        on_page = [p for p in passages if p.report == passage.report and number in (passage_pages(p) or [None])]
        parts, span, offset = [], None, 0
        for other in on_page:
            if other.id == passage.id and passage.text[quote_start:quote_start + len(quote)] == quote:
                span = (offset + quote_start, offset + quote_start + len(quote))
            parts.append(other.text)
            offset += len(other.text) + 2
        label = passage.page_label if number == passage.page else passage.page_end_label
        views.append(TextPage(page=number, label=label, text="\n\n".join(parts), quote_span=span))
    return views
