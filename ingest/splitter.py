"""Split a report's pages into quotable passages.

A passage is one paragraph or long bullet, or a list of short items under the line
that introduces it (a list is cut at items, each piece keeping that line), at most about
MAX_WORDS words, and never crosses a section. It crosses a page only when a sentence
runs on over the page break, and then it records both pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from index.language import detect_language
from index.passage_kind import CONTENT, FURNITURE, TABLE, TITLE, mark_kinds
from index.records import Document, Heading, Page, Passage
from index.text import (BULLET, FUNCTION_WORDS, MAX_TEXT_HEADING_WORDS, NUMBERED, WORD, is_heading_like, is_list_item,
                        is_short_title, mostly_letters, print_key, sentence_spans, strip_emphasis, word_count)
from ingest.tables import Table, find_tables

MAX_WORDS = 120
# Changing how text is split changes every passage: the store records this and
# rebuilds rather than mixing passages cut two ways. It also counts changes to how a passage's
# sentences get their vectors (8: pooled from the passage's own pass, ingest/builder.py), so a
# store never mixes two kinds of sentence vectors under one answer threshold. 9: lists keep their
# long items under a lead-in ending in ':', long heading-like lines are text, a cut list repeats
# the sentence announcing its items. 10: section titles marked as such (kind "title"), numbered
# items spaced apart are one list. 11: only when the numbering runs on, an over-long item is cut
# at sentences, a list is never joined to the paragraph after it, chart labels stay out. 12: a
# chart's caption alone is marked "chart", a cover page and front matter "title". 13: endnotes
# opening with their number or run together are references, and so are fragments on a notes page.
# 14: a note opening with its number needs two source marks; "Figure 3 shows …" is text.
# 15: a table passage holds only as many rows as fit with its caption and header, so that a
# wide table's rows are never cut off from them.
# 16: a heading line that names no section heads the paragraph after it instead of being dropped
# (a survivor's name over her testimony), and so does a short question standing alone.
# 17: a short line reading as a sentence and followed by one in lower case starts a paragraph, it
# is no heading (it had pushed the name over a testimony, "James Dold", out as a heading of
# nothing); a kept heading is a title of two words or more ending in a capitalised one.
# 18: the heading line over a paragraph is the subsection of every passage after it, up to the
# next heading (Passage.subsection): each passage of a testimony names who gives it.
# 19: a short title alone in a Word paragraph heads the paragraph after it, as in a PDF (it was
# joined to it with a space).
# 20: a sentence ends after its closing quote or bracket (index.text.sentence_spans): a paragraph
# cut at sentences had lost each one after a full stop, and sentence vectors and quotes cover it.
# 21: where a PDF's print is known (Page.large_print), only a line printed large names a section
# (not a chart's label or a note's first line), and stands alone even inside a paragraph; only a
# list of actions (plural) is the "actions" part, not "Action Card #6"; a subsection is a title
# (no sentence, not the section's own title) and no note is under one; lines giving a phone
# number, an address or a web site are kept as text with their labels (they were dropped).
SPLITTER_VERSION = 21
# A bullet this short ("Vehicle information (color, make, model, license plate, etc.)") says
# little alone: a run of them is kept together under its lead-in line, as a numbered list is.
SHORT_ITEM_WORDS = 16
PART_LABEL = re.compile(r"^(?:highlights of the (presentation|discussion)s?|pikat kryesore t[ëe] (prezantimit|diskutimit))\b",
                        re.IGNORECASE)
# Albanian extracts' part labels ("Pikat kryesore të diskutimit") name the same parts.
ALBANIAN_PARTS = {"prezantimit": "presentation", "diskutimit": "discussion"}
# The extract's lists of actions ("Five Chosen Actions", "All actions from Qark Discussions"): the
# plural only; "Action Card #6: …" or "Action plan for the year" is no such list.
ACTIONS_LABEL = re.compile(r"\bactions\b", re.IGNORECASE)
SUB_ITEM = re.compile(r"^\s+[-*•]\s+")
ITEM_NUMBER = re.compile(r"^\s*(\d{1,2})[.)]\s")
# A title printed large is at most this long (GLOTIP's longest: 23 words, a box's title).
MAX_PRINTED_TITLE_WORDS = 24
# A paragraph a heading line heads is a sentence at least this long, no chart's label cut short.
MIN_HEADED_WORDS = 4
# A short line followed by one in lower case is a sentence going on only from this many words.
MIN_RUN_ON_WORDS = 6
SECTION_NUMBER = re.compile(r"^\s*(\d+(\.\d+)*|[IVXLC]+)[.)]?\s+")
SENTENCE_CLOSERS = (".", "!", "?", ":", ";", "\"", "”", "’", ")")
# A line ending in one of these words continues on the next line: it is no heading.
RUN_ON_WORDS = FUNCTION_WORDS | frozenset("that which who whose".split())
OPENING_QUOTES = "\"'“‘(["
# A long line with at least this share of its words in lower case reads as a sentence.
TEXT_LOWER_CASE_SHARE = 1 / 3
# A phone number ("800-424-9098", "1(888) 373-7888"); with a web or e-mail address, a way to reach someone.
PHONE = re.compile(r"\d{3}[\s.-]\d{3}[\s.-]?\d{4}|\(\d{3}\)\s?\d{3}-\d{4}")
CONTACT = re.compile(PHONE.pattern + r"|https?://|www\.|@\w|\b[\w-]+\.(?:gov|org|com|mil|net|int)\b")
# A line that labels what follows it ("Hotline Phone Number:", "Hours: 24 hours, 7 days a week").
LABEL_LINE = re.compile(r"^[A-Z][\w ()/-]{0,40}:(\s|$)")
# Blocks whose passages get their kind from the splitter, not from their text (index.passage_kind).
MARKED_KINDS = {"table": TABLE, "title": TITLE}


@dataclass
class Block:
    """A run of text being assembled into a passage."""

    # "title" (a section heading as printed), "paragraph", "bullet", "numbered", "heading" (a
    # heading-like line that is dropped: it names a section or part, or is a chart label, a figure,
    # a page marker), "subheading" (a title naming neither, kept), "headed" (a subheading or a short
    # question and the paragraph it heads), "table", "qa"
    kind: str
    lines: list[str]
    page: Page
    last_page: Page
    heading: Heading | None
    part: str | None
    items: int = 1
    # The line that introduces a list ("… information about the people, like:"), repeated at
    # the head of each piece when the list is cut, so no piece loses what its items are.
    lead: str | None = None
    # The heading line over this block and those before it in its section (`_subsections`).
    subsection: str | None = None

    @property
    def text(self) -> str:
        joined_by_lines = self.kind in ("numbered", "bullet", "title", "table", "headed", "contact")
        return "\n".join(self.lines) if joined_by_lines else " ".join(self.lines)


@dataclass
class _State:
    heading: Heading | None = None
    part: str | None = None
    # True while the section comes from a heading line in the page text rather than
    # from the reader (extract title, PDF outline): such lines then name the section.
    heading_from_text: bool = True
    blocks: list[Block] = field(default_factory=list)
    max_words: int = MAX_WORDS


def split_document(doc: Document, *, max_words: int = MAX_WORDS) -> list[Passage]:
    blocks = _merge_related(_subsections(_contact_blocks(_blocks(doc.pages, max_words))))
    passages: list[Passage] = []
    counters: dict[str, int] = {}
    known: dict[str, str] = {}
    for block in blocks:
        for text in _limit_length(block, max_words):
            passages.append(_passage(doc, block, text, counters))
            if block.kind in MARKED_KINDS:
                known[passages[-1].id] = MARKED_KINDS[block.kind]
            elif block.kind == "contact" and PHONE.search(text):
                known[passages[-1].id] = CONTENT  # its web address does not make a hotline's card a reference
    # Tables and section titles as printed are marked as such; other passages by their text
    # (references, running heads, ...). A note is under no heading within the section.
    return [replace(p, subsection=None) if p.subsection and p.kind in FURNITURE else p
            for p in mark_kinds(passages, known=known)]


def _blocks(pages: tuple[Page, ...], max_words: int = MAX_WORDS) -> list[Block]:
    state = _State(max_words=max_words)
    for page in pages:
        if page.heading is not None:
            state.heading, state.part, state.heading_from_text = page.heading, None, False
            if page.heading.text:
                _start(state, page, "title", page.heading.text)
        current: Block | None = None
        lines = page.text.split("\n")
        last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
        tables = {table.start: table for table in find_tables(lines)}
        after_table = -1
        following = _next_lines(lines)
        for i, raw in enumerate(lines):
            if i < after_table:
                continue
            if i in tables:
                _table_blocks(state, page, tables[i])
                current, after_table = None, tables[i].end
                continue
            current = _feed_line(state, page, current, raw, ends_page=i == last, next_line=following[i])
    return state.blocks


def _next_lines(lines: list[str]) -> list[str]:
    """For each line, the next line of the page with text in it ("" for the last)."""
    found, following = "", [""] * len(lines)
    for i in range(len(lines) - 1, -1, -1):
        following[i] = found
        if lines[i].strip():
            found = lines[i]
    return following


def _feed_line(state: _State, page: Page, current: Block | None, raw: str, *, ends_page: bool,
               next_line: str = "") -> Block | None:
    """Add one line of page text; return the block that the next line may extend."""
    line = strip_emphasis(raw.rstrip())
    if not line.strip():
        return None
    if current is not None and current.kind in ("bullet", "numbered") and SUB_ITEM.match(raw):
        current.lines.append("- " + BULLET.sub("", line))
        return current
    if current is not None and current.kind in ("bullet", "numbered") and _wraps_item(current, line):
        _append_wrapped_item(current, line.strip())
        return current
    if BULLET.match(line):
        return _start(state, page, "bullet", BULLET.sub("", line))
    if NUMBERED.match(line):
        if current is not None and current.kind == "numbered":
            current.lines.append(line.strip())
            current.items += 1
            return current
        return _start(state, page, "numbered", line.strip())
    if current is not None and current.kind == "paragraph":
        _append_wrapped(current, line.strip())
        return current
    if page.paragraph is not None and current is None and ends_page and is_heading_like(line):
        # A Word paragraph alone on its line: a part's label sets the part ("Highlights of the
        # presentation"); a short title ("Ronny Marty") heads the paragraph after it, as in a PDF
        # (it had been joined to it with a space). No other line of it runs on, and it names no
        # section: the styles do.
        if PART_LABEL.match(line.strip()) or ACTIONS_LABEL.search(line):
            return _heading_line(state, page, line.strip())
        if _heads_text(line.strip()) and _titles(line.strip()):
            return _start(state, page, "subheading", line.strip())
    if is_heading_like(line) and (not _runs_on(line, ends_page, next_line) or _known_large(page, line)):
        return _heading_line(state, page, line.strip())
    return _start(state, page, "paragraph", line.strip())


def _wraps_item(block: Block, line: str) -> bool:
    """A line that carries on the item above it, wrapped by the page's width: it starts in lower
    case or with an opening quote, or the item stopped on a comma, a hyphen or a function word.
    (An item without a full stop, "Poverty", followed by a capitalised line is not wrapped.)"""
    if is_list_item(line):
        return False
    first, previous = line.strip()[:1], block.lines[-1].rstrip()
    last_word = previous.split()[-1].casefold() if previous.split() else ""
    return first.islower() or first in OPENING_QUOTES or previous.endswith((",", "-")) \
        or last_word in RUN_ON_WORDS


def _append_wrapped_item(block: Block, line: str) -> None:
    previous = block.lines[-1]
    block.lines[-1] = previous[:-1] + line if _hyphen_broken(previous, line) else f"{previous} {line}"


def _table_blocks(state: _State, page: Page, table: Table) -> None:
    """A few rows of a table per passage, each under the table's caption and header line."""
    for lines in table.passages(max_words=state.max_words):
        block = _start(state, page, "table", lines[0])
        block.lines.extend(lines[1:])


