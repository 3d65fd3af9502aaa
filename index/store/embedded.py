"""The on-disk store: FAISS vectors, passage metadata, BM25 and a manifest, saved together.

Layout of a store directory::

    CURRENT                 {"generation": "gen-000007-1a2b3c"}  (replaced atomically)
    gen-000007-1a2b3c/      one complete, immutable generation
        manifest.json       format, model, dimension, counts, reports, file checksums
        passages.jsonl      passage i on line i
        vectors.npy         row i = passage i (normalised; inner product = cosine)
        sentences.npy       (passage row, start, end) of every sentence
        sentence_vectors.npy
        multilingual_vectors.npy   (optional) passage vectors of the multilingual model
        bm25/               bm25s files (JSON + .npy, no pickle)
    sources/<sha256>        the report files as ingested, for rebuilds and provenance
    ingest.lock             held by the one writer

A large store (index/store/embedded_writer.py `SEGMENTED_FROM_PASSAGES`) keeps the per-passage
files per segment instead, in row order: gen-…/segments/<name>/{passages.jsonl, vectors.npy, …},
listed in the manifest's `segments`; a segment a generation keeps from the one before is a set
of hard links, so publishing one report does not rewrite the others. The BM25 index (and any
approximate index) stays one per generation.

A writer builds a new generation beside the old one, fsyncs it, and only then
repoints CURRENT, so a reader sees the old generation or the new one, never a mix.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from index.records import Passage

from index.errors import StoreCorrupt, StoreMismatch, StoreMissing
from index.store.arrays import (VectorSet, approximate_index_bytes, load_approximate_index, load_array,
                                 load_faiss_vectors)
from index.store.lexical import TOKENIZER_VERSION, LexicalIndex, passage_tokens
from index.store import disk
from index.store.layout import (CURRENT, MANIFEST, MANIFEST_CHECKSUM, MANIFEST_COPY,  # noqa: F401
                                SOURCE_INFO_SUFFIX, SOURCES)

FORMAT_VERSION = 2
# Format 1: one set of files per generation. Format 2: per-segment files under segments/
# (a segment holds whole reports; unchanged segments are hard links to the previous generation's).
READABLE_FORMATS = (1, 2)
SEGMENTS_DIR = "segments"
SEGMENT_FILES = ("passages.jsonl", "vectors.npy", "sentences.npy", "sentence_vectors.npy",
                 "multilingual_vectors.npy")
PASSAGES = "passages.jsonl"
VECTORS_NPY = "vectors.npy"
VECTORS = "vectors.faiss"  # generations written before vectors.npy (read, never written)
SENTENCES = "sentences.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
MULTILINGUAL_VECTORS = "multilingual_vectors.npy"
# Large stores only (index.store.arrays.ANN_MIN_ROWS): FAISS IVF indexes over the whole generation.
VECTORS_ANN = "vectors.ivf"
MULTILINGUAL_ANN = "multilingual_vectors.ivf"
BM25_DIR = "bm25"
GENERATION_PREFIX = "gen-"
TEMP_PREFIX = ".tmp-"
# Keep the generation before the current one so that a reader that has just read
# CURRENT can still open it while a writer publishes the next.
KEEP_GENERATIONS = 2
LOAD_RETRIES = 3
# Files up to this size are checksummed at every load (a few milliseconds in all); larger ones
# only at `verify` and ingest, so that opening a store of a million passages stays instant.
CHECKSUM_AT_LOAD_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ReportInfo:
    """One ingested report, as the manifest records it."""

    report: str
    title: str
    year: int | None
    sha256: str
    kind: str
    pages: int
    passages: int
    ingested_at: str
    source_file: str
    # Physical pages (1-based) whose text was read by OCR from a scan; empty for text PDFs and extracts.
    ocr_pages: tuple[int, ...] = ()
    # True while the report is searchable in English only: its multilingual vectors come in a
    # later publish (its rows hold zeros until then). See ingest/pipeline.py.
    multilingual_pending: bool = False

    def __post_init__(self):
        object.__setattr__(self, "ocr_pages", tuple(self.ocr_pages or ()))  # JSON gives a list


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model: str
    dimension: int
    splitter_version: int
    tokenizer_version: int
    passage_count: int
    sentence_count: int
    reports: tuple[ReportInfo, ...]
    multilingual_model: str | None = None
    checksums: dict = field(default_factory=dict)
    created_at: str = ""
    # Bytes of each file, checked at every load (checksums of large files only at verify).
    sizes: dict = field(default_factory=dict)
    # Format 2: the segments in row order, each {"name", "reports", "passages", "sentences"}.
    segments: tuple = ()

    def to_json(self) -> dict:
        data = asdict(self)
        data["reports"] = [asdict(r) for r in self.reports]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Manifest":
        data = dict(data)
        data["reports"] = tuple(ReportInfo(**r) for r in data["reports"])
        return cls(**data)


@dataclass(frozen=True)
class Contents:
    """Everything a generation holds, in memory. Row i of each array is passage i."""

    passages: tuple[Passage, ...]
    vectors: np.ndarray
    sentences: np.ndarray  # int32 (n, 3): passage row, start, end
    sentence_vectors: np.ndarray
    reports: tuple[ReportInfo, ...]
    model: str
    dimension: int
    splitter_version: int
    multilingual_model: str | None = None
    multilingual_vectors: np.ndarray | None = None


@dataclass(frozen=True)
class Store:
    """A loaded generation, ready to search. Shared read-only between sessions."""

    path: Path
    generation: str
    manifest: Manifest
    contents: Contents
    faiss_index: VectorSet  # the passage vectors and their search (reads like a FAISS index)
    lexical: LexicalIndex
    multilingual_index: VectorSet | None = None  # the multilingual vectors and their search

    @property
    def passages(self) -> tuple[Passage, ...]:
        return self.contents.passages


# ---------------------------------------------------------------- reading

def current_generation(path: Path) -> str | None:
    """The generation CURRENT points at, or None when no store has been published."""
    try:
        return json.loads((Path(path) / CURRENT).read_text("utf-8"))["generation"]
    except FileNotFoundError:
        return None
    except (ValueError, KeyError) as exc:
        raise StoreCorrupt(path, f"{CURRENT} is unreadable ({exc})") from exc


def load_store(path: Path | str, *, model: str | None = None, verify: bool = False) -> Store:
    """Load the current generation. With `model`, refuse a store built by another model.

    Loading is cheap whatever the store's size: the arrays are memory-mapped, and only the
    manifest's counts, the files' sizes and the checksums of small files are checked
    (`CHECKSUM_AT_LOAD_BYTES`). `verify=True` also checksums every large file, as
    `python -m index verify` and ingest do.
    """
    path = Path(path)
    return _on_current_generation(path, lambda generation: _load_generation(
        path, generation, model=model, verify=verify))


def read_current_manifest(path: Path | str, *, model: str | None = None) -> Manifest:
    """The current generation's manifest alone (a few milliseconds): to fail fast, before a model
    loads, on a missing or incompatible store."""
    path = Path(path)
    manifest = _on_current_generation(path, lambda generation: _read_manifest(path, path / generation))
    _check_compatible(path, manifest, model)
    return manifest


def _on_current_generation(path: Path, read):
    """`read(generation)` on the generation CURRENT points at, trying again when a writer
    retired that generation between our reading CURRENT and opening it."""
    for attempt in range(LOAD_RETRIES):
        generation = current_generation(path)
        if generation is None:
            raise StoreMissing(path)
        try:
            return read(generation)
        except FileNotFoundError:
            if attempt == LOAD_RETRIES - 1 or current_generation(path) == generation:
                raise StoreCorrupt(path, f"generation {generation} is incomplete") from None
    raise AssertionError("unreachable")


def _load_generation(path: Path, generation: str, *, model: str | None, verify: bool = False) -> Store:
    gen_dir = path / generation
    manifest = _read_manifest(path, gen_dir)
    _check_compatible(path, manifest, model)
    _check_files(path, gen_dir, manifest, verify=verify)
    if manifest.segments:
        passages, vectors, sentences, sentence_vectors, multilingual = _load_segments(path, gen_dir, manifest)
    else:  # format 1
        passages = read_passages(gen_dir / PASSAGES)
        vectors = load_array(path, gen_dir / VECTORS_NPY) if (gen_dir / VECTORS_NPY).exists() or \
            not (gen_dir / VECTORS).exists() else load_faiss_vectors(path, gen_dir / VECTORS)
        sentences = load_array(path, gen_dir / SENTENCES)
        sentence_vectors = load_array(path, gen_dir / SENTENCE_VECTORS)
        multilingual = load_array(path, gen_dir / MULTILINGUAL_VECTORS) if manifest.multilingual_model else None
    faiss_index = VectorSet(vectors, load_approximate_index(path, gen_dir / VECTORS_ANN))
    multilingual_index = VectorSet(multilingual, load_approximate_index(path, gen_dir / MULTILINGUAL_ANN)) \
        if multilingual is not None else None
    lexical = LexicalIndex.load(gen_dir / BM25_DIR)
    _check_counts(path, manifest, passages, faiss_index, lexical, sentences, sentence_vectors)
    if multilingual is not None and len(multilingual) != len(passages):
        raise StoreCorrupt(path, "multilingual vectors and passages disagree")
    contents = Contents(passages=passages, vectors=vectors, sentences=sentences,
                        sentence_vectors=sentence_vectors, reports=manifest.reports,
                        model=manifest.model, dimension=manifest.dimension,
                        splitter_version=manifest.splitter_version,
                        multilingual_model=manifest.multilingual_model, multilingual_vectors=multilingual)
    return Store(path=path, generation=generation, manifest=manifest, contents=contents,
                 faiss_index=faiss_index, lexical=lexical, multilingual_index=multilingual_index)


def read_passages(file: Path) -> tuple[Passage, ...]:
    """The passages of a passages.jsonl file, in order.

    Lines are cut at "\n" only: `str.splitlines` would also cut at U+2028 or U+0085, which
    JSON written with ensure_ascii=False leaves unescaped inside a passage's text. The lines
    are parsed as one JSON array, which takes half the time of a parse per line."""
    lines = [line for line in file.read_text("utf-8").split("\n") if line]
    return tuple(Passage.from_json(data) for data in json.loads("[" + ",".join(lines) + "]"))


def _load_segments(path: Path, gen_dir: Path, manifest: Manifest):
    """The segments' rows, in order. One segment (the usual store after a rebuild, or one ingest
    of one folder) stays memory-mapped; several are concatenated, sentence rows shifted."""
    parts = []
    for segment in manifest.segments:
        seg_dir = gen_dir / SEGMENTS_DIR / segment["name"]
        passages = read_passages(seg_dir / PASSAGES)
        parts.append((passages, load_array(path, seg_dir / VECTORS_NPY), load_array(path, seg_dir / SENTENCES),
                      load_array(path, seg_dir / SENTENCE_VECTORS),
                      load_array(path, seg_dir / MULTILINGUAL_VECTORS) if manifest.multilingual_model else None))
    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0] + [len(p[0]) for p in parts[:-1]])
    sentences = np.vstack([np.asarray(p[2]) + np.array([off, 0, 0], np.int32) for p, off in zip(parts, offsets)]
                          ).astype(np.int32)
    return (tuple(x for p in parts for x in p[0]),
            np.vstack([p[1] for p in parts]).reshape(-1, manifest.dimension),
            sentences.reshape(-1, 3), np.vstack([p[3] for p in parts]).reshape(-1, manifest.dimension),
            np.vstack([p[4] for p in parts]) if manifest.multilingual_model else None)


def _read_manifest(path: Path, gen_dir: Path) -> Manifest:
    try:
        return Manifest.from_json(json.loads((gen_dir / MANIFEST).read_text("utf-8")))
    except FileNotFoundError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise StoreMismatch(path, f"the store manifest is not one this version understands ({exc})") from exc


def _check_compatible(path: Path, manifest: Manifest, model: str | None) -> None:
    if manifest.format_version not in READABLE_FORMATS:
        raise StoreMismatch(path, f"store format {manifest.format_version}, this code reads format "
                                  f"{' or '.join(map(str, READABLE_FORMATS))}")
    if manifest.tokenizer_version != TOKENIZER_VERSION:
        raise StoreMismatch(path, f"BM25 tokenizer {manifest.tokenizer_version}, this code uses {TOKENIZER_VERSION}")
    if model is not None and manifest.model != model:
        raise StoreMismatch(path, f"the store was built with model {manifest.model!r}, this code uses {model!r}")


def _verify_checksums(path: Path, gen_dir: Path, manifest: Manifest) -> None:
    _check_files(path, gen_dir, manifest, verify=True)


def _check_files(path: Path, gen_dir: Path, manifest: Manifest, *, verify: bool) -> None:
    """Every file the manifest lists is there, of its recorded size (when recorded); small files
    (and with `verify`, all) match their checksums. A size or checksum mismatch is refused."""
    for name, expected in manifest.checksums.items():
        target = gen_dir / name
        size = target.stat().st_size  # FileNotFoundError: retired under us, or incomplete
        recorded = manifest.sizes.get(name)
        if recorded is not None and size != recorded:
            raise StoreCorrupt(path, f"{gen_dir.name}/{name} has {size} bytes, its manifest says {recorded}")
        if (verify or size <= CHECKSUM_AT_LOAD_BYTES) and _sha256_file(target) != expected:
            raise StoreCorrupt(path, f"{gen_dir.name}/{name} does not match its checksum")


def _check_counts(path, manifest, passages, faiss_index, lexical, sentences, sentence_vectors) -> None:
    counts = {"manifest": manifest.passage_count, "passages": len(passages),
              "FAISS rows": faiss_index.ntotal, "BM25 documents": lexical.size}
    if len(set(counts.values())) != 1:
        raise StoreCorrupt(path, f"passage counts disagree: {counts}")
    if faiss_index.d != manifest.dimension:
        raise StoreMismatch(path, f"vectors have dimension {faiss_index.d}, manifest says {manifest.dimension}")
    if len(sentences) != len(sentence_vectors) or len(sentences) != manifest.sentence_count:
        raise StoreCorrupt(path, "sentence table and sentence vectors disagree")


# ---------------------------------------------------------------- writing

@dataclass(frozen=True)
class Segment:
    """Whole reports whose rows are stored together under segments/<name>/ (format 2).

    A segment is immutable once written: a later generation that keeps it hard-links its files,
    so publishing one report writes that report's files, the BM25 index and the manifest only."""

    name: str
    contents: Contents


