"""Turn a report file into a Document, choosing the reader by the file's content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ingest.errors import EmptyReport, TooLarge, UnsupportedType, readable_name
from ingest.ocr import DEFAULT_LANGUAGES as DEFAULT_OCR_LANGUAGES
from ingest.ocr import RENDER_DPI as OCR_RENDER_DPI
from index.records import Document
from ingest.text_reader import decode_text, guess_title_and_year, read_text_pages

PDF_MAGIC = b"%PDF-"
# Real PDFs may carry junk before the header; readers accept it within the first KiB.
PDF_MAGIC_WINDOW = 1024
DEFAULT_MAX_MB = 100
TEXT_SUFFIXES = (".txt", ".text", ".md")
PDF_SUFFIXES = (".pdf",)
DOCX_SUFFIXES = (".docx",)
ZIP_MAGIC = b"PK\x03\x04"  # .docx is a ZIP archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class ReadOptions:
    passwords: tuple[str, ...] = ()
    max_mb: float = DEFAULT_MAX_MB
    timeout_s: float = 120.0
    memory_mb: int = 2048
    max_pages: int = 2000
    title: str | None = None
    year: int | None = None
    # OCR of scanned PDF pages (Tesseract language codes joined by "+").
    ocr: bool = True
    ocr_languages: str = DEFAULT_OCR_LANGUAGES
    ocr_dpi: int = OCR_RENDER_DPI
    # Where a reader says how a long read is going ("OCR page 3/40 · 0.2 pages/s · 3 min left")...
    log: Callable[[str], object] | None = None
    # ...and the same as numbers, for a progress bar: (pages done, pages to OCR, pages per second).
    ocr_progress: Callable[[int, int, float], object] | None = None


def sniff(path: Path, head: bytes) -> str:
    """'pdf', 'docx', 'ole' (old .doc, encrypted .docx) or 'text', judged by content, never by the file name."""
    if PDF_MAGIC in head[:PDF_MAGIC_WINDOW]:
        return "pdf"
    if head.startswith(ZIP_MAGIC):
        return "docx"  # or another ZIP: the Word reader checks for word/document.xml
    if head.startswith(OLE_MAGIC):
        return "ole"
    if b"\x00" in head or not head.strip():
        raise UnsupportedType(path, "empty file" if not head.strip() else "binary content")
    probe = head.lstrip().lower()
    if probe.startswith((b"<!doctype html", b"<html", b"<?xml", b"{\\rtf", b"pk\x03\x04")):
        raise UnsupportedType(path, "looks like HTML/XML/RTF/ZIP, not a report")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the end of the sniffed window is fine.
        if exc.start < len(head) - 4:
            raise UnsupportedType(path, "neither a PDF nor UTF-8 text") from exc
    return "text"


def read_report(path: Path, options: ReadOptions = ReadOptions(), *, name: str | None = None) -> Document:
    """Read one report file. `name` is its stable name in the store (default: file name)."""
    path = Path(path)
    size = path.stat().st_size
    if size > options.max_mb * 1024 * 1024:
        raise TooLarge(path, f"{size / 1024 / 1024:.0f} MB > {options.max_mb:g} MB")
    data = path.read_bytes()
    kind = sniff(path, data[:4096])
    report = name or readable_name(path.name)
    digest = hashlib.sha256(data).hexdigest()
    if kind == "pdf":
        from ingest.pdf_reader import read_pdf  # pypdf is imported only when a PDF comes

        return read_pdf(path, data, options, report=report, sha256=digest)
    if kind in ("docx", "ole"):
        from ingest.docx_reader import read_docx, reject_ole

        if kind == "ole":
            reject_ole(path, data)
        return read_docx(path, data, options, report=report, sha256=digest)
    return _read_text(path, data, options, report=report, sha256=digest)


def _read_text(path: Path, data: bytes, options: ReadOptions, *, report: str, sha256: str) -> Document:
    text = decode_text(path, data)
    pages = tuple(read_text_pages(text))
    if not any(p.text.strip() for p in pages):
        raise EmptyReport(path)
    title, year = guess_title_and_year(text)
    return Document(report=report, title=options.title or title or Path(report).stem,
                    year=options.year or year, sha256=sha256, pages=pages)