def _runs_on(line: str, ends_page: bool, next_line: str = "") -> bool:
    """A short line that is really the start of a sentence: it ends a page or a function word, or
    it reads as a sentence and the next line goes on in lower case ("During my preteen and early
    teenage years, my two" / "sisters, two brothers, …"; not a heading wrapped over two lines,
    "Conclusions and policy" / "recommendations", nor a chart's "27%")."""
    last_word = line.split()[-1].casefold() if line.split() else ""
    goes_on = next_line.strip()[:1].islower() and word_count(line) >= MIN_RUN_ON_WORDS and _reads_as_text(line)
    return ends_page or last_word in RUN_ON_WORDS or goes_on


def _outline_title(page: Page, line: str) -> str | None:
    """The outline entry this heading line prints ("2.1 Bar" prints "Bar"), if any."""
    bare = SECTION_NUMBER.sub("", line).casefold()
    return next((t for t in page.outline if t.casefold() in (bare, line.casefold())), None)


def _names_a_section(line: str, page: Page) -> bool:
    """In a PDF's text, a short line of mostly words (not "27%", not a table cell) names a section;
    one ending in ':' ("The potential victim(s):") leads into a list within the section instead.
    Where the report's print is known, only a line printed large does, and it may be a long
    title; one word printed large is as often an infographic's label ("Africa", "Armed")."""
    if _announces(line):
        return False
    if page.large_print is None:
        return is_short_title(line)
    return _printed_large(page, line) and _printed_title(line)


