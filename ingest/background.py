"""The multilingual pass in the background: `python -m ingest` returns once every report is
searchable in English, and a detached, low-priority process adds the multilingual vectors.

The multilingual model is the slower one (about 2.4× MiniLM per passage); English search never
waits for it. The worker is `python -m ingest --complete-multilingual --index-dir D`: it takes
the writer lock like any ingest, publishes one report at a time (a reader sees whole
generations only) and exits when nothing is pending. Its process id is kept in the store folder
so that `python -m index stats` can say it is running, and so that the next ingest stops it
first instead of waiting for it: that ingest completes whatever is still pending itself, or
starts a new worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from index.store.layout import MULTILINGUAL_WORKER_LOG as LOG_FILE, MULTILINGUAL_WORKER_PID as PID_FILE
from index.store.worker import WORKER_FLAG, is_worker, recorded_worker, running_worker

# Below every interactive process: a question asked meanwhile keeps its speed.
WORKER_NICENESS = 19
# How long a stopped worker may take to exit before the ingest goes on (it then waits on the lock).
STOP_WAIT_S = 5.0
# `--multilingual-pass` default; the environment variable overrides it (tests run "now").
PASS_ENV = "CAAHT_MULTILINGUAL_PASS"
BACKGROUND, NOW = "background", "now"


def default_pass() -> str:
    chosen = os.environ.get(PASS_ENV)
    return chosen if chosen in (BACKGROUND, NOW) else BACKGROUND


def start_worker(index_dir: Path) -> int:
    """Start the background worker for `index_dir`; its process id."""
    index_dir = Path(index_dir)
    command = [sys.executable, "-m", "ingest", WORKER_FLAG, "--quiet",
               "--index-dir", str(index_dir.resolve())]
    with open(index_dir / LOG_FILE, "ab") as log:
        posix = os.name == "posix"
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=posix, preexec_fn=_lower_priority if posix else None,
                                   cwd=str(Path(__file__).resolve().parent.parent))
    (index_dir / PID_FILE).write_text(f"{process.pid}\n", "utf-8")
    return process.pid


def stop_worker(index_dir: Path) -> bool:
    """Stop this store's running worker (its report in progress is simply not published); whether
    one was running."""
    pid = running_worker(index_dir)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline and is_worker(pid):
        time.sleep(0.05)
    return True


def forget_worker(index_dir: Path) -> None:
    """Called by the worker as it ends."""
    if recorded_worker(index_dir) == os.getpid():
        try:
            (Path(index_dir) / PID_FILE).unlink()
        except OSError:
            pass


def _lower_priority() -> None:
    os.nice(WORKER_NICENESS)
