"""The background worker's file in a store folder: which process, if any, is adding the
multilingual vectors (ingest/background.py starts and stops it; `python -m index stats` names it).

Here, below both packages, so that the ingest and the question side read the file alike.
"""

from __future__ import annotations

import os
from pathlib import Path

from index.store.layout import MULTILINGUAL_WORKER_PID

# The worker's command line carries this flag: a process id reused by another program is not it.
WORKER_FLAG = "--complete-multilingual"


def recorded_worker(index_dir: Path) -> int | None:
    """The process id the store's worker file records, alive or not."""
    try:
        return int((Path(index_dir) / MULTILINGUAL_WORKER_PID).read_text("utf-8").strip())
    except (OSError, ValueError):
        return None


def running_worker(index_dir: Path) -> int | None:
    """The process id of this store's background worker, if one is running (never this process)."""
    pid = recorded_worker(index_dir)
    return pid if pid is not None and pid != os.getpid() and is_worker(pid) else None


def is_worker(pid: int) -> bool:
    """Whether `pid` is alive and is an ingest worker (not a reused process id, not a zombie)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)  # no /proc (macOS): alive is the best we can tell
        except (ProcessLookupError, PermissionError):
            return False
        return True
    return WORKER_FLAG.encode() in cmdline and b"State:\tZ" not in _status(pid)


def _status(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/status").read_bytes()
    except OSError:
        return b""
