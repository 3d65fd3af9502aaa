"""Read a PDF into pages, parsing it in a child process with a time and memory limit.

The child (ingest/pdf_worker.py) returns each page's raw text and printed label; here
we drop running headers and footers, rejoin hyphenated words and rebuild paragraphs,
so the splitter can cut quotable passages.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

from ingest.errors import Corrupt, NeedsPassword, NoTextLayer, ReportError, TimedOut, TooLarge
from ingest.readers import ReadOptions
from index.records import Document, Heading, Page
from index.text import BULLET, NUMBERED, is_heading_like

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
HEADING_LINE_SHARE = 0.5
OUTCOME_ERRORS: dict[str, type[ReportError]] = {
    "needs password": NeedsPassword, "too large": TooLarge, "corrupt": Corrupt}
DIGITS = re.compile(r"\d+")
LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
PRIVATE_USE_BULLET = re.compile("^[\uf0a7\uf0b7\uf076\uf0d8\uf0fc\u25aa\u25cf\u2022\u25e6\u2023\u2043]\\s*")


def read_pdf(path: Path, data: bytes, options: ReadOptions, *, report: str, sha256: str) -> Document:
    result = run_worker(path, options)
    # Typeset ligatures ("misﬁts") become plain letters so quotes and searches read normally.
    texts = remove_running_lines([t.translate(LIGATURES) for t in result["texts"]])
    if sum(_letters(t) for t in texts) < MIN_LETTERS:
        raise NoTextLayer(path, f"{len(texts)} page(s) without extractable text")
    outline = _outline_by_page(result.get("outline") or [])
    labels = result["labels"]
    pages = tuple(Page(number=i + 1, label=labels[i], text=paragraphs(texts[i]),
                       heading=Heading(section=outline[i][0]) if i in outline else None,
                       outline=tuple(outline.get(i, ())))
                  for i in range(len(texts)))
    return Document(report=report, title=options.title or _title(result, pages, report),
                    year=options.year or result.get("year"), sha256=sha256, pages=pages, kind="pdf")


def run_worker(path: Path, options: ReadOptions) -> dict:
    request = {"path": str(Path(path).resolve()), "passwords": list(options.passwords),
               "memory_mb": options.memory_mb, "max_pages": options.max_pages}
    try:
        completed = subprocess.run([sys.executable, "-m", "ingest.pdf_worker"], cwd=PACKAGE_ROOT,
                                   input=json.dumps(request).encode("utf-8"), capture_output=True,
                                   timeout=options.timeout_s)
    except subprocess.TimeoutExpired:
        raise TimedOut(path, f"parsing took longer than {options.timeout_s:g} s") from None
    try:
        result = json.loads(completed.stdout.decode("utf-8"))
    except ValueError:
        how = f"signal {-completed.returncode}" if completed.returncode < 0 else f"exit {completed.returncode}"
        error = TooLarge if completed.returncode == -9 else Corrupt
        raise error(path, f"the PDF parser crashed ({how})") from None
    if not result["ok"]:
        raise OUTCOME_ERRORS.get(result["outcome"], Corrupt)(path, result["detail"])
    return result


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
    lines = [" ".join(line.split()) for line in text.split("\n")]
    widths = [len(line) for line in lines if line]
    usual = statistics.median(widths) if widths else 0
    out: list[list[str]] = []
    after_heading = False
    for line in lines:
        if not line:
            out.append([])
            continue
        line = PRIVATE_USE_BULLET.sub("• ", line)
        heading = _is_heading_line(line, usual)
        if heading or after_heading or not out or not out[-1] or _starts_block(line) \
                or _ends_paragraph(out[-1][-1], usual):
            out.append([line])
        else:
            out[-1].append(line)
        after_heading = heading
    return "\n\n".join(_join_lines(block) for block in out if block)


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
            if is_heading_like(line) and 3 <= len(line.split()) <= 15:
                return line.strip()
    return Path(report).stem