def new_segment(contents: Contents) -> Segment:
    return Segment(f"s-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{secrets.token_hex(4)}", contents)


def publish(path: Path | str, contents: Contents, *, token_cache: dict | None = None) -> str:
    """Write `contents` as a new generation, whole (no segments), and make it current. Caller holds the lock."""
    return publish_segments(path, [new_segment(contents)], flat=True, token_cache=token_cache)


def publish_segments(path: Path | str, segments: Sequence[Segment], *, flat: bool = False,
                     token_cache: dict | None = None) -> str:
    """Make a generation of `segments` (in row order) current. Segments the current generation
    already holds are hard-linked, the others written. `flat`: one set of files at the
    generation's top, as format 1 had them (a single segment's rows). `token_cache` (passage
    text → BM25 tokens) spares re-tokenizing the passages of earlier publishes. Caller holds the lock."""
    path = Path(path)
    previous = current_generation(path)
    reused = {} if flat else _reusable_segments(path, previous)
    fresh = [seg for seg in segments if seg.name not in reused]
    contents = _concat([seg.contents for seg in segments])
    needed = sum(disk.estimate_generation_bytes(seg.contents) for seg in fresh) + \
        disk.estimate_generation_bytes(replace(contents, vectors=contents.vectors[:0],
                                               sentences=contents.sentences[:0],
                                               sentence_vectors=contents.sentence_vectors[:0],
                                               multilingual_vectors=None))
    with disk.writing(path, needed=needed):
        path.mkdir(parents=True, exist_ok=True)
    # Refuse before writing a byte when it cannot fit (and drop the report copies saved for it).
    disk.ensure_space(path, needed, cleanup=lambda: clean_leftovers(path))
    number = int(previous.split("-")[1]) + 1 if previous else 1
    name = f"{GENERATION_PREFIX}{number:06d}-{secrets.token_hex(3)}"
    temp = path / f"{TEMP_PREFIX}{name}"
    # A failed write removes this generation at once (and any report copy no generation
    # points at), so a full disk gets its space back and the old generation keeps answering.
    with disk.writing(path, needed=needed, cleanup=lambda: _undo_publish(path, temp, path / name)):
        temp.mkdir()
        if flat:
            _write_flat_generation(temp, contents, token_cache)
        else:
            _write_generation(temp, contents, segments, reused, path / previous if previous else None, token_cache)
        _fsync_dir(temp)
        os.replace(temp, path / name)
        _fsync_dir(path)
        _write_atomic(path / CURRENT, json.dumps({"generation": name}).encode())
    return name


