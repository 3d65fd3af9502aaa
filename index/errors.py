"""Why a store cannot be used or written. Each message names the path and a fix that works.

Every `Fix:` names a command that, run as printed (from the project folder), repairs the
store or explains in one sentence why it cannot: tests/test_faults.py runs each one.
"""

from __future__ import annotations

import shlex
from pathlib import Path

REBUILD_HINT = "python -m ingest"
REPAIR_FLAG = "--repair"
MB = 1024 * 1024


def repair_command(path: Path | str) -> str:
    """The command that repairs the store at `path` (absolute, quoted for a shell)."""
    return f"{REBUILD_HINT} {REPAIR_FLAG} --index-dir {shlex.quote(str(Path(path).absolute()))}"


def ingest_command(path: Path | str, *files: str) -> str:
    """The command that adds `files` (or corpus/ when none) to the store at `path`."""
    named = "".join(f" {shlex.quote(str(f))}" for f in files)
    return f"{REBUILD_HINT} --index-dir {shlex.quote(str(Path(path).absolute()))}{named}"


def megabytes(size: int) -> str:
    """1536000 → '1.5 MB'; small sizes keep one decimal so '0.2 MB' is not '0 MB'."""
    return f"{size / MB:.1f} MB"


class StoreError(Exception):
    """Base class: the store at `path` cannot be used as it is."""

    detail_names_path = False  # True where the detail already names the folder

    def __init__(self, path: Path | str, detail: str, fix: str | None = None):
        self.path = Path(path)
        self.detail = detail
        self.fix = fix or f"re-run `{repair_command(self.path)}` to repair or rebuild it"
        where = "" if self.detail_names_path else f" ({self.path})"
        super().__init__(f"{detail}{where}. Fix: {self.fix}.")

    @property
    def sentence(self) -> str:
        """The message for a person: what is wrong, then the fix (what the app shows)."""
        return str(self)


class StoreMissing(StoreError):
    """No store has been built at this path yet (or CURRENT was lost while generations remain)."""

    def __init__(self, path: Path | str):
        if _has_generations(Path(path)):
            # Not a new store: indexing corpus/ into it would add reports the user never had.
            super().__init__(path, "the file CURRENT that names the index's current generation is missing",
                             fix=f"run `{repair_command(path)}` to point it at the newest sound generation")
            return
        super().__init__(path, "no index has been built here yet",
                         fix=f"run `{REBUILD_HINT}` to index the reports in corpus/ "
                             f"(or `{ingest_command(path)}`)")


def _has_generations(path: Path) -> bool:
    try:
        return any(child.name.startswith("gen-") and child.is_dir() for child in path.iterdir())
    except OSError:
        return False


class StoreMismatch(StoreError):
    """The store was written by other code or another model than this one expects."""


class StoreCorrupt(StoreError):
    """Files of the store are missing or do not match their recorded checksums."""


class IngestBusy(StoreError):
    """Another ingest holds the writer lock."""

    def __init__(self, path: Path | str):
        super().__init__(path, "another ingest is running", fix="wait for it to finish, then try again")


class StoreUnwritable(StoreError):
    """A new generation or report copy could not be written: full disk, read-only or missing folder,
    no permission. The old store is untouched and keeps answering."""

    detail_names_path = True

    def __init__(self, path: Path | str, detail: str, fix: str, *, needed: int | None = None,
                 free: int | None = None, errno: int | None = None):
        self.needed, self.free, self.errno = needed, free, errno
        super().__init__(path, detail, fix=fix)


class ReportsLost(StoreError):
    """Repair could not bring back some reports: neither a good generation nor a sound copy holds them."""

    def __init__(self, path: Path | str, reports: tuple[str, ...], detail: str = ""):
        self.reports = reports
        names = ", ".join(reports)
        super().__init__(
            path, detail or f"the index no longer holds {names} and no sound copy of "
                            f"{'it' if len(reports) == 1 else 'them'} is kept",
            fix=f"add {'it' if len(reports) == 1 else 'them'} again from your own "
                f"{'copy' if len(reports) == 1 else 'copies'}: `{ingest_command(path, *reports)}` "
                f"(give the path of each file)")
