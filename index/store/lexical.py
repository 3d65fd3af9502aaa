"""BM25 over passages, with bm25s. Tokens are case- and accent-folded and stemmed.

Folding accents makes "Kukës" and "Kukes" the same word; stemming makes
"flyers"/"flyer" and "trafficking"/"trafficked" meet.

Albanian passages are tokenised their own way: no English stemming (it would cut
"komitetit" to nonsense) and no English stopwords, but Albanian function words dropped
and common Albanian inflections trimmed ("trafikimit", "trafikimi" → "trafikim"); the
English words of the subject vocabulary (index/language.py) are added ("strehë" →
"shelter"). A query is tokenised both ways, so names and numbers match passages in
either language.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from index.language import ALBANIAN, ALBANIAN_WORDS, detect_language, english_gloss
from index.text import fold

TOKENIZER_VERSION = 3
BM25_METHOD = "lucene"
BM25_K1 = 1.2
BM25_B = 0.75
# bm25s's saved files (BM25.save), read directly and memory-mapped.
BM25_PARAMS = "params.index.json"
BM25_VOCAB = "vocab.index.json"
BM25_ARRAYS = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy")
# Methods whose score is the plain sum of precomputed postings (no non-occurrence term).
EAGER_METHODS = frozenset({"robertson", "lucene", "atire"})
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


def passage_tokens(text: str, language: str | None = None) -> list[str]:
    """A passage's BM25 tokens, its language detected from its text when not given."""
    return tokenize(text, language if language is not None else detect_language(text))


