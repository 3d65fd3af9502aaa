"""Turn hits into safe display text for the app. Plain Python, testable without Streamlit.

Report text is untrusted: a PDF may contain "<script>", "![x](http://elsewhere)" or
"[click](javascript:...)". Streamlit renders Markdown, so every character that
Markdown (or Streamlit's own :color[...] and $math$ syntax) would interpret is
backslash-escaped; the text then shows literally and creates no element.
"""

from __future__ import annotations

import re

from index.quotes.citations import Citation, format_citation, reference
from index.retrieval.search import Hit

# Every ASCII punctuation character may be backslash-escaped in CommonMark.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&\"'=^%@/])")
# GitHub-flavoured Markdown turns bare "http://…", "www.…" and "name@host" into links
# even when their punctuation is escaped; a zero-width space after the scheme, "www"
# or "@" stops that without changing what a reader sees.
AUTOLINK_START = re.compile(r"(?i)(\b(?:https?|ftp|mailto|xmpp)(?=:)|\bwww(?=\.)|(?<=\w)@(?=\w))")
ZERO_WIDTH_SPACE = "\u200b"


def escape_markdown(text: str) -> str:
    text = AUTOLINK_START.sub(lambda m: m.group(1) + ZERO_WIDTH_SPACE, text)
    escaped = MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # Newlines become explicit line breaks so list items keep their lines.
    return escaped.replace("\n", "  \n")


def highlighted_passage(hit: Hit) -> str:
    """The passage as Markdown, with the quote highlighted and everything else literal."""
    text = hit.passage.text
    before, quote, after = text[:hit.quote_start], hit.quote, text[hit.quote_end:]
    marked = f":orange-background[{escape_markdown(quote)}]" if quote.strip() else ""
    return escape_markdown(before) + marked + escape_markdown(after)


def citation_line(hit: Hit) -> str:
    """Who said it and where, for the caption under a passage."""
    return reference(Citation.of(hit.passage, hit.quote))


def copy_text(hit: Hit, style: str = "plain") -> str:
    """What the copy control puts on the clipboard: the quote with its citation."""
    return format_citation(Citation.of(hit.passage, hit.quote), style)
