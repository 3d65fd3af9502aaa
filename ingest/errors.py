"""Why a report could not be read. Each error names the file and the fix.

`outcome` is the short per-file word the ingest command prints ("corrupt", ...).
"""

from __future__ import annotations

import os
from pathlib import Path


def readable_name(text: str) -> str:
    """A file name or path as text that can be printed and stored. A name that is not UTF-8 on
    disk (an old Windows or zip name, such as "r\xe9port.pdf" in Windows-1252) reaches Python
    with those bytes as lone surrogates, which no UTF-8 output can hold: they are read as
    Windows-1252, where such names usually come from."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = os.fsencode(text)
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("utf-8", "replace")


class ReportError(Exception):
    outcome = "failed"
    fix = "check the file"

    def __init__(self, path: Path | str, detail: str = "", fix: str | None = None):
        self.path = Path(path)
        self.detail = detail
        if fix is not None:
            self.fix = fix
        super().__init__(self.message)

    @property
    def explanation(self) -> str:
        """The detail and the fix, for a line that already names the file."""
        return f"{self.detail}. Fix: {self.fix}." if self.detail else f"Fix: {self.fix}."

    @property
    def message(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{readable_name(self.path.name)}: {self.outcome}{detail}. Fix: {self.fix}."


class UnsupportedType(ReportError):
    outcome = "unsupported type"
    fix = "give a PDF, a Word .docx or a UTF-8 text extract (.txt)"


class NeedsPassword(ReportError):
    outcome = "needs password"
    fix = "re-run with --password PASSWORD"


class NoTextLayer(ReportError):
    outcome = "no text layer (scanned? needs OCR)"
    fix = "ingest a text extract instead, or a PDF with a text layer"


class OcrUnavailable(NoTextLayer):
    """A scan that would be read by OCR, but Tesseract (or a language for it) is missing."""

    outcome = "needs OCR (Tesseract not available)"
    fix = "install Tesseract OCR (Debian/Ubuntu: sudo apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-sqi)"


class Corrupt(ReportError):
    outcome = "corrupt"
    fix = "re-download or re-export the file; a repaired copy (e.g. via `qpdf`) may work"


class TooLarge(ReportError):
    outcome = "too large"
    fix = "split the file or raise the limit with --max-mb / --max-pages"


class TimedOut(ReportError):
    outcome = "timed out"
    fix = "the file may be malformed; re-export it, or raise the limit with --timeout"


class EmptyReport(ReportError):
    outcome = "no text"
    fix = "the file holds no quotable text; check that it is the right file"
