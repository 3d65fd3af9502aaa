"""What kind of text a passage is: content, or the furniture of a laid-out report.

A PDF's text layer holds more than the report's sentences: reference and endnote
entries ("15(4), 178–185, https://doi.org/…"), tables of contents with dot leaders,
running heads repeated on every page ("Global Report on Trafficking in Persons 2024"),
bare headings ("Five Chosen Actions"), the tick labels of charts ("0 500 1,000") and a chart's
caption standing alone ("Fig. 80 Number of children recruited …": the chart's figures are not
in the text layer), a cover page or the front matter before a report's first page.
They share words with many questions and rarely answer one, so the ranking puts them
below content. Judged from the text alone, so the splitter (at ingest) and the search
(for stores built before the mark existed) agree.
"""

from __future__ import annotations

import re

from index.text import WORD, word_count

CONTENT = "content"
REFERENCE = "reference"  # bibliography, endnote or source entry
CONTENTS = "contents"  # a table of contents
RUNNING_HEAD = "running-head"  # the same short line on several pages
HEADING = "heading"  # a short title line that says nothing by itself
CHART = "chart"  # axis ticks and labels of a chart (mostly numbers), or its caption alone
# A section's title as printed, with its presenter's line when the report names one (marked by
# the splitter), a cover page (mostly the report's title) or front matter before a report's first
# page reference: it names what follows rather than saying it.
TITLE = "title"
# A table's caption, header and a few of its rows (marked by the splitter, ingest/tables.py).
TABLE = "table"
KINDS = (CONTENT, REFERENCE, CONTENTS, RUNNING_HEAD, HEADING, CHART, TITLE, TABLE)
# Report furniture: no text of the report's own. It answers no question, so its words count for
# no key term (index.retrieval.rerank), and it is under no subsection (ingest.splitter).
FURNITURE = frozenset({REFERENCE, CONTENTS, RUNNING_HEAD, CHART})

URL = re.compile(r"(https?://|www\.|doi\.org|\.pdf\b|\.(org|gov|com|int|mil)/)", re.IGNORECASE)
CITATION_MARKS = (
    re.compile(r"\b(19|20)\d{2}[a-z]?\)"),  # "(2023)" "2019a)"
    re.compile(r"\bpp?\.\s*\d"),  # "pp. 12", "p. 4"
    re.compile(r"\b\d+\(\d+\)"),  # "15(4)"
    re.compile(r"\bet al\.?", re.IGNORECASE),
    re.compile(r"\b(Ibid|op\. cit)\b", re.IGNORECASE),
    re.compile(r"\bRetrieved from\b|\bAccessed\b|\bAvailable at\b", re.IGNORECASE),
    re.compile(r"\b(Journal|Review|Press|Vol\.|Report of the|Working Paper)\b"),
    re.compile(r"“[^”]{3,}”[.,]"),  # a quoted title followed by a period or comma
)
# ... and marks of a note's source, counted with those only in a passage that opens with a note's
# number or runs several notes together (in running text they also follow a sentence with its
# own notes).
SOURCE_MARKS = (
    re.compile(r"\b[A-Z]{1,5}/(\d{2,}|[A-Z]{2,})/"),  # a UN document symbol: "A/78/247", "A/HRC/25/48"
    re.compile(r"\b(United Nations publication|Sales No\.)"),
    # a place, publisher and year, "(Geneva, WMO, 2023)", or a place and date, "(Rome, March 2024)";
    # not an author and year in running text, "(UNODC, 2022)"
    re.compile(r"\([^()]{1,60},[^()]{1,40},\s*(19|20)\d{2}\)|\([^()]{1,60},\s*(January|February|March|April|May|"
               r"June|July|August|September|October|November|December)\s+(19|20)\d{2}\)"),
)
# A passage opening with a note's number needs this many marks of a source: "15 Member States
# reported an increase (UNODC, 2022)." is a sentence.
NOTE_MIN_MARKS = 2
# A note's number at the start: "130 FAO, Crop Prospects … (Rome, March 2024)."
NOTE_NUMBER = re.compile(r"^\d{1,3}\s+[A-Z“\"]")
# An endnote number after the end of the previous note: "… (2016). 119 FAO, The relations …".
ENDNOTE_RUN = re.compile(r"[.)”]\s+\d{1,3}\s+[A-Z]")
# A page where at least this share of the passages are references is a page of notes: its short
# passages (fragments of notes cut by the page's layout: "Sudan”, 10 September 2018.") are too.
NOTES_PAGE_SHARE = 0.5
NOTES_PAGE_MIN_PASSAGES = 5
NOTE_FRAGMENT_MAX_WORDS = 40
# An endnote in the style of UN reports: "91 David Okech and others, “Sex Trafficking in …”".
AUTHORS_AND_TITLE = re.compile(r"^\d{1,3}\s+\S[^“\n]{0,80}\band others,\s*“")
DOT_LEADER = re.compile(r"(\.\s?){5,}\s*\d+")
HEADING_MAX_WORDS = 8
RUNNING_HEAD_MAX_WORDS = 14
RUNNING_HEAD_MIN_PAGES = 3
CHART_MAX_LETTER_SHARE = 0.35
REFERENCE_MAX_OTHER_WORDS = 4
# A chart's caption printed apart from its figures: "Fig. 82 Estimated number of workers in ASM,
# by country, 2022 Source: World Bank …". Tables are not captions: their rows are in the text.
# "Figure 3 shows that …" is a sentence about the figure, not its caption.
FIGURE_CAPTION = re.compile(r"^(Fig\.|Figure|Map|Chart|Graph)\s*\d+[.:]?\s+"
                            r"(?!(shows?|illustrates?|presents?|depicts?|indicates?|gives?|compares?|"
                            r"summari[sz]es?|suggests?|highlights?)\b)", re.IGNORECASE)
