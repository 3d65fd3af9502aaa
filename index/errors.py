"""Why a store cannot be used. Each message names the path and the fix."""

from __future__ import annotations

from pathlib import Path

REBUILD_HINT = "python -m ingest"


class StoreError(Exception):
    """Base class: the store at `path` cannot be used as it is."""

    def __init__(self, path: Path | str, detail: str, fix: str | None = None):
        self.path = Path(path)
        self.detail = detail
        self.fix = fix or f"re-run `{REBUILD_HINT} --index-dir {self.path}` to rebuild it"
        super().__init__(f"{detail} ({self.path}). Fix: {self.fix}.")


class StoreMissing(StoreError):
    """No store has been built at this path yet."""

    def __init__(self, path: Path | str):
        super().__init__(path, "no index has been built here yet",
                         fix=f"run `{REBUILD_HINT}` to index the reports in corpus/ "
                             f"(or `{REBUILD_HINT} --index-dir {path}`)")


class StoreMismatch(StoreError):
    """The store was written by other code or another model than this one expects."""


class StoreCorrupt(StoreError):
    """Files of the store are missing or do not match their recorded checksums."""


class IngestBusy(StoreError):
    """Another ingest holds the writer lock."""

    def __init__(self, path: Path | str):
        super().__init__(path, "another ingest is running", fix="wait for it to finish, then try again")
