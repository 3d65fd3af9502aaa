"""Update a store with new, changed or removed reports, under the writer lock.

Reports are identified by name and content hash: the same file again changes nothing,
a changed file with the same name replaces its passages, and a store built by another
model or splitter is rebuilt whole rather than mixed.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
from filelock import FileLock, Timeout

from index.records import Document, Passage
from index.text import sentence_spans

from index.retrieval.context import english_model_text, indexed_text
from index.embedder import Embedder, MultilingualEmbedder, Progress
from index.errors import IngestBusy, StoreMismatch, StoreMissing
from index.store.embedded import Contents, ReportInfo, empty_contents, load_store

LOCK_FILE = "ingest.lock"
DEFAULT_LOCK_WAIT_S = 600.0


@contextmanager
def writer_lock(path: Path, *, wait_s: float = DEFAULT_LOCK_WAIT_S,
                on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the store's one-writer lock. The OS drops it if the holder is killed."""
    path.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path / LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait is not None:
            on_wait()
        try:
            lock.acquire(timeout=wait_s)
        except Timeout:
            raise IngestBusy(path) from None
    try:
        yield
    finally:
        lock.release()


@dataclass(frozen=True)
class StoreState:
    """What the store holds before this run, and whether it must be rebuilt."""

    contents: Contents
    rebuild_reason: str | None


def open_contents(path: Path, embedder: Embedder, splitter_version: int,
                  multilingual: MultilingualEmbedder | None = None) -> StoreState:
    """The current contents, or empty contents plus the reason when a rebuild is due."""
    ml_name = multilingual.name if multilingual is not None else None
    empty = empty_contents(embedder.name, embedder.dimension, splitter_version, ml_name,
                           multilingual.dimension if multilingual is not None else 0)
    try:
        store = load_store(path)
    except StoreMissing:
        return StoreState(empty, None)
    except StoreMismatch as exc:
        return StoreState(empty, exc.detail)
    contents = store.contents
    reason = None
    if contents.model != embedder.name:
        reason = f"the model changed ({contents.model} → {embedder.name})"
    elif contents.splitter_version != splitter_version:
        reason = f"the splitter or the sentence vectors changed (version {contents.splitter_version} → {splitter_version})"
    elif contents.multilingual_model != ml_name:
        reason = f"the multilingual model changed ({contents.multilingual_model} → {ml_name})"
    return StoreState(empty if reason else contents, reason)


# How a sentence gets its vector: "pooled" from its passage's own forward pass (the mean of its
# tokens' contextual embeddings), or "encoded" on its own (a second pass over every sentence).
# Measured with `make eval` (the 1,155-passage shelf, every question file, int8 ONNX MiniLM):
# "pooled" embeds the passages only (the benchmark's 6 files: 1,043 texts instead of 3,801) and
# gives overall R@1/R@5/MRR 0.78/0.92/0.85 with the multilingual model (encoded: 0.78/0.93/0.85) and
# 0.77/0.93/0.83 without it (0.76/0.92/0.83); unanswerable refused 0.97 (0.94), false refusals
# 3 of 180 (2). Its best-sentence cosines sit on the same plateau of ANSWER_THRESHOLD (0.31–0.35
# give the same verdicts), so the threshold stays. (With torch MiniLM on corpus/ alone, before
# the shelf-aware ranking, "pooled" had lost 0.04 dev R@1: that is why "encoded" came first.)
SENTENCE_VECTORS = "pooled"


def embed_report(doc: Document, passages: Sequence[Passage], embedder: Embedder, *,
                 source_file: str, progress: Progress | None = None, splitter_version: int,
                 multilingual: MultilingualEmbedder | None = None, defer_multilingual: bool = False) -> Contents:
    """Vectors for a report's passages and for each of their sentences.

    With `defer_multilingual`, the multilingual rows are zeros and the report is marked
    `multilingual_pending`: it is searchable in English at once; `add_multilingual` completes it."""
    spans = [sentence_spans(p.text) for p in passages]
    texts = [english_model_text(indexed_text(p), p.language) for p in passages]
    if SENTENCE_VECTORS == "pooled":
        # indexed_text puts the context line before the text: shift the spans past it.
        shifts = [len(t) - len(p.text) for t, p in zip(texts, passages)]
        vectors, sentence_vectors = embedder.encode_with_spans(
            texts, [[(a + s, b + s) for a, b in row] for row, s in zip(spans, shifts)], progress=progress)
    else:
        pieces = [english_model_text(p.text[a:b], p.language) for p, row in zip(passages, spans) for a, b in row]
        both = embedder.encode(texts + pieces, progress=progress)
        vectors, sentence_vectors = both[:len(texts)], both[len(texts):]
    info = ReportInfo(report=doc.report, title=doc.title, year=doc.year, sha256=doc.sha256, kind=doc.kind,
                      pages=sum(1 for p in doc.pages if p.number is not None), passages=len(passages),
                      ingested_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), source_file=source_file,
                      ocr_pages=tuple(p.number for p in doc.pages if p.ocr and p.number is not None),
                      multilingual_pending=multilingual is not None and defer_multilingual)
    part = Contents(
        passages=tuple(passages),
        vectors=vectors,
        sentences=np.array([(row, a, b) for row, spans_of in enumerate(spans) for a, b in spans_of],
                           dtype=np.int32).reshape(-1, 3),
        sentence_vectors=sentence_vectors.reshape(-1, embedder.dimension),
        reports=(info,), model=embedder.name, dimension=embedder.dimension,
        splitter_version=splitter_version,
        multilingual_model=multilingual.name if multilingual is not None else None,
        multilingual_vectors=np.zeros((len(passages), multilingual.dimension), np.float32)
        if multilingual is not None else None)
    if multilingual is not None and not defer_multilingual:
        part = add_multilingual(part, multilingual, progress=progress)
    return part


def add_multilingual(part: Contents, multilingual: MultilingualEmbedder, *,
                     progress: Progress | None = None) -> Contents:
    """`part` (one report) with its multilingual passage vectors computed."""
    vectors = multilingual.encode_passages([indexed_text(p) for p in part.passages], progress=progress)
    reports = tuple(replace(info, multilingual_pending=False) for info in part.reports)
    return replace(part, multilingual_vectors=vectors, reports=reports)


def report_status(contents: Contents, doc_name: str, sha256: str) -> str:
    """'new', 'unchanged' or 'changed' for a report about to be ingested."""
    for info in contents.reports:
        if info.report == doc_name:
            return "unchanged" if info.sha256 == sha256 else "changed"
    return "new"

