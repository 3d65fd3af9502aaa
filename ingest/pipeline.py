"""One ingest run: read each file, split it, embed it, and publish one new store generation.

Used by `python -m ingest` and by the app's upload control. Nothing here imports
FAISS or Streamlit: the store is reached through `index.builder`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ingest.builder import embed_report, open_contents, report_status, writer_lock
from index.embedder import Embedder, MiniLMEmbedder, MultilingualEmbedder, load_multilingual
from index.store.embedded import (CURRENT, MANIFEST, Contents, clean_leftovers, merge_contents, publish,
                         save_source)

from index.store import disk
from ingest.errors import EmptyReport, ReportError
from ingest.repair import repair_store
from ingest.readers import PDF_SUFFIXES, TEXT_SUFFIXES, ReadOptions, read_report
from index.records import Document, Passage
from ingest.splitter import SPLITTER_VERSION, split_document

FOLDER_SUFFIXES = PDF_SUFFIXES + TEXT_SUFFIXES[:2]
FAILED = "failed"
OK_OUTCOMES = ("ok", "unchanged", "removed")

Log = Callable[[str], object]


@dataclass(frozen=True)
class FileOutcome:
    source: str
    outcome: str  # "ok", "unchanged", "removed", or a ReportError outcome
    report: str | None = None
    detail: str = ""
    pages: int = 0
    passages: int = 0

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
        failed = [o for o in self.outcomes if not o.ok]
        lines += [f"  FAILED {o.line()}" for o in failed]
        state = f"new generation {self.generation}" if self.generation else "unchanged"
        lines.append(f"Store: {self.passages} passages from {self.reports} report(s) ({state}).")
        return "\n".join(lines) + "\n"


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


class IngestRun:
    """Reads, embeds and publishes under the store's writer lock."""

    def __init__(self, index_dir: Path, *, options: ReadOptions = ReadOptions(),
                 embedder_factory: Callable[[], Embedder] = MiniLMEmbedder,
                 multilingual_factory: Callable[[], MultilingualEmbedder | None] = load_multilingual,
                 embedder: Embedder | None = None, log: Log | None = None, repair: bool = True):
        """`embedder_factory` is a class whose `name` and `dimension` are known before loading,
        so a run with nothing to embed never loads the model; or pass a loaded `embedder`.
        `repair`: first mend a damaged store (ingest/repair.py); its findings go to `last_repair`."""
        self.index_dir = Path(index_dir)
        self.repair = repair
        self.last_repair = None
        self.options = options
        self._factory = embedder_factory
        self._embedder: Embedder | None = embedder
        # Loaded up front (it is quick): whether it is installed decides the store's layout.
        self._multilingual = multilingual_factory()
        self._log = log or (lambda _text: None)

    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._say("loading the embedding model…")
            self._embedder = self._factory()
        return self._embedder

    def execute(self, files: Sequence[Path], *, remove: Sequence[str] = (), rebuild: bool = False,
                names: Sequence[str] | None = None) -> Summary:
        """Repair the store if it is damaged, then add, replace and remove. A store that cannot be
        written raises `StoreUnwritable` (one sentence), having changed nothing."""
        with disk.writing(self.index_dir):  # e.g. the lock file on a read-only disk
            if self.repair:
                self.last_repair = repair_store(
                    self.index_dir, options=self.options, embedder=self._embedder, embedder_factory=self._factory,
                    multilingual_factory=lambda: self._multilingual, log=self._log)
            summary = self._execute(files, remove=remove, rebuild=rebuild, names=names)
        if self.last_repair is not None and self.last_repair.changed:
            summary.note = "\n".join(filter(None, [self.last_repair.render().rstrip(), summary.note]))
        return summary

    def _execute(self, files: Sequence[Path], *, remove: Sequence[str], rebuild: bool,
                 names: Sequence[str] | None) -> Summary:
        summary = Summary()
        with writer_lock(self.index_dir, on_wait=lambda: self._say("another ingest is running; waiting…")):
            clean_leftovers(self.index_dir)
            model = self._embedder if self._embedder is not None else self._factory
            state = open_contents(self.index_dir, model, SPLITTER_VERSION, self._multilingual)
            contents, changed = state.contents, False
            if state.rebuild_reason or rebuild:
                reason = state.rebuild_reason or "--rebuild was asked for"
                summary.note = f"Rebuilt every report: {reason}."
                contents, changed = self._rebuild(contents, summary), True
            for name in remove:
                contents, removed = self._remove(contents, name, summary)
                changed |= removed
            for index, path in enumerate(files, start=1):
                name = names[index - 1] if names else None
                self._say(f"[{index}/{len(files)}] {name or path}")
                contents, added = self._ingest_one(contents, path, name, summary)
                changed |= added
            if changed:
                summary.generation = publish(self.index_dir, contents)
                clean_leftovers(self.index_dir)
        summary.passages, summary.reports = len(contents.passages), len(contents.reports)
        return summary

    def _ingest_one(self, contents: Contents, path: Path, name: str | None, summary: Summary,
                    options: ReadOptions | None = None) -> tuple[Contents, bool]:
        label = name or str(path)
        try:
            outcome, contents, added = self._try_ingest(contents, path, name, options or self.options)
        except ReportError as exc:
            outcome, added = FileOutcome(label, exc.outcome, detail=exc.explanation), False
        except OSError as exc:
            outcome, added = FileOutcome(label, FAILED, detail=f"cannot read the file ({exc.strerror})"), False
        summary.outcomes.append(outcome)
        self._say(f"  {outcome.line()}")
        return contents, added

    def _try_ingest(self, contents: Contents, path: Path, name: str | None,
                    options: ReadOptions) -> tuple[FileOutcome, Contents, bool]:
        doc = read_report(path, options, name=name or Path(path).name)
        label = name or str(path)
        status = report_status(contents, doc.report, doc.sha256)
        same = [r.report for r in contents.reports if r.sha256 == doc.sha256 and r.report != doc.report]
        if status == "unchanged" or same:
            if status == "unchanged":  # restores a lost or damaged copy; else no-op
                save_source(self.index_dir, doc.sha256, Path(path).read_bytes(), about=_about(doc),
                            check_existing=True)
            detail = "already indexed, nothing added" if status == "unchanged" else \
                f"same content as {same[0]!r}, nothing added"
            return FileOutcome(label, "unchanged", doc.report, detail), contents, False
        passages = split_document(doc)
        if not passages:
            raise EmptyReport(path)
        part = self._embed(doc, passages, path)
        action = "replaced the earlier version" if status == "changed" else "new"
        outcome = FileOutcome(label, "ok", doc.report,
                              f"{len(passages)} passages from {len(doc.pages)} page(s), {action}",
                              pages=len(doc.pages), passages=len(passages))
        return outcome, merge_contents(contents, drop=[doc.report], add=[part]), True

    def _embed(self, doc: Document, passages: list[Passage], path: Path) -> Contents:
        source = save_source(self.index_dir, doc.sha256, Path(path).read_bytes(), about=_about(doc))
        return embed_report(doc, passages, self.embedder(), source_file=source,
                            splitter_version=SPLITTER_VERSION, multilingual=self._multilingual,
                            progress=lambda done, total: self._progress(done, total))

    def _remove(self, contents: Contents, name: str, summary: Summary) -> tuple[Contents, bool]:
        if not any(r.report == name for r in contents.reports):
            known = ", ".join(sorted(r.report for r in contents.reports)) or "none"
            summary.outcomes.append(FileOutcome(name, "not found", detail=f"no report named {name!r} (reports: {known})"))
            return contents, False
        summary.outcomes.append(FileOutcome(name, "removed", name))
        self._say(f"removed {name}")
        return merge_contents(contents, drop=[name], add=[]), True

    def _rebuild(self, contents: Contents, summary: Summary) -> Contents:
        """Re-read every report the store recorded, from the copies it kept."""
        fresh = merge_contents(contents, drop=[r.report for r in contents.reports], add=[])
        for entry in previous_reports(self.index_dir):
            options = replace(self.options, title=entry["title"], year=entry["year"])
            fresh, _ = self._ingest_one(fresh, self.index_dir / entry["source_file"], entry["report"],
                                        summary, options)
        return fresh

    def _progress(self, done: int, total: int) -> None:
        self._say(f"  embedded {done}/{total} passages and sentences")

    def _say(self, text: str) -> None:
        self._log(text + "\n")


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
