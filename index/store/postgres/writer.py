"""Adding, replacing and removing reports in PostgreSQL: the `ReportWriter` of this backend.

Each report is written in one transaction (its report row, source file, passages and sentences),
so a reader sees it whole or not at all, and a killed ingest leaves the database as it was: the
server rolls back the open transaction when the connection drops. Writers serialise on a session
advisory lock, which the server also releases when the holder dies.
"""

from __future__ import annotations

import struct
from contextlib import contextmanager
from dataclasses import asdict, fields
from typing import Callable, Iterator, Sequence

import numpy as np

from index.errors import IngestBusy, StoreMismatch
from index.records import Passage
from index.store.embedded import Contents, ReportInfo
from index.store.postgres.connection import connect, redact
from index.store.postgres.schema import (SCHEMA, Layout, create_store, ensure_extension, hnsw_index_names,
                                         index_statements, read_layout)
from index.text import fold

# pg_advisory_lock key shared by every CAAHT writer of a database ("CAAH" in ASCII).
ADVISORY_LOCK_KEY = 0x43414148
DEFAULT_LOCK_WAIT_S = 600.0
# Memory for building the HNSW indexes after a bulk load; a build that fits is several times faster.
BULK_MAINTENANCE_WORK_MEM = "1GB"
SOURCE_PREFIX = "sources/"

PASSAGE_COLUMNS = ("row_id", "id", "report", "ord", "title", "year", "text", "page", "page_end", "page_label",
                   "page_end_label", "section", "speaker", "organisation", "part", "language", "record", "search_text",
                   "embedding")


PASSAGE_TYPES = ("int8", "text", "text", "int4", "text", "int4", "text", "int4", "int4", "text", "text", "text",
                 "text", "text", "text", "text", "jsonb", "text", "vector")


def register_vector_dumper(conn) -> None:
    """Teach this connection to send numpy vectors to pgvector in its binary form
    (uint16 dimension, uint16 unused, big-endian float32s)."""
    from psycopg.adapt import Dumper
    from psycopg.pq import Format
    from psycopg.types import TypeInfo

    if getattr(conn, "_caaht_vector_dumper", False):
        return
    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        from index.store.postgres.schema import EXTENSION_FIX
        from index.store.postgres.connection import DatabaseUnavailable
        raise DatabaseUnavailable(conn.info.dsn, "pgvector's type `vector` is not installed", fix=EXTENSION_FIX)
    info.register(conn)

    class VectorBinaryDumper(Dumper):
        format = Format.BINARY
        oid = info.oid

        def dump(self, obj) -> bytes:
            vector = np.asarray(obj, dtype=">f4")
            return struct.pack(">HH", len(vector), 0) + vector.tobytes()

    conn.adapters.register_dumper(np.ndarray, VectorBinaryDumper)
    conn._caaht_vector_dumper = True


def vector_text(vector: np.ndarray) -> str:
    """pgvector's text form of one vector."""
    return "[" + ",".join(map(repr, np.asarray(vector, dtype=np.float32).tolist())) + "]"


def layout_of(contents: Contents) -> Layout:
    ml_dim = contents.multilingual_vectors.shape[1] if contents.multilingual_model and \
        contents.multilingual_vectors is not None and contents.multilingual_vectors.ndim == 2 else 0
    return Layout(model=contents.model, dimension=int(contents.dimension),
                  splitter_version=int(contents.splitter_version),
                  multilingual_model=contents.multilingual_model, multilingual_dimension=int(ml_dim))


