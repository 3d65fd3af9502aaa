"""The scale table for the PostgreSQL backend, beside the embedded store's, in one run.

    python -m benchmarks.postgres [--sizes 10000 100000] [--reference STORE] [--work DIR]
                                  [--no-embedded] [--no-ask]

For each size: a synthetic store laid out like the reference (same models, sentences per
passage; random unit vectors, text drawn from the corpus vocabulary: `benchmarks.probe`'s
generator) is published into a fresh PostgreSQL 18 + pgvector server (tests/pg_server.py), one
report (1,000 passages) per transaction, as an ingest would. Measured:

- build: every report's publish (binary COPY of passages and sentences, HNSW, GIN and B-tree
  upkeep); from 20,000 passages on, as export-to-postgres does, the HNSW indexes are built once
  after the copy instead of upkept row by row
- load: opening the searcher (connect, read the layout; the server holds the data)
- memory: RSS growth of the client, and the RSS of the server's processes after the questions
- disk: the backend's tables and indexes, per 1,000 passages
- warm search p50/p95 with precomputed (random) question vectors, and warm `ask --json` with the
  real models (the figure a user feels), as the embedded table measures them

The embedded rows come from the same run (`benchmarks.suite.scale_one`), so the ratios hold
even though the machine is shared and absolute timings are noisy. Results are printed and
saved to benchmarks/results/postgres-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks import proc
from benchmarks.proc import ROOT

DEFAULT_SIZES = (10_000, 100_000)
K = 10
SEARCH_QUESTIONS = 20
RESULTS = ROOT / "benchmarks" / "results"
# The server a benchmark starts: enough memory that the indexes of 100k passages stay cached,
# as on a database server that serves an organisation.
SERVER_SETTINGS = {"shared_buffers": "'1GB'", "maintenance_work_mem": "'512MB'", "work_mem": "'32MB'"}


def report_slices(contents):
    """The synthetic contents cut into one Contents per report (their rows are contiguous)."""
    names = [p.report for p in contents.passages]
    sentence_rows = contents.sentences[:, 0]
    start = 0
    infos = {r.report: r for r in contents.reports}
    while start < len(names):
        end = start
        while end < len(names) and names[end] == names[start]:
            end += 1
        a, b = np.searchsorted(sentence_rows, [start, end])
        sentences = contents.sentences[a:b].copy()
        sentences[:, 0] -= start
        yield replace(contents, passages=contents.passages[start:end], vectors=contents.vectors[start:end],
                      sentences=sentences, sentence_vectors=contents.sentence_vectors[a:b],
                      reports=(infos[names[start]],),
                      multilingual_vectors=contents.multilingual_vectors[start:end]
                      if contents.multilingual_vectors is not None else None)
        start = end


def backend_bytes(url: str) -> int:
    from index.store.postgres.connection import connect

    with connect(url, autocommit=True) as conn:
        return int(conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'caaht' AND c.relkind IN ('r', 'm')").fetchone()[0] or 0)


def server_rss_mb(data_dir: Path) -> float:
    """RSS of the server's processes (shared buffers counted once per process that touched them,
    so an upper bound)."""
    import psutil

    total = 0
    for process in psutil.process_iter(["cmdline", "memory_info"]):
        cmdline = process.info.get("cmdline") or []
        if cmdline and "postgres" in cmdline[0] and str(data_dir) in " ".join(cmdline):
            postmaster = process
            total += process.info["memory_info"].rss
            for child in postmaster.children():
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
    return total / 2**20


def percentiles(values):
    ordered = sorted(values)
    return {"p50": statistics.median(ordered), "p95": ordered[round(0.95 * (len(ordered) - 1))], "n": len(ordered)}


def postgres_one(size: int, reference: Path, questions: list[str], ask: bool, log) -> dict:
    from benchmarks.probe import RandomQueryEmbedder, _synthetic_contents, rss_now_mb
    from index.store.embedded import load_store
    from index.store.postgres.export import BULK_PASSAGES
    from index.store.postgres.searcher import PostgresSearcher
    from index.store.postgres.writer import postgres_writer
    from tests.pg_server import PgServer

    ref = load_store(reference).contents
    per_passage = max(1, round(len(ref.sentences) / max(1, len(ref.passages))))
    started = time.perf_counter()
    contents = _synthetic_contents(ref, size, per_passage, np.random.default_rng(20260))
    generate_s = time.perf_counter() - started
    server = PgServer.start(settings=SERVER_SETTINGS)
    try:
        url = server.url
        started = time.perf_counter()
        # As export-to-postgres does: from BULK_PASSAGES on, HNSW indexes are built once at the end.
        bulk = size >= BULK_PASSAGES
        with postgres_writer(url) as writer, (writer.bulk() if bulk else nullcontext()):
            for n, part in enumerate(report_slices(contents), start=1):
                writer.publish_report(part)
                if n % 20 == 0:
                    log(f"    {n * 1000:,} passages published ({time.perf_counter() - started:.0f} s)")
        build_s = time.perf_counter() - started
        del contents
        disk = backend_bytes(url)
        before = rss_now_mb()["rss_mb"]
        started = time.perf_counter()
        searcher = PostgresSearcher(url, RandomQueryEmbedder(ref.model, ref.dimension),
                                    RandomQueryEmbedder(ref.multilingual_model, ref.multilingual_vectors.shape[1])
                                    if ref.multilingual_model else None)
        load_s = time.perf_counter() - started
        client_mb = rss_now_mb()["rss_mb"] - before
        searcher.ask(questions[0], k=K)
        times = []
        for question in questions[:SEARCH_QUESTIONS]:
            started = time.perf_counter()
            searcher.ask(question, k=K)
            times.append(time.perf_counter() - started)
        searcher.close()
        out = {"size": size, "generate_s": generate_s, "build_s": build_s, "bulk": bulk, "disk_bytes": disk, "load_s": load_s,
               "client_rss_mb": client_mb, "search": percentiles(times)}
        if ask:
            out["ask"] = piped_ask(url, questions[:SEARCH_QUESTIONS])
        out["server_rss_mb"] = server_rss_mb(server.data)
        return out
    finally:
        server.remove()


def piped_ask(url: str, questions: list[str]) -> dict:
    """`python -m index ask --json --database-url` with the real models, questions on stdin."""
    run = proc.python("index", "ask", "--json", "-k", str(K), "--database-url", url,
                      stdin_text="\n".join(questions) + "\n").check()
    stamps = [t for t, line in run.lines if line.startswith("{")]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return {"first_answer_s": stamps[0], "warm": percentiles(gaps), "peak_rss_mb": run.peak_rss_mb,
            "questions": len(stamps)}


def embedded_one(size: int, reference: Path, questions: list[str], work: Path) -> dict:
    from benchmarks.suite import scale_one

    question_file = work / "scale-questions.txt"
    question_file.write_text("\n".join(questions[:SEARCH_QUESTIONS]) + "\n", encoding="utf-8")
    return scale_one(size, reference, questions[:SEARCH_QUESTIONS], question_file, work)


def rows(size: int, pg: dict, embedded: dict | None) -> list[tuple[str, str, str]]:
    """(measure, PostgreSQL, embedded) for one size."""
    e = embedded or {}
    eb, eq, ea = e.get("build", {}), e.get("query", {}), e.get("ask", {})

    def s(value, unit="s", digits=3):
        return "–" if value is None else f"{value:.{digits}f} {unit}"

    per_k = 1000 / size / 2**20
    return [
        ("build" + (" (bulk: HNSW built at the end)" if pg.get("bulk") else " (report by report, HNSW upkept)"),
         s(pg["build_s"], digits=1), s(eb.get("build_s"), digits=1)),
        ("load (open, no model)", s(pg["load_s"]), s(eq.get("load_s"))),
        ("memory: client RSS growth", s(pg["client_rss_mb"], "MB", 1), s(eq.get("store_rss_mb"), "MB", 1)),
        ("memory: server processes RSS", s(pg.get("server_rss_mb"), "MB", 0), "–"),
        ("disk per 1,000 passages", s(pg["disk_bytes"] * per_k, "MB", 2),
         s(eb["disk_bytes"] * per_k if eb.get("disk_bytes") else None, "MB", 2)),
        ("warm search p50 (precomputed vectors)", s(pg["search"]["p50"]), s((eq.get("search") or {}).get("p50"))),
        ("warm search p95 (precomputed vectors)", s(pg["search"]["p95"]), s((eq.get("search") or {}).get("p95"))),
        ("warm question p50, ask --json (real models)", s((pg.get("ask") or {}).get("warm", {}).get("p50")),
         s((ea.get("warm") or {}).get("p50"))),
    ]


def render(results: dict) -> str:
    lines = ["| passages | measure | PostgreSQL | embedded |", "|---|---|---|---|"]
    for size, figures in results["sizes"].items():
        for measure, pg, embedded in rows(int(size), figures["postgres"], figures.get("embedded")):
            lines.append(f"| {int(size):,} | {measure} | {pg} | {embedded} |")
    return "\n".join(lines) + "\n"


def default_reference(work: Path) -> Path:
    """An embedded store of corpus/ (its layout is what the synthetic stores copy), built or
    brought up to date by this code's ingest (which rebuilds a store of an older format)."""
    store = work / "reference-store"
    proc.python("ingest", "--index-dir", str(store), "--quiet", str(ROOT / "corpus")).check()
    return store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.postgres", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--reference", type=Path, help="an embedded store whose layout to copy (default: corpus/)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/caaht-bench-postgres"))
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded rows")
    parser.add_argument("--no-ask", action="store_true", help="skip `ask --json` with the real models")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from benchmarks.suite import Config, questions_for

    args.work.mkdir(parents=True, exist_ok=True)
    reference = args.reference or default_reference(args.work)
    questions = questions_for(Config())
    results = {"meta": {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "k": K,
                        "server_settings": SERVER_SETTINGS, "reference": str(reference)}, "sizes": {}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"postgres-{time.strftime('%Y%m%d-%H%M%S')}.json"
    failed = False
    for size in args.sizes:
        print(f"{size:,} passages: PostgreSQL…", flush=True)
        figures = results["sizes"][str(size)] = {}
        figures["postgres"] = postgres_one(size, reference, questions, not args.no_ask, log=print)
        out.write_text(json.dumps(results, indent=1), encoding="utf-8")  # partial results survive a failure
        if not args.no_embedded:
            print(f"{size:,} passages: embedded…", flush=True)
            try:
                figures["embedded"] = embedded_one(size, reference, questions, args.work)
            except proc.ChildFailed as exc:
                failed = True
                figures["embedded_failed"] = str(exc)[-2000:]
                print(f"  embedded side failed: {str(exc)[-500:]}", flush=True)
        out.write_text(json.dumps(results, indent=1), encoding="utf-8")
        print(render({"sizes": {str(size): figures}}), flush=True)
    print(render(results))
    print(f"saved {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
