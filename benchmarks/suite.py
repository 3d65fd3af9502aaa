"""One benchmark run: every measurement, each in its own child process, collected into a dict.

The steps run in this order so that the later ones can use what the earlier ones made:
ingest (the public command) → ingest split (probe) → floors (bare models on the texts the
ingest embedded) → questions (`ask --json`, cold and warm) → question split (probe) → the app
in Chromium → the peer → synthetic stores at each size.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import app_timing, peer_env, proc
from benchmarks.proc import ROOT
from ingest import background

CORPUS = ROOT / "corpus"
SHELF = ROOT / "tests" / "data" / "shelf"
QUESTION_FILES = (ROOT / "tests" / "data" / "dev_questions.jsonl", ROOT / "tests" / "data" / "own_questions.jsonl")
QUICK_LINES = 53  # --quick ingests the extract's first two pages only (pp. 38 and 40)
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 3_000)
QUICK_QUESTIONS = 6
SCALE_QUESTIONS = 20  # questions piped to `ask --json` on each synthetic store
K = 10
# The steps in order. A later step uses what an earlier one left in the work folder (the store of
# "ingest", the texts of "ingest_split"), so a partial run (--steps) reuses a kept --work-dir.
STEPS = ("ingest", "ingest_split", "floors", "ask", "ask_split", "app", "peer", "scale")
# Memory one synthetic passage needs while the store's publish builds it (all vectors, their copies
# in FAISS and its serialised bytes, BM25 tokens, the JSON lines): ~15 kB measured at 3k passages.
BYTES_PER_PASSAGE_ESTIMATE = 15_000
MEMORY_HEADROOM = 0.8  # use at most this share of MemAvailable for one synthetic size


@dataclass
class Config:
    quick: bool = False
    peer: bool = True
    browser: bool = True
    sizes: tuple[int, ...] = DEFAULT_SIZES
    work: Path = Path("/tmp")
    peer_venv: Path = peer_env.DEFAULT_VENV
    steps: tuple[str, ...] = ()  # only these steps (default: all, in order); see STEPS
    log: object = print
    on_step: object = None  # called with the Results after each step (the caller saves partial results)


@dataclass
class Results:
    meta: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)  # step → reason
    failed: dict = field(default_factory=dict)  # step → error (the run goes on; the command exits 1)

    def to_json(self) -> dict:
        return {"meta": self.meta, "skipped": self.skipped, "failed": self.failed, **self.data}


def files_for(config: Config) -> list[Path]:
    if config.quick:
        return [quick_corpus(config.work)]
    return [*sorted(CORPUS.glob("*.txt")), *sorted(SHELF.glob("*.pdf"))]


def quick_corpus(work: Path) -> Path:
    """The first pages of the bundled extract, as a report of their own: real text, seconds to embed."""
    source = sorted(CORPUS.glob("*.txt"))[0]
    lines = source.read_text("utf-8").splitlines(keepends=True)[:QUICK_LINES]
    target = work / "quick" / f"{source.stem}-first-pages.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(lines), encoding="utf-8")
    return target


def questions_for(config: Config) -> list[str]:
    questions = [json.loads(line)["q"] for path in QUESTION_FILES
                 for line in path.read_text("utf-8").splitlines() if line.strip()]
    return questions[:QUICK_QUESTIONS] if config.quick else questions


def run_all(config: Config) -> Results:
    results = Results(meta=_meta(config))
    files, questions = files_for(config), questions_for(config)
    work = config.work
    question_file = work / "questions.txt"
    question_file.write_text("\n".join(questions) + "\n", encoding="utf-8")
    store = work / "shelf-store"
    steps = [("ingest", lambda: ingest_cli(files, store)),
             ("ingest_split", lambda: ingest_split(files, work)),
             ("floors", lambda: floors(work / "embedded-texts.json", question_file)),
             ("ask", lambda: ask_cli(store, questions)),
             ("ask_split", lambda: ask_split(store, question_file)),
             ("app", lambda: app(config, store, questions)),
             ("peer", lambda: peer(config, files, question_file)),
             ("scale", lambda: scale(config, store, questions, work, results))]
    for name, step in steps:
        if config.steps and name not in config.steps:
            continue
        config.log(f"[{time.strftime('%H:%M:%S')}] {name}…")
        results.meta.setdefault("load_average_1min_at_step", {})[name] = round(os.getloadavg()[0], 1)
        started = time.monotonic()
        try:
            outcome = step()
        except Exception as exc:  # noqa: BLE001 - one broken part must not hide the others' figures
            results.failed[name] = f"{type(exc).__name__}: {exc}"[-3000:]
            config.log(f"  FAILED: {results.failed[name]}")
            continue
        if isinstance(outcome, str):
            results.skipped[name] = outcome
            config.log(f"  skipped: {outcome}")
        else:
            results.data[name] = outcome
        config.log(f"  {time.monotonic() - started:.0f} s")
        if config.on_step:
            config.on_step(results)
    results.meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return results


def _meta(config: Config) -> dict:
    return {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": config.quick, "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(), "python": sys.version.split()[0],
            "git_commit": _git_commit(), "k": K}


def _git_commit() -> str:
    """HEAD's short hash, marked "+dirty" when tracked files differ from it (a shared tree often does);
    $BENCH_COMMIT where there is no git (a `git archive` snapshot)."""
    import subprocess
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("BENCH_COMMIT", "unknown")


def last_json(run: proc.Run) -> dict:
    """The JSON object a measured child printed on its last stdout line."""
    for _, line in reversed(run.lines):
        if line.strip().startswith("{"):
            return json.loads(line)
    raise proc.ChildFailed(f"{' '.join(run.command)} printed no JSON:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")


# --------------------------------------------------------------------------- ingest

def ingest_cli(files: list[Path], store: Path) -> dict:
    """The command as a user runs it: it returns once every report is searchable in English; the
    multilingual vectors follow in a background worker, timed until it exits (from the start)."""
    shutil.rmtree(store, ignore_errors=True)
    started = time.perf_counter()
    run = proc.python("ingest", "--index-dir", str(store), "--quiet", *map(str, files),
                      env={**proc.child_env(), background.PASS_ENV: background.BACKGROUND}).check()
    worker_peak_mb = _wait_for_worker(store)
    complete_s = time.perf_counter() - started
    stats = last_json(proc.python("index", "stats", "--json", "--index-dir", str(store)).check())
    return {"wall_s": run.wall_s, "peak_rss_mb": run.peak_rss_mb, "files": len(files),
            "multilingual_complete_s": complete_s, "worker_peak_rss_mb": worker_peak_mb,
            "multilingual_pending_after": stats.get("multilingual_pending", []),
            "passages": stats["passages"], "summary": run.stdout.strip().splitlines()[-3:]}


def _wait_for_worker(store: Path, poll_s: float = 0.2) -> float | None:
    """Wait for the store's background worker to exit; its peak RSS (MB) as /proc last saw it."""
    peak_kb = 0
    while (pid := background.running_worker(store)) is not None:
        peak_kb = max(peak_kb, proc.hwm_kb(pid))
        time.sleep(poll_s)
    return peak_kb / 1024 if peak_kb else None


