"""`python -m ingest --database-url URL`: the same ingest, publishing into PostgreSQL.

Reading, splitting, embedding and the per-file outcomes are IngestRun's own; only where the
reports go differs: a `PostgresWriter` under the database's advisory lock instead of the
embedded store's writer under its file lock. Each report commits in one transaction, so a killed
ingest leaves every report as it was (the one being written is rolled back by the server).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Sequence

from index.store.postgres import redact
from index.store.postgres.schema import Layout
from index.store.postgres.writer import PostgresWriter, postgres_writer
from ingest.pipeline import IngestRun, Summary, _Meter
from ingest.splitter import SPLITTER_VERSION


class PostgresIngestRun(IngestRun):
    """IngestRun whose reports go to the PostgreSQL database at `database_url`."""

    def __init__(self, database_url: str, **kwargs):
        kwargs.setdefault("repair", False)  # the database needs no file repair
        super().__init__(Path(tempfile.gettempdir()), **kwargs)
        self.database_url = database_url

    def execute(self, files: Sequence[Path], *, remove: Sequence[str] = (), rebuild: bool = False,
                names: Sequence[str] | None = None, reread: Sequence[str] = ()) -> Summary:
        self._reread = frozenset(reread)
        summary = Summary()
        started = time.perf_counter()
        files, names = list(files), list(names) if names else [None] * len(files)
        with postgres_writer(self.database_url,
                             on_wait=lambda: self._say("another ingest is running; waiting…")) as writer, \
                tempfile.TemporaryDirectory(prefix="caaht-rebuild-") as scratch:
            reason = writer.rebuild_reason(self._layout())
            if reason or rebuild:
                summary.note = f"Rebuilt every report: {reason or '--rebuild was asked for'}."
                kept_files, kept_names = self._kept_sources(writer, Path(scratch))
                writer.clear()
                files, names = kept_files + files, kept_names + names
            self.writer = writer
            for name in remove:
                self._remove(writer, name, summary)
            defer = self._defer and self._multilingual is not None
            self._meter = _Meter(files, self._progress, defer)
            for item in self._read_ahead(files, names if any(names) else None, writer):
                self._ingest_one(writer, item, summary, defer=defer)
            if self._multilingual is not None:
                self._complete_multilingual(writer, summary)
            infos = writer.reports()
        summary.passages, summary.reports = sum(r.passages for r in infos), len(infos)
        if any(o.outcome in ("ok", "removed") for o in summary.outcomes) or summary.note:
            summary.generation = f"in PostgreSQL {redact(self.database_url)}"
        summary.timings = {"wall": time.perf_counter() - started, **self._timings}
        self._meter.emit("done", None)
        return summary

    def _layout(self) -> Layout:
        model = self._embedder if self._embedder is not None else self._factory
        ml = self._multilingual
        return Layout(model=model.name, dimension=int(model.dimension), splitter_version=SPLITTER_VERSION,
                      multilingual_model=ml.name if ml is not None else None,
                      multilingual_dimension=int(ml.dimension) if ml is not None else 0)

    def _kept_sources(self, writer: PostgresWriter, scratch: Path) -> tuple[list[Path], list[str]]:
        """The report files the database keeps, written out for re-reading under their names."""
        files, names = [], []
        for info in writer.reports():
            data = writer.read_source(info.source_file)
            if data is None:
                self._say(f"  {info.report}: its file is not kept in the database; ingest it again to restore it")
                continue
            path = scratch / f"{len(files):04d}-{Path(info.report).name}"
            path.write_bytes(data)
            files.append(path)
            names.append(info.report)
        return files, names
