"""What gets indexed for a passage: its text plus the context a reader sees around it.

A bullet such as "The Office offers its services through organizing public debates"
never names its presenter or unit; indexing the section title, speaker and
organisation with it lets "what does the child protection unit do?" find it. The heading
within the section (`Passage.subsection`) is indexed too: each passage of a testimony is
found by the name of who gives it. Only the
passage text is ever quoted.
"""

from __future__ import annotations

from index.language import ALBANIAN
from index.records import Passage

PART_WORDS = {"presentation": "presentation", "discussion": "discussion", "actions": "actions"}


def context_line(passage: Passage) -> str:
    pieces = [passage.section, passage.subsection, passage.speaker, passage.organisation,
              PART_WORDS.get(passage.part or "")]
    return " · ".join(p for p in pieces if p)


def indexed_text(passage: Passage) -> str:
    context = context_line(passage)
    return f"{context}\n{passage.text}" if context else passage.text


def english_model_text(text: str, language: str | None) -> str:
    """What the English model reads of a passage or sentence: an Albanian one as its word-by-word
    English gloss (as an Albanian question is read), since the model knows no Albanian."""
    from index.retrieval.query import gloss

    return gloss(text) if language == ALBANIAN else text
