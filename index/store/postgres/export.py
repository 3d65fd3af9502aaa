"""`python -m index export-to-postgres`: move an embedded store into PostgreSQL as it is.

The vectors are copied, not recomputed, so the move takes seconds and both backends then hold
exactly the same passages and vectors. Each report goes in its own transaction under the writer
lock; a report already in the database with the same content is left alone.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Callable

from index.store.embedded import Contents, load_store, merge_contents
from index.store.postgres.writer import SOURCE_PREFIX, layout_of, postgres_writer

Log = Callable[[str], object]
# From this many passages on, the HNSW indexes are built once after the copy (see PostgresWriter.bulk).
BULK_PASSAGES = 20_000


def report_contents(contents: Contents, report: str) -> Contents:
    """The rows of one report, as a Contents of its own."""
    others = [r.report for r in contents.reports if r.report != report]
    return merge_contents(contents, drop=others, add=[])


def export_to_postgres(index_dir: Path | str, url: str, *, log: Log | None = None) -> dict[str, str]:
    """Copy every report of the embedded store at `index_dir` into the database at `url`.
    Returns each report's outcome: 'copied', 'unchanged' or 'replaced'."""
    say = log or (lambda _text: None)
    store = load_store(index_dir)
    contents = store.contents
    outcomes: dict[str, str] = {}
    with postgres_writer(url, on_wait=lambda: say("another ingest is running; waiting…\n")) as writer:
        reason = writer.rebuild_reason(layout_of(contents))
        if reason:
            say(f"The database holds other vectors ({reason}); replacing them with this store's.\n")
            writer.clear()
        bulk = writer.bulk() if len(contents.passages) >= BULK_PASSAGES else nullcontext()
        with bulk:
            _copy_reports(index_dir, contents, writer, outcomes, say)
    return outcomes


def _copy_reports(index_dir, contents: Contents, writer, outcomes: dict, say) -> None:
    for info in contents.reports:
        status = writer.status(info.report, info.sha256)
        if status == "unchanged":
            outcomes[info.report] = "unchanged"
            say(f"{info.report}: unchanged\n")
            continue
        source = Path(index_dir) / info.source_file
        if info.source_file.startswith(SOURCE_PREFIX) and source.is_file():
            writer.save_source(info.sha256, source.read_bytes())
        writer.publish_report(report_contents(contents, info.report))
        outcomes[info.report] = "replaced" if status == "changed" else "copied"
        say(f"{info.report}: {outcomes[info.report]} ({info.passages} passages)\n")
