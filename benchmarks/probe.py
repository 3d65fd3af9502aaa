"""Every call the benchmarks make into the project's Python API lives in this one module.

The public commands (`python -m ingest`, `python -m index ask --json`, `streamlit run app.py`)
give the end-to-end figures; this module only adds what they cannot show: where the time
goes inside an ingest or a question, and synthetic stores of any size. When the project's
internals change, this is the file to adapt. Run as a child process, one task per call:

    python -m benchmarks.probe ingest-split --index-dir D --texts-out T.json FILE...
    python -m benchmarks.probe ask-split --index-dir D --questions Q.txt -k 10
    python -m benchmarks.probe synth-build --size N --reference D --out D2
    python -m benchmarks.probe synth-query --index-dir D2 --questions Q.txt -k 10

Each prints one JSON object on its last stdout line. Stage times are measured by timing
wrappers placed around the project's objects and functions (exclusive time: a stage nested
in another is subtracted from it); a hook whose target no longer exists is skipped and
listed under "missing_hooks", and whatever no hook covers is reported as "other".
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np

SYNTH_SEED = 20260
SYNTH_WORDS_PER_SENTENCE = (8, 25)  # uniform range of words in one synthetic sentence
SYNTH_CHUNK = 50_000  # passages generated per chunk (bounds the temporary memory)
VOCABULARY_SOURCE = Path(__file__).resolve().parent.parent / "corpus"


# --------------------------------------------------------------------------- timing

class Stopwatch:
    """Exclusive time per stage label: time spent in a nested stage is not counted twice."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.totals: dict[str, float] = {}
        self._clock = clock
        self._stack: list[list] = []  # [label, started, nested seconds]

    @contextmanager
    def stage(self, label: str):
        self._stack.append([label, self._clock(), 0.0])
        try:
            yield
        finally:
            label, started, nested = self._stack.pop()
            elapsed = self._clock() - started
            self.totals[label] = self.totals.get(label, 0.0) + elapsed - nested
            if self._stack:
                self._stack[-1][2] += elapsed

    def wrap(self, function: Callable, label: str) -> Callable:
        @functools.wraps(function)
        def timed(*args, **kwargs):
            with self.stage(label):
                return function(*args, **kwargs)
        return timed

    def take(self) -> dict[str, float]:
        totals, self.totals = self.totals, {}
        return totals


class Recorder:
    """Wraps an embedder: its encode* methods are timed under `label` and their texts recorded."""

    def __init__(self, inner, stopwatch: Stopwatch, label: str):
        self._inner, self._stopwatch, self._label = inner, stopwatch, label
        self.texts: list[str] = []

    def __getattr__(self, name):
        value = getattr(self._inner, name)
        if not (callable(value) and name.startswith("encode")):
            return value

        def timed(texts, *args, **kwargs):
            if not isinstance(texts, str):
                self.texts.extend(texts)
            with self._stopwatch.stage(self._label):
                return value(texts, *args, **kwargs)
        return timed


def hook(stopwatch: Stopwatch, target, attr: str, label: str, missing: list[str]) -> bool:
    """Replace `target.attr` by a timed wrapper if it exists (frozen dataclasses included)."""
    function = getattr(target, attr, None) if target is not None else None
    if not callable(function):
        missing.append(f"{type(target).__name__}.{attr}")
        return False
    try:
        object.__setattr__(target, attr, stopwatch.wrap(function, label))
    except (AttributeError, TypeError):
        missing.append(f"{type(target).__name__}.{attr} (read-only)")
        return False
    return True


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "n": 0}
    ordered = sorted(values)
    return {"p50": statistics.median(ordered), "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
            "n": len(ordered)}


def rss_now_mb() -> dict[str, float]:
    """VmRSS and VmHWM (peak) of this process, in MB."""
    found = {}
    with open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return {"rss_mb": found.get("VmRSS", 0.0), "peak_rss_mb": found.get("VmHWM", 0.0)}


# --------------------------------------------------------------------------- ingest split

