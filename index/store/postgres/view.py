"""What the app reads from a store, read from PostgreSQL: the reports, the passages and a version.

The app's pages were written against the embedded `Store` (its `passages`, `manifest.reports`,
`manifest.passage_count`, `path` and `generation`). `load_view` gives the same attributes from
the database, so the pages work unchanged; `version` plays the part of the generation: it
changes whenever a report is added, replaced or removed, so the app reloads then and only then.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from index.errors import StoreMissing
from index.records import Passage
from index.store.embedded import ReportInfo
from index.store.postgres.connection import DatabaseUnavailable, connect, redact
from index.store.postgres.schema import SCHEMA, read_layout
from index.settings import cache_dir
from index.store.postgres.writer import SOURCE_PREFIX, read_reports

# Where an app server keeps the report files it read from the database (page images, downloads,
# re-index): $CAAHT_SOURCE_CACHE, else the user's cache folder.
SOURCE_CACHE_ENV = "CAAHT_SOURCE_CACHE"
SOURCE_CACHE_SUBDIR = "caaht/sources"


@dataclass(frozen=True)
class ViewManifest:
    model: str
    multilingual_model: str | None
    reports: tuple[ReportInfo, ...]
    passage_count: int


@dataclass(frozen=True)
class PostgresView:
    """The database's reports and passages at one version (read in one snapshot)."""

    path: str  # the database URL without its password: what the app shows and keys caches by
    url: str
    generation: str
    manifest: ViewManifest
    passages: tuple[Passage, ...]


def version(url: str) -> str | None:
    """A token that changes with every publish or removal; None when no store is there."""
    with connect(url, autocommit=True) as conn:
        return _version(conn)


def _version(conn) -> str | None:
    if read_layout(conn) is None:
        return None
    count, last = conn.execute(f"SELECT count(*), coalesce(max(added), 0) FROM {SCHEMA}.reports").fetchone()
    return f"db-{count}-{last}"


def load_view(url: str) -> PostgresView:
    with connect(url) as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        layout = read_layout(conn)
        if layout is None:
            raise StoreMissing(redact(url))
        reports = read_reports(conn)
        order = {r.report: i for i, r in enumerate(reports)}
        rows = conn.execute(f"SELECT report, record FROM {SCHEMA}.passages ORDER BY report, ord").fetchall()
        rows.sort(key=lambda row: order.get(row[0], len(order)))  # reports in the order they were added
        passages = tuple(Passage.from_json(record) for _, record in rows)
        generation = _version(conn)
    return PostgresView(path=redact(url), url=url, generation=generation or "db-0-0",
                        manifest=ViewManifest(layout.model, layout.multilingual_model, reports, len(passages)),
                        passages=passages)


def source_cache_dir() -> Path:
    return cache_dir(SOURCE_CACHE_ENV, SOURCE_CACHE_SUBDIR)


def source_copy(url: str, source_file: str, cache_dir: Path | None = None) -> Path | None:
    """A local copy of a report file the database keeps (`ReportInfo.source_file`), or None when
    the database has none (or holds damaged bytes). Read once: the copy is named by its SHA-256,
    and a file never changes under its hash, so every later page view reads the local copy."""
    sha = source_file.removeprefix(SOURCE_PREFIX)
    if sha == source_file or not sha.isalnum():
        return None  # not a database-kept file
    folder = cache_dir or source_cache_dir()
    target = folder / sha
    if target.is_file():
        return target
    import psycopg

    try:
        with connect(url, autocommit=True) as conn:
            row = conn.execute(f"SELECT data FROM {SCHEMA}.sources WHERE sha256 = %s", (sha,)).fetchone()
    except psycopg.Error as exc:
        raise DatabaseUnavailable(url, f"cannot read the kept report file {sha[:12]}… ({exc})") from exc
    if row is None or hashlib.sha256(bytes(row[0])).hexdigest() != sha:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    # A temporary file of its own per call (sessions of one app server are threads of one process),
    # renamed into place: the copy is whole or absent, however many fetch it at once.
    handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{sha}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(bytes(row[0]))
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return target
