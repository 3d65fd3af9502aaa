"""Ingest files that arrive as bytes (the app's upload control), never trusting their names.

An uploaded file name is only ever a label: it becomes the report's name after
cleaning, and the bytes are written to a private temporary file named by us.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Callable, Sequence

from index.embedder import Embedder, MultilingualEmbedder, load_multilingual

from index.errors import StoreError
from index.store import disk
from index.store.backend import database_url
from ingest.pipeline import FAILED, FileOutcome, IngestRun, Log, Progress, ProgressEvent, Summary, previous_reports

__all__ = ["ProgressEvent", "ingest_uploads", "safe_report_name"]
from ingest.readers import ReadOptions

MAX_UPLOAD_MB = 50
MAX_NAME_CHARS = 120
UNSAFE_NAME_CHARS = re.compile(r"[^\w .,()\[\]-]+", re.UNICODE)


def safe_report_name(name: str) -> str:
    """'../../etc/passwd' → 'passwd'; control and odd characters become '_'."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C")
    base = UNSAFE_NAME_CHARS.sub("_", base).strip(" .")
    return base[:MAX_NAME_CHARS] or "uploaded-report"


def ingest_uploads(index_dir: Path, uploads: Sequence[tuple[str, bytes]], *,
                   options: ReadOptions = ReadOptions(), log: Log | None = None,
                   embedder_factory: Callable[[], Embedder] | None = None, embedder: Embedder | None = None,
                   multilingual_factory: Callable[[], MultilingualEmbedder | None] = load_multilingual,
                   progress: Progress | None = None) -> Summary:
    """Add the uploaded (name, bytes) files. `progress` receives `ProgressEvent`s (files and pages
    done and to do, pages per second, seconds left, the file at hand): an st.progress can show them."""
    names = [safe_report_name(name) for name, _ in uploads]
    with tempfile.TemporaryDirectory(prefix="caaht-upload-") as folder:
        paths = []
        for number, (_, data) in enumerate(uploads):
            path = Path(folder) / f"upload-{number}"
            path.write_bytes(data)
            paths.append(path)
        url = database_url()
        if url:  # PostgreSQL (CAAHT_DATABASE_URL): the uploads go into the database
            from ingest.postgres_run import PostgresIngestRun
            run = PostgresIngestRun(url, options=options, embedder_factory=embedder_factory, embedder=embedder,
                                    multilingual_factory=multilingual_factory, log=log, progress=progress)
        else:
            run = IngestRun(index_dir, options=options, embedder_factory=embedder_factory, embedder=embedder,
                            multilingual_factory=multilingual_factory, log=log, progress=progress)
        try:
            return run.execute(paths, names=names)
        except StoreError as exc:  # a full disk, say: the page shows the sentence, the old index answers
            return store_error_summary(index_dir, names, exc)


def store_error_summary(index_dir: Path, names: Sequence[str], exc: StoreError) -> Summary:
    """A summary whose note is the store's one-sentence message, worded for the page."""
    reports = previous_reports(Path(index_dir))
    return Summary(outcomes=[FileOutcome(name, FAILED, detail="not added") for name in names],
                   note=disk.app_sentence(exc), passages=sum(r.get("passages", 0) for r in reports),
                   reports=len(reports))
