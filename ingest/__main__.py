"""`python -m ingest [PATH ...] [--index-dir DIR]`: add or replace reports in the store.

Each file gets one outcome, printed as it is done and in a summary. A file that
fails adds nothing and changes nothing; the run goes on and exits 1 at the end.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from index.errors import StoreError, StoreMissing, StoreUnwritable
from index.settings import DEFAULT_CORPUS, default_index_dir
from index.store.backend import database_url, kept_copy
from index.store import disk
from index.store.verify import verify_store
from index.text import clean_text

from ingest import background
from ingest.pipeline import IngestRun, ProgressEvent, collect_files
from ingest.readers import DEFAULT_MAX_MB, DEFAULT_OCR_LANGUAGES, ReadOptions
from ingest.repair import repair_store


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Index report files (PDF or text extracts) so they can be asked about.")
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help=f"a report file or a folder of them (default: the bundled corpus/ folder)")
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="where the store lives (default: $CAAHT_INDEX_DIR or ./store)")
    parser.add_argument("--remove", action="append", default=[], metavar="NAME",
                        help="remove the report with this name from the store (repeatable)")
    parser.add_argument("--password", action="append", default=[], metavar="PASSWORD",
                        help="password for encrypted PDFs; repeat to try several")
    parser.add_argument("--title", help="report title to record (default: from the file)")
    parser.add_argument("--year", type=int, help="report year to record (default: from the file)")
    parser.add_argument("--max-mb", type=float, default=DEFAULT_MAX_MB, help="largest file accepted, in MB")
    parser.add_argument("--timeout", type=float, default=ReadOptions.timeout_s,
                        help="seconds allowed to parse one PDF")
    parser.add_argument("--reread", action="append", default=[], metavar="NAME",
                        help="read the kept copy of the report with this name again and replace it, even "
                             "though its file is unchanged (repeatable; after a program update)")
    parser.add_argument("--rebuild", action="store_true",
                        help="re-read every report already in the store (after a model or splitter change)")
    parser.add_argument("--repair", action="store_true",
                        help="check every file of the store and mend a damaged one (from the previous "
                             "generation or the kept report copies); adds nothing")
    parser.add_argument("--ocr-lang", default=DEFAULT_OCR_LANGUAGES, metavar="LANGS",
                        help="Tesseract languages for scanned pages, joined by + "
                             f"(default {DEFAULT_OCR_LANGUAGES}: English and Albanian)")
    parser.add_argument("--no-ocr", action="store_true",
                        help="do not OCR scanned pages (a scan-only PDF then gets 'no text layer')")
    parser.add_argument("--multilingual-pass", choices=(background.BACKGROUND, background.NOW),
                        default=background.default_pass(),
                        help="when the multilingual vectors (Albanian questions) are added: 'background' (default: "
                             "the command returns once every report is searchable in English and a low-priority "
                             "process adds them) or 'now' (before the command returns); "
                             f"${background.PASS_ENV} sets the default")
    parser.add_argument("--complete-multilingual", action="store_true",
                        help="only add the multilingual vectors still missing (what the background process runs)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument("--database-url", default=None,
                        help="add the reports to this PostgreSQL database instead of the store folder "
                             "(default: $CAAHT_DATABASE_URL; unset: the folder)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    # The model loaders' own progress bars and notices would break into ours.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    args = parse_args(argv)
    index_dir = args.index_dir or default_index_dir()
    paths = args.paths or ([] if args.remove or args.reread or args.repair or args.complete_multilingual
                           else [DEFAULT_CORPUS])
    out = sys.stdout
    options = ReadOptions(passwords=tuple(args.password), max_mb=args.max_mb, timeout_s=args.timeout,
                          title=clean_text(args.title) if args.title else None, year=args.year, ocr=not args.no_ocr, ocr_languages=args.ocr_lang,
                          log=None if args.quiet else lambda line: (out.write(line + "\n"), out.flush()))
    try:
        files = collect_files(paths)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bar = TerminalProgress(out) if not args.quiet and out.isatty() else None
    log = None if args.quiet else bar.log if bar else out.write
    try:
        url = database_url(args.database_url)
        if args.repair and not url:
            return run_repair(index_dir, options, files, log=log, out=out)
        if url:
            from ingest.postgres_run import PostgresIngestRun
            run = PostgresIngestRun(url, options=options, log=log)
        elif args.complete_multilingual:
            return complete_multilingual(index_dir, options, log=log)
        else:
            run = IngestRun(index_dir, options=options, log=log, progress=bar.event if bar else None,
                            multilingual_pass=args.multilingual_pass)
        kept = kept_copies(index_dir, url, args.reread)
        summary = run.execute(files + [path for path, _ in kept], remove=args.remove, rebuild=args.rebuild,
                              names=[None] * len(files) + [name for _, name in kept] if kept else None,
                              reread=args.reread)
    except UnknownReport as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        return store_error(exc)
    finally:
        if bar:
            bar.close()
    out.write(summary.render())
    return 0 if summary.ok and not (run.last_repair and run.last_repair.error()) else 1


class TerminalProgress:
    """On a terminal: one tqdm bar (pages, pages/s, time left, the file at hand) with each
    file's outcome printed above it. Elsewhere (a pipe, a log file) plain lines are printed."""

    FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n:.0f}/{total_fmt} pages{postfix}"

    def __init__(self, stream):
        from tqdm import tqdm

        self._bar = tqdm(total=1, file=stream, bar_format=self.FORMAT, dynamic_ncols=True, leave=False)

    def event(self, event: ProgressEvent) -> None:
        left = f", {_duration(event.seconds_left)} left" if event.seconds_left is not None else ""
        rate = f"{event.pages_per_s:.1f} pages/s{left}" if event.pages_per_s else ""
        self._bar.total = max(1, event.pages_total)
        self._bar.n = min(event.pages_done, self._bar.total)
        label = {"multilingual": "multilingual vectors"}.get(event.stage, event.stage)
        file = f" {Path(event.current_file).name[:40]}" if event.current_file else ""
        self._bar.set_description_str(f"{event.files_done}/{event.files_total} files done · {label}{file}",
                                      refresh=False)
        self._bar.set_postfix_str(rate, refresh=False)
        self._bar.refresh()

    def log(self, text: str) -> None:
        line = text.rstrip("\n")
        if line.strip() and not line.lstrip().startswith("embedded "):  # the bar shows those
            self._bar.write(line)

    def close(self) -> None:
        self._bar.close()


