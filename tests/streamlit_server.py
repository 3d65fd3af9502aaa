"""Start and stop a real `streamlit run app.py` on a free loopback port.

Shared by the browser tests (tests/test_browser.py) and the load script
(scripts/load_test.py), which both drive the app in Debian's headless Chromium.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from index.settings import INDEX_DIR_ENV

ROOT = Path(__file__).resolve().parent.parent
SERVER_START_TIMEOUT = 120.0  # s until /_stcore/health answers "ok"
STOP_TIMEOUT = 15.0  # s to wait after terminate, then after kill
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


class ServerStartError(RuntimeError):
    """The server exited or never answered its health check; the message holds its log's tail."""


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    seen_children: set[int] = field(default_factory=set)  # pids to kill on stop, even if orphaned

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(index_dir: Path, log: Path, *, port: int | None = None,
                 timeout: float = SERVER_START_TIMEOUT, env: dict[str, str] | None = None) -> Server:
    """Start the app on `index_dir` (via $CAAHT_INDEX_DIR) and return once it is healthy.
    `env` adds environment variables (e.g. the login proxy's user header, CAAHT_USER_HEADER)."""
    port = port or free_port()
    env = {**os.environ, INDEX_DIR_ENV: str(index_dir), "HF_HUB_OFFLINE": "1", **(env or {})}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_healthy(server, timeout)
    except ServerStartError:
        stop_server(server)
        raise
    return server


def wait_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerStartError(f"streamlit exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=5) as response:
                if response.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    raise ServerStartError(f"streamlit did not answer /_stcore/health within {timeout:.0f} s:\n"
                           f"{server.log_tail()}")


def stop_server(server: Server) -> None:
    """Terminate, then kill, the server; then any of its children still alive (by their pids)."""
    process = server.process
    server.seen_children |= set(descendants(process.pid))
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    for pid in sorted(server.seen_children):
        try:
            os.kill(pid, signal.SIGKILL)  # only the server's own children, started by us
        except (ProcessLookupError, PermissionError):
            pass


# --------------------------------------------------------------------------- /proc

def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return parents


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc); empty where /proc is missing."""
    if not os.path.isdir("/proc"):
        return []
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found
