"""The seam between the code that adds or asks about reports and where the reports are kept.

Two backends keep the same reports with the same meaning:

- the embedded store (`index.store.embedded`): FAISS + bm25s files in a folder, one immutable
  generation per publish. The default: nothing to set up, runs on a laptop.
- PostgreSQL with pgvector (`index.store.postgres`): selected by `$CAAHT_DATABASE_URL` or
  `--database-url`, for an organisation with several app servers and a database team.

Ingest writes through a `ReportWriter`; questions are answered by a searcher (any object with
`ask(question, *, k, filters, interpreted=None) -> Answer` and `reports()`), opened by
`index.retrieval.search.open_searcher`. Everything above this seam is the same for both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, ContextManager, Protocol

if TYPE_CHECKING:
    from index.store.embedded import Contents, ReportInfo

DATABASE_URL_ENV = "CAAHT_DATABASE_URL"


def database_url(explicit: str | None = None) -> str | None:
    """The PostgreSQL URL to use: `--database-url` if given, else `$CAAHT_DATABASE_URL`, else None
    (the embedded store)."""
    return explicit or os.environ.get(DATABASE_URL_ENV) or None


def kept_copy(source_file: str, *, index_dir: Path, url: str | None) -> Path | None:
    """The kept copy of a report's file (`ReportInfo.source_file`): in the store's folder, or
    with a database URL a local copy of the one the database keeps. None when there is none.
    A database that cannot be read raises its StoreError."""
    if url:
        from index.store.postgres.view import source_copy

        return source_copy(url, source_file)
    source = Path(index_dir) / source_file
    return source if source.is_file() else None


class ReportWriter(Protocol):
    """Adds, replaces and removes whole reports. A reader sees a report whole or not at all."""

    def reports(self) -> tuple["ReportInfo", ...]:
        """The reports held now."""

    def status(self, report: str, sha256: str) -> str:
        """'new', 'unchanged' or 'changed' for a report about to be ingested."""

    def publish_report(self, part: "Contents") -> None:
        """Add one report (or replace the one with its name), visible to readers at once, atomically."""

    def remove_report(self, report: str) -> None:
        """Take a report out, atomically."""


class WriterFactory(Protocol):
    def __call__(self) -> ContextManager[ReportWriter]:
        """Hold the one-writer lock (a file lock, or a PostgreSQL advisory lock) while in use."""