def ingest_split(files: list[Path], index_dir: Path, texts_out: Path) -> dict:
    """Parse (measured apart), then a whole in-process ingest with timed embedders, then one write."""
    from ingest.readers import ReadOptions, read_report
    from ingest.splitter import split_document

    parse = []
    for path in files:
        started = time.perf_counter()
        doc = read_report(path, ReadOptions(), name=path.name)
        passages = split_document(doc)
        parse.append({"file": path.name, "kind": doc.kind, "pages": len(doc.pages), "passages": len(passages),
                      "seconds": time.perf_counter() - started})
    result = {"parse": parse, **_timed_ingest(files, index_dir, texts_out)}
    result["write_s"] = _timed_write(index_dir)
    return result


def _timed_ingest(files: list[Path], index_dir: Path, texts_out: Path) -> dict:
    from index.embedder import default_embedder_class, load_multilingual
    from ingest.pipeline import IngestRun

    stopwatch = Stopwatch()
    minilm = TimedFactory(default_embedder_class(), stopwatch, "minilm")
    e5 = TimedFactory(load_multilingual, stopwatch, "e5")
    run = IngestRun(index_dir, embedder_factory=minilm, multilingual_factory=e5)
    started = time.perf_counter()
    summary = run.execute(files)
    wall = time.perf_counter() - started
    texts = {kind: f.recorder.texts for kind, f in (("minilm", minilm), ("e5", e5)) if f.recorder}
    texts_out.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    return {"ingest_wall_s": wall, "stages": stopwatch.take(), "ok": summary.ok,
            "passages": summary.passages, "embedded_texts": {k: len(v) for k, v in texts.items()}}


class TimedFactory:
    """Stands where the ingest expects an embedder class or factory: loading is timed as
    "load KIND", and the embedder it makes is wrapped in a Recorder ("embed KIND"). Other
    attributes (the class's `name`, `dimension`) are the wrapped factory's."""

    def __init__(self, make: Callable, stopwatch: Stopwatch, kind: str):
        self._make, self._stopwatch, self._kind = make, stopwatch, kind
        self.recorder: Recorder | None = None

    def __getattr__(self, name):
        return getattr(self._make, name)

    def __call__(self, *args, **kwargs):
        with self._stopwatch.stage(f"load {self._kind}"):
            inner = self._make(*args, **kwargs)
        if inner is None:
            return None
        self.recorder = Recorder(inner, self._stopwatch, f"embed {self._kind}")
        return self.recorder


def _timed_write(index_dir: Path) -> float:
    """One publish of the finished store's contents into a fresh folder: the cost of writing it."""
    from index.store.embedded import load_store, publish

    contents = load_store(index_dir).contents
    target = Path(tempfile.mkdtemp(prefix="bench-write-"))
    try:
        started = time.perf_counter()
        publish(target, contents)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(target, ignore_errors=True)


# --------------------------------------------------------------------------- question split

QUESTION_STAGES = [  # (object path from the searcher, attribute, stage label)
    ("", "_dense_scores", "dense search"),
    ("", "_sentence_scores", "dense search"),
    ("", "_best_sentence_per_passage", "dense search"),
    ("", "_multilingual_scores", "dense search"),
    ("store.faiss_index", "search", "dense search"),
    ("store.lexical", "scores", "bm25"),
    ("store.lexical", "retrieve", "bm25"),
    ("store.lexical", "top_k", "bm25"),
    ("store.lexical", "top", "bm25"),
    ("_dense", "top", "dense search"),
    ("_multilingual", "top", "dense search"),
    ("_sentences", "best", "dense search"),
]
MODULE_STAGES = [("index.retrieval.ranking", "rank", "fusion"),  # fusion and the answered verdict
                 ("index.retrieval.ranking", "fuse", "fusion"),
                 ("index.retrieval.search", "best_span", "quote selection")]


