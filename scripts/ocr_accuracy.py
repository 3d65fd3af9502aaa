"""How well and how fast OCR reads the scanned test reports: character error rate and pages/s.

    python scripts/ocr_accuracy.py                      # the two scans in tests/data/scanned/
    python scripts/ocr_accuracy.py --dpi 200 --lang eng # another resolution or language set

Each scan in tests/data/scanned/ was made from pages of a report in tests/data/shelf/
(see its SOURCES.md). The scan is read the way `python -m ingest` reads it (sandboxed
worker, Tesseract, paragraph rebuilding, splitter); the original is read from its text
layer. For every passage that came from OCR we find the stretch of the original page(s)
it matches best (an edit-distance alignment free to start and end anywhere in the
page), and count the edits: CER = edits / characters of the passage. A passage of chart
labels that the original lays out differently counts against OCR too, so the figure is
a fair upper bound for what a user pasting a quote would meet.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import unicodedata
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import ocr  # noqa: E402
from ingest.readers import ReadOptions, read_report  # noqa: E402
from ingest.splitter import split_document  # noqa: E402

SCANNED = ROOT / "tests" / "data" / "scanned"
SHELF = ROOT / "tests" / "data" / "shelf"
# scan → (original, physical page of the original that the scan's first page shows)
SOURCES = {
    "GLOTIP2024_Chapter_2-scanned-printed-pp69-71.pdf": ("GLOTIP2024_Chapter_2.pdf", 5),
    "retail-awareness-guide-scanned-pp1-4.pdf":
        ("HUMAN TRAFFICKING AWARENESS GUIDE for Convenience Retail Employees.pdf", 1),
}
# Passages at or below this CER read as clean prose (a typo at most every 50 characters).
CLEAN_CER = 0.02


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def best_alignment_edits(passage: str, reference: str) -> int:
    """Fewest edits turning `passage` into some substring of `reference` (semi-global Levenshtein)."""
    a = np.frombuffer(passage.encode("utf-32-le"), dtype=np.uint32)
    b = np.frombuffer(reference.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    row = np.zeros(len(b) + 1, dtype=np.int64)  # free start anywhere in the reference
    for i, char in enumerate(a, start=1):
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(row[:-1] + (b != char), row[1:] + 1)
        row = np.minimum.accumulate(best - steps) + steps  # insertions along the reference
    return int(row.min())  # free end


def measure(scan: Path, options: ReadOptions) -> dict:
    original_name, first_page = SOURCES[scan.name]
    rates: list[float] = []
    started, cpu_before = time.monotonic(), _children_cpu()
    scanned = read_report(scan, replace(options, ocr_progress=lambda done, total, rate: rates.append(rate)))
    seconds, cpu = time.monotonic() - started, _children_cpu() - cpu_before
    original = read_report(SHELF / original_name, replace(options, ocr=False))
    reference = {page.number: normalise(page.text) for page in original.pages}
    rows = []
    for passage in split_document(scanned):
        if not passage.ocr:
            continue
        text = normalise(passage.text)
        pages = range(passage.page + first_page - 1, (passage.page_end or passage.page) + first_page)
        ref = " ".join(reference.get(p, "") for p in pages)
        rows.append((passage, len(text), best_alignment_edits(text, ref)))
    ocr_pages = [p.number for p in scanned.pages if p.ocr]
    return {"scan": scan.name, "pages": len(ocr_pages), "seconds": seconds, "cpu": cpu,
            "ocr_rate": rates[-1] if rates else 0.0, "rows": rows,
            "labels": [(p.number, p.label) for p in scanned.pages]}


def _children_cpu() -> float:
    """CPU seconds used so far by finished child processes (the worker and its Tesseracts)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def report(results: list[dict], *, verbose: bool) -> str:
    lines = [f"{'scan':48} {'pages':>5} {'s':>6} {'pages/s':>8} {'CPU s/page':>10} {'passages':>8} {'CER':>6} "
             f"{'median':>6} {'clean':>6}"]
    all_chars = all_edits = all_pages = 0
    all_seconds = all_cpu = 0.0
    per_passage: list[float] = []
    for r in results:
        chars = sum(n for _, n, _ in r["rows"])
        edits = sum(e for _, _, e in r["rows"])
        cers = [e / max(n, 1) for _, n, e in r["rows"]]
        clean = sum(c <= CLEAN_CER for c in cers)
        lines.append(f"{r['scan'][:48]:48} {r['pages']:5d} {r['seconds']:6.1f} {r['pages'] / r['seconds']:8.3f} "
                     f"{r['cpu'] / max(r['pages'], 1):10.2f} {len(cers):8d} {edits / max(chars, 1):6.3f} {statistics.median(cers) if cers else 0:6.3f} "
                     f"{clean:3d}/{len(cers):<2d}")
        lines.append(f"{'':48} physical→printed: " + ", ".join(f"{n}→{label}" for n, label in r["labels"]))
        all_chars, all_edits, all_pages = all_chars + chars, all_edits + edits, all_pages + r["pages"]
        all_seconds += r["seconds"]
        all_cpu += r["cpu"]
        per_passage += cers
        if verbose:
            for passage, n, e in r["rows"]:
                lines.append(f"    p.{passage.page} CER {e / max(n, 1):.3f} ({n} chars): {passage.text[:90]!r}")
    lines.append(f"{'all':48} {all_pages:5d} {all_seconds:6.1f} {all_pages / max(all_seconds, 1e-9):8.3f} "
                 f"{all_cpu / max(all_pages, 1):10.2f} {len(per_passage):8d} {all_edits / max(all_chars, 1):6.3f} "
                 f"{statistics.median(per_passage) if per_passage else 0:6.3f} "
                 f"{sum(c <= CLEAN_CER for c in per_passage):3d}/{len(per_passage):<2d}")
    lines.append("CER = edits / characters over all OCR'd passages; median = the median passage's CER; "
                 f"clean = passages with CER <= {CLEAN_CER}. Seconds and CPU include parsing and the PDF worker's start;\n"
                 "CPU s/page (worker + Tesseract) does not depend on how busy the machine is: "
                 "pages/s on an idle machine ≈ parallel pages / CPU s per page.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scans", nargs="*", type=Path, help="scans to measure (default: tests/data/scanned/*.pdf)")
    parser.add_argument("--lang", default=ocr.DEFAULT_LANGUAGES, help="Tesseract languages")
    parser.add_argument("--dpi", type=int, default=ocr.RENDER_DPI, help="render resolution")
    parser.add_argument("--verbose", action="store_true", help="one line per passage")
    args = parser.parse_args(argv)
    scans = args.scans or sorted(SCANNED.glob("*.pdf"))
    options = ReadOptions(ocr_languages=args.lang, ocr_dpi=args.dpi, timeout_s=600)
    results = [measure(scan, options) for scan in scans]
    print(f"Tesseract languages {args.lang}, {args.dpi} dpi, {ocr.PARALLEL_PAGES} page(s) at a time")
    print(report(results, verbose=args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
