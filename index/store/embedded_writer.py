"""The embedded store's `ReportWriter`: each change to the reports is one new generation.

Used under the store's writer lock (ingest/builder.py `writer_lock`). The store is kept in
segments once it is large (`SEGMENTED_FROM_PASSAGES`; index/store/embedded.py `Segment`): publishing a report writes its own segment, the
BM25 index (rebuilt for the whole generation: bm25s has no incremental update) and the manifest,
and hard-links every other segment. So that a store of many reports does not become many small
segments, the newest segments are merged whenever the one before is no larger than the last
(like a binary counter): a passage is rewritten O(log n) times over the life of the store, and
there are O(log n) segments. A report still waiting for its multilingual vectors keeps its own
segment until they come, so that second publish rewrites that report alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from index.store.embedded import (Contents, ReportInfo, Segment, clean_leftovers, current_segments,
                                  empty_like, merge_contents, new_segment, publish, publish_segments,
                                  save_source, take_report)

# Below this many passages a generation is written whole (about 0.1 s per 1,000 passages), so each
# kept generation is a full, independent copy; above it, in segments that later generations share.
SEGMENTED_FROM_PASSAGES = 20_000


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
        self.segments: list[Segment] = current_segments(path, contents)
        self.times = PublishTimes()
        # Passage text → BM25 tokens: the BM25 index is rebuilt at every publish, but each passage
        # is tokenized once per run.
        self._tokens: dict[str, list[str]] = {}

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
        names = {r.report for r in part.reports}
        alone = [i for i, seg in enumerate(self.segments) if {r.report for r in seg.contents.reports} == names]
        if alone:  # its own segment (e.g. its multilingual vectors came): replaced where it stands
            segments = list(self.segments)
            segments[alone[0]] = new_segment(part)
        else:
            segments = self._without(names) + [new_segment(part)]
        self._publish(_compact(segments))

    def remove_report(self, report: str) -> None:
        self._publish(self._without({report}))

    def _without(self, names: set[str]) -> list[Segment]:
        """The segments with the reports `names` taken out (only the segments holding them change)."""
        kept = []
        for seg in self.segments:
            held = {r.report for r in seg.contents.reports}
            if not held & names:
                kept.append(seg)
            elif held - names:
                kept.append(new_segment(merge_contents(seg.contents, drop=sorted(names), add=[])))
        return kept

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

    def _publish(self, segments: list[Segment]) -> None:
        started = time.perf_counter()
        segments = segments or [new_segment(empty_like(self.contents))]
        contents = merge_contents(segments[0].contents, drop=(), add=[seg.contents for seg in segments[1:]])
        if len(contents.passages) >= SEGMENTED_FROM_PASSAGES:
            generation = publish_segments(self.path, segments, token_cache=self._tokens)
            self.segments = [seg for seg in segments if seg.contents.passages]
        else:
            generation = publish(self.path, contents, token_cache=self._tokens)
            self.segments = current_segments(self.path, contents)
        self.contents = contents
        clean_leftovers(self.path)
        seconds = time.perf_counter() - started
        self.times.count += 1
        self.times.seconds += seconds
        self.times.last_generation = generation
        self.times.history.append((len(contents.passages), seconds))


def _compact(segments: list[Segment]) -> list[Segment]:
    """Merge the last two segments while the one before is no larger than the last (and neither
    waits for multilingual vectors)."""
    segments = list(segments)
    while len(segments) >= 2 and _settled(segments[-1]) and _settled(segments[-2]) and \
            len(segments[-2].contents.passages) <= len(segments[-1].contents.passages):
        merged = merge_contents(segments[-2].contents, drop=(), add=[segments[-1].contents])
        segments[-2:] = [new_segment(merged)]
    return segments


def _settled(segment: Segment) -> bool:
    return not any(r.multilingual_pending for r in segment.contents.reports)