def ask_split(index_dir: Path, questions: list[str], k: int) -> dict:
    from index.retrieval.search import open_searcher

    started = time.perf_counter()
    searcher = open_searcher(index_dir)
    open_s = time.perf_counter() - started
    searcher.ask(questions[0], k=k)  # warm-up, not counted
    # First as the peer is measured (its retriever called in-process, nothing around it), then
    # again with every stage wrapped in a stopwatch (which adds its own small cost).
    plain = []
    for question in questions:
        started = time.perf_counter()
        searcher.ask(question, k=k)
        plain.append(time.perf_counter() - started)
    stopwatch, missing = Stopwatch(), []
    _hook_searcher(searcher, stopwatch, missing)
    searcher.ask(questions[0], k=k)
    stopwatch.take()
    per_stage: dict[str, list[float]] = {}
    totals = []
    for question in questions:
        started = time.perf_counter()
        searcher.ask(question, k=k)
        totals.append(time.perf_counter() - started)
        stages = stopwatch.take()
        stages["other"] = totals[-1] - sum(stages.values())
        for label, seconds in stages.items():
            per_stage.setdefault(label, []).append(seconds)
    return {"open_s": open_s, "ask": percentiles(totals), "ask_plain": percentiles(plain), "missing_hooks": missing,
            "stages": {label: percentiles(values) for label, values in per_stage.items()}, **rss_now_mb()}


def _hook_searcher(searcher, stopwatch: Stopwatch, missing: list[str]) -> None:
    """Wrap whatever of QUESTION_STAGES / MODULE_STAGES exists; a stage none of whose hooks
    found its target is listed in `missing` (its time then shows up as "other")."""
    if getattr(searcher, "embedder", None) is not None:
        object.__setattr__(searcher, "embedder", Recorder(searcher.embedder, stopwatch, "encode question minilm"))
    if getattr(searcher, "multilingual", None) is not None:
        object.__setattr__(searcher, "multilingual", Recorder(searcher.multilingual, stopwatch, "encode question e5"))
    found, tried = set(), []
    for path, attr, label in QUESTION_STAGES:
        target = functools.reduce(lambda obj, name: getattr(obj, name, None), filter(None, path.split(".")),
                                  searcher)
        if hook(stopwatch, target, attr, label, tried):
            found.add(label)
    for module_name, attr, label in MODULE_STAGES:
        if hook(stopwatch, sys.modules.get(module_name), attr, label, tried):
            found.add(label)
    labels = dict.fromkeys(label for *_, label in QUESTION_STAGES + MODULE_STAGES)
    missing.extend(label for label in labels if label not in found)


# --------------------------------------------------------------------------- synthetic stores

def synth_build(size: int, reference: Path, out: Path, seed: int = SYNTH_SEED) -> dict:
    """A store of `size` passages laid out like `reference` (same models, sentences per passage),
    with random unit vectors and text sampled from the corpus vocabulary; built by the store's
    own `publish`."""
    from index.store.embedded import load_store

    ref = load_store(reference).contents
    sentences_per_passage = max(1, round(len(ref.sentences) / max(1, len(ref.passages))))
    started = time.perf_counter()
    contents = _synthetic_contents(ref, size, sentences_per_passage, np.random.default_rng(seed))
    generate_s = time.perf_counter() - started
    return {"size": size, "generate_s": generate_s, "sentences_per_passage": sentences_per_passage,
            **_publish_timed(out, contents), **rss_now_mb()}


def _publish_timed(out: Path, contents) -> dict:
    from index.store.embedded import publish

    started = time.perf_counter()
    publish(out, contents)
    build_s = time.perf_counter() - started
    disk = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return {"build_s": build_s, "disk_bytes": disk}