def ingest_split(files: list[Path], work: Path) -> dict:
    store = work / "split-store"
    shutil.rmtree(store, ignore_errors=True)
    run = proc.python("benchmarks.probe", "ingest-split", "--index-dir", str(store),
                      "--texts-out", str(work / "embedded-texts.json"), *map(str, files)).check()
    shutil.rmtree(store, ignore_errors=True)
    return {**last_json(run), "process_wall_s": run.wall_s, "peak_rss_mb": run.peak_rss_mb}


def floors(texts: Path, questions: Path) -> dict:
    run = proc.python("benchmarks.floors", "--texts", str(texts), "--questions", str(questions)).check()
    return {**last_json(run), "process_wall_s": run.wall_s, "process_peak_rss_mb": run.peak_rss_mb}


# --------------------------------------------------------------------------- questions

def ask_cli(store: Path, questions: list[str]) -> dict:
    """Cold: one question as an argument, process wall. Warm: all questions piped; each answer's
    time is the gap between its JSON line and the previous one (the first gap is the cold one)."""
    cold = proc.python("index", "ask", "--json", "-k", str(K), "--index-dir", str(store), questions[0]).check()
    return {"cold_wall_s": cold.wall_s, "cold_peak_rss_mb": cold.peak_rss_mb,
            **piped_ask(store, questions)}


