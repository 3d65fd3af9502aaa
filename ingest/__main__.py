"""`python -m ingest [PATH ...] [--index-dir DIR]`: add or replace reports in the store.

Each file gets one outcome, printed as it is done and in a summary. A file that
fails adds nothing and changes nothing; the run goes on and exits 1 at the end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from index.settings import DEFAULT_CORPUS, default_index_dir

from ingest.pipeline import IngestRun, collect_files
from ingest.readers import DEFAULT_MAX_MB, ReadOptions


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
    parser.add_argument("--rebuild", action="store_true",
                        help="re-read every report already in the store (after a model or splitter change)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    index_dir = args.index_dir or default_index_dir()
    paths = args.paths or ([] if args.remove else [DEFAULT_CORPUS])
    options = ReadOptions(passwords=tuple(args.password), max_mb=args.max_mb, timeout_s=args.timeout,
                          title=args.title, year=args.year)
    out = sys.stdout
    try:
        files = collect_files(paths)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    run = IngestRun(index_dir, options=options, log=None if args.quiet else out.write)
    summary = run.execute(files, remove=args.remove, rebuild=args.rebuild)
    out.write(summary.render())
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
