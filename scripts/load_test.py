"""Load the chat app with N simultaneous browser sessions and report answer times and memory.

    .venv/bin/python scripts/load_test.py --index-dir /tmp/loadstore --sessions 1 5 20 --seconds 60

A load script, not a test: it starts ONE real `streamlit run app.py` server on a loopback
port (with $CAAHT_INDEX_DIR and HF_HUB_OFFLINE=1), warms it with one question (that loads
the model), then for each N drives N separate browser contexts (N Streamlit sessions) in one
headless Debian Chromium, concurrently. All N sessions open the page first (--open-concurrency
at a time; the load times are reported), then the clock starts and each session keeps asking
questions for the time budget: type into the chat input, press Enter, and time until the new assistant message with
its citations has rendered. Sessions reload the page (a fresh Streamlit session) every
--reload-every questions so the page stays small. The server's RSS (its process and its
children, from /proc/PID/status VmRSS) is sampled during each N; the peak is reported.

Two times are measured per answer, both from Enter:
  * "answer": until the new assistant message shows a citation ("Citation" or "Closest
    passage") AND the script run is over (no running status widget, no stale element), i.e.
    every citation of that answer is on screen;
  * "first": until the first citation of the new message showed (browser clock).
The table reports "answer" (p50/p95/max) plus the p50 of "first".

Errors counted: answer timeouts, Playwright exceptions, an st.exception element
([data-testid=stException]) or an error alert ([data-testid=stAlert] holding
[data-testid=stAlertContentError]), and uncaught JavaScript errors in the page.

Never runs `playwright install`: it uses /usr/bin/chromium (or --chromium). Traffic goes
only to 127.0.0.1; every other request the page makes is aborted and counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.settings import INDEX_DIR_ENV, default_index_dir  # noqa: E402
from tests.streamlit_server import (CHROMIUM_ARGS, LOOPBACK_HOSTS, Server, ServerStartError,  # noqa: E402
                                    descendants, start_server, stop_server)

CHROMIUM = "/usr/bin/chromium"
DEFAULT_QUESTIONS = ROOT / "tests" / "data" / "dev_questions.jsonl"
WARM_TIMEOUT = 240.0  # s for the first answer (it loads the model)
PAGE_LOAD_TIMEOUT = 60.0  # s for a (re)load until the chat input shows
MAX_QUESTIONS_PER_SESSION = 10_000  # a hard bound on every request loop, besides the time budget

CHAT_INPUT = "[data-testid=stChatInput] textarea"
# Each session is its own user (as behind a login proxy), so saved conversations stay apart.
USER_HEADER = "X-Load-Test-User"
NOT_ANSWERED = "do not seem to answer"
MESSAGE = "[data-testid=stChatMessage]"

# Polled in the page (every POLL_MS). `expected` is the message count the new answer makes.
# Returns null while waiting; {state: "done"} when the new assistant message has a citation
# and the script run is over; {state: "error", text} when an exception or error alert shows.
# window.__lt.first records (browser clock) when the first citation of the new message showed.
POLL_MS = 200
WAIT_JS = ("""(expected) => {
    const NOT_ANSWERED = '""" + NOT_ANSWERED + """';
    const lt = window.__lt || (window.__lt = {t0: performance.now(), first: null});
    const errors = [...document.querySelectorAll('[data-testid=stException]'),
                    ...[...document.querySelectorAll('[data-testid=stAlert]')]
                        .filter(a => a.querySelector('[data-testid=stAlertContentError]'))];
    if (errors.length) {
        return {state: 'error', text: errors.map(e => e.innerText.trim().slice(0, 300)).join(' | ')};
    }
    const messages = document.querySelectorAll('[data-testid=stChatMessage]');
    if (messages.length < expected) return null;
    const last = messages[messages.length - 1];
    const text = last.textContent || '';  // no layout, unlike innerText
    // Answered: the best quote's block; not answered: the notice; or no passage at all.
    const shown = last.querySelector('[class*=st-key-best-]') || text.includes(NOT_ANSWERED)
        || text.includes('No passages');
    if (!shown) return null;
    if (lt.first === null) lt.first = performance.now();
    if (document.querySelector('[data-testid=stStatusWidget]')) return null;
    if (document.querySelector('[data-stale=true]')) return null;
    return {state: 'done'};
}""")
RUNNING_JS = """() => !!document.querySelector('[data-testid=stStatusWidget]')
    || !!document.querySelector('[data-stale=true]')"""




def new_user() -> str:
    import uuid

    return f"load-{uuid.uuid4().hex[:10]}"


# --------------------------------------------------------------------------- questions

def load_questions(path: Path) -> list[str]:
    """One question per line: a JSON object's "q" field (JSONL), or the line itself (plain text)."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            question = json.loads(line).get("q")
            if question:
                questions.append(str(question))
        else:
            questions.append(line)
    if not questions:
        raise SystemExit(f"no questions in {path}")
    return questions


