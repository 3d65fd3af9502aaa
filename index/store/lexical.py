"""BM25 over passages, with bm25s. Tokens are case- and accent-folded and stemmed.

Folding accents makes "Kukës" and "Kukes" the same word; stemming makes
"flyers"/"flyer" and "trafficking"/"trafficked" meet.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from index.text import fold

TOKENIZER_VERSION = 1
BM25_METHOD = "lucene"
BM25_K1 = 1.2
BM25_B = 0.75
TOKEN = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(STOPWORDS_EN) | {"what", "which", "who", "whom", "how", "why", "when", "where",
                                       "did", "does", "do", "can", "could", "should", "would"}
_STEMMER = Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    words = [w for w in TOKEN.findall(fold(text)) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return _STEMMER.stemWords(words)


class LexicalIndex:
    """A bm25s index whose document i is passage i."""

    def __init__(self, bm25: bm25s.BM25, size: int):
        self._bm25 = bm25
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> "LexicalIndex":
        bm25 = bm25s.BM25(method=BM25_METHOD, k1=BM25_K1, b=BM25_B)
        # An empty token keeps bm25s happy with passages that are all stopwords.
        bm25.index([tokenize(t) or [""] for t in texts], show_progress=False)
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
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