def _printed_title(line: str) -> bool:
    """Whether a line printed large reads as a title: two words or more and up to
    MAX_PRINTED_TITLE_WORDS, mostly letters, not a quotation pulled out ("“I was sold by my own
    uncle …”") or a figure called out ("27% of detected victims were children")."""
    words = line.split()
    return 2 <= len(words) <= MAX_PRINTED_TITLE_WORDS and line[:1] not in OPENING_QUOTES \
        and not any(c.isdigit() for c in words[0]) and mostly_letters(line)


def _printed_large(page: Page, line: str) -> bool:
    """Whether `line` is printed larger than the report's body text, as a section's title is; True
    when the print is not known (an extract, a Word file, a scan). A chart's label ("Prefer not to
    say", "Mali Central") or a note's first line ("20 UNODC Observatory on …") is printed small:
    read as a section's title, each had become the section of the passages after it."""
    return page.large_print is None or _known_large(page, line)


def _known_large(page: Page, line: str) -> bool:
    """Whether the page's print is known and `line` is printed large in it."""
    return page.large_print is not None and print_key(line) in page.large_print


def _heading_line(state: _State, page: Page, line: str) -> Block | None:
    part = PART_LABEL.match(line)
    if part:
        state.part = (part.group(1) or ALBANIAN_PARTS[part.group(2).lower()]).lower()
        return None
    title = _outline_title(page, line)
    if title is not None:
        state.heading = Heading(section=title)
    large = _known_large(page, line)
    printed_title = large and _printed_title(line)
    if title is None and not printed_title and word_count(line) > MAX_TEXT_HEADING_WORDS and _reads_as_text(line):
        # Too long to be a heading: a sentence without a full stop ("… include the following:",
        # "There is no single face of traffickers. … To school-aged victims"). It is text to index.
        return _start(state, page, "paragraph", line)
    if title is None and page.large_print is not None and not large and word_count(line) >= MIN_RUN_ON_WORDS \
            and _reads_as_text(line):
        # Printed as the text is and reading as it does: a sentence cut short by the layout ("I grew
        # up in El Salvador, raised by a courageous single" / "Mom. …"), not a heading to drop.
        return _start(state, page, "paragraph", line)
    names_section = title is not None
    if ACTIONS_LABEL.search(line):
        state.part = "actions"
        names_section = True  # "Five Chosen Actions" names the part, and leads into its list
    elif title is None and state.heading_from_text and _names_a_section(line, page):
        state.heading = Heading(section=line)
        names_section = True
    if names_section:
        kind = "heading"
    elif _heads_text(line) or (large and word_count(line) >= 2):
        # Printed large, it is a title even ending in lower case ("The initiative"); one that heads
        # nothing is kept as text (`_merge_related`), not dropped as a chart's label would be.
        kind = "subheading"
    elif large:
        return _start(state, page, "paragraph", line)  # one word printed large ("Header"): text
    else:
        kind = "heading"
    _start(state, page, kind, line)
    return None


