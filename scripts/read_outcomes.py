"""Read every report file under a folder the way `python -m ingest` does and print each outcome.

    python scripts/read_outcomes.py ../shared/pdf-corpus          # the hostile PDF corpus, by hand
    python scripts/read_outcomes.py tests/data/pdfs --no-ocr

Nothing is indexed. Passwords come from a MANIFEST.observed.json in the folder when there
is one (a list of {"path", "password"}). A line starting TRACEBACK means a reader let an
exception escape, which is a bug; every other line is an outcome a user would see. The
last lines count the outcomes and name the slowest files.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.errors import ReportError  # noqa: E402
from ingest.readers import ReadOptions, read_report  # noqa: E402

SUFFIXES = (".pdf", ".docx", ".txt")


def passwords(folder: Path) -> dict[str, str]:
    manifest = folder / "MANIFEST.observed.json"
    if not manifest.exists():
        return {}
    entries = json.loads(manifest.read_text("utf-8"))
    return {e["path"]: e["password"] for e in entries if isinstance(e, dict) and e.get("password")}


def outcome(path: Path, options: ReadOptions) -> str:
    try:
        document = read_report(path, options)
    except ReportError as exc:
        return f"{exc.outcome} — {exc.detail[:100]}"
    except Exception:  # noqa: BLE001 - this is what the script looks for
        return "TRACEBACK " + traceback.format_exc().replace("\n", " | ")[-300:]
    return f"ok — {len(document.pages)} page(s), {sum(p.ocr for p in document.pages)} OCR'd"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--no-ocr", action="store_true")
    parser.add_argument("--timeout", type=float, default=ReadOptions.timeout_s)
    args = parser.parse_args(argv)
    known = passwords(args.folder)
    files = sorted(p for p in args.folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    base = ReadOptions(ocr=not args.no_ocr, timeout_s=args.timeout)
    tally: Counter[str] = Counter()
    times: list[tuple[float, str]] = []
    for path in files:
        name = str(path.relative_to(args.folder))
        options = replace(base, passwords=(known[name],) if name in known else ())
        started = time.monotonic()
        line = outcome(path, options)
        seconds = time.monotonic() - started
        tally[line.split(" — ")[0] if not line.startswith("TRACEBACK") else "TRACEBACK"] += 1
        times.append((seconds, name))
        print(f"{seconds:7.1f}s {name}: {line}", flush=True)
    print(f"{len(files)} file(s): " + ", ".join(f"{n} {what}" for what, n in tally.most_common()))
    print("slowest: " + ", ".join(f"{name} {s:.0f} s" for s, name in sorted(times, reverse=True)[:3]))
    return 1 if tally["TRACEBACK"] else 0


if __name__ == "__main__":
    sys.exit(main())
