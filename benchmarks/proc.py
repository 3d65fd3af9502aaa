"""Child processes, timed from the outside: wall time, peak RSS, and stdout lines as they arrive.

Every figure the benchmark reports for a command is measured here, on a separate process,
so the benchmark's own memory never counts. Peak RSS comes from `os.wait4` (the rusage of that
one child: the largest RSS of the child or any descendant it waited for, not their sum).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
             "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
DEFAULT_TIMEOUT = 1800.0  # s; a hung child is killed and reported, not waited for forever


class ChildFailed(RuntimeError):
    """A measured command exited non-zero; the message holds its command and output tail."""


@dataclass
class Run:
    command: list[str]
    wall_s: float
    peak_rss_mb: float
    returncode: int
    lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, stdout line)
    stderr: str = ""

    @property
    def stdout(self) -> str:
        return "".join(line for _, line in self.lines)

    def check(self) -> "Run":
        if self.returncode != 0:
            raise ChildFailed(f"{' '.join(self.command)} exited with {self.returncode}:\n"
                              f"{self.stdout[-2000:]}\n{self.stderr[-3000:]}")
        return self


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **CHILD_ENV, **(extra or {})}


def run(command: list[str], *, stdin_text: str | None = None, cwd: Path = ROOT,
        env: dict[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT) -> Run:
    """Run `command`, timestamping each stdout line; wall time from just before the start to its exit."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, env=env or child_env(), text=True, encoding="utf-8",
                               stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: list[tuple[float, str]] = []
    stderr: list[str] = []
    readers = [threading.Thread(target=_read_lines, args=(process.stdout, lines, started), daemon=True),
               threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)]
    for reader in readers:
        reader.start()
    if stdin_text is not None:
        process.stdin.write(stdin_text)
        process.stdin.close()
    returncode, peak_kb = _wait(process, timeout)
    wall = time.monotonic() - started
    for reader in readers:
        reader.join(timeout=10)
    return Run(command, wall, peak_kb / 1024, returncode, lines, "".join(stderr))


def _read_lines(stream, lines: list, started: float) -> None:
    for line in stream:
        lines.append((time.monotonic() - started, line))


def _wait(process: subprocess.Popen, timeout: float) -> tuple[int, int]:
    """(exit code, peak RSS in KiB) of `process`, killing it after `timeout` seconds."""
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss


def python(module: str, *args: str, **kwargs) -> Run:
    """`python -m module args…` with this interpreter (the project's .venv)."""
    return run([sys.executable, "-m", module, *args], **kwargs)


# --------------------------------------------------------------------------- /proc polling (servers)

def rss_kb(pid: int) -> int:
    """A process's resident set now (VmRSS), 0 if it is gone."""
    return _status_kb(pid, "VmRSS:")


def hwm_kb(pid: int) -> int:
    """A process's peak resident set so far (VmHWM), 0 if it is gone."""
    return _status_kb(pid, "VmHWM:")


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreePeak:
    """Samples the summed RSS of a process and its descendants every `interval` s, in a thread."""

    def __init__(self, pid: int, descendants, interval: float = 0.25):
        self.pid, self._descendants, self.interval = pid, descendants, interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> float:
        total = sum(rss_kb(p) for p in [self.pid, *self._descendants(self.pid)]) / 1024
        self.peak_mb = max(self.peak_mb, total)
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> "TreePeak":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
