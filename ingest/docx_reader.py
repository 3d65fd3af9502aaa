"""Read a Word (.docx) report into passages' raw material, in a child process with limits.

Word has no fixed pages (they depend on the printer and the fonts), so a Word report
never gets page numbers: each paragraph, whole list or table becomes one `Page` with
`number=None` and `paragraph=N`, its 1-based position among the document's non-empty
paragraphs (a heading, each list item and each table count as one), and passages cite
the section and that paragraph number ("para. 12").

Headings become sections. A "Presenter: Ms. Name, Organisation" line under a heading
names the section's speaker; where there is none, the document's author does (unless the
author is a placeholder such as "Microsoft Office User"). Numbered lists stay whole
(their numbers, which Word draws rather than stores, are written out). Tables are kept
with their header cells: each row reads "Header: cell; Header: cell".
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from ingest.errors import Corrupt, EmptyReport, NeedsPassword, TimedOut, TooLarge, UnsupportedType
from ingest.readers import ReadOptions
from index.records import Document, Heading, Page
from index.text import is_heading_like

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
OUTCOME_ERRORS = {"too large": TooLarge, "corrupt": Corrupt, "unsupported type": UnsupportedType}
PRESENTER_LINE = re.compile(
    r"^(?:presenter|presented by|speaker|prezantues(?:i|e)?|prezantuar nga|folës(?:i)?)\s*[:\-–—]\s*(?P<who>.+)$",
    re.IGNORECASE)
WHO_SPLIT = re.compile(r"\s*(?:,|\s[—–-]\s|\()\s*")
# Authors Word fills in by itself: they name no one.
PLACEHOLDER_AUTHORS = frozenset({"microsoft office user", "user", "admin", "administrator", "owner", "author",
                                 "windows user", "unknown", "python-docx"})
YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
MAX_TITLE_WORDS = 20
# A legacy Word file (OLE compound document): also how Word stores a password-protected .docx.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def read_docx(path: Path, data: bytes, options: ReadOptions, *, report: str, sha256: str) -> Document:
    result = run_worker(path, options)
    pages = tuple(to_pages(result["blocks"], author=_real_author(result.get("author"))))
    if not any(p.text.strip() or p.heading is not None for p in pages):
        raise EmptyReport(path)
    title = options.title or _title(result, pages, report)
    year = options.year or _year(title) or result.get("year")
    return Document(report=report, title=title, year=year, sha256=sha256, pages=pages, kind="docx")


def reject_ole(path: Path, data: bytes) -> None:
    """An OLE file is an old .doc or an encrypted .docx: say which, and what to do."""
    if ENCRYPTED_PACKAGE in data[:1 << 20] or ENCRYPTED_PACKAGE in data[-(1 << 20):]:
        raise NeedsPassword(path, "a password-protected Word document",
                            fix="open it in Word, remove the password (File › Info › Protect Document), "
                                "save it and add it again")
    raise UnsupportedType(path, "an old Word .doc (or another OLE file)",
                          fix="save it as .docx or PDF in Word or LibreOffice and add that")


def run_worker(path: Path, options: ReadOptions) -> dict:
    request = {"path": str(Path(path).resolve()), "memory_mb": options.memory_mb}
    try:
        completed = subprocess.run([sys.executable, "-m", "ingest.docx_worker"], cwd=PACKAGE_ROOT,
                                   input=json.dumps(request).encode("utf-8"), capture_output=True,
                                   timeout=options.timeout_s)
    except subprocess.TimeoutExpired:
        raise TimedOut(path, f"reading took longer than {options.timeout_s:g} s") from None
    try:
        result = json.loads(completed.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        code = completed.returncode
        how = f"signal {-code}" if code < 0 else f"exit {code}"
        raise (TooLarge if code == -9 else Corrupt)(path, f"the Word reader crashed ({how})") from None
    if result.get("event") != "text":
        raise OUTCOME_ERRORS.get(result.get("outcome"), Corrupt)(path, result.get("detail", ""))
    return result


def to_pages(blocks: list[dict], *, author: str | None) -> list[Page]:
    """One Page per heading, paragraph, list or table, numbered by paragraph."""
    pages: list[Page] = []
    number = 0
    pending: Heading | None = None  # a heading waiting for a possible presenter line
    for block in blocks:
        kind = block["kind"]
        if kind == "heading":
            if pending is not None:
                pages.append(_heading_page(pending, number))
            number += 1
            pending = Heading(section=block["text"], speaker=author, text=block["text"])
            pending_number = number
            continue
        if kind == "paragraph" and pending is not None and PRESENTER_LINE.match(block["text"]):
            number += 1
            pending = _with_presenter(pending, block["text"])
            continue
        if pending is not None:
            pages.append(_heading_page(pending, pending_number))
            pending = None
        if block["kind"] == "list" and not block["numbered"]:
            # Bullets are quoted one by one: each keeps its own paragraph number.
            for item in block["items"]:
                number += 1
                pages.append(Page(number=None, label=None, text=f"• {item}", paragraph=number))
            continue
        first = number + 1
        text, used = _block_text(block)
        number += used
        pages.append(Page(number=None, label=None, text=text, paragraph=first))
    if pending is not None:
        pages.append(_heading_page(pending, pending_number))
    return pages


def _heading_page(heading: Heading, paragraph: int) -> Page:
    return Page(number=None, label=None, text="", heading=heading, paragraph=paragraph)


def _with_presenter(heading: Heading, line: str) -> Heading:
    who = PRESENTER_LINE.match(line).group("who").strip()
    parts = [p.strip(" )") for p in WHO_SPLIT.split(who, maxsplit=1)]
    speaker = parts[0]
    organisation = parts[1] if len(parts) > 1 and parts[1] else None
    return Heading(section=heading.section, speaker=speaker, organisation=organisation,
                   text=f"{heading.text}\n{line}")


def _block_text(block: dict) -> tuple[str, int]:
    """The block's text as the splitter reads it, and how many paragraphs it counts as."""
    if block["kind"] == "list":
        items = block["items"]
        return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1)), len(items)
    if block["kind"] == "table":
        return _table_text(block["rows"]), 1
    return block["text"], 1


def _table_text(rows: list[list[str]]) -> str:
    """A lead-in naming the columns, then one numbered line per row with its header cells."""
    header, body = rows[0], rows[1:]
    if not body:
        return " | ".join(header)
    lines = [f"Table ({' | '.join(h for h in header if h)}):"]
    for i, row in enumerate(body, start=1):
        cells = [f"{h}: {c}" if h and c and h != c else c for h, c in zip(header, row)] + row[len(header):]
        lines.append(f"{i}. " + "; ".join(c for c in cells if c))
    return "\n".join(lines)


def _real_author(author: str | None) -> str | None:
    if not author or author.strip().casefold() in PLACEHOLDER_AUTHORS:
        return None
    return author.strip()


def _title(result: dict, pages: tuple[Page, ...], report: str) -> str:
    title = " ".join((result.get("title") or "").split())
    if title and len(title.split()) <= MAX_TITLE_WORDS:
        return title
    for page in pages[:5]:
        if page.heading is not None and page.heading.section and is_heading_like(page.heading.section):
            return page.heading.section
    return Path(report).stem


def _year(title: str) -> int | None:
    match = YEAR.search(title)
    return int(match.group(1)) if match else None
