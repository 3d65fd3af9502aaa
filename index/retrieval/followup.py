"""Understand a follow-up question ("and in Has?", "who presented that?") without an LLM.

A question that is short, opens like a continuation, or points back ("that", "it")
borrows the key words of the previous question, and, when it points back, the
section of the previous answer's first passage. The app shows the result, so the
reader sees how the question was understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.store.lexical import STOPWORDS, TOKEN
from index.retrieval.search import Answer

CONTINUATION = re.compile(r"^\s*(and|but|also|what about|how about|dhe|po|edhe)\b", re.IGNORECASE)
REFERRING = frozenset("that this it its they them their those these he she him her there such "
                      "ai ajo ky kjo ata ato atë këtë kësaj atij asaj aty".split())
# A question with no more than this many content words cannot stand on its own.
SHORT_QUESTION_WORDS = 3


@dataclass(frozen=True)
class Interpretation:
    question: str
    interpreted: str
    reason: str = ""  # why the question was widened; empty when it stands alone

    @property
    def widened(self) -> bool:
        return self.interpreted != self.question


def content_words(text: str) -> list[str]:
    return [w for w in TOKEN.findall(text) if w.casefold() not in STOPWORDS and w.casefold() not in REFERRING]


def interpret(question: str, previous: Answer | None) -> Interpretation:
    if previous is None or not question.strip():
        return Interpretation(question, question)
    words = [w.casefold() for w in TOKEN.findall(question)]
    points_back = any(w in REFERRING for w in words)
    short = len(content_words(question)) <= SHORT_QUESTION_WORDS
    if not (CONTINUATION.match(question) or (points_back and short) or len(words) <= SHORT_QUESTION_WORDS):
        return Interpretation(question, question)
    own = {w.casefold() for w in content_words(question)}
    carried = [w for w in content_words(previous.interpreted or previous.question) if w.casefold() not in own]
    extra = " ".join(dict.fromkeys(carried))
    reason = "follows on from the previous question"
    if points_back and previous.hits and previous.hits[0].passage.section:
        extra = f"{extra} {previous.hits[0].passage.section}".strip()
        reason = "refers to the previous answer"
    return Interpretation(question, f"{question.strip()} {extra}".strip(), reason)