class PostgresWriter:
    """Writes whole reports. Use through `postgres_writer(url)`, which holds the writer lock."""

    def __init__(self, conn, url: str):
        self.conn = conn
        self.url = url
        self._pending_sources: dict[str, bytes] = {}

    # ------------------------------------------------------------ reading what is there

    def layout(self) -> Layout | None:
        return read_layout(self.conn)

    def rebuild_reason(self, wanted: Layout) -> str | None:
        """Why the reports in the database must be re-embedded before `wanted` vectors join them."""
        current = self.layout()
        if current is None or not self.reports():
            return None
        if current.model != wanted.model:
            return f"the model changed ({current.model} → {wanted.model})"
        if current.splitter_version != wanted.splitter_version:
            return f"the splitter or the sentence vectors changed (version {current.splitter_version} → {wanted.splitter_version})"
        if current.multilingual_model != wanted.multilingual_model:
            return f"the multilingual model changed ({current.multilingual_model} → {wanted.multilingual_model})"
        return None

    def reports(self) -> tuple[ReportInfo, ...]:
        if self.layout() is None:
            return ()
        return read_reports(self.conn)

    def status(self, report: str, sha256: str) -> str:
        for info in self.reports():
            if info.report == report:
                return "unchanged" if info.sha256 == sha256 else "changed"
        return "new"

    def same_content(self, sha256: str, report: str) -> str | None:
        """Another report already holding these bytes, if any."""
        return next((r.report for r in self.reports() if r.sha256 == sha256 and r.report != report), None)

    def report_contents(self, report: str) -> Contents:
        """One report's rows read back, as `publish_report` takes them (for the multilingual pass)."""
        return read_report_contents(self.conn, report)

    def read_source(self, source_file: str) -> bytes | None:
        """A kept report file, by the `source_file` its ReportInfo records."""
        sha = source_file.removeprefix(SOURCE_PREFIX)
        if sha in self._pending_sources:
            return self._pending_sources[sha]
        if self.layout() is None:
            return None
        row = self.conn.execute(f"SELECT data FROM {SCHEMA}.sources WHERE sha256 = %s", (sha,)).fetchone()
        return bytes(row[0]) if row else None

    # ------------------------------------------------------------ writing

    def save_source(self, sha256: str, data: bytes, *, about: dict | None = None,
                    check_existing: bool = False) -> str:
        """Keep a report file; it is stored with its report, in the same transaction.
        (`about` and `check_existing` serve the embedded store's file copies; the database
        keeps the report's title and year in its row.)"""
        self._pending_sources[sha256] = data
        return f"{SOURCE_PREFIX}{sha256}"

    def publish_report(self, part: Contents) -> None:
        """Add the report(s) in `part`, replacing any of the same name, in one transaction."""
        wanted = layout_of(part)
        with self.conn.transaction():
            current = read_layout(self.conn)
            if current != wanted:
                if current is not None and read_reports(self.conn) and \
                        not set(r.report for r in read_reports(self.conn)) <= {r.report for r in part.reports}:
                    raise StoreMismatch(redact(self.url), f"the database holds vectors of {current}, "
                                                          f"this report has {wanted}",
                                        fix="re-ingest every report: `python -m ingest --rebuild --database-url …`")
                create_store(self.conn, wanted)
            names = [r.report for r in part.reports]
            self.conn.execute(f"DELETE FROM {SCHEMA}.reports WHERE report = ANY(%s)", (names,))
            self._insert_reports(part.reports)
            self._insert_rows(part)
            self._refresh_stats()

    def remove_report(self, report: str) -> None:
        if self.layout() is None:
            return
        with self.conn.transaction():
            self.conn.execute(f"DELETE FROM {SCHEMA}.reports WHERE report = %s", (report,))
            self._refresh_stats()

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """For loading many reports at once (export-to-postgres, benchmarks): the HNSW indexes are
        dropped first and built once at the end, several times faster than upkeep per row. Each
        report still commits on its own; meanwhile readers get exact (slower) vector scans. If the
        load is killed, the next writer rebuilds the missing indexes."""
        layout = self.layout()
        if layout is not None:
            for name in hnsw_index_names(layout):
                self.conn.execute(f"DROP INDEX IF EXISTS {SCHEMA}.{name}")
        try:
            yield
        finally:
            self.ensure_indexes(maintenance_work_mem=BULK_MAINTENANCE_WORK_MEM)

    def ensure_indexes(self, *, maintenance_work_mem: str | None = None) -> None:
        """Create any index that is missing (after an interrupted bulk load)."""
        layout = self.layout()
        if layout is None:
            return
        if maintenance_work_mem:
            self.conn.execute(f"SET maintenance_work_mem = '{maintenance_work_mem}'")
        for statement in index_statements(layout):
            self.conn.execute(statement)

    def clear(self) -> None:
        """Take every report out (before a rebuild with another model), atomically."""
        if self.layout() is None:
            return
        with self.conn.transaction():
            self.conn.execute(f"DELETE FROM {SCHEMA}.reports")
            self._refresh_stats()

    def _insert_reports(self, reports: Sequence[ReportInfo]) -> None:
        from psycopg.types.json import Jsonb

        for info in reports:
            self.conn.execute(
                f"INSERT INTO {SCHEMA}.reports (report, title, year, sha256, kind, pages, passages, ingested_at, "
                f"source_file, record) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (info.report, info.title, info.year, info.sha256, info.kind, info.pages, info.passages,
                 info.ingested_at, info.source_file, Jsonb(asdict(info))))
            sha = info.source_file.removeprefix(SOURCE_PREFIX)
            if sha in self._pending_sources:
                self.conn.execute(f"INSERT INTO {SCHEMA}.sources (sha256, data) VALUES (%s, %s) "
                                  f"ON CONFLICT (sha256) DO NOTHING", (sha, self._pending_sources[sha]))

    def _insert_rows(self, part: Contents) -> None:
        n = len(part.passages)
        if not n:
            return
        rows = [r[0] for r in self.conn.execute(
            f"SELECT nextval('{SCHEMA}.passage_rows') FROM generate_series(1, %s)", (n,)).fetchall()]
        ordinals = _ordinals(part.passages)
        multilingual = part.multilingual_model is not None and part.multilingual_vectors is not None
        columns = PASSAGE_COLUMNS + (("multilingual",) if multilingual else ())
        types = PASSAGE_TYPES + (("vector",) if multilingual else ())
        # Binary COPY: vectors go as float32 bytes, 100x faster than formatting them as text.
        register_vector_dumper(self.conn)
        with self.conn.cursor().copy(f"COPY {SCHEMA}.passages ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") \
                as copy:
            copy.set_types(list(types))
            for i, p in enumerate(part.passages):
                values = [rows[i], p.id, p.report, ordinals[i], p.title, p.year, p.text, p.page, p.page_end,
                          p.page_label, p.page_end_label, p.section, p.speaker, p.organisation, p.part,
                          getattr(p, "language", "en") or "en", p.to_json(), fold(p.text), part.vectors[i]]
                if multilingual:
                    values.append(part.multilingual_vectors[i])
                copy.write_row(values)
        with self.conn.cursor().copy(
                f"COPY {SCHEMA}.sentences (passage, start, stop, embedding) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int4", "int4", "vector"])
            for (row, start, stop), vector in zip(part.sentences.tolist(), part.sentence_vectors):
                copy.write_row([rows[row], start, stop, vector])

    def _refresh_stats(self) -> None:
        # BM25 needs the passage count and average length; writers are serialised, so this is exact.
        self.conn.execute(
            f"UPDATE {SCHEMA}.store_meta SET passage_count = s.n, total_length = s.total "
            f"FROM (SELECT count(*) AS n, coalesce(sum(doc_length), 0) AS total FROM {SCHEMA}.passages) s "
            f"WHERE id = 1")
        self.conn.execute(f"DELETE FROM {SCHEMA}.sources s WHERE NOT EXISTS "
                          f"(SELECT 1 FROM {SCHEMA}.reports r WHERE r.source_file = %s || s.sha256)",
                          (SOURCE_PREFIX,))