class UnknownReport(LookupError):
    """A report named on the command line is not in the store."""


def kept_copies(index_dir: Path, url: str | None, names: list[str]) -> list[tuple[Path, str]]:
    """(the kept copy of its file, its name) for each report in `names`."""
    if not names:
        return []
    if url:
        from index.store.postgres.view import load_view

        reports = {r.report: r for r in load_view(url).manifest.reports}
    else:
        from index.store.embedded import read_current_manifest

        reports = {r.report: r for r in read_current_manifest(index_dir).reports}
    kept = []
    for name in names:
        info = reports.get(name)
        if info is None:
            raise UnknownReport(f"no report named {name!r} in the store. Fix: `python -m index stats` lists "
                                f"the reports by name.")
        path = kept_copy(info.source_file, index_dir=index_dir, url=url)
        if path is None:
            raise UnknownReport(f"the kept copy of {name!r} is missing. Fix: add the report's file again "
                                f"(`python -m ingest FILE`), or `python -m ingest --repair`.")
        kept.append((path, name))
    return kept


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def store_error(exc: StoreError) -> int:
    """One sentence on stderr; a write failure names this very command to run again."""
    message = disk.with_retry(exc, shlex.join(["python", "-m", "ingest", *sys.argv[1:]])) \
        if isinstance(exc, StoreUnwritable) else str(exc)
    print(f"error: {message}", file=sys.stderr)
    return 1


def complete_multilingual(index_dir: Path, options: ReadOptions, *, log) -> int:
    """`--complete-multilingual`: the background worker's whole job."""
    try:
        summary = IngestRun(index_dir, options=options, log=log, repair=False,
                            multilingual_pass=background.NOW).execute([])
    finally:
        background.forget_worker(index_dir)
    sys.stdout.write(summary.render())
    return 0


def run_repair(index_dir: Path, options: ReadOptions, files: list[Path], *, log, out) -> int:
    """`--repair`: check every byte, mend, apply a rebuild a model change asks for, then add any files named."""
    result = repair_store(index_dir, full=True, options=options, log=log)
    out.write(result.render() or "Repair: nothing to mend.\n")
    if not (index_dir / "CURRENT").exists() and not files:
        out.write(f"{StoreMissing(index_dir)}\n")
        return 1
    summary = IngestRun(index_dir, options=options, log=log, repair=False).execute(files)
    if files or summary.generation:
        out.write(summary.render())
    after = verify_store(index_dir)
    out.write(f"Verify: {after.message() or 'every file matches its manifest.'}\n")
    return 0 if after.ok and summary.ok and not result.error() else 1


if __name__ == "__main__":
    sys.exit(main())