def _reusable_segments(path: Path, generation: str | None) -> dict[str, dict]:
    """Segments of `generation` with their files' checksums and sizes (from its manifest)."""
    if generation is None:
        return {}
    try:
        manifest = json.loads((path / generation / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for segment in manifest.get("segments") or ():
        prefix = f"{SEGMENTS_DIR}/{segment['name']}/"
        files = {k: (v, manifest.get("sizes", {}).get(k)) for k, v in manifest.get("checksums", {}).items()
                 if k.startswith(prefix)}
        if files:
            found[segment["name"]] = files
    return found


def _undo_publish(path: Path, temp: Path, published: Path) -> None:
    """After a failed publish (caller holds the lock): drop its files and orphaned report copies."""
    disk.remove_quietly(temp)
    try:
        switched = current_generation(path) == published.name
    except StoreCorrupt:
        switched = False
    if not switched:
        disk.remove_quietly(published)
    clean_leftovers(path)


def _write_flat_generation(gen_dir: Path, contents: Contents, token_cache: dict | None) -> None:
    _write_segment(gen_dir, contents)
    _finish_generation(gen_dir, contents, (), {}, {}, token_cache)


def _write_generation(gen_dir: Path, contents: Contents, segments: Sequence[Segment],
                      reused: dict[str, dict], previous_dir: Path | None, token_cache: dict | None) -> None:
    checksums: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for segment in segments:
        seg_dir = gen_dir / SEGMENTS_DIR / segment.name
        seg_dir.mkdir(parents=True)
        if segment.name in reused:
            for relative, (checksum, size) in reused[segment.name].items():
                _link_or_copy(previous_dir / relative, gen_dir / relative)
                checksums[relative], sizes[relative] = checksum, size if size is not None else \
                    (gen_dir / relative).stat().st_size
        else:
            _write_segment(seg_dir, segment.contents)
        _fsync_dir(seg_dir)
    _fsync_dir(gen_dir / SEGMENTS_DIR)
    _finish_generation(gen_dir, contents, segments, checksums, sizes, token_cache)


def _finish_generation(gen_dir: Path, contents: Contents, segments: Sequence[Segment],
                       checksums: dict[str, str], sizes: dict[str, int], token_cache: dict | None) -> None:
    """BM25 over every passage, then the manifest (with the checksums not already known)."""
    _write_approximate_indexes(gen_dir, contents)
    texts = [p.text for p in contents.passages]
    if token_cache is not None:
        for text in texts:
            if text not in token_cache:
                token_cache[text] = passage_tokens(text)
    LexicalIndex.build(texts, tokens=[token_cache[t] for t in texts] if token_cache is not None else None
                       ).save(gen_dir / BM25_DIR)
    for child in (gen_dir / BM25_DIR).iterdir():
        _fsync_file(child)
    _fsync_dir(gen_dir / BM25_DIR)
    files = {str(f.relative_to(gen_dir)).replace(os.sep, "/"): f for f in sorted(gen_dir.rglob("*"))
             if f.is_file()}
    for relative, f in files.items():
        if relative not in checksums:
            checksums[relative], sizes[relative] = _sha256_file(f), f.stat().st_size
    manifest = Manifest(format_version=FORMAT_VERSION, model=contents.model, dimension=contents.dimension,
                        splitter_version=contents.splitter_version, tokenizer_version=TOKENIZER_VERSION,
                        passage_count=len(contents.passages), sentence_count=len(contents.sentences),
                        reports=contents.reports, multilingual_model=contents.multilingual_model,
                        checksums=dict(sorted(checksums.items())), sizes=dict(sorted(sizes.items())),
                        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        segments=tuple({"name": seg.name, "reports": [r.report for r in seg.contents.reports],
                                        "passages": len(seg.contents.passages),
                                        "sentences": len(seg.contents.sentences)} for seg in segments))
    # The manifest is written last: a generation without one was never finished.
    manifest_bytes = json.dumps(manifest.to_json(), indent=1, ensure_ascii=False).encode()
    _write_file(gen_dir / MANIFEST, manifest_bytes)
    # The manifest's own checksum, so `python -m index verify` catches a flipped bit in it too.
    _write_file(gen_dir / MANIFEST_CHECKSUM, hashlib.sha256(manifest_bytes).hexdigest().encode())
    # A second copy: a damaged manifest must not take the list of reports with it (repair needs it).
    _write_file(gen_dir / MANIFEST_COPY, manifest_bytes)


def _write_approximate_indexes(gen_dir: Path, contents: Contents) -> None:
    """A large generation's IVF indexes over all its rows (none below ANN_MIN_ROWS)."""
    for name, array in ((VECTORS_ANN, contents.vectors), (MULTILINGUAL_ANN, contents.multilingual_vectors)):
        data = approximate_index_bytes(array) if array is not None else None
        if data is not None:
            _write_file(gen_dir / name, data)


def _write_segment(seg_dir: Path, contents: Contents) -> None:
    lines = "".join(json.dumps(p.to_json(), ensure_ascii=False) + "\n" for p in contents.passages)
    _write_file(seg_dir / PASSAGES, lines.encode("utf-8"))
    # Through _write_file, so that a full disk raises the OSError (ENOSPC) the caller turns into advice.
    _write_file(seg_dir / VECTORS_NPY, _npy_bytes(np.ascontiguousarray(contents.vectors, dtype=np.float32)
                                                  .reshape(-1, contents.dimension)))
    _write_npy(seg_dir / SENTENCES, contents.sentences.astype(np.int32))
    _write_npy(seg_dir / SENTENCE_VECTORS, contents.sentence_vectors.astype(np.float32))
    if contents.multilingual_model:
        _write_npy(seg_dir / MULTILINGUAL_VECTORS, contents.multilingual_vectors.astype(np.float32))


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (no bytes written); a copy where the file system has none (FAT, some shares)."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT):
            raise
        shutil.copyfile(source, target)
        _fsync_file(target)


def save_source(path: Path, sha256: str, data: bytes, *, about: dict | None = None,
                check_existing: bool = False) -> str:
    """Keep the ingested file, content-addressed, so the store can be rebuilt from it.
    `about` (report, title, year) is kept beside it: a rebuild after the generations are lost
    can then give the report its own name back. `check_existing` replaces a damaged copy."""
    sources = Path(path) / SOURCES
    target = sources / sha256
    # Caller holds the lock; a failed write leaves no partial copy behind.
    with disk.writing(path, needed=len(data), cleanup=lambda: clean_leftovers(path)):
        sources.mkdir(parents=True, exist_ok=True)
        if not target.exists() or (check_existing and _sha256_file(target) != sha256):
            disk.ensure_space(path, len(data))
            _write_atomic(target, data)
        info = sources / f"{sha256}{SOURCE_INFO_SUFFIX}"
        about_bytes = json.dumps(about, ensure_ascii=False).encode() if about is not None else None
        if about_bytes is not None and (not info.exists() or info.read_bytes() != about_bytes):
            _write_atomic(info, about_bytes)
    return f"{SOURCES}/{sha256}"


def clean_leftovers(path: Path | str) -> list[str]:
    """Remove unfinished and retired generations and unreferenced sources. Caller holds the lock."""
    path = Path(path)
    if not path.is_dir():
        return []
    current = current_generation(path)
    generations = sorted(p.name for p in path.iterdir() if p.name.startswith(GENERATION_PREFIX))
    keep = set(generations[-KEEP_GENERATIONS:]) | ({current} if current else set())
    removed = []
    for child in path.iterdir():
        stale_gen = child.name.startswith(GENERATION_PREFIX) and child.name not in keep
        if child.name.startswith(TEMP_PREFIX) or stale_gen:
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
            removed.append(child.name)
    removed += _clean_sources(path, keep)
    return removed


def _clean_sources(path: Path, generations: set[str]) -> list[str]:
    sources = path / SOURCES
    if not sources.is_dir():
        return []
    referenced = set()
    for gen in generations:
        try:
            manifest = json.loads((path / gen / MANIFEST).read_text("utf-8"))
            referenced |= {r["source_file"] for r in manifest["reports"]}
        except FileNotFoundError:
            continue
        except (OSError, ValueError, KeyError):
            # A damaged manifest may point at any copy: keep them all for `python -m ingest --repair`.
            return []
    removed = []
    for source in sources.iterdir():
        if f"{SOURCES}/{source.name.removesuffix(SOURCE_INFO_SUFFIX)}" not in referenced:
            source.unlink(missing_ok=True)
            removed.append(f"{SOURCES}/{source.name}")
    return removed


# ---------------------------------------------------------------- file helpers

def _write_file(target: Path, data: bytes) -> None:
    with open(target, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _write_npy(target: Path, array: np.ndarray) -> None:
    with open(target, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write_atomic(target: Path, data: bytes) -> None:
    temp = target.with_name(f"{TEMP_PREFIX}{target.name}-{secrets.token_hex(3)}")
    _write_file(temp, data)
    os.replace(temp, target)
    _fsync_dir(target.parent)


def _fsync_file(target: Path) -> None:
    with open(target, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    if os.name == "nt":  # Windows cannot open a directory for fsync; NTFS journals renames.
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_file(target: Path) -> str:
    digest = hashlib.sha256()
    with open(target, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def empty_contents(model: str, dimension: int, splitter_version: int,
                   multilingual_model: str | None = None, multilingual_dimension: int = 0) -> Contents:
    return Contents(passages=(), vectors=np.zeros((0, dimension), np.float32),
                    sentences=np.zeros((0, 3), np.int32), sentence_vectors=np.zeros((0, dimension), np.float32),
                    reports=(), model=model, dimension=dimension, splitter_version=splitter_version,
                    multilingual_model=multilingual_model,
                    multilingual_vectors=np.zeros((0, multilingual_dimension), np.float32)
                    if multilingual_model else None)


def merge_contents(base: Contents, drop: Sequence[str], add: Sequence[Contents]) -> Contents:
    """`base` without the reports named in `drop`, plus the reports in `add`, rows kept aligned."""
    parts = [_without(base, set(drop)), *add]
    passages = tuple(p for part in parts for p in part.passages)
    offsets = np.cumsum([0] + [len(part.passages) for part in parts[:-1]])
    sentences = [part.sentences + np.array([off, 0, 0], np.int32) for part, off in zip(parts, offsets)]
    return Contents(
        passages=passages,
        vectors=np.vstack([part.vectors for part in parts]).astype(np.float32),
        sentences=np.vstack(sentences).astype(np.int32),
        sentence_vectors=np.vstack([part.sentence_vectors for part in parts]).astype(np.float32),
        reports=tuple(r for part in parts for r in part.reports),
        model=base.model, dimension=base.dimension, splitter_version=base.splitter_version,
        multilingual_model=base.multilingual_model,
        multilingual_vectors=np.vstack([part.multilingual_vectors for part in parts]).astype(np.float32)
        if base.multilingual_model else None)


def _concat(parts: Sequence[Contents]) -> Contents:
    """The rows of `parts`, one after the other (the first part itself when alone: no copy)."""
    return parts[0] if len(parts) == 1 else merge_contents(parts[0], drop=(), add=parts[1:])


def current_segments(path: Path | str, contents: Contents) -> list[Segment]:
    """`contents` (as loaded from the current generation) cut into the segments it is stored in.
    A format-1 store is one new segment: the first publish writes it whole, later ones link it."""
    try:
        generation = current_generation(Path(path))
        manifest = json.loads((Path(path) / generation / MANIFEST).read_text("utf-8")) if generation else {}
    except (OSError, ValueError, StoreCorrupt):
        manifest = {}
    listed = manifest.get("segments") or []
    if not contents.passages or sum(seg["passages"] for seg in listed) != len(contents.passages):
        return [new_segment(contents)] if contents.passages else []
    segments, start = [], 0
    for seg in listed:
        part = _rows(contents, start, start + seg["passages"], set(seg["reports"]))
        segments.append(Segment(seg["name"], part))
        start += seg["passages"]
    return segments


def _rows(contents: Contents, start: int, end: int, reports: set[str]) -> Contents:
    sentences = np.asarray(contents.sentences)
    mask = (sentences[:, 0] >= start) & (sentences[:, 0] < end) if len(sentences) else np.zeros(0, bool)
    return replace(contents, passages=contents.passages[start:end], vectors=contents.vectors[start:end],
                   sentences=(sentences[mask] - np.array([start, 0, 0], np.int32)).astype(np.int32),
                   sentence_vectors=contents.sentence_vectors[mask],
                   reports=tuple(r for r in contents.reports if r.report in reports),
                   multilingual_vectors=contents.multilingual_vectors[start:end]
                   if contents.multilingual_model else None)


def empty_like(contents: Contents) -> Contents:
    """No reports, with the model and layout of `contents`."""
    return merge_contents(contents, drop=[r.report for r in contents.reports], add=[])


def take_report(contents: Contents, report: str) -> Contents:
    """The rows of one report alone (sentence rows renumbered), as `merge_contents` adds them."""
    return _without(contents, {r.report for r in contents.reports if r.report != report})


def _without(contents: Contents, drop: set[str]) -> Contents:
    keep_rows = np.array([i for i, p in enumerate(contents.passages) if p.report not in drop], dtype=np.int64)
    new_row = np.full(len(contents.passages), -1, dtype=np.int64)
    new_row[keep_rows] = np.arange(len(keep_rows))
    sent_mask = np.isin(contents.sentences[:, 0], keep_rows) if len(contents.sentences) else np.zeros(0, bool)
    sentences = contents.sentences[sent_mask].copy()
    if len(sentences):
        sentences[:, 0] = new_row[sentences[:, 0]]
    return Contents(
        passages=tuple(contents.passages[i] for i in keep_rows),
        vectors=contents.vectors[keep_rows] if len(keep_rows) else contents.vectors[:0],
        sentences=sentences.astype(np.int32),
        sentence_vectors=contents.sentence_vectors[sent_mask],
        reports=tuple(r for r in contents.reports if r.report not in drop),
        model=contents.model, dimension=contents.dimension, splitter_version=contents.splitter_version,
        multilingual_model=contents.multilingual_model,
        multilingual_vectors=contents.multilingual_vectors[keep_rows] if contents.multilingual_model else None)