def _synthetic_contents(ref, size: int, per_passage: int, rng: np.random.Generator):
    from dataclasses import replace
    from index.records import Passage

    words, weights = _vocabulary()
    passages, spans = [], []
    for start in range(0, size, SYNTH_CHUNK):
        count = min(SYNTH_CHUNK, size - start)
        for offset, (text, cuts) in enumerate(_texts(count, per_passage, words, weights, rng)):
            row = start + offset
            report = f"synthetic-{row // 1000:04d}.txt"
            passages.append(Passage(id=f"{report}:p{row % 50 + 1}:{row}", report=report, title=f"Synthetic {report}",
                                    year=2000 + row % 20, text=text, page=row % 50 + 1, page_end=row % 50 + 1,
                                    page_label=str(row % 50 + 1), page_end_label=None,
                                    section=f"Section {row % 97}", speaker=None, organisation=f"Org {row % 31}",
                                    part=None, kind="content"))  # marked, as the splitter marks every passage
            spans.extend((row, a, b) for a, b in cuts)
    reports = _reports(ref, passages)
    return replace(ref, passages=tuple(passages), vectors=_unit_vectors(size, ref.dimension, rng),
                   sentences=np.asarray(spans, dtype=np.int32).reshape(-1, 3),
                   sentence_vectors=_unit_vectors(len(spans), ref.dimension, rng), reports=reports,
                   multilingual_vectors=_unit_vectors(size, ref.multilingual_vectors.shape[1], rng)
                   if ref.multilingual_model else None)


def _texts(count: int, per_passage: int, words: np.ndarray, weights: np.ndarray, rng: np.random.Generator):
    low, high = SYNTH_WORDS_PER_SENTENCE
    lengths = rng.integers(low, high + 1, size=(count, per_passage))
    drawn = rng.choice(len(words), size=int(lengths.sum()), p=weights)
    position = 0
    for row in range(count):
        sentences = []
        for length in lengths[row]:
            sentences.append(" ".join(words[drawn[position:position + length]]).capitalize() + ".")
            position += length
        cuts, cursor = [], 0
        for sentence in sentences:
            cuts.append((cursor, cursor + len(sentence)))
            cursor += len(sentence) + 1
        yield " ".join(sentences), cuts


def _vocabulary() -> tuple[np.ndarray, np.ndarray]:
    """Words of the bundled corpus with their frequencies: BM25 posting lists of realistic shape."""
    import re
    counts: dict[str, int] = {}
    for path in sorted(VOCABULARY_SOURCE.glob("*.txt")):
        for word in re.findall(r"[^\W\d_]{2,}", path.read_text("utf-8").lower()):
            counts[word] = counts.get(word, 0) + 1
    words = np.array(sorted(counts), dtype=object)
    weights = np.array([counts[w] for w in words], dtype=np.float64)
    return words, weights / weights.sum()