def tokenize(text: str, language: str = "en") -> list[str]:
    """BM25 tokens of `text` in `language` ("en" stems English; "sq" is the Albanian path)."""
    if language == ALBANIAN:
        return albanian_passage_tokens(text)
    words = [w for w in TOKEN.findall(fold(text)) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return _STEMMER.stemWords(words)


def albanian_tokens(text: str) -> list[str]:
    words = [w for w in TOKEN.findall(fold(text)) if w not in ALBANIAN_STOPWORDS and (len(w) > 1 or w.isdigit())]
    return [_albanian_stem(w) for w in words]


def albanian_passage_tokens(text: str) -> list[str]:
    """An Albanian passage's tokens: its own words, then the English stems of those the
    vocabulary translates, so English words (a question, an Albanian question's gloss) meet it."""
    words = [w for w in TOKEN.findall(fold(text)) if w not in ALBANIAN_STOPWORDS and (len(w) > 1 or w.isdigit())]
    glosses = " ".join(g for g in (english_gloss(w) for w in words) if g)
    return [_albanian_stem(w) for w in words] + tokenize(glosses)


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
    """BM25 whose document i is passage i: bm25s's precomputed score matrix (token → the passages
    holding it, with their scores), memory-mapped when loaded. A question reads only the
    postings of its own words, so its cost grows with how common they are, not with the store."""

    def __init__(self, bm25, size: int, *, vocab: dict | None = None, postings: tuple | None = None):
        self._bm25 = bm25  # the bm25s object when built here (to save); None when loaded
        self.size = size
        source = bm25.scores if bm25 is not None else None
        self.vocab: dict[str, int] = vocab if vocab is not None else bm25.vocab_dict
        self._data, self._indices, self._indptr = postings if postings is not None else (
            source["data"], source["indices"], source["indptr"])

    @classmethod
    def build(cls, texts: Sequence[str], languages: Sequence[str] | None = None, *,
              tokens: Sequence[list[str] | None] | None = None) -> "LexicalIndex":
        """`languages[i]` is passage i's language (Passage.language); detected from the text when not given.
        `tokens[i]`, when not None, is `passage_tokens(texts[i])` already (a writer that publishes one
        report at a time keeps them, so each publish tokenizes only the new passages)."""
        if not texts:  # the last report removed: bm25s cannot index nothing
            return cls(None, 0, vocab={}, postings=(np.zeros(0, np.float32), np.zeros(0, np.int32),
                                                    np.zeros(1, np.int32)))
        if tokens is None:
            tokens = [None] * len(texts)
        if languages is None:
            languages = [None] * len(texts)
        bm25 = bm25s.BM25(method=BM25_METHOD, k1=BM25_K1, b=BM25_B)
        # An empty token keeps bm25s happy with passages that are all stopwords.
        bm25.index([(known if known is not None else passage_tokens(t, lang)) or [""]
                    for t, lang, known in zip(texts, languages, tokens)], show_progress=False)
        return cls(bm25, len(texts))

    def save(self, directory: Path) -> None:
        if self._bm25 is not None:
            self._bm25.save(str(directory), show_progress=False)
            return
        # An index built here without bm25s (an empty one): the same files, as `load` reads them.
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        params = {"k1": BM25_K1, "b": BM25_B, "method": BM25_METHOD, "idf_method": BM25_METHOD,
                  "num_docs": self.size}
        (directory / BM25_PARAMS).write_text(json.dumps(params, indent=4), "utf-8")
        (directory / BM25_VOCAB).write_text(json.dumps(self.vocab), "utf-8")
        for name, array in zip(BM25_ARRAYS, (self._data, self._indices, self._indptr)):
            np.save(directory / name, np.asarray(array), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex":
        """Read bm25s's saved files (JSON + .npy, no pickle) directly, the arrays memory-mapped."""
        directory = Path(directory)
        params = json.loads((directory / BM25_PARAMS).read_text("utf-8"))
        if params.get("method", BM25_METHOD) not in EAGER_METHODS:
            raise ValueError(f"{directory}: BM25 method {params.get('method')!r} needs bm25s to score")
        vocab = json.loads((directory / BM25_VOCAB).read_text("utf-8"))
        postings = tuple(np.load(directory / name, mmap_mode="r", allow_pickle=False) for name in BM25_ARRAYS)
        return cls(None, int(params["num_docs"]), vocab=vocab, postings=postings)

    def _token_ids(self, query: str) -> list[int]:
        return [self.vocab[t] for t in query_tokens(query) if t in self.vocab]

    def _postings(self, token_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(passage rows, scores) of every posting of the tokens, in token order."""
        docs = [self._indices[self._indptr[t]:self._indptr[t + 1]] for t in token_ids]
        vals = [self._data[self._indptr[t]:self._indptr[t + 1]] for t in token_ids]
        return (np.concatenate(docs).astype(np.int64, copy=False) if docs else np.zeros(0, np.int64),
                np.concatenate(vals).astype(np.float32, copy=False) if vals else np.zeros(0, np.float32))

    def rows_with(self, word: str) -> np.ndarray:
        """The passages holding `word` (in any of its token forms), ascending."""
        return self._rows(self._postings(self._token_ids(word))[0])

    def rows_with_token(self, token: str) -> np.ndarray:
        """The passages holding an already tokenised word (a stem, as `tokenize` gives it)."""
        return self._rows(self._postings([self.vocab[token]] if token in self.vocab else [])[0])

    def _rows(self, docs: np.ndarray) -> np.ndarray:
        """The distinct passages of some postings, ascending, found by marking them in one pass
        over the store's rows: a sort of the postings (np.unique) would cost more than the
        question's encoding from about 100k passages on, as a common word has a posting in most."""
        held = np.zeros(self.size, dtype=bool)
        held[docs] = True
        return np.flatnonzero(held)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros when no word is known)."""
        docs, vals = self._postings(self._token_ids(query))
        return _sums(docs, vals, self.size)

    def top(self, query: str, depth: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `depth` best passages holding any word of `query` (among `allowed`, a boolean mask):
        (rows, scores), best first, ties by row. Passages without any word of it are not ranked."""
        docs, vals = self._postings(self._token_ids(query))
        if allowed is not None and len(docs):
            keep = allowed[docs]
            docs, vals = docs[keep], vals[keep]
        if not len(docs):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        rows = self._rows(docs)
        return top_rows(rows, _sums(docs, vals, self.size)[rows], depth)


def _sums(docs: np.ndarray, vals: np.ndarray, size: int) -> np.ndarray:
    """Each passage's summed posting scores, as float32 (summed in float64, so the order the
    postings come in does not change a score)."""
    return np.bincount(docs, weights=vals, minlength=size).astype(np.float32)


def top_rows(rows: np.ndarray, scores: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """The `depth` highest `scores` with their `rows`, best first, ties broken by the lower row."""
    if len(scores) > depth:
        # Everything scoring at least the depth-th best, so ties at the cut are settled by row.
        cut = np.partition(scores, len(scores) - depth)[len(scores) - depth]
        keep = scores >= cut
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:depth]
    return rows[order], scores[order]