def piped_ask(store: Path, questions: list[str]) -> dict:
    run = proc.python("index", "ask", "--json", "-k", str(K), "--index-dir", str(store),
                      stdin_text="\n".join(questions) + "\n").check()
    stamps = [t for t, line in run.lines if line.startswith("{")]
    if len(stamps) != len(questions):
        raise proc.ChildFailed(f"ask --json answered {len(stamps)} of {len(questions)} questions")
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return {"first_answer_s": stamps[0], "warm": percentiles(gaps), "wall_s": run.wall_s,
            "peak_rss_mb": run.peak_rss_mb, "questions": len(questions)}


def ask_split(store: Path, question_file: Path) -> dict:
    run = proc.python("benchmarks.probe", "ask-split", "--index-dir", str(store), "--questions",
                      str(question_file), "-k", str(K)).check()
    return last_json(run)


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None, "n": 0}
    ordered = sorted(values)
    return {"p50": statistics.median(ordered), "p95": ordered[round(0.95 * (len(ordered) - 1))], "n": len(ordered)}


# --------------------------------------------------------------------------- app, peer

def app(config: Config, store: Path, questions: list[str]) -> dict | str:
    if not config.browser:
        return "browser part not asked for (--quick or --no-browser)"
    reason = app_timing.available()
    if reason:
        return reason
    measured = app_timing.measure(store, questions)
    conversation = measured["conversation_s"]
    return {**measured, "answer_1_s": conversation[0], "answer_last_s": conversation[-1],
            "conversation_length": len(conversation)}


def peer(config: Config, files: list[Path], question_file: Path) -> dict | str:
    if not config.peer:
        return "--no-peer"
    python = peer_env.ensure(config.peer_venv, log=config.log)
    run = proc.run([str(python), str(peer_env.SCRIPT), "--questions", str(question_file), "-k", str(K),
                    *map(str, files)]).check()
    return {**last_json(run), "process_wall_s": run.wall_s, "peak_rss_mb": run.peak_rss_mb}


# --------------------------------------------------------------------------- scale

def scale(config: Config, reference: Path, questions: list[str], work: Path, results: Results) -> dict:
    """Each size in turn; the figures so far are saved after each (a 1M store takes long)."""
    question_file = work / "scale-questions.txt"
    chosen = questions[:SCALE_QUESTIONS]
    question_file.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    out = results.data.setdefault("scale", {})
    for size in config.sizes:
        reason = _too_big(size)
        if reason:
            out[str(size)] = {"skipped": reason}
            config.log(f"  {size:,} passages skipped: {reason}")
            continue
        config.log(f"  {size:,} passages…")
        try:
            out[str(size)] = scale_one(size, reference, chosen, question_file, work)
        except Exception as exc:  # noqa: BLE001 - the other sizes still run; the command exits 1
            results.failed[f"scale {size}"] = f"{type(exc).__name__}: {exc}"[-3000:]
            out[str(size)] = {"skipped": f"failed: {type(exc).__name__}"}
            config.log(f"  FAILED: {results.failed[f'scale {size}']}")
        if config.on_step:
            config.on_step(results)
    return out


def _too_big(size: int) -> str | None:
    available = _mem_available_bytes()
    needed = size * BYTES_PER_PASSAGE_ESTIMATE
    if available and needed > MEMORY_HEADROOM * available:
        return f"needs about {needed / 2**30:.1f} GiB, {available / 2**30:.1f} GiB available now"
    return None


def _mem_available_bytes() -> int:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def scale_one(size: int, reference: Path, questions: list[str], question_file: Path, work: Path) -> dict:
    store = work / f"synthetic-{size}"
    shutil.rmtree(store, ignore_errors=True)
    try:
        build = proc.python("benchmarks.probe", "synth-build", "--size", str(size), "--reference", str(reference),
                            "--out", str(store)).check()
        query = proc.python("benchmarks.probe", "synth-query", "--index-dir", str(store), "--questions",
                            str(question_file), "-k", str(K)).check()
        return {"build": {**last_json(build), "process_peak_rss_mb": build.peak_rss_mb},
                "query": {**last_json(query), "process_peak_rss_mb": query.peak_rss_mb},
                "ask": piped_ask(store, questions)}
    finally:
        shutil.rmtree(store, ignore_errors=True)
