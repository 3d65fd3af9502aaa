"""Read a PDF into pages, parsing it in a child process with a time and memory limit.

The child (ingest/pdf_worker.py) returns each page's raw text and printed label, and the
text Tesseract read from pages that are scans (OCR); here we drop running headers and
footers, rejoin hyphenated words and rebuild paragraphs, so the splitter can cut
quotable passages.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import Corrupt, NeedsPassword, NoTextLayer, OcrUnavailable, ReportError, TimedOut, TooLarge
from ingest.ocr import PAGE_TIMEOUT_S
from ingest.readers import ReadOptions
from ingest.tables import is_header, keep_rows
from index.records import Document, Heading, Page
from index.text import (BULLET, CAPTION, FUNCTION_WORDS, LIGATURES, NUMBERED, YEAR, clean_text, is_heading_like,
                        is_table_row, print_key)

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# A PDF with fewer letters than this in all its pages has no text layer (a scan, a drawing).
MIN_LETTERS = 3
# A line repeated (digits aside) at the top or bottom of this share of pages is a running header/footer.
# (0.3, not 0.5: reports alternate recto/verso headers, each on half the pages.)
RUNNING_LINE_SHARE = 0.3
RUNNING_LINE_MIN_PAGES = 3
EDGE_LINES = 3
# A line shorter than this share of the page's usual line, ending a sentence, ends its paragraph.
SHORT_LINE_SHARE = 0.75
# A title line this long against the page's usual line is wrapped, whatever the next line starts with
# ("… armed groups in the Democratic" / "Republic of the Congo (DRC)").
LONG_TITLE_LINE_SHARE = 0.6
# How many characters (spaces aside) a line needs to start a run printed large.
MIN_LARGE_LINE_KEY = 3
HEADING_LINE_SHARE = 0.5
OUTCOME_ERRORS: dict[str, type[ReportError]] = {
    "needs password": NeedsPassword, "too large": TooLarge, "corrupt": Corrupt}
# While pages are OCR'd, the time limit restarts with each page: a page may take this long.
OCR_PAGE_ALLOWANCE_S = PAGE_TIMEOUT_S + 30
# How long the child may take to exit after its last event.
EXIT_GRACE_S = 5
DIGITS = re.compile(r"\d+")
# A table's header line, not a title, names at least this many years ("Country 2019 2020 2021").
MIN_HEADER_YEARS = 3
PRIVATE_USE_BULLET = re.compile("^[\uf0a7\uf0b7\uf076\uf0d8\uf0fc\u25aa\u25cf\u2022\u25e6\u2023\u2043]\\s*")


def _cleaned(value):
    """`value` (the worker's JSON result) with every string in it cleaned (`index.text.clean_text`)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {k: _cleaned(v) for k, v in value.items()}
    return value


def read_pdf(path: Path, data: bytes, options: ReadOptions, *, report: str, sha256: str) -> Document:
    result = _cleaned(run_worker(path, options))
    raw = list(result["texts"])
    labels = list(result["labels"])
    for index, page in list(result["ocr"].items()):
        if _letters(page["text"]) <= _letters(raw[index]):
            del result["ocr"][index]  # OCR read less than the thin text layer had: keep the layer
            continue
        raw[index] = page["text"]
    printed = consistent_printed_numbers({i: page["printed"] for i, page in result["ocr"].items()})
    for index, label in printed.items():
        labels[index] = label
    # Typeset ligatures ("misﬁts") become plain letters so quotes and searches read normally.
    texts = remove_running_lines([t.translate(LIGATURES) for t in raw])
    if sum(_letters(t) for t in texts) < MIN_LETTERS:
        raise _no_text_error(path, result, len(texts), options)
    outline = _outline_by_page(result.get("outline") or [])
    printed = [printed_paragraphs(keep_rows(texts[i]),
                                  _large_print(result.get("large_print"), i) if i not in result["ocr"] else None)
               for i in range(len(texts))]
    pages = tuple(Page(number=i + 1, label=labels[i], text=printed[i][0],
                       heading=Heading(section=outline[i][0]) if i in outline else None,
                       outline=tuple(outline.get(i, ())), ocr=i in result["ocr"], large_print=printed[i][1])
                  for i in range(len(texts)))
    return Document(report=report, title=options.title or _title(result, pages, report),
                    year=options.year or result.get("year"), sha256=sha256, pages=pages, kind="pdf")


def _large_print(large: list | None, index: int) -> tuple[str, ...] | None:
    """Page `index`'s runs printed large, as keys (`print_key`); None when the report's print is unknown."""
    if not isinstance(large, list) or index >= len(large) or not isinstance(large[index], list):
        return None
    return tuple(key for key in (print_key(str(run)) for run in large[index]) if key)


def consistent_printed_numbers(read: dict[int, str | None]) -> dict[int, str]:
    """The printed page numbers OCR read (0-based page → label), checked against each other.

    Printed numbers run in step with the physical pages. When two or more OCR'd pages agree on
    the step (printed − physical), a number that disagrees was misread (a footnote mark, a
    speck) and is dropped, and an OCR'd page between agreeing ones whose number was not read
    gets the number the step gives. Roman numerals and lone numbers are kept as read."""
    offsets = Counter(int(label) - index for index, label in read.items() if label and label.isdigit())
    if not offsets:
        return {i: label for i, label in read.items() if label}
    offset, votes = offsets.most_common(1)[0]
    if votes < 2:
        return {i: label for i, label in read.items() if label}
    agreeing = [i for i, label in read.items() if label and label.isdigit() and int(label) - i == offset]
    first, last = min(agreeing), max(agreeing)
    out: dict[int, str] = {}
    for index, label in read.items():
        if label and not label.isdigit():
            out[index] = label
        elif label and int(label) - index == offset:
            out[index] = label
        elif first - 1 <= index <= last + 1 and index + offset > 0:
            out[index] = str(index + offset)
    return out


def _no_text_error(path: Path, result: dict, count: int, options: ReadOptions) -> ReportError:
    if result.get("ocr_unavailable"):
        problem, fix = result["ocr_unavailable"]
        return OcrUnavailable(path, f"{count} page(s) without a text layer; {problem}", fix=fix)
    if result.get("ocr_error"):
        return NoTextLayer(path, f"{count} page(s) without extractable text; OCR could not run: {result['ocr_error']}")
    if not options.ocr:
        return NoTextLayer(path, f"{count} page(s) without extractable text; OCR was switched off (--no-ocr)",
                           fix="ingest it again without --no-ocr, or ingest a text extract instead")
    if result["ocr_failed"]:
        return NoTextLayer(path, f"OCR could not read {len(result['ocr_failed'])} page(s): "
                                 f"{next(iter(result['ocr_failed'].values()))}")
    if result["ocr"]:
        return NoTextLayer(path, f"OCR found no words on {len(result['ocr'])} scanned page(s)",
                           fix="check that the scan is legible and the OCR languages (--ocr-lang) fit it")
    return NoTextLayer(path, f"{count} page(s) without extractable text and no scanned image to OCR",
                       fix="ingest a text extract instead")


@dataclass
class WorkerResult:
    """What the child sent, gathered event by event."""

    text: dict | None = None
    failure: dict | None = None
    plan: list[int] = field(default_factory=list)
    ocr: dict[int, dict] = field(default_factory=dict)
    ocr_failed: dict[int, str] = field(default_factory=dict)
    ocr_unavailable: tuple[str, str] | None = None  # (problem, fix)
    ocr_error: str | None = None
    done: bool = False


def run_worker(path: Path, options: ReadOptions) -> dict:
    """Run the child on `path` and return its text event, with the OCR'd pages under "ocr"."""
    request = {"path": str(Path(path).resolve()), "passwords": list(options.passwords),
               "memory_mb": options.memory_mb, "max_pages": options.max_pages,
               "ocr": options.ocr, "ocr_languages": options.ocr_languages, "ocr_dpi": options.ocr_dpi}
    got, returncode = _collect(path, request, options)
    if got.failure is not None:
        raise OUTCOME_ERRORS.get(got.failure["outcome"], Corrupt)(path, got.failure["detail"])
    if got.text is None:
        if returncode is None:
            raise TimedOut(path, f"parsing took longer than {options.timeout_s:g} s")
        how = f"signal {-returncode}" if returncode < 0 else f"exit {returncode}"
        error = TooLarge if returncode == -9 else Corrupt
        raise error(path, f"the PDF parser crashed ({how})")
    if not got.done:
        # OCR was cut short (time limit or crash): keep the text layer and the pages already read.
        missing = [i for i in got.plan if i not in got.ocr]
        cause = "timed out" if returncode is None else "stopped"
        if not got.ocr and not any(_letters(t) for t in got.text["texts"]):
            if returncode is None:
                raise TimedOut(path, f"OCR of a page took longer than {OCR_PAGE_ALLOWANCE_S:g} s")
            raise Corrupt(path, f"the page renderer or OCR crashed (exit {returncode})")
        _say(options, f"  warning: OCR {cause}; page(s) {_page_list([i + 1 for i in missing])} were not read")
        got.ocr_failed.update({i: f"OCR {cause}" for i in missing})
    if got.ocr_unavailable and got.text is not None and any(_letters(t) for t in got.text["texts"]):
        problem, fix = got.ocr_unavailable
        _say(options, f"  warning: pages that look scanned were not OCR'd: {problem}. Fix: {fix}.")
    if got.ocr_error and any(_letters(t) for t in got.text["texts"]):
        _say(options, f"  warning: OCR could not run ({got.ocr_error}); pages that look scanned were not read")
    return {**got.text, "ocr": got.ocr, "ocr_failed": got.ocr_failed, "ocr_unavailable": got.ocr_unavailable,
            "ocr_error": got.ocr_error}


def _collect(path: Path, request: dict, options: ReadOptions) -> tuple[WorkerResult, int | None]:
    """Feed the request to the child and gather its events until it ends or its time runs out.

    Returns the events and the child's exit code (None when it was killed for time)."""
    # Its own process group, so a kill for time also ends the Tesseract processes it started.
    process = subprocess.Popen([sys.executable, "-m", "ingest.pdf_worker"], cwd=PACKAGE_ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               start_new_session=os.name == "posix")
    events: queue.Queue = queue.Queue()
    threading.Thread(target=_read_events, args=(process.stdout, events), daemon=True).start()
    try:
        process.stdin.write(json.dumps(request).encode("utf-8"))
        process.stdin.close()
    except OSError:
        pass  # the child died at once; its exit code says how
    got = WorkerResult()
    progress = OcrProgress(options)
    deadline = time.monotonic() + options.timeout_s
    while True:
        try:
            event = events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            _kill(process)
            return got, None
        if event is None:  # the child closed its output
            break
        _record(got, event, progress)
        if event.get("event") in ("ocr_plan", "ocr_page", "ocr_failed"):
            deadline = time.monotonic() + max(options.timeout_s, OCR_PAGE_ALLOWANCE_S)
    try:
        return got, process.wait(timeout=EXIT_GRACE_S)
    except subprocess.TimeoutExpired:
        _kill(process)
        return got, None


def _read_events(stream, events: queue.Queue) -> None:
    for line in stream:
        try:
            events.put(json.loads(line.decode("utf-8")))
        except ValueError:
            continue  # a half-written line from a child that died mid-write
    events.put(None)


def _record(got: WorkerResult, event: dict, progress: "OcrProgress") -> None:
    kind = event.get("event")
    if kind == "text":
        got.text = event
    elif kind == "failure":
        got.failure = event
    elif kind == "ocr_plan":
        got.plan = [int(i) for i in event["pages"]]
        progress.start(len(got.plan))
    elif kind == "ocr_page":
        got.ocr[int(event["page"])] = event
        progress.page_done(int(event["page"]))
    elif kind == "ocr_failed":
        got.ocr_failed[int(event["page"])] = event["detail"]
        progress.page_done(int(event["page"]), failed=event["detail"])
    elif kind == "ocr_error":
        got.ocr_error = event["detail"]
    elif kind == "ocr_unavailable":
        got.ocr_unavailable = (event["detail"], event.get("fix") or "ingest a text extract instead")
    elif kind == "done":
        got.done = True


def _kill(process: subprocess.Popen) -> None:
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.kill()
    process.wait()


class OcrProgress:
    """Says how OCR is going: pages done, pages per second and the time left."""

    def __init__(self, options: ReadOptions):
        self.options = options
        self.total = 0
        self.done = 0
        self.started = 0.0

    def start(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, time.monotonic()
        _say(self.options, f"  OCR: {total} page(s) without a usable text layer, languages {self.options.ocr_languages}")
        if self.options.ocr_progress is not None:
            self.options.ocr_progress(0, total, 0.0)

    def page_done(self, index: int, *, failed: str | None = None) -> None:
        self.done += 1
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate
        note = f" (not read: {failed})" if failed else ""
        _say(self.options, f"  OCR page {self.done}/{self.total} (PDF p. {index + 1}){note} · "
                           f"{rate:.2f} pages/s · {_duration(left)} left")
        if self.options.ocr_progress is not None:
            self.options.ocr_progress(self.done, self.total, rate)


def _say(options: ReadOptions, text: str) -> None:
    if options.log is not None:
        options.log(text)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def _page_list(pages: list[int]) -> str:
    return ", ".join(str(p) for p in pages[:20]) + (" …" if len(pages) > 20 else "")


def _letters(text: str) -> int:
    return sum(c.isalpha() for c in text)


def remove_running_lines(texts: list[str]) -> list[str]:
    """Drop lines that repeat at the top or bottom of most pages (titles, page numbers)."""
    pages = [t.split("\n") for t in texts]
    with_text = [lines for lines in pages if any(line.strip() for line in lines)]
    if len(with_text) < RUNNING_LINE_MIN_PAGES:
        return texts
    counts: Counter[str] = Counter()
    for lines in with_text:
        counts.update({_shape(line) for line in _edges(lines) if line.strip()})
    threshold = max(RUNNING_LINE_MIN_PAGES, RUNNING_LINE_SHARE * len(with_text))
    running = {shape for shape, n in counts.items() if n >= threshold}
    return ["\n".join(_drop_running(lines, running)) for lines in pages]


def _edges(lines: list[str]) -> list[str]:
    content = [line for line in lines if line.strip()]
    return content[:EDGE_LINES] + content[-EDGE_LINES:]


def _shape(line: str) -> str:
    return DIGITS.sub("#", " ".join(line.split()).casefold())


def _drop_running(lines: list[str], running: set[str]) -> list[str]:
    edges = set(_edges(lines))
    kept = [line for line in lines if not (line in edges and _shape(line) in running)]
    # A page that is nothing but "running" lines (the same short text on every page) keeps them.
    return kept if any(line.strip() for line in kept) else lines


def paragraphs(text: str) -> str:
    """Rebuild paragraphs from a PDF page's lines: one paragraph per line, blank-line separated."""
    return printed_paragraphs(text, None)[0]


def printed_paragraphs(text: str, runs: tuple[str, ...] | None) -> tuple[str, tuple[str, ...] | None]:
    """`paragraphs`, and the lines printed large as `print_key`s (None when the print is unknown).

    `runs` are the page's runs printed large (`print_key`s, in reading order). Lines whose text
    makes up a whole run, one after the other, are its title lines: each stands alone as a
    paragraph, a title wrapped over lines joined again (`_wraps_title`), a name after a complete
    title ("D. Survivor Testimonials" / "Theresa Flores") a heading of its own. A small line that
    only begins like a run ("Climate change", a chart's label, beside the title "Climate change
    can affect …") is not one of them."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    widths = [len(line) for line in lines if line]
    usual = statistics.median(widths) if widths else 0
    titles = _title_lines(lines, runs or (), usual)
    out: list[list[str]] = []
    title_blocks: list[bool] = []  # out[k] is a title's line
    after_heading = False
    for i, line in enumerate(lines):
        if not line:
            out.append([])
            title_blocks.append(False)
            continue
        line = PRIVATE_USE_BULLET.sub("• ", line)
        if titles.get(i) == "wraps" and out and out[-1] and title_blocks[-1]:
            out[-1].append(line)  # the same title, wrapped
            continue
        heading = i in titles or _is_heading_line(line, usual)
        if heading or after_heading or not out or not out[-1] or _starts_block(line) \
                or _ends_paragraph(out[-1][-1], usual):
            out.append([line])
            title_blocks.append(i in titles)
        else:
            out[-1].append(line)
        after_heading = heading
    kept = [(_join_lines(block), title) for block, title in zip(out, title_blocks) if block]
    large = None if runs is None else tuple(print_key(text) for text, title in kept if title)
    return "\n\n".join(text for text, _ in kept), large


def _title_lines(lines: list[str], runs: tuple[str, ...], usual: float) -> dict[int, str]:
    """Line number → "starts" or "wraps" for the lines that print a whole run (`printed_paragraphs`)."""
    titles: dict[int, str] = {}
    i = 0
    while runs and i < len(lines):  # no runs (print unknown, or nothing large): no line to key
        key = print_key(lines[i])
        run = next((r for r in runs if r.startswith(key)), None) if len(key) >= MIN_LARGE_LINE_KEY else None
        if run is None:
            i += 1
            continue
        taken, got = [i], key
        j = i + 1
        while got != run and j < len(lines):
            if not lines[j]:
                j += 1
                continue
            more = got + print_key(lines[j])
            if not run.startswith(more):
                break
            taken.append(j)
            got = more
            j += 1
        if got != run:
            i += 1  # it only begins like the run: a label, not the title
            continue
        titles[taken[0]] = "starts"
        for before, line in zip(taken, taken[1:]):
            wraps = _wraps_title(lines[before], lines[line]) or len(lines[before]) > LONG_TITLE_LINE_SHARE * usual
            titles[line] = "wraps" if wraps else "starts"
        i = taken[-1] + 1
    return titles


def _wraps_title(previous: str, line: str) -> bool:
    """Whether `line` carries on the title printed on the line before: it starts in lower case, or
    the line before stops on a function word or a ',', ';', ':' or '-' ("Trafficking within and out
    of Africa;" / "short and long-distance flows"). A name after a complete title ("D. Survivor
    Testimonials" / "Theresa Flores") is a heading of its own."""
    words = previous.split()
    return line[:1].islower() or previous.rstrip().endswith((",", ";", ":", "-", "–")) or \
        bool(words) and words[-1].casefold() in FUNCTION_WORDS


def _is_heading_line(line: str, usual: float) -> bool:
    """A short title-like line ("2 Bar", "Signs of trafficking") stands alone."""
    return len(line) < HEADING_LINE_SHARE * usual and is_heading_like(line) and line[:1].isupper() \
        or bool(re.match(r"^\d+(\.\d+)*\s+[A-Z]", line)) and is_heading_like(line) and len(line.split()) <= 8


def _starts_block(line: str) -> bool:
    return bool(BULLET.match(line) or NUMBERED.match(line))


def _ends_paragraph(previous: str, usual: float) -> bool:
    short = len(previous) < SHORT_LINE_SHARE * usual
    return short and (previous.endswith((".", "!", "?", ":", "”", '"')) or is_heading_like(previous))


def _join_lines(lines: list[str]) -> str:
    text = lines[0]
    for line in lines[1:]:
        # "traf-" + "ficking" is one word; "Albania-" + "Kosovo" keeps its hyphen.
        if text.endswith("-") and line[:1].islower() and text[-2:-1].isalpha():
            text = text[:-1] + line
        else:
            text = f"{text} {line}"
    return text


def _outline_by_page(entries: list[list]) -> dict[int, list[str]]:
    """Outline titles by the 0-based page they start on, in reading order."""
    by_page: dict[int, list[str]] = {}
    for title, page in entries:
        by_page.setdefault(int(page), []).append(" ".join(str(title).split())[:200])
    return by_page


def _title(result: dict, pages: tuple[Page, ...], report: str) -> str:
    title = " ".join((result.get("title") or "").split())
    if len(title) >= 8 and not title.lower().endswith((".doc", ".docx", ".indd", ".pdf")) \
            and "untitled" not in title.lower():
        return title
    for page in pages[:2]:
        for line in page.text.split("\n\n"):
            if is_heading_like(line) and 3 <= len(line.split()) <= 15 and not _part_of_a_table(line):
                return line.strip()
    return Path(report).stem


def _part_of_a_table(line: str) -> bool:
    """A table's caption ("Table 1. Detected victims …"), header of years ("Country 2019 2020 2021";
    a year or two, as in "Annual Report 2019 2020", are a title's) or row:
    it names a table, not the report. Taken as the title, its words made every question about
    such figures "name" that report."""
    header_of_years = is_header(line) and sum(bool(YEAR.match(cell)) for cell in line.split()) >= MIN_HEADER_YEARS
    return bool(CAPTION.match(line)) or is_table_row(line) or header_of_years