def _unit_vectors(count: int, dimension: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((count, dimension), dtype=np.float32)
    for start in range(0, count, SYNTH_CHUNK):
        block = rng.standard_normal((min(SYNTH_CHUNK, count - start), dimension), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + len(block)] = block
    return out


def _reports(ref, passages) -> tuple:
    from dataclasses import replace
    template = ref.reports[0]
    counts: dict[str, int] = {}
    for p in passages:
        counts[p.report] = counts.get(p.report, 0) + 1
    return tuple(replace(template, report=name, title=f"Synthetic {name}", sha256=hashlib.sha256(name.encode()).hexdigest(),
                         kind="text", pages=50, passages=n, source_file=f"sources/{name}")
                 for name, n in counts.items())


class RandomQueryEmbedder:
    """Stands in for a model in `synth-query`: a hash-seeded random unit vector per text, no model
    loaded, so the figures are of the store and the search alone."""

    def __init__(self, name: str, dimension: int):
        self.name, self.dimension = name, dimension

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        v = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
        return v / np.linalg.norm(v)

    def encode(self, texts, **_kwargs) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts]) if len(texts) else np.zeros((0, self.dimension), np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def encode_passages(self, texts, **_kwargs) -> np.ndarray:
        return self.encode(texts)


def synth_query(index_dir: Path, questions: list[str], k: int) -> dict:
    from index.retrieval.search import Searcher
    from index.store.embedded import load_store

    before = rss_now_mb()["rss_mb"]
    started = time.perf_counter()
    store = load_store(index_dir)
    contents = store.contents
    minilm = RandomQueryEmbedder(contents.model, contents.dimension)
    e5 = RandomQueryEmbedder(contents.multilingual_model, contents.multilingual_vectors.shape[1]) \
        if contents.multilingual_model else None
    searcher = Searcher(store, minilm, e5)
    load_s = time.perf_counter() - started
    loaded = rss_now_mb()["rss_mb"]
    searcher.ask(questions[0], k=k)
    times = []
    for question in questions:
        started = time.perf_counter()
        searcher.ask(question, k=k)
        times.append(time.perf_counter() - started)
    return {"load_s": load_s, "store_rss_mb": loaded - before, "search": percentiles(times), **rss_now_mb()}


# --------------------------------------------------------------------------- approximate search

ANN_RECALL_JITTER = 0.5  # norm of the noise added to each copied (unit) vector: cosine ≈ 0.9 to it


def ann_recall(reference: Path, size: int, questions: list[str], k: int = 10, seed: int = SYNTH_SEED,
               jitter: float = ANN_RECALL_JITTER) -> dict:
    """Recall@k of the approximate (IVF) passage index against exact search, on `size` vectors
    made by copying the reference store's real passage vectors with a little noise (so they keep
    the clusters real texts have; random vectors have none), asked with the questions' real
    English vectors. The store's own index parameters (index/store/arrays.py)."""
    import faiss

    from index.embedder import load_embedder
    from index.store import arrays
    from index.store.embedded import load_store

    store = load_store(reference)
    base = np.asarray(store.contents.vectors, dtype=np.float32)
    rng = np.random.default_rng(seed)
    vectors = base[rng.integers(0, len(base), size)]
    vectors = vectors + jitter / np.sqrt(base.shape[1]) * rng.standard_normal(vectors.shape, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    started = time.perf_counter()
    data = arrays.approximate_index_bytes(vectors)
    build_s = time.perf_counter() - started
    approximate = arrays.VectorSet(vectors, faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8)))
    exact = arrays.VectorSet(vectors)
    queries = load_embedder(store.manifest.model).encode(questions)
    found = [len(set(approximate.top(q, k)[0]) & set(exact.top(q, k)[0])) / k for q in queries]
    return {"size": size, "k": k, "jitter": jitter, "questions": len(questions), "recall": float(np.mean(found)),
            "recall_min": float(np.min(found)), "ivf_build_s": build_s, "nprobe": arrays.IVF_NPROBE,
            "lists": int(arrays.IVF_LISTS_PER_SQRT * np.sqrt(size))}


# --------------------------------------------------------------------------- command line

def read_questions(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probe")
    tasks = parser.add_subparsers(dest="task", required=True)
    split = tasks.add_parser("ingest-split")
    split.add_argument("--index-dir", type=Path, required=True)
    split.add_argument("--texts-out", type=Path, required=True)
    split.add_argument("files", nargs="+", type=Path)
    for name in ("ask-split", "synth-query"):
        task = tasks.add_parser(name)
        task.add_argument("--index-dir", type=Path, required=True)
        task.add_argument("--questions", type=Path, required=True)
        task.add_argument("-k", type=int, default=10)
    build = tasks.add_parser("synth-build")
    build.add_argument("--size", type=int, required=True)
    build.add_argument("--reference", type=Path, required=True)
    build.add_argument("--out", type=Path, required=True)
    recall = tasks.add_parser("ann-recall", help="recall@k of the IVF index against exact search")
    recall.add_argument("--reference", type=Path, required=True)
    recall.add_argument("--questions", type=Path, required=True)
    recall.add_argument("--size", type=int, default=100_000)
    recall.add_argument("-k", type=int, default=10)
    recall.add_argument("--jitter", type=float, default=ANN_RECALL_JITTER,
                        help="noise norm added to each copied vector (0.1: near copies; 0.5: cosine ≈ 0.9 to the original)")
    args = parser.parse_args(argv)
    if args.task == "ingest-split":
        result = ingest_split(args.files, args.index_dir, args.texts_out)
    elif args.task == "ask-split":
        result = ask_split(args.index_dir, read_questions(args.questions), args.k)
    elif args.task == "synth-query":
        result = synth_query(args.index_dir, read_questions(args.questions), args.k)
    elif args.task == "ann-recall":
        result = ann_recall(args.reference, args.size, read_questions(args.questions), args.k, jitter=args.jitter)
    else:
        result = synth_build(args.size, args.reference, args.out)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
