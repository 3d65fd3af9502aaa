"""The English embedders: the int8 ONNX one against sentence-transformers on torch, its cached
export (reused, re-exported when corrupt, a clear error when it cannot be made), span pooling, and
load_embedder's dispatch by the name a store records. Real packaged model; tiny inline texts.

The int8 model is exported once for this module into a temporary cache ($CAAHT_MODEL_CACHE)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import index.embedder as E
from index.embedder import (MODEL_CACHE_ENV, MODEL_NAME, ONNX_MODEL_NAME, HashingEmbedder, MiniLMEmbedder,
                            ModelUnavailable, OnnxMiniLMEmbedder, load_embedder)

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = ["Which routes make Kukës a transit location?",
             "THE SHELTER IN TIRANA hosted 42 women during 2009.",
             "Victims were moved by speedboat across the Adriatic to Italy.",
             "Social workers visited every commune twice a month.",
             "Naïve “quoted” text… with 12,345 € and a dash — here"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(MODEL_CACHE_ENV, str(folder))
        yield folder


@pytest.fixture(scope="module")
def onnx_model(cache_dir) -> OnnxMiniLMEmbedder:
    return OnnxMiniLMEmbedder()


@pytest.fixture(scope="module")
def torch_model() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def test_int8_vectors_are_close_to_the_torch_ones(onnx_model, torch_model, cache_dir):
    assert onnx_model.model_path.parent == cache_dir
    assert onnx_model.name == ONNX_MODEL_NAME != torch_model.name
    onnx, ref = onnx_model.encode(SENTENCES), torch_model.encode(SENTENCES)
    assert onnx.shape == (len(SENTENCES), 384) and onnx.dtype == np.float32
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert ((onnx * ref).sum(axis=1) >= 0.97).all()
    # The same ranking: each sentence is nearest to itself across the two models.
    assert list(np.argmax(onnx @ ref.T, axis=1)) == list(range(len(SENTENCES)))


def test_raw_tokenizer_matches_sentence_transformers(onnx_model, torch_model):
    """Lower-casing, accents, special tokens and the 256 word-piece cut, as sentence-transformers."""
    texts = SENTENCES + ["word " * 400, ""]
    ours = [[i for i, m in zip(e.ids, e.attention_mask) if m] for e in onnx_model._tokenizer.encode_batch(texts)]
    theirs = torch_model._model.tokenizer(texts, truncation=True, max_length=E.MAX_SEQ_LENGTH)["input_ids"]
    assert ours == theirs
    assert len(ours[-2]) == E.MAX_SEQ_LENGTH


def test_fp32_export_gives_the_torch_vectors(torch_model, tmp_path):
    """The export and the numpy pooling are exact; only the int8 weights move the vectors."""
    fp32 = tmp_path / "fp32.onnx"
    E.export_onnx_fp32(E.packaged_model_dir(), fp32)
    vectors = OnnxMiniLMEmbedder(model_path=fp32).encode(SENTENCES + ["padding " * 300])
    ref = torch_model.encode(SENTENCES + ["padding " * 300])
    assert ((vectors * ref).sum(axis=1) >= 0.9999).all()


def test_a_second_construction_reuses_the_cached_file(onnx_model):
    exports, mtime = E.exports_done, onnx_model.model_path.stat().st_mtime_ns
    again = OnnxMiniLMEmbedder()
    assert E.exports_done == exports and again.model_path == onnx_model.model_path
    assert again.model_path.stat().st_mtime_ns == mtime
    assert np.allclose(again.encode(SENTENCES[:2]), onnx_model.encode(SENTENCES[:2]))


def test_a_corrupt_cached_file_is_exported_again(onnx_model, tmp_path, monkeypatch):
    good = onnx_model.model_path.read_bytes()
    cache = tmp_path / "cache"
    monkeypatch.setenv(MODEL_CACHE_ENV, str(cache))
    path = E.onnx_model_path(E.packaged_model_dir())
    path.parent.mkdir(parents=True)
    path.write_bytes(good[:len(good) // 3])  # as left by a full disk or a killed copy
    calls = []

    def export(model_dir, target):  # the real export's result, without its 10 s
        calls.append(target)
        target.write_bytes(good)

    monkeypatch.setattr(E, "export_onnx_int8", export)
    model = OnnxMiniLMEmbedder()
    assert calls == [path] and model.model_path == path and path.stat().st_size == len(good)
    assert np.allclose(model.encode(SENTENCES[:2]), onnx_model.encode(SENTENCES[:2]))
    OnnxMiniLMEmbedder()
    assert calls == [path]  # sound now: not exported again


def test_an_export_that_fails_names_the_cache_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv(MODEL_CACHE_ENV, str(tmp_path / "cache"))

    def export(model_dir, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(E, "export_onnx_int8", export)
    with pytest.raises(ModelUnavailable) as info:
        OnnxMiniLMEmbedder()
    message = str(info.value)
    assert str(tmp_path / "cache") in message and MODEL_CACHE_ENV in message and "Fix:" in message


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(MODEL_CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert E.model_cache_dir() == tmp_path / "caaht" / "models"
    monkeypatch.setenv(MODEL_CACHE_ENV, str(tmp_path / "mine"))
    assert E.model_cache_dir() == tmp_path / "mine"
    name = E.onnx_model_path(E.packaged_model_dir()).name
    assert f"-r{E.ONNX_RECIPE_VERSION}.onnx" in name and "-ort" in name


def test_span_vectors_come_from_the_passage_pass(onnx_model):
    texts = ["Shelters · Ms. Ana\nThe shelter hosted 42 women. Social workers visited every commune.",
             "Flyers were distributed in Kukës.", "No sentences here."]
    spans = [[(19, 47), (48, 90)], [(0, 32)], []]
    vectors, span_vectors = onnx_model.encode_with_spans(texts, spans)
    assert vectors.shape == (3, 384) and span_vectors.shape == (3, 384)
    assert np.allclose(vectors, onnx_model.encode(texts), atol=1e-5)
    assert np.allclose(np.linalg.norm(span_vectors, axis=1), 1.0, atol=1e-5)
    separate = onnx_model.encode([texts[0][19:47], texts[0][48:90], texts[1]])
    assert list(np.argmax(span_vectors @ separate.T, axis=1)) == [0, 1, 2]


def test_a_span_past_the_token_limit_is_encoded_on_its_own(onnx_model):
    text = "filler " * 300 + "The last sentence is about ferries."
    start = text.index("The last")
    _, span_vectors = onnx_model.encode_with_spans([text], [[(start, len(text))]])
    assert np.allclose(span_vectors, onnx_model.encode([text[start:]]), atol=1e-5)


def test_load_embedder_dispatches_by_the_recorded_name(cache_dir, onnx_model):
    assert isinstance(load_embedder(MODEL_NAME), MiniLMEmbedder)
    assert isinstance(load_embedder(ONNX_MODEL_NAME), OnnxMiniLMEmbedder)
    assert isinstance(load_embedder(HashingEmbedder.name), HashingEmbedder)
    assert E.embedder_class(E.DEFAULT_MODEL_NAME).name == E.DEFAULT_MODEL_NAME
    with pytest.raises(ModelUnavailable, match="python -m ingest"):
        load_embedder("someone/else")


def test_a_store_is_searched_with_the_model_it_was_built_with(cache_dir, onnx_model, tmp_path):
    from index.retrieval.search import open_searcher
    from ingest.pipeline import IngestRun

    report = tmp_path / "tiny-2009.txt"
    report.write_text("Extracts from the 2009 Test Report\n\nThe shelter in Kukes hosted 42 women.\n",
                      encoding="utf-8")
    index_dir = tmp_path / "store"
    run = IngestRun(index_dir, embedder=onnx_model, multilingual_factory=lambda: None)
    assert run.execute([report]).ok
    searcher = open_searcher(index_dir)
    assert isinstance(searcher.embedder, OnnxMiniLMEmbedder)
    assert searcher.ask("How many women did the shelter host?").hits


def test_the_run_time_imports_neither_torch_nor_sentence_transformers(onnx_model, cache_dir):
    code = ("import sys; from index.embedder import OnnxMiniLMEmbedder\n"
            "OnnxMiniLMEmbedder().encode(['a text'])\n"
            "print(sorted({'torch', 'sentence_transformers', 'transformers'} & set(sys.modules)))")
    env = dict(os.environ, **{MODEL_CACHE_ENV: str(cache_dir), "HF_HUB_OFFLINE": "1"})
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
