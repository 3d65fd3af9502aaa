"""Read a plain-text report extract into pages.

Two page conventions are understood:
- conference extracts that print a marker such as `(2006 AC Report, page 38)` under
  each presentation title: the marker sets the page of everything up to the next title;
- `pdftotext`-style text whose pages are separated by form feeds: page = 1 + form feeds.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.errors import UnsupportedType
from index.records import Heading, Page
from index.text import is_heading_like, strip_emphasis

# "page" in English extracts, "faqe"/"faqja" in Albanian ones.
PAGE_MARKER = re.compile(r"\((?P<source>[^()\n]*?),\s*(?:page|faqe|faqja)\s+(?P<page>\d+)\s*\)", re.IGNORECASE)
SPACED_DASH = re.compile(r"\s+[—–]\s+")
# English titles, and Albanian ones: Z. (zoti, Mr), Znj. (zonja, Mrs/Ms), Zj. (zonjusha, Miss).
HONORIFIC = re.compile(r"^(Mr|Ms|Mrs|Miss|Dr|Prof|Znj|Zj|Z)\.?\s+\S", re.IGNORECASE)
TITLE_IN_INTRO = re.compile(r"\bfrom the (?P<title>.+?\bReport)\b|\bnga (?P<title_sq>Raporti\b[^\n.]*?\b(19|20)\d\d)\b",
                            re.IGNORECASE)
YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


def decode_text(path: Path, data: bytes) -> str:
    if b"\x00" in data:
        raise UnsupportedType(path, "binary content")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedType(path, f"not UTF-8 text at byte {exc.start}",
                              fix="save the extract as UTF-8 text") from exc


def read_text_pages(text: str) -> list[Page]:
    """Pages of an extract: by page markers when it has them, else by form feeds."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if PAGE_MARKER.search(text):
        return _pages_from_markers(text)
    return [Page(number=i, label=str(i), text=chunk)
            for i, chunk in enumerate(text.split("\f"), start=1)]


def guess_title_and_year(text: str) -> tuple[str | None, int | None]:
    """The report's title and year as the extract states them, if it does."""
    head = strip_emphasis(text[:3000])
    title_match = TITLE_IN_INTRO.search(head)
    title = " ".join((title_match.group("title") or title_match.group("title_sq")).split()) if title_match else None
    marker = PAGE_MARKER.search(text)
    year_source = title or (marker.group("source") if marker else head)
    year_match = YEAR.search(year_source)
    return title, int(year_match.group(1)) if year_match else None


def _pages_from_markers(text: str) -> list[Page]:
    lines = text.split("\n")
    pages: list[Page] = []
    start = 0
    intro_heading: Heading | None = None
    for index, line in enumerate(lines):
        marker = PAGE_MARKER.search(line)
        if not marker:
            continue
        heading_start, heading_lines = _heading_before(lines, index, line[: marker.start()])
        if not pages:
            intro_heading, intro_text = _intro(lines[start:heading_start])
            if intro_text.strip():
                pages.append(Page(number=None, label=None, text=intro_text, heading=intro_heading))
        else:
            pages[-1] = _with_text(pages[-1], "\n".join(lines[start:heading_start]))
        number = int(marker.group("page"))
        pages.append(Page(number=number, label=str(number), text="",
                          heading=parse_heading(heading_lines)))
        # Text after the marker on the same line belongs to the page.
        lines[index] = line[marker.end():]
        start = index
    pages[-1] = _with_text(pages[-1], "\n".join(lines[start:]))
    return pages


def _with_text(page: Page, text: str) -> Page:
    return Page(number=page.number, label=page.label, text=text, heading=page.heading)


def _heading_before(lines: list[str], index: int, same_line: str) -> tuple[int, list[str]]:
    """The title lines just above a page marker (and any title text on the marker's line)."""
    heading = [same_line.strip()] if same_line.strip() else []
    first = index
    cursor = index - 1
    while cursor >= 0:
        line = lines[cursor].strip()
        if line and not is_heading_like(line):
            break
        if line:
            heading.insert(0, line)
            first = cursor
        cursor -= 1
    return first, [strip_emphasis(h) for h in heading]


def _intro(lines: list[str]) -> tuple[Heading | None, str]:
    """The introduction before the first marker: its first heading line is its title."""
    for i, line in enumerate(lines):
        if line.strip():
            if is_heading_like(line):
                title = strip_emphasis(line.strip())
                return Heading(section=title, text=title), "\n".join(lines[i + 1:])
            break
    return None, "\n".join(lines)


def parse_heading(lines: list[str]) -> Heading:
    """Title, speaker and organisation from the heading lines of a presentation.

    Title lines look like "Title — Ms. Name, Organisation" or, with the title on the
    line before, "Organisation — Mr. Name".
    """
    if not lines:
        return Heading(section=None)
    heading = _parse_heading_lines(lines)
    return Heading(section=heading.section, speaker=heading.speaker,
                   organisation=heading.organisation, text="\n".join(lines))


def _parse_heading_lines(lines: list[str]) -> Heading:
    parts = SPACED_DASH.split(lines[-1], maxsplit=1)
    if len(parts) == 2:
        speaker_index = next((i for i, p in enumerate(parts) if HONORIFIC.match(p)), None)
        if speaker_index is not None:
            return _speaker_heading(lines, parts[speaker_index], parts[1 - speaker_index])
    return Heading(section=" — ".join(lines))


def _speaker_heading(lines: list[str], speaker_part: str, other: str) -> Heading:
    if "," in speaker_part:
        speaker, organisation = (s.strip() for s in speaker_part.split(",", 1))
        return Heading(section=other.strip(), speaker=speaker, organisation=organisation)
    if len(lines) >= 2:
        return Heading(section=lines[-2], speaker=speaker_part.strip(), organisation=other.strip())
    return Heading(section=other.strip(), speaker=speaker_part.strip())