# --------------------------------------------------------------------------- /proc

def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its reaped children), in seconds."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # after ")": state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
        ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def tree_rss_mb(server: Server) -> float:
    children = descendants(server.process.pid)
    server.seen_children |= set(children)
    return sum(rss_kb(pid) for pid in [server.process.pid, *children]) / 1024


def tree_cpu_seconds(server: Server) -> float:
    return sum(cpu_seconds(pid) for pid in [server.process.pid, *descendants(server.process.pid)])


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over all cores."""
    with open("/proc/stat", encoding="utf-8") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already in user
    tick = os.sysconf("SC_CLK_TCK")
    return (total - idle) / tick, total / tick


def client_cpu_seconds(server: Server) -> float:
    """CPU seconds of this script's own children other than the server: the Playwright driver and Chromium."""
    server_tree = {server.process.pid, *descendants(server.process.pid)}
    return sum(cpu_seconds(pid) for pid in descendants(os.getpid()) if pid not in server_tree)


def mem_available_mb() -> float:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


class Sampler:
    """Samples the server's RSS (and machine load) every `interval` seconds while a phase runs."""

    def __init__(self, server: Server, interval: float = 0.5) -> None:
        self.server, self.interval = server, interval
        self.rss: list[float] = []
        self.load: list[float] = []
        self.min_available = float("inf")
        self._task: asyncio.Task | None = None

    def sample(self) -> None:
        self.rss.append(tree_rss_mb(self.server))
        self.load.append(os.getloadavg()[0])
        self.min_available = min(self.min_available, mem_available_mb())

    async def _run(self) -> None:
        while True:
            await asyncio.to_thread(self.sample)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self.sample()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.sample()


# --------------------------------------------------------------------------- browser sessions

@dataclass
class SessionStats:
    answers: list[float] = field(default_factory=list)  # s, Enter -> answer fully rendered
    loads: list[float] = field(default_factory=list)  # s, goto/reload -> chat input visible
    by_position: dict[int, list[float]] = field(default_factory=dict)  # answers in the page -> times
    first: list[float] = field(default_factory=list)  # s, Enter -> first citation shown
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)  # a few error messages
    reloads: int = 0
    outside_requests: int = 0
    not_answered: int = 0  # answers shown as "Closest passage" (abstentions), counted as answers

    def error(self, kind: str, message: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.samples) < 5:
            self.samples.append(f"{kind}: {message[:300]}")


def short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