def _ordinals(passages: Sequence[Passage]) -> list[int]:
    """Position of each passage within its report (the order the embedded store keeps)."""
    seen: dict[str, int] = {}
    out = []
    for p in passages:
        out.append(seen.get(p.report, 0))
        seen[p.report] = out[-1] + 1
    return out


def read_reports(conn) -> tuple[ReportInfo, ...]:
    """The reports, in the order they were added, with every ReportInfo field (kept as jsonb)."""
    rows = conn.execute(f"SELECT record FROM {SCHEMA}.reports ORDER BY added").fetchall()
    names = {f.name for f in fields(ReportInfo)}
    # jsonb gives lists where ReportInfo holds tuples (ocr_pages): the same records as the embedded store's.
    return tuple(ReportInfo(**{k: tuple(v) if isinstance(v, list) else v for k, v in row[0].items() if k in names})
                 for row in rows)


@contextmanager
def postgres_writer(url: str, *, wait_s: float = DEFAULT_LOCK_WAIT_S,
                    on_wait: Callable[[], None] | None = None) -> Iterator[PostgresWriter]:
    """Connect and hold the one-writer advisory lock while the writer is in use.

    The lock belongs to the session: if the ingest is killed, the connection drops and the server
    releases it (and rolls back the report being written)."""
    import psycopg

    conn = connect(url, autocommit=True)
    try:
        ensure_extension(conn)
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()[0]:
            if on_wait is not None:
                on_wait()
            try:
                conn.execute(f"SET lock_timeout = '{int(wait_s * 1000)}ms'")
                conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
                conn.execute("SET lock_timeout = 0")
            except psycopg.errors.LockNotAvailable:
                raise IngestBusy(redact(url)) from None
        writer = PostgresWriter(conn, url)
        writer.ensure_indexes()
        yield writer
    finally:
        conn.close()  # ends the session: the advisory lock goes with it


def _parse_vectors(texts: list[str], dimension: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, dimension), np.float32)
    return np.vstack([np.array(t[1:-1].split(","), dtype=np.float32) for t in texts])


def read_report_contents(conn, report: str) -> Contents:
    """One report's passages, sentences and vectors, as a Contents (rows in passage order)."""
    layout = read_layout(conn)
    info = next(r for r in read_reports(conn) if r.report == report)
    multilingual = ", multilingual::text" if layout.multilingual_model else ""
    rows = conn.execute(f"SELECT row_id, record, embedding::text{multilingual} FROM {SCHEMA}.passages "
                        f"WHERE report = %s ORDER BY ord", (report,)).fetchall()
    position = {row[0]: i for i, row in enumerate(rows)}
    sentences = conn.execute(f"SELECT s.passage, s.start, s.stop, s.embedding::text FROM {SCHEMA}.sentences s "
                             f"JOIN {SCHEMA}.passages p ON p.row_id = s.passage WHERE p.report = %s "
                             f"ORDER BY p.ord, s.start", (report,)).fetchall()
    return Contents(
        passages=tuple(Passage.from_json(row[1]) for row in rows),
        vectors=_parse_vectors([row[2] for row in rows], layout.dimension),
        sentences=np.array([[position[s[0]], s[1], s[2]] for s in sentences], np.int32).reshape(-1, 3),
        sentence_vectors=_parse_vectors([s[3] for s in sentences], layout.dimension),
        reports=(info,), model=layout.model, dimension=layout.dimension, splitter_version=layout.splitter_version,
        multilingual_model=layout.multilingual_model,
        multilingual_vectors=_parse_vectors([row[3] for row in rows], layout.multilingual_dimension)
        if layout.multilingual_model else None)
