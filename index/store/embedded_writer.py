"""The embedded store's `ReportWriter`: each change to the reports is one new generation.

Used under the store's writer lock (ingest/builder.py `writer_lock`). It keeps the current
contents in memory, so publishing a report costs the report's own files, the BM25 index
(rebuilt for the whole generation) and the manifest; see `publish` for what is written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from index.store.embedded import (Contents, ReportInfo, clean_leftovers, merge_contents, publish,
                                  save_source, take_report)


@dataclass
class PublishTimes:
    """Seconds spent publishing, for the ingest's summary and the benchmarks."""

    count: int = 0
    seconds: float = 0.0
    last_generation: str | None = None
    history: list[tuple[int, float]] = field(default_factory=list)  # (passages in store, seconds)


class EmbeddedWriter:
    """Adds, replaces and removes whole reports; each call publishes a generation at once."""

    def __init__(self, path: Path | str, contents: Contents):
        self.path = Path(path)
        self.contents = contents
        self.times = PublishTimes()

    # ------------------------------------------------------------ ReportWriter

    def reports(self) -> tuple[ReportInfo, ...]:
        return self.contents.reports

    def status(self, report: str, sha256: str) -> str:
        for info in self.contents.reports:
            if info.report == report:
                return "unchanged" if info.sha256 == sha256 else "changed"
        return "new"

    def publish_report(self, part: Contents) -> None:
        """Add the report(s) in `part`, replacing any of the same name, as one new generation."""
        self._publish(merge_contents(self.contents, drop=[r.report for r in part.reports], add=[part]))

    def remove_report(self, report: str) -> None:
        self._publish(merge_contents(self.contents, drop=[report], add=[]))

    # ------------------------------------------------------------ beyond the protocol

    def save_source(self, sha256: str, data: bytes, *, about: dict | None = None,
                    check_existing: bool = False) -> str:
        return save_source(self.path, sha256, data, about=about, check_existing=check_existing)

    def report_contents(self, report: str) -> Contents:
        """One report's rows, as `publish_report` takes them."""
        return take_report(self.contents, report)

    def same_content(self, sha256: str, report: str) -> str | None:
        """Another report already holding these bytes, if any."""
        return next((r.report for r in self.contents.reports if r.sha256 == sha256 and r.report != report), None)

    def _publish(self, contents: Contents) -> None:
        started = time.perf_counter()
        generation = publish(self.path, contents)
        self.contents = contents
        clean_leftovers(self.path)
        seconds = time.perf_counter() - started
        self.times.count += 1
        self.times.seconds += seconds
        self.times.last_generation = generation
        self.times.history.append((len(contents.passages), seconds))
