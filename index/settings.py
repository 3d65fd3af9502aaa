"""Where things live by default, shared by `python -m ingest`, `python -m index` and the app."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = PROJECT_ROOT / "corpus"
INDEX_DIR_ENV = "CAAHT_INDEX_DIR"
DEFAULT_INDEX_DIR = PROJECT_ROOT / "store"


def default_index_dir() -> Path:
    """$CAAHT_INDEX_DIR if set, else store/ beside the code (not the working directory)."""
    return Path(os.environ.get(INDEX_DIR_ENV) or DEFAULT_INDEX_DIR)


def cache_dir(env: str, subdir: str | Path) -> Path:
    """A folder of the user's cache: $`env` if set, else `subdir` under $XDG_CACHE_HOME or ~/.cache."""
    configured = os.environ.get(env)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / subdir
