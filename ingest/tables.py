"""Tables in a page's text: rows that keep their header and caption.

A PDF's text layer gives a table as one line per row ("Kenya 1,204 1,310 1,498"), under a
header line ("Country 2019 2020 2021") and a caption ("Table 4. Victims detected ..."). Cut
like prose, a row loses both, and a question about a figure ("victims in Kenya in 2021")
has nothing to find it by. Here each small group of rows becomes one passage that starts
with the caption and the header, so the figure, its column and its table travel together
and the figure is cited to the page it is printed on.

Only the text is rearranged, never changed: every line of a passage is a line of the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.text import CAPTION, CELL_NUMBER, MAX_ROW_WORDS, YEAR, is_table_row, word_count

MIN_ROWS = 3
ROWS_PER_PASSAGE = 4
# How far above the header a caption may be (lines).
CAPTION_REACH = 2


@dataclass(frozen=True)
class Table:
    """Lines `start`..`end` (exclusive) of a page: header (if any) and rows; caption may sit above."""

    start: int
    end: int
    caption: str | None
    header: str | None
    rows: tuple[str, ...]

    def passages(self, rows_per_passage: int = ROWS_PER_PASSAGE, max_words: int | None = None) -> list[list[str]]:
        """Lines of each passage: caption, header, then a few rows: at most `rows_per_passage`,
        and no more than fit in `max_words` words with the caption and header (at least one), so
        that a wide table is not cut later between its header and its rows."""
        lead = [line for line in (self.caption, self.header) if line]
        groups: list[list[str]] = []
        for row in self.rows:
            group = groups[-1] if groups else None
            if group is None or len(group) == rows_per_passage or \
                    (max_words is not None and word_count("\n".join([*lead, *group, row])) > max_words):
                groups.append([row])
            else:
                group.append(row)
        return [lead + group for group in groups]


def is_header(line: str) -> bool:
    """A header line: short, no sentence, and its figures (if any) are years or column labels."""
    cells = line.split()
    if not cells or len(cells) > MAX_ROW_WORDS or line.rstrip().endswith((".", "?", "!")):
        return False
    return not any(CELL_NUMBER.match(c) and not YEAR.match(c) for c in cells)


def keep_rows(text: str) -> str:
    """A page's text with every table line (rows, their header and caption) set apart by blank
    lines, so that rebuilding paragraphs from the page's lines (ingest.pdf_reader) leaves each
    row on a line of its own."""
    lines = text.split("\n")
    marked: set[int] = set()
    for table in find_tables(lines):
        marked.update(range(table.start, table.end))
    if not marked:
        return text
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in marked:
            out.extend(["", line, ""])
        else:
            out.append(line)
    return "\n".join(out)


def find_tables(lines: list[str]) -> list[Table]:
    """Every run of at least MIN_ROWS row lines, with the header line right above it and a
    caption line a little higher (or the header itself when it reads like a caption).
    Blank lines between rows do not end a table; `start` and `end` index `lines`."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    compact = [lines[i] for i in filled]
    return [Table(filled[t.start], filled[t.end - 1] + 1, t.caption, t.header, t.rows)
            for t in _find_tables(compact)]


def _find_tables(lines: list[str]) -> list[Table]:
    tables: list[Table] = []
    i = 0
    while i < len(lines):
        if not is_table_row(lines[i]):
            i += 1
            continue
        end = i
        while end < len(lines) and is_table_row(lines[end]):
            end += 1
        if end - i >= MIN_ROWS:
            tables.append(_table(lines, i, end))
        i = max(end, i + 1)
    return tables


def _table(lines: list[str], first_row: int, end: int) -> Table:
    start, header, caption = first_row, None, None
    above = first_row - 1
    if above >= 0 and lines[above].strip() and is_header(lines[above]) and not CAPTION.match(lines[above]):
        header, start = lines[above].strip(), above
    for back in range(start - 1, max(-1, start - 1 - CAPTION_REACH), -1):
        if CAPTION.match(lines[back]):
            caption, start = lines[back].strip(), back
            break
    if caption is None and above >= 0 and CAPTION.match(lines[above]):
        caption, start = lines[above].strip(), above
    rows = tuple(line.strip() for line in lines[first_row:end])
    return Table(start, end, caption, header, rows)
