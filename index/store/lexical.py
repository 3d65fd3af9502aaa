"""BM25 over passages, with bm25s. Tokens are case- and accent-folded and stemmed.

Folding accents makes "Kukës" and "Kukes" the same word; stemming makes
"flyers"/"flyer" and "trafficking"/"trafficked" meet.

Albanian passages are tokenised their own way: no English stemming (it would cut
"komitetit" to nonsense) and no English stopwords, but Albanian function words dropped
and common Albanian inflections trimmed ("trafikimit", "trafikimi" → "trafikim").
A query is tokenised both ways, so names and numbers match passages in either language.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from index.language import ALBANIAN, ALBANIAN_WORDS, detect_language
from index.text import fold

TOKENIZER_VERSION = 2
BM25_METHOD = "lucene"
BM25_K1 = 1.2
BM25_B = 0.75
TOKEN = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(STOPWORDS_EN) | {"what", "which", "who", "whom", "how", "why", "when", "where",
                                       "did", "does", "do", "can", "could", "should", "would"}
_STEMMER = Stemmer.Stemmer("english")


ALBANIAN_STOPWORDS = frozenset(fold(w) for w in ALBANIAN_WORDS) | {"e", "i", "a", "me", "te", "ne", "se"}
# Albanian inflection endings (folded), longest first; a stem keeps at least MIN_ALBANIAN_STEM letters.
ALBANIAN_SUFFIXES = tuple(sorted(
    "ave eve ive ore ise ite ive in it is ut ja je ra re ve ne te se et at es ur ar er ën ës ët a e i u t".split()
    + ["it", "in", "ve", "ës", "ët", "ën"], key=len, reverse=True))
MIN_ALBANIAN_STEM = 4


def tokenize(text: str, language: str = "en") -> list[str]:
    """BM25 tokens of `text` in `language` ("en" stems English; "sq" is the Albanian path)."""
    if language == ALBANIAN:
        return albanian_tokens(text)
    words = [w for w in TOKEN.findall(fold(text)) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return _STEMMER.stemWords(words)


def albanian_tokens(text: str) -> list[str]:
    words = [w for w in TOKEN.findall(fold(text)) if w not in ALBANIAN_STOPWORDS and (len(w) > 1 or w.isdigit())]
    return [_albanian_stem(w) for w in words]


def _albanian_stem(word: str) -> str:
    if word.isdigit():
        return word
    for suffix in (fold(s) for s in ALBANIAN_SUFFIXES):
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_ALBANIAN_STEM:
            return word[: -len(suffix)]
    return word


def query_tokens(query: str) -> list[str]:
    """A question's tokens for both kinds of passage: English stems, then Albanian forms not among them."""
    english = tokenize(query)
    seen = set(english)
    return english + [t for t in dict.fromkeys(albanian_tokens(query)) if t not in seen]


class LexicalIndex:
    """A bm25s index whose document i is passage i."""

    def __init__(self, bm25: bm25s.BM25, size: int):
        self._bm25 = bm25
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str], languages: Sequence[str] | None = None) -> "LexicalIndex":
        """`languages[i]` is passage i's language (Passage.language); detected from the text when not given."""
        if languages is None:
            languages = [detect_language(t) for t in texts]
        bm25 = bm25s.BM25(method=BM25_METHOD, k1=BM25_K1, b=BM25_B)
        # An empty token keeps bm25s happy with passages that are all stopwords.
        bm25.index([tokenize(t, lang) or [""] for t, lang in zip(texts, languages)], show_progress=False)
        return cls(bm25, len(texts))

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex":
        bm25 = bm25s.BM25.load(str(directory), show_progress=False, allow_pickle=False)
        return cls(bm25, int(bm25.scores["num_docs"]))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros when no word is known)."""
        vocab = self._bm25.vocab_dict
        tokens = [t for t in query_tokens(query) if t in vocab]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