CAPTION_MAX_WORDS = 50
# A passage on a report's first page whose words are at least this share of its title's words
# is the cover ("TO YOUTH ABOUT HUMAN TRAFFICKING A Guide for Youth Caretakers …").
COVER_TITLE_SHARE = 0.6


def passage_kind(text: str, *, pages_with_same_text: int = 1) -> str:
    """The kind of a passage's text. `pages_with_same_text`: on how many pages of its report
    the same text (compared by `repeat_key`) appears."""
    stripped = text.strip()
    words = word_count(stripped)
    if len(DOT_LEADER.findall(stripped)) >= 2:
        return CONTENTS
    if pages_with_same_text >= RUNNING_HEAD_MIN_PAGES and words <= RUNNING_HEAD_MAX_WORDS:
        return RUNNING_HEAD
    if _is_reference(stripped, words):
        return REFERENCE
    if _is_chart(stripped) or (FIGURE_CAPTION.match(stripped) and words <= CAPTION_MAX_WORDS):
        return CHART
    if 0 < words <= HEADING_MAX_WORDS and stripped[-1:] not in ".!?:;”\"" and "\n" not in stripped \
            and not any(c.isdigit() for c in stripped):
        return HEADING
    return CONTENT


def repeat_key(text: str) -> str:
    """Text as compared for running heads: case, digits (page numbers) and spacing ignored."""
    return " ".join(re.sub(r"\d+", "", text.casefold()).split())


def _is_reference(text: str, words: int) -> bool:
    urls = len(URL.findall(text))
    marks = sum(1 for mark in CITATION_MARKS if mark.search(text))
    sources = text.startswith(("Source:", "Sources:", "See ", "Note:")) or bool(re.match(r"^\d{1,3}\s+\S", text))
    if AUTHORS_AND_TITLE.match(text):
        return True
    note_marks = marks + sum(1 for mark in SOURCE_MARKS if mark.search(text))
    if (NOTE_NUMBER.match(text) and note_marks >= NOTE_MIN_MARKS) \
            or (len(ENDNOTE_RUN.findall(text)) >= 2 and note_marks >= 1):
        return True
    # A sentence that merely contains links is content ("posters showed … https://…"); a bare
    # link, or a link with citation marks, is a reference.
    if urls and (marks or sources or _words_outside_links(text) <= REFERENCE_MAX_OTHER_WORDS):
        return True
    return marks >= 3 or (marks >= 2 and sources)


def _words_outside_links(text: str) -> int:
    return word_count(" ".join(token for token in text.split() if not URL.search(token)))


def _is_chart(text: str) -> bool:
    visible = [c for c in text if not c.isspace()]
    if len(visible) < 8:
        return False
    letters = sum(c.isalpha() for c in visible)
    return letters / len(visible) < CHART_MAX_LETTER_SHARE and len(WORD.findall(text)) >= 4


def mark_kinds(passages, *, known: dict[str, str] | None = None) -> list:
    """The passages of one report with their `kind` set (a kind in `known`, by passage id, wins)."""
    from dataclasses import replace

    known = known or {}
    pages: dict[str, set] = {}
    for p in passages:
        pages.setdefault(repeat_key(p.text), set()).add(p.page)
    paged = any(p.page is not None for p in passages)
    marked = [replace(p, kind=known.get(p.id) or _title_matter(p, paged)
                      or passage_kind(p.text, pages_with_same_text=len(pages[repeat_key(p.text)])))
              for p in passages]
    notes = _notes_pages(marked)
    return [replace(p, kind=REFERENCE) if p.page in notes and p.kind in (CONTENT, HEADING)
            and word_count(p.text) <= NOTE_FRAGMENT_MAX_WORDS else p for p in marked]


def _notes_pages(passages) -> set:
    """The pages (of a paged report) where references are at least NOTES_PAGE_SHARE of at least
    NOTES_PAGE_MIN_PASSAGES passages."""
    counts: dict[int, list[int]] = {}
    for p in passages:
        if p.page is not None:
            tally = counts.setdefault(p.page, [0, 0])
            tally[0] += p.kind == REFERENCE
            tally[1] += 1
    return {page for page, (references, total) in counts.items()
            if total >= NOTES_PAGE_MIN_PASSAGES and references >= NOTES_PAGE_SHARE * total}


def _title_matter(passage, paged: bool) -> str | None:
    """TITLE for a report's front matter ("This document extracts key data …", before the first
    page reference of a report that has them) and its cover; None otherwise. Both describe the
    report, not what it says, and share words with every question about it."""
    if paged and passage.page is None and passage.paragraph is None:
        return TITLE
    names = f"{passage.title} {re.sub(r'[_.-]+', ' ', passage.report)}"
    if passage.page == 1 and _title_share(passage.text, names) >= COVER_TITLE_SHARE:
        return TITLE
    return None


def _title_share(text: str, title: str) -> float:
    """The share of `text`'s words that are words of `title` (case ignored)."""
    words = [w.casefold() for w in WORD.findall(text)]
    title_words = {w.casefold() for w in WORD.findall(title)}
    return sum(w in title_words for w in words) / len(words) if words else 0.0