def _heads_text(line: str) -> bool:
    """Whether a heading line that names no section is worth keeping over the paragraph after it:
    a title of a few words ending in a capitalised one ("Ronny Marty", "Effects of Trauma"). Not a
    chart's label ("Rwanda", "27%"), a page marker ("[p. 1]") or a sentence cut short ("… raised
    by a courageous single")."""
    words = line.split()
    return is_short_title(line) and not words[-1][:1].islower()


def _reads_as_text(line: str) -> bool:
    """Whether a long line without a full stop is a sentence rather than a chart's labels ("Central
    African Republic Zimbabwe Lao People's Democratic Republic …"): a sentence has words in lower case."""
    words = line.split()
    return sum(w[:1].islower() for w in words) >= TEXT_LOWER_CASE_SHARE * len(words)


def _start(state: _State, page: Page, kind: str, line: str) -> Block:
    block = Block(kind=kind, lines=[line], page=page, last_page=page,
                  heading=state.heading, part=state.part)
    state.blocks.append(block)
    return block


def _append_wrapped(block: Block, line: str) -> None:
    if _hyphen_broken(block.lines[-1], line):
        block.lines[-1] = block.lines[-1][:-1] + line
    else:
        block.lines.append(line)


def _hyphen_broken(previous: str, line: str) -> bool:
    """A word broken over two lines after a hyphen ("traf-" / "ficking"): one word again."""
    return previous.endswith("-") and line[:1].islower() and not previous.endswith(" -")


