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


# From this many rows on, a generation also gets an approximate index (FAISS IVF, inner
# product) for its vector sets: below it, one exact scan is about as fast as the question's
# encoding allows; above it, the scan's cost grows with the store and the IVF's does not.
ANN_MIN_ROWS = 50_000
# Inverted lists ≈ IVF_LISTS_PER_SQRT · √n; a question scans IVF_NPROBE of them.
IVF_LISTS_PER_SQRT = 2
IVF_NPROBE = 24
# k-means is trained on at most this many rows per list (a fixed-seed sample).
IVF_TRAIN_PER_LIST = 40
IVF_SEED = 1234


def approximate_index_bytes(vectors: np.ndarray) -> bytes | None:
    """A serialised IVF index over `vectors` (row i = id i), or None when the set is small
    enough to scan. Built anew with every generation, so removal and replacement are rebuilds."""
    n = len(vectors)
    if n < ANN_MIN_ROWS:
        return None
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    lists = max(1, int(IVF_LISTS_PER_SQRT * np.sqrt(n)))
    quantizer = faiss.IndexFlatIP(vectors.shape[1])
    index = faiss.IndexIVFFlat(quantizer, vectors.shape[1], lists, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(IVF_SEED).choice(n, size=min(n, IVF_TRAIN_PER_LIST * lists), replace=False)
    index.train(vectors[np.sort(sample)])
    index.add(vectors)
    return faiss.serialize_index(index).tobytes()


def load_approximate_index(store_path: Path, target: Path):
    """The IVF index beside a vector set, or None when the generation has none."""
    if not target.exists():
        return None
    import faiss

    try:
        return faiss.read_index(str(target))
    except RuntimeError as exc:
        raise StoreCorrupt(store_path, f"{target.parent.name}/{target.name} is unreadable ({exc})") from exc


class VectorSet:
    """Unit-length vectors (row i = passage i) and how to find the rows closest to a question.

    Exact by default: one matrix-vector product over the (memory-mapped) rows, or over the
    allowed rows only when a filter leaves few. With an approximate index (large stores), the
    IVF index is searched instead, restricted to the allowed rows by a FAISS ID selector; if it
    finds fewer than asked, the exact scan answers. `ntotal` and `d` read like a FAISS index's.
    """

    # A filter that leaves fewer than this share of the rows is searched by scoring only
    # those rows; a looser one scores all and masks (cheaper than gathering most rows).
    GATHER_BELOW_SHARE = 0.25

    def __init__(self, vectors: np.ndarray, approximate=None):
        self.vectors = vectors
        self.approximate = approximate
        if approximate is not None and (approximate.ntotal, approximate.d) != vectors.shape:
            raise ValueError(f"approximate index holds {approximate.ntotal}×{approximate.d} vectors, "
                             f"the set {vectors.shape[0]}×{vectors.shape[1]}")

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
        if self.approximate is not None and (allowed is None or allowed.sum() >= self.GATHER_BELOW_SHARE * n):
            found = self._approximate_top(q, depth, allowed)
            if found is not None:
                return found
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

    def _approximate_top(self, q: np.ndarray, depth: int, allowed: np.ndarray | None):
        import faiss

        params = faiss.SearchParametersIVF(nprobe=IVF_NPROBE)
        if allowed is not None:
            bits = np.packbits(allowed, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
            params.sel = selector
        scores, rows = self.approximate.search(np.asarray(q, np.float32).reshape(1, -1), depth, params=params)
        valid = rows[0] >= 0
        if valid.sum() < min(depth, self.ntotal if allowed is None else int(allowed.sum())):
            return None  # too few in the lists probed: scan exactly
        from index.store.lexical import top_rows

        return top_rows(rows[0][valid].astype(np.int64), scores[0][valid].astype(np.float32), depth)

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