async def open_session(browser, url: str, stats: SessionStats):
    # Reduced motion: Streamlit's smooth scrolling and animations cost the (shared) CPU for nothing.
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce",
                                        service_workers="block", extra_http_headers={USER_HEADER: new_user()})

    async def route(route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK_HOSTS:
            await route.continue_()
        else:
            stats.outside_requests += 1
            await route.abort()

    await context.route("**/*", route)
    page = await context.new_page()
    page.on("pageerror", lambda error: stats.error("js-error", str(error)))
    return context, page


async def load_page(page, url: str, stats: SessionStats, *, reload: bool,
                    timeout: float = PAGE_LOAD_TIMEOUT, gate: asyncio.Semaphore | None = None) -> bool:
    """(Re)load the app until the chat input shows, within `timeout` seconds once `gate` lets it in.

    A fresh browser context parses Streamlit's whole JavaScript bundle again (several CPU
    seconds here), so at most --open-concurrency pages load at a time; the wait for the gate
    is not part of the load time.
    """
    if gate is not None:
        async with gate:
            return await load_page(page, url, stats, reload=reload, timeout=timeout)
    started = time.monotonic()
    try:
        if reload:
            stats.reloads += 1
            # The app keeps each user's conversation across reloads: a reload as a new user
            # starts from an empty page, as before.
            await page.set_extra_http_headers({USER_HEADER: new_user()})
            await page.reload(timeout=timeout * 1000, wait_until="commit")
        else:
            await page.goto(url, timeout=timeout * 1000, wait_until="commit")
        left = max(1.0, timeout - (time.monotonic() - started))
        await page.locator(CHAT_INPUT).wait_for(state="visible", timeout=left * 1000)
        stats.loads.append(time.monotonic() - started)
        return True
    except Exception as exc:  # noqa: BLE001 - recorded
        stats.error("page-load", short(exc))
        return False


async def ask_once(page, question: str, timeout: float, stats: SessionStats) -> bool:
    """Ask one question; record its times or its error. True if the page is still usable."""
    # The previous run must be over: a new question during a run would interrupt it.
    try:
        await page.wait_for_function(f"() => !({RUNNING_JS})()", polling=POLL_MS, timeout=timeout * 1000)
    except Exception as exc:  # noqa: BLE001
        stats.error("busy-before-ask", short(exc))
        return False
    expected = await page.locator(MESSAGE).count() + 2
    box = page.locator(CHAT_INPUT)
    try:
        await box.fill(question, timeout=30_000)
        await page.evaluate("() => { window.__lt = {t0: performance.now(), first: null}; }")
        started = time.monotonic()
        await box.press("Enter", timeout=30_000)
    except Exception as exc:  # noqa: BLE001
        stats.error("exception", short(exc))
        return False
    try:
        handle = await page.wait_for_function(WAIT_JS, arg=expected, polling=POLL_MS, timeout=timeout * 1000)
        elapsed = time.monotonic() - started
        result = await handle.json_value()
    except Exception as exc:  # noqa: BLE001
        name = type(exc).__name__
        stats.error("timeout" if "Timeout" in name else "exception", f"{question!r}: {short(exc)}")
        return False
    if result.get("state") == "error":
        stats.error("app-error", f"{question!r}: {result.get('text', '')}")
        return False
    stats.answers.append(elapsed)
    try:
        lt = await page.evaluate("() => window.__lt")
        if lt and lt.get("first") is not None:
            stats.first.append((lt["first"] - lt["t0"]) / 1000)
        last = await page.locator(MESSAGE).last.inner_text(timeout=5_000)
        if NOT_ANSWERED in last:
            stats.not_answered += 1
    except Exception:  # noqa: BLE001 - the times are what matter; the answer already counted
        pass
    return True


async def prepare_session(browser, url: str, stats: SessionStats, timeout: float, gate: asyncio.Semaphore):
    """A new browser context with the app loaded (or not: the session loop then reloads it)."""
    try:
        context, page = await open_session(browser, url, stats)
    except Exception as exc:  # noqa: BLE001 - recorded; this session then asks nothing
        stats.error("exception", f"opening a browser context: {short(exc)}")
        return None, None, False
    usable = await load_page(page, url, stats, reload=False, timeout=timeout, gate=gate)
    return context, page, usable


async def run_session(context, page, usable: bool, url: str, questions: list[str], offset: int,
                      deadline: float, answer_timeout: float, reload_every: int, stats: SessionStats,
                      gate: asyncio.Semaphore, load_timeout: float) -> None:
    """Ask questions until the deadline (or MAX_QUESTIONS_PER_SESSION), in one browser context."""
    if context is None:
        return
    try:
        asked_here = 0
        for number in range(MAX_QUESTIONS_PER_SESSION):
            if time.monotonic() >= deadline:
                break
            if not usable or asked_here >= reload_every:
                usable = await load_page(page, url, stats, reload=True, timeout=load_timeout, gate=gate)
                asked_here = 0
                if not usable:
                    await asyncio.sleep(1)  # bounded: the loop ends at the deadline
                    continue
            question = questions[(offset + number) % len(questions)]
            answered = len(stats.answers)
            usable = await ask_once(page, question, answer_timeout, stats)
            asked_here += 1
            if len(stats.answers) > answered:  # answer number `asked_here` on this page (history length)
                stats.by_position.setdefault(asked_here, []).append(stats.answers[-1])
    finally:
        try:
            await context.close()
        except Exception:  # noqa: BLE001
            pass


# --------------------------------------------------------------------------- phases

def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


@dataclass
class PhaseResult:
    sessions: int
    seconds: float  # the budget
    wall_seconds: float  # what the phase took, including the in-flight answers after the budget
    answers: int
    not_answered: int
    p50: float | None
    p95: float | None
    max: float | None
    first_p50: float | None
    first_p95: float | None
    p50_by_position: dict[int, float]  # answer time by its number on the page (1 = empty history)
    errors: int
    errors_by_kind: dict[str, int]
    error_samples: list[str]
    reloads: int
    setup_seconds: float  # opening all N sessions before the clock starts
    load_p50: float | None  # page load (goto or reload) until the chat input shows
    load_max: float | None
    load_failures: int
    outside_requests: int
    peak_rss_mb: float
    start_rss_mb: float
    end_rss_mb: float
    server_cpu_seconds: float
    browser_cpu_seconds: float  # Playwright driver + Chromium (this script's other children)
    machine_busy_cpu_seconds: float  # everything on the machine, other people's processes included
    peak_load1: float
    min_mem_available_mb: float


async def run_phase(browser, server: Server, n: int, seconds: float, questions: list[str],
                    answer_timeout: float, reload_every: int, load_timeout: float,
                    open_concurrency: int) -> PhaseResult:
    stats = [SessionStats() for _ in range(n)]
    sampler = Sampler(server)
    sampler.start()
    # Open all N sessions first (open_concurrency pages at a time, each load bounded), then start
    # the clock: the budget measures answering, not N browsers starting up. Load times and
    # failures are reported on their own.
    gate = asyncio.Semaphore(open_concurrency)
    setup_started = time.monotonic()
    prepared = await asyncio.gather(*(prepare_session(browser, server.url, stats[i], load_timeout, gate)
                                      for i in range(n)))
    setup = time.monotonic() - setup_started
    cpu_before, browser_before = tree_cpu_seconds(server), client_cpu_seconds(server)
    machine_before = machine_cpu_seconds()[0]
    started = time.monotonic()
    deadline = started + seconds
    # Spread the sessions over the question list, so they do not all ask the same question.
    step = max(1, len(questions) // n)
    await asyncio.gather(*(run_session(context, page, usable, server.url, questions, i * step, deadline,
                                       answer_timeout, reload_every, stats[i], gate, load_timeout)
                           for i, (context, page, usable) in enumerate(prepared)))
    wall = time.monotonic() - started
    await sampler.stop()
    cpu = tree_cpu_seconds(server) - cpu_before
    browser_cpu = client_cpu_seconds(server) - browser_before
    machine_busy = machine_cpu_seconds()[0] - machine_before
    answers = [t for s in stats for t in s.answers]
    first = [t for s in stats for t in s.first]
    loads = [t for s in stats for t in s.loads]
    positions: dict[int, list[float]] = {}
    for s in stats:
        for position, times in s.by_position.items():
            positions.setdefault(position, []).extend(times)
    by_kind: dict[str, int] = {}
    for s in stats:
        for kind, count in s.errors.items():
            by_kind[kind] = by_kind.get(kind, 0) + count
    return PhaseResult(
        sessions=n, seconds=seconds, wall_seconds=round(wall, 1), answers=len(answers),
        not_answered=sum(s.not_answered for s in stats),
        p50=percentile(answers, 50), p95=percentile(answers, 95), max=max(answers) if answers else None,
        first_p50=percentile(first, 50), first_p95=percentile(first, 95),
        p50_by_position={p: round(percentile(t, 50), 2) for p, t in sorted(positions.items())},
        errors=sum(by_kind.values()), errors_by_kind=by_kind,
        error_samples=[m for s in stats for m in s.samples][:10],
        reloads=sum(s.reloads for s in stats), setup_seconds=round(setup, 1),
        load_p50=percentile(loads, 50), load_max=max(loads) if loads else None,
        load_failures=by_kind.get("page-load", 0), outside_requests=sum(s.outside_requests for s in stats),
        peak_rss_mb=round(max(sampler.rss), 1), start_rss_mb=round(sampler.rss[0], 1),
        end_rss_mb=round(sampler.rss[-1], 1), server_cpu_seconds=round(cpu, 1),
        browser_cpu_seconds=round(browser_cpu, 1), machine_busy_cpu_seconds=round(machine_busy, 1),
        peak_load1=round(max(sampler.load), 2), min_mem_available_mb=round(sampler.min_available),
    )


async def warm(browser, server: Server, question: str) -> float:
    """Ask one question in its own session (the first one loads the model); its time in seconds."""
    stats = SessionStats()
    context, page = await open_session(browser, server.url, stats)
    try:
        started = time.monotonic()
        if not await load_page(page, server.url, stats, reload=False) \
                or not await ask_once(page, question, WARM_TIMEOUT, stats):
            try:  # e.g. "No index has been built yet" when --index-dir holds no store
                alerts = await page.locator("[data-testid=stAlert]").all_inner_texts()
            except Exception:  # noqa: BLE001
                alerts = []
            raise RuntimeError(f"warm-up question failed: {stats.samples}; the page shows {alerts}\n"
                               f"{server.log_tail()}")
        return time.monotonic() - started
    finally:
        await context.close()


# --------------------------------------------------------------------------- output

def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(results: list[PhaseResult]) -> None:
    header = ["N", "answers", "p50 s", "p95 s", "errors", "peak RSS MB",
              "max s", "first p50 s", "answers/min", "server CPU %", "asking s"]
    rows = []
    for r in results:
        rows.append([str(r.sessions), str(r.answers), fmt(r.p50), fmt(r.p95), str(r.errors),
                     fmt(r.peak_rss_mb, 0), fmt(r.max), fmt(r.first_p50),
                     fmt(60 * r.answers / r.wall_seconds if r.wall_seconds else None, 1),
                     fmt(100 * r.server_cpu_seconds / r.wall_seconds if r.wall_seconds else None, 0),
                     fmt(r.wall_seconds, 0)])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
    for r in results:
        wall = r.wall_seconds or 1
        extras = [f"CPU (100% = one core) server {100 * r.server_cpu_seconds / wall:.0f}%, "
                  f"browser {100 * r.browser_cpu_seconds / wall:.0f}%, "
                  f"whole machine {100 * r.machine_busy_cpu_seconds / wall:.0f}% of {100 * (os.cpu_count() or 1)}%",
                  f"RSS start {r.start_rss_mb:.0f} -> end {r.end_rss_mb:.0f} MB",
                  f"peak load1 {r.peak_load1}", f"min MemAvailable {r.min_mem_available_mb:.0f} MB",
                  f"setup {r.setup_seconds:.0f} s, page load p50 {fmt(r.load_p50)} s max {fmt(r.load_max)} s, "
                  f"load failures {r.load_failures}", f"reloads {r.reloads}", f"abstained {r.not_answered}"]
        if r.outside_requests:
            extras.append(f"non-loopback requests blocked {r.outside_requests}")
        print(f"N={r.sessions}: " + ", ".join(extras))
        if r.p50_by_position:
            print("  answer p50 s by its number on the page (history length): "
                  + ", ".join(f"#{p} {t:.2f}" for p, t in r.p50_by_position.items()))
        if r.errors:
            print(f"  errors by kind: {r.errors_by_kind}")
            for sample in r.error_samples:
                print(f"    {sample}")


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=None,
                        help=f"a built store (default: ${INDEX_DIR_ENV} or the project's store/)")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 20],
                        help="numbers of simultaneous browser sessions, one phase each (default: 1 5 20)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="time budget per phase; questions in flight then may finish (default: 60)")
    parser.add_argument("--port", type=int, default=None, help="server port (default: a free loopback port)")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS,
                        help="JSONL with a \"q\" field per line, or plain text, one question a line "
                             "(default: tests/data/dev_questions.jsonl)")
    parser.add_argument("--answer-timeout", type=float, default=120.0,
                        help="seconds one answer may take before it counts as a timeout (default: 120)")
    parser.add_argument("--load-timeout", type=float, default=PAGE_LOAD_TIMEOUT,
                        help="seconds a page (re)load may take until the chat input shows "
                             f"(default: {PAGE_LOAD_TIMEOUT:g})")
    parser.add_argument("--open-concurrency", type=int, default=os.cpu_count() or 1,
                        help="at most this many pages (re)load at once (default: the number of CPUs); "
                             "use the session count for all at once")
    parser.add_argument("--reload-every", type=int, default=10,
                        help="reload the page (a fresh Streamlit session) after this many questions (default: 10)")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"browser executable (default: {CHROMIUM})")
    parser.add_argument("--json", type=Path, nargs="?", const=Path("-"), default=None,
                        help="also write the results as JSON to FILE (or stdout with no FILE)")
    parser.add_argument("--server-log", type=Path, default=None,
                        help="where the server's output goes (default: a temporary file, kept)")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.sessions):
        parser.error("--sessions must be positive")
    if min(args.seconds, args.answer_timeout, args.load_timeout) <= 0 or min(args.reload_every, args.open_concurrency) < 1:
        parser.error("--seconds, --answer-timeout, --load-timeout --reload-every and --open-concurrency must be positive")
    return args