def _contact_blocks(blocks: list[Block]) -> list[Block]:
    """A run of short lines that give a phone number, an address or a web site, with their labels
    ("DoD Inspector General Hotline" / "Hotline Phone Number:" / "800-424-9098 (Toll-Free)" /
    "703-604-8799 (Commercial)"), is text: one block of lines. Each line looks like a heading, and
    all were dropped, so the numbers users ask for were in no passage."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        run = blocks[i:_heading_run_end(blocks, i)]
        gives = [bool(CONTACT.search(block.lines[0])) for block in run]
        info = [j for j, block in enumerate(run) if gives[j] or LABEL_LINE.match(block.lines[0])]
        if any(gives):
            first, last = max(info[0] - 1, 0), info[-1]  # with the title over the first label
            out.extend(run[:first])
            contact = run[first]
            contact.kind, contact.lines = "contact", [b.lines[0] for b in run[first:last + 1]]
            contact.last_page = run[last].last_page
            out.append(contact)
            out.extend(run[last + 1:])
        else:
            out.extend(run or blocks[i:i + 1])
        i += max(len(run), 1)
    return out


def _heading_run_end(blocks: list[Block], start: int) -> int:
    """Where the heading lines from `start` on, one after the other on one page, end (`start`
    itself if `blocks[start]` is none)."""
    end = start
    while end < len(blocks) and blocks[end].kind in ("heading", "subheading") \
            and blocks[end].page is blocks[start].page:
        end += 1
    return end


def _subsections(blocks: list[Block]) -> list[Block]:
    """Give each block the heading line it falls under within its section: a subheading right
    before a paragraph (and printed large, where the print is known: not a chart's label such as
    "Group 3") heads it and the blocks after it, up to the next heading line of any kind
    (a chart's label or a figure also ends it: what follows is no longer known to be under it),
    a new section or part. Before `_merge_related`, which drops the heading lines."""
    current: str | None = None
    for previous, block in zip([None, *blocks], blocks):
        if previous is not None and (previous.heading is not block.heading or previous.part != block.part):
            current = None
        if block.kind in ("heading", "subheading", "title"):
            current = None
        elif previous is not None and previous.kind == "subheading" and _heads(previous, block) \
                and _titles(previous.lines[0]) and not _in_section_title(previous.lines[0], block.heading) \
                and _printed_large(previous.page, previous.lines[0]):
            current = previous.lines[0]
            previous.subsection = current
        block.subsection = current
    return blocks


def _in_section_title(line: str, heading: Heading | None) -> bool:
    """Whether `line` is part of its section's own title ("OR GET ADDITIONAL SUPPORT", the second
    line of "HOW TO REPORT HUMAN TRAFFICKING OR GET ADDITIONAL SUPPORT")."""
    return heading is not None and bool(heading.section) and print_key(line) in print_key(heading.section)


def _titles(line: str) -> bool:
    """Whether a heading line over a paragraph reads as a title for what follows: not a note
    opening with its number ("16 International Labour Organization, Brick by Brick:"), a lead-in
    ending in ':', an address ("BlueCampaign@hsi.dhs.gov") or a sentence without its full stop
    ("The committee met in Kukës in March 2009": words in lower case that are not function words)."""
    if line[:1].isdigit() or line.rstrip().endswith(":") or "@" in line:
        return False
    return all(not w[:1].islower() or w.casefold() in RUN_ON_WORDS for w in WORD.findall(line))


def _merge_related(blocks: list[Block]) -> list[Block]:
    """Join what belongs together: continued sentences, Q&A pairs, list lead-ins."""
    merged: list[Block] = []
    for block in blocks:
        previous = merged[-1] if merged else None
        if previous is not None and _continues(previous, block):
            _join(previous, block, sep=" ")
        elif previous is not None and _answers(previous, block):
            _join(previous, block, sep="\n")
            previous.kind = "qa"
        elif previous is not None and _extends_list(previous, block):
            previous.lines.extend(block.lines)
            previous.items, previous.last_page = previous.items + block.items, block.last_page
        elif previous is not None and _heads(previous, block):
            previous.lines, previous.kind = [previous.text, block.text], "headed"
            previous.last_page = block.last_page
        elif previous is not None and _introduces(previous, block):
            lead = previous.text
            previous.lines = [lead, *block.lines]
            previous.kind, previous.items, previous.last_page = block.kind, block.items, block.last_page
            previous.lead = lead
        else:
            merged.append(block)
    for block in merged:
        # A Word paragraph or a line printed large that heads nothing is text all the same.
        if block.kind == "subheading" and (block.page.paragraph is not None
                                           or _known_large(block.page, block.lines[0])):
            block.kind = "paragraph"
    return [b for b in merged if b.kind not in ("heading", "subheading") and not _only_function_words(b)]


def _only_function_words(block: Block) -> bool:
    """A chart's label cut to its function words ("and the", of "North Africa and the Middle East")
    says nothing, and its vector is close to any question."""
    words = WORD.findall(block.text)
    return block.kind == "paragraph" and all(w.casefold() in RUN_ON_WORDS for w in words)


def _continues(previous: Block, block: Block) -> bool:
    """A paragraph that finishes the sentence before it: it starts in lower case, or it
    opens a page after one that stopped mid-sentence."""
    if block.kind != "paragraph" or previous.kind in ("heading", "subheading", "title") \
            or previous.heading is not block.heading:
        return False
    if previous.kind in ("bullet", "numbered") and not block.lines[0][:1].islower():
        return False  # a new paragraph after a list, even over a page break: joining would flatten the list
    next_page = block.page is not previous.last_page
    unfinished = not previous.text.rstrip().endswith(SENTENCE_CLOSERS)
    return block.lines[0][:1].islower() or (next_page and unfinished)


def _answers(previous: Block, block: Block) -> bool:
    return (previous.kind == "paragraph" and previous.text.startswith("Question:")
            and block.kind == "paragraph" and block.text.startswith("Answer:"))


def _heads(previous: Block, block: Block) -> bool:
    """A heading line that names no section (a survivor's name over her story, "Ronny Marty"), or a
    short question standing alone ("Who are Traffickers?"), right before a paragraph, heads it:
    its words are kept with the paragraph it introduces, neither dropped nor a passage that
    answers nothing. A chart's label over a fragment of the next one ("North Africa" / "and the")
    heads nothing."""
    heading = previous.kind == "subheading" or (previous.kind == "paragraph" and _asks(previous.text))
    return heading and block.kind == "paragraph" and not _asks(block.text) \
        and word_count(block.text) >= MIN_HEADED_WORDS \
        and previous.heading is block.heading and previous.part == block.part


def _asks(text: str) -> bool:
    """A short question alone: one sentence of a few words, ending in '?'."""
    return text.rstrip().endswith("?") and word_count(text) <= MAX_TEXT_HEADING_WORDS \
        and len(sentence_spans(text)) == 1


def _introduces(previous: Block, block: Block) -> bool:
    """A heading or a line ending in ':' right before a list is its lead-in."""
    lead_in = previous.kind in ("heading", "subheading") or (previous.kind in ("paragraph", "headed")
                                                             and _announces(previous.text))
    listed = block.kind == "numbered" or _short_bullet(block) or (block.kind == "bullet" and _announces(previous.text))
    return lead_in and listed and previous.heading is block.heading


def _announces(text: str) -> bool:
    """A line ending in ':' ("The potential victim(s):") announces the items after it, however
    long they are; a bare heading does not (the highlights of a presentation stand alone)."""
    return text.rstrip().endswith(":")


def _short_bullet(block: Block) -> bool:
    return block.kind == "bullet" and word_count(block.text) <= SHORT_ITEM_WORDS


def _extends_list(previous: Block, block: Block) -> bool:
    """A short bullet right after a list of short bullets in the same section is its next item, as
    is a numbered item after a numbered item. Long bullets stand alone: each is a whole statement
    (the highlights of a presentation), unless a lead-in ending in ':' announces them."""
    if previous.heading is not block.heading or previous.part != block.part:
        return False
    if block.kind == "numbered" and previous.kind == "numbered":
        # "5. Know the people …" after "4. Be aware …": items of one list, however spaced; a list
        # that starts again at 1 is another list.
        return _item_number(block.lines[0]) == _item_number(previous.lines[-1]) + 1
    if block.kind != "bullet" or previous.kind != "bullet":
        return False
    if previous.lead is not None and _announces(previous.lead):
        return True
    items = previous.lines[1:] if previous.lead else previous.lines
    return _short_bullet(block) and all(word_count(i) <= SHORT_ITEM_WORDS for i in items)


def _item_number(line: str) -> int:
    number = ITEM_NUMBER.match(line)
    return int(number.group(1)) if number else -1


def _join(previous: Block, block: Block, *, sep: str) -> None:
    if previous.kind == "headed":  # the heading stays a line of its own
        previous.lines = [previous.lines[0], previous.lines[1] + sep + block.text]
    else:
        previous.lines = [previous.text + sep + block.text]
    previous.last_page = block.last_page


def _limit_length(block: Block, max_words: int) -> list[str]:
    """Split an over-long block at list items, then at sentence ends."""
    text = block.text
    if word_count(text) <= max_words:
        return [text]
    if block.kind == "headed":  # each piece of the paragraph under its heading
        heading, paragraph = block.lines
        return [f"{heading}\n{piece}" for piece in _at_sentences(paragraph, max_words - word_count(heading))]
    units = block.lines if len(block.lines) > 1 else [text]
    sep = "\n" if len(block.lines) > 1 else " "
    lead = _lead_line(block.lead) if block.lead is not None and units[:1] == [block.lead] else None
    chunks: list[str] = []
    for unit in units:
        if chunks and word_count(chunks[-1] + sep + unit) <= max_words:
            chunks[-1] = chunks[-1] + sep + unit
        elif chunks and lead is not None and word_count(lead + sep + unit) <= max_words:
            chunks.append(lead + sep + unit)
        else:
            chunks.extend(_at_sentences(unit, max_words))
    return chunks


def _at_sentences(text: str, max_words: int) -> list[str]:
    """`text` in pieces of whole sentences of at most `max_words` words (a numbered item or a
    lead-in longer than a passage); a single longer sentence is wrapped at words."""
    if word_count(text) <= max_words:
        return [text]
    pieces: list[str] = []
    for a, b in sentence_spans(text):
        sentence = text[a:b]
        if pieces and word_count(pieces[-1] + " " + sentence) <= max_words:
            pieces[-1] += " " + sentence
        else:
            pieces.extend(_hard_wrap(sentence, max_words))
    return pieces


def _lead_line(lead: str) -> str:
    """What a later piece of a cut list repeats of its lead-in: the sentence that announces the
    items ("… include the following:"), not the paragraph before it, which the first piece holds.
    A heading ("A. 10 Steps Parents Can Take") is repeated whole."""
    spans = sentence_spans(lead)
    return lead[spans[-1][0]:spans[-1][1]] if spans and _announces(lead) else lead


def _hard_wrap(text: str, max_words: int) -> list[str]:
    """Last resort for a single sentence longer than the limit (tables, run-on text)."""
    chunks: list[str] = []
    for token in text.split(" "):
        if chunks and word_count(chunks[-1] + " " + token) <= max_words:
            chunks[-1] += " " + token
        else:
            chunks.append(token)
    return chunks


def _passage(doc: Document, block: Block, text: str, counters: dict[str, int]) -> Passage:
    heading = block.heading or Heading(section=None)
    first, last = block.page, block.last_page
    key = f"p{first.number}" if first.number is not None else \
        f"para{first.paragraph}" if first.paragraph is not None else "intro"
    counters[key] = counters.get(key, 0) + 1
    return Passage(
        id=f"{_slug(doc.report)}:{key}:{counters[key]}",
        report=doc.report,
        title=doc.title,
        year=doc.year,
        text=text,
        page=first.number,
        page_end=last.number if first.number is not None else None,
        page_label=first.label,
        page_end_label=last.label if first.number is not None else None,
        section=heading.section,
        speaker=heading.speaker,
        organisation=heading.organisation,
        part=block.part,
        subsection=block.subsection,
        ocr=first.ocr or last.ocr,
        language=detect_language(text),
        paragraph=first.paragraph,
    )


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", name.lower()).strip("-.")
