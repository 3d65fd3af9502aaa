"""Small text helpers shared by the readers, the splitter and the quote finder."""

from __future__ import annotations

import re
import unicodedata

BULLET = re.compile(r"^\s*[-*•▪●◦‣»]\s+")
NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s+")
# Markdown emphasis in extracts (*qark*, **KUKËSI QARK**): the words are the quote, not the stars.
EMPHASIS = re.compile(r"(\*{1,3}|_{2})(?=\S)(.+?)(?<=\S)\1")
# Between two sentences: the closing quotes or brackets after the stop (group 1, the first
# sentence's last characters), then the space.
SENTENCE_END = re.compile(r"(?<=[.!?])([\"'”’)]*)\s+(?=[\"'“‘(]*[A-Z0-9À-Ý])")
# Abbreviations that end in a period but do not end a sentence.
ABBREVIATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "e.g.", "i.e.", "etc.", "vs.", "No.", "St.")
LIST_NUMBER = re.compile(r"\d{1,2}[.)]")
WORD = re.compile(r"\w+", re.UNICODE)
MAX_HEADING_WORDS = 30
# Typeset ligatures ("misﬁts") as plain letters.
LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})


# A table row ("Kenya 1,204 1,310 1,498"): its cells, figures and years (index.text so that
# ingest, which finds tables, and the verdict, which reads a table's sentences, share one test).
CELL_NUMBER = re.compile(r"^[-+(]?[$€£]?\d[\d,.]*%?\)?$|^[-–—]$|^n/?a$", re.IGNORECASE)
YEAR = re.compile(r"^(19|20)\d{2}([-–/]\d{2,4})?$")
MIN_NUMBERS_PER_ROW = 2
MIN_NUMBER_SHARE = 0.3
MAX_ROW_WORDS = 30
# A table's caption ("Table 4. Victims detected …", "Fig. 3 …"), shared like the row test.
CAPTION = re.compile(r"^\s*(Table|Tab\.|Figure|Fig\.|Exhibit|Chart|Annex table)\s*[\w.-]*\d", re.IGNORECASE)
# A heading in a report's text is a short line: a title of a few words ("Risk Factors",
# "Ronny Marty"), not a sentence. Shared by the splitter (which keeps such a line with the
# paragraph it heads) and the quote finder (which never quotes it alone).
MAX_TEXT_HEADING_WORDS = 12
# ... and mostly letters: not "27%", not a table cell, not a page marker ("[p. 1]").
MIN_TITLE_LETTER_SHARE = 0.6
# Words a line ending in goes on on the next line (a title wrapped, a sentence cut by the layout).
FUNCTION_WORDS = frozenset("a an the of from to in on at by for with and or but as".split())


def print_key(text: str) -> str:
    """`text` to compare with what a PDF prints, whatever the line breaks, spacing, case and
    ligatures ("Main types of traﬃckers" and "Main types\nof traffickers" are the same)."""
    return "".join(text.translate(LIGATURES).casefold().split())


def strip_emphasis(text: str) -> str:
    # Repeat for nested emphasis such as "**bold *italic***".
    while True:
        stripped = EMPHASIS.sub(r"\2", text)
        if stripped == text:
            return text
        text = stripped


def word_count(text: str) -> int:
    return len(WORD.findall(text))


def is_short_title(line: str) -> bool:
    """A line of two to a dozen words, mostly letters: what a heading in the text looks like."""
    return 2 <= word_count(line) <= MAX_TEXT_HEADING_WORDS and mostly_letters(line)


def mostly_letters(line: str) -> bool:
    """At least MIN_TITLE_LETTER_SHARE of the line's characters (spaces aside) are letters."""
    return sum(c.isalpha() for c in line) >= MIN_TITLE_LETTER_SHARE * len(line.replace(" ", ""))


def is_list_item(line: str) -> bool:
    return bool(BULLET.match(line) or NUMBERED.match(line))


def is_heading_like(line: str) -> bool:
    """A short standalone line that names something rather than saying something."""
    line = line.strip()
    if not line or is_list_item(line) or line[0].islower():
        return False
    if line[-1] in ".!?;,":
        return False
    return word_count(line) <= MAX_HEADING_WORDS


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences (and list lines) of `text`.

    Every span is an exact slice of `text`, so a quote built from spans is always a
    substring of the passage.
    """
    spans: list[tuple[int, int]] = []
    for line_start, line in _lines_with_offsets(text):
        start = 0
        for match in SENTENCE_END.finditer(line):
            before = line[start: match.start()]
            if before.endswith(ABBREVIATIONS) or LIST_NUMBER.fullmatch(before.strip()):
                continue
            # The sentence ends after its closing quote: "goes by “Ghost.”" (a passage rebuilt from
            # sentences had lost every closing quote after a full stop).
            _add_span(spans, line, line_start, start, match.end(1))
            start = match.end()
        _add_span(spans, line, line_start, start, len(line))
    return spans


def _lines_with_offsets(text: str):
    offset = 0
    for line in text.split("\n"):
        yield offset, line
        offset += len(line) + 1


def _add_span(spans: list, line: str, line_start: int, start: int, end: int) -> None:
    piece = line[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    left = start + (len(piece) - len(piece.lstrip()))
    spans.append((line_start + left, line_start + left + len(stripped)))


def fold(text: str) -> str:
    """Lower-case and strip accents, for matching Kukës with Kukes."""
    folded = text.casefold()
    if folded.isascii():  # most text: nothing to strip, and this runs for every sentence asked about
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_for_match(text: str) -> str:
    """How the evaluation compares evidence: case-folded, `*`/`_` removed, spaces collapsed."""
    return " ".join(text.replace("*", "").replace("_", "").casefold().split())


SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text as every store can hold it. A PDF font's broken ToUnicode map (or a command-line
    argument that was not UTF-8) can give UTF-16 surrogate halves: a pair is joined into its
    character, a lone one becomes U+FFFD (UTF-8 cannot encode it, so the store could not be
    written). NULs are dropped (PostgreSQL text cannot hold them)."""
    if SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", "")


def is_table_row(line: str) -> bool:
    """A table row: short, with at least two figures making up a good share of its cells."""
    cells = line.split()
    if not cells or len(cells) > MAX_ROW_WORDS:
        return False
    numbers = sum(bool(CELL_NUMBER.match(c)) and not YEAR.match(c) for c in cells)
    return numbers >= MIN_NUMBERS_PER_ROW and numbers / len(cells) >= MIN_NUMBER_SHARE


def table_row_spans(text: str) -> list[tuple[int, int]]:
    """Where the lines of `text` that are table rows start and end, in order. Rows are found by
    line: a row's sentences can split at an abbreviation ("Bosnia and Herz.")."""
    spans, offset = [], 0
    for line in text.split("\n"):
        if is_table_row(line):
            spans.append((offset, offset + len(line)))
        offset += len(line) + 1
    return spans


def table_head(text: str) -> list[str]:
    """The lines of a table passage before its first row: its caption and header line (none when
    the passage opens with a row, the rest of a cut or continued table)."""
    rows = table_row_spans(text)
    return [line for line in text[:rows[0][0]].split("\n") if line.strip()] if rows else []