async def run(args: argparse.Namespace, server: Server, questions: list[str]) -> tuple[list[PhaseResult], dict]:
    from playwright.async_api import async_playwright

    info: dict = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            print(f"warming up with one question: {questions[0]!r}", flush=True)
            info["warm_seconds"] = round(await warm(browser, server, questions[0]), 1)
            info["rss_after_warm_mb"] = round(tree_rss_mb(server), 1)
            print(f"  warm-up answered in {info['warm_seconds']} s; server RSS {info['rss_after_warm_mb']:.0f} MB",
                  flush=True)
            results = []
            for n in args.sessions:
                print(f"N={n}: opening {n} session(s), then asking for {args.seconds:g} s …", flush=True)
                result = await run_phase(browser, server, n, args.seconds, questions,
                                         args.answer_timeout, args.reload_every, args.load_timeout,
                                         args.open_concurrency)
                print(f"  {result.answers} answers, p50 {fmt(result.p50)} s, p95 {fmt(result.p95)} s, "
                      f"{result.errors} errors, peak RSS {result.peak_rss_mb:.0f} MB "
                      f"(setup {result.setup_seconds:.0f} s, asking {result.wall_seconds:.0f} s)", flush=True)
                results.append(result)
                if server.process.poll() is not None:
                    print(f"the server exited with {server.process.returncode}; stopping", flush=True)
                    break
        finally:
            await browser.close()
    return results, info


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.access(args.chromium, os.X_OK):
        print(f"{args.chromium} is not an executable browser (install Debian's chromium)", file=sys.stderr)
        return 2
    index_dir = (args.index_dir or default_index_dir()).resolve()
    if not index_dir.is_dir():
        print(f"no store at {index_dir}: build one with `python -m ingest --index-dir {index_dir}`",
              file=sys.stderr)
        return 2
    questions = load_questions(args.questions)
    log = args.server_log or Path(tempfile.mkdtemp(prefix="load_test-")) / "server.log"

    # SIGTERM ends the run like Ctrl-C, so the finally below still stops the server.
    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    print(f"store {index_dir}; {len(questions)} questions from {args.questions}; server log {log}", flush=True)
    try:
        server = start_server(index_dir, log, port=args.port, env={"CAAHT_USER_HEADER": USER_HEADER})
    except ServerStartError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        print(f"server up at {server.url} (pid {server.process.pid}); RSS {tree_rss_mb(server):.0f} MB", flush=True)
        results, info = asyncio.run(run(args, server, questions))
    finally:
        stop_server(server)
    print()
    print(f"sessions: {' '.join(map(str, args.sessions))}; {args.seconds:g} s per N; "
          f"warm-up {info['warm_seconds']} s; {os.cpu_count()} CPUs")
    print_table(results)
    log_text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    problems = [line for line in log_text.splitlines()
                if any(word in line for word in ("Traceback", "Error", "Exception", "WARNING"))]
    if problems:
        print(f"server log {log}: {len(problems)} line(s) with Traceback/Error/Exception/WARNING, e.g.:")
        for line in problems[:10]:
            print(f"    {line[:200]}")
    if args.json is not None:
        payload = {"index_dir": str(index_dir), "seconds": args.seconds, "questions": len(questions),
                   "cpus": os.cpu_count(), "server_log": str(log), **info,
                   "server_log_problem_lines": problems[:50],
                   "results": [asdict(r) for r in results]}
        text = json.dumps(payload, indent=2)
        if str(args.json) == "-":
            print(text)
        else:
            args.json.write_text(text + "\n", encoding="utf-8")
            print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
