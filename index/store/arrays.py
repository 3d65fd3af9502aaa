"""How a loaded generation holds its arrays: memory-mapped from the generation's .npy files.

A generation is immutable once published, so its vectors are mapped read-only: loading costs
next to nothing whatever the store's size, pages are read from disk only when a search
touches them, and every process that opens the same generation (the app, `ask`) shares one
copy in the page cache. (.npy data is 64-byte aligned, which BLAS needs to run at full speed;
a FAISS file's vectors are not, so vectors are kept as .npy.) A writer that merges a
generation with new reports copies what it keeps (`np.vstack`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.errors import StoreCorrupt


def load_array(store_path: Path, target: Path) -> np.ndarray:
    """A .npy file, memory-mapped read-only. A truncated or damaged file is refused."""
    try:
        return np.load(target, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError) as exc:
        raise StoreCorrupt(store_path, f"{target.parent.name}/{target.name} is unreadable ({exc})") from exc


def load_faiss_vectors(store_path: Path, target: Path) -> np.ndarray:
    """The vectors of a flat FAISS index file (generations written before vectors.npy), copied
    into an aligned array."""
    import faiss

    if not target.exists():
        raise FileNotFoundError(target)
    try:
        index = faiss.read_index(str(target))
    except RuntimeError as exc:
        raise StoreCorrupt(store_path, f"{target.parent.name}/{target.name} is unreadable ({exc})") from exc
    if index.ntotal == 0:
        return np.zeros((0, index.d), np.float32)
    return index.reconstruct_n(0, index.ntotal)


class VectorSet:
    """Unit-length vectors (row i = passage i) and how to find the rows closest to a question.

    Exact: one matrix-vector product over the (memory-mapped) rows, or over the allowed rows
    only when a filter leaves few. `ntotal` and `d` read like a FAISS index's.
    """

    # A filter that leaves fewer than this share of the rows is searched by scoring only
    # those rows; a looser one scores all and masks (cheaper than gathering most rows).
    GATHER_BELOW_SHARE = 0.25

    def __init__(self, vectors: np.ndarray):
        self.vectors = vectors

    @property
    def ntotal(self) -> int:
        return len(self.vectors)

    @property
    def d(self) -> int:
        return int(self.vectors.shape[1])

    def top(self, q: np.ndarray, depth: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `depth` rows closest to `q` by inner product among `allowed` (a boolean mask):
        (rows, scores), best first, ties by row."""
        from index.store.lexical import top_rows

        n = self.ntotal
        if allowed is None:
            rows = np.arange(n)
            scores = self._scores(q)
        else:
            rows = np.flatnonzero(allowed)
            if len(rows) < self.GATHER_BELOW_SHARE * n:
                scores = np.asarray(self.vectors[rows] @ q, dtype=np.float32) if len(rows) \
                    else np.zeros(0, np.float32)
            else:
                scores = self._scores(q)[rows]
        return top_rows(rows, scores, depth)

    def _scores(self, q: np.ndarray) -> np.ndarray:
        return np.asarray(self.vectors @ q, dtype=np.float32) if self.ntotal else np.zeros(0, np.float32)

    def search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """FAISS-style exact search of the queries `x` (nq, d): (scores, rows), -1 past the end."""
        nq = len(x)
        scores = np.full((nq, k), -np.inf, dtype=np.float32)
        rows = np.full((nq, k), -1, dtype=np.int64)
        for i, q in enumerate(np.asarray(x, dtype=np.float32)):
            r, s = self.top(q, k)
            rows[i, :len(r)], scores[i, :len(s)] = r, s
        return scores, rows
