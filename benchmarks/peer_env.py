"""The peer's own virtual environment, outside the repository, created on first use.

torch is installed first (the pinned CPU wheel; an unpinned torch pulls a multi-GB CUDA build),
then benchmarks/peer/requirements.txt. A stamp file records what was installed, so a changed
requirements file installs again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

PEER_DIR = Path(__file__).resolve().parent / "peer"
REQUIREMENTS = PEER_DIR / "requirements.txt"
SCRIPT = PEER_DIR / "run_peer.py"
DEFAULT_VENV = Path("/work/peer-venv")
VENV_ENV = "BENCH_PEER_VENV"
TORCH = "torch==2.13.0"
STAMP = ".bench-peer-installed"


class PeerSetupFailed(RuntimeError):
    """The peer's virtual environment could not be made; the message names the step and the fix."""


def venv_path(explicit: Path | None = None) -> Path:
    return Path(explicit or os.environ.get(VENV_ENV) or DEFAULT_VENV)


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure(venv: Path, log=print) -> Path:
    """The peer venv's python, installing the venv first when it is missing or out of date."""
    wanted = hashlib.sha256((TORCH + REQUIREMENTS.read_text("utf-8")).encode()).hexdigest()
    stamp = venv / STAMP
    if python_of(venv).exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python_of(venv)
    log(f"setting up the peer's virtual environment in {venv} (once; several minutes)…")
    base = getattr(sys, "_base_executable", sys.executable)
    steps = [[base, "-m", "venv", str(venv)],
             [str(python_of(venv)), "-m", "pip", "install", "-q", TORCH],
             [str(python_of(venv)), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            raise PeerSetupFailed(f"`{' '.join(step)}` failed ({done.returncode}):\n{done.stderr[-2000:]}\n"
                                  f"Fix: remove {venv} and run again, or pass --no-peer.")
    stamp.write_text(wanted)
    return python_of(venv)
