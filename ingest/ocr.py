"""OCR of scanned PDF pages with Tesseract, run inside the PDF worker's sandbox.

The worker (ingest/pdf_worker.py) calls `plan` to pick the pages whose text layer is
missing or too thin for their area, then `read_page` for each: the page is rendered
with pypdfium2 and read by the `tesseract` command (a child of the sandboxed worker, so
it inherits the worker's memory limit) in TSV form, which gives every word with its box
and confidence. From the boxes we rebuild lines and paragraphs and find the page number
printed in the page's head or foot.

Nothing here imports pypdf; pypdfium2 is imported by the caller.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

DEFAULT_LANGUAGES = "eng+sqi"
# Tesseract reads best at about 300 dpi; the page is rendered at that resolution...
RENDER_DPI = 300
# ...unless that would exceed this many pixels (a poster-sized or hostile page box).
MAX_RENDER_PIXELS = 40_000_000
# A page needs OCR when it has fewer letters than this per square inch of its area
# (a page of running text has 20-30; a scan with a stamped date a few in all; a chapter cover
# with a title over a photo, which needs no OCR, about 0.7) and an image covers at least
# MIN_IMAGE_SHARE of it.
MIN_LETTERS_PER_SQUARE_INCH = 0.5
MIN_IMAGE_SHARE = 0.5
# A3 (11.7 × 16.5 in): pages with more letters than this page's threshold are never looked at.
LARGEST_USUAL_PAGE_SQUARE_INCHES = 194
# Pages smaller than this (icons, broken page boxes) hold nothing worth reading.
MIN_OCR_SQUARE_INCHES = 4
POINTS_PER_INCH = 72
# Tesseract page segmentation modes: automatic layout for the page...
PAGE_LAYOUT = 3
# For a margin strip: one block of text, then sparse text (each finds numbers the other misses).
MARGIN_LAYOUTS = (6, 11)
MARGIN_LANGUAGE = "eng"  # digits read the same in any language
# Pages read at the same time (one Tesseract process each, single-threaded): the cores, up to 4.
PARALLEL_PAGES = max(1, min(4, os.cpu_count() or 1))
# Seconds Tesseract may spend on one page before the page is given up.
PAGE_TIMEOUT_S = 90
# Words Tesseract is less sure of than this (0-100) are dropped: they are mostly specks, chart
# lines and photo texture read as letters. A line whose words average below LINE_CONFIDENCE goes too.
WORD_CONFIDENCE = 20
LINE_CONFIDENCE = 45
# What counts as a word in `_reads_as_text`: three letters or more with a vowel, a number, or a
# common short word of English or Albanian.
WORD_TOKEN = re.compile(r"^\W*(?=[^\W\d_]*[aeiouyëAEIOUYË])[^\W\d_][^\W\d_'’-]{2,}\W*$")
NUMBER_TOKEN = re.compile(r"^\W*\d[\d,.%/:-]*\W*$")
SHORT_WORDS = frozenset("a i o e u an as at be by do go he if in is it me my no of on or so to up us we "
                        "ne në te të se si sa ku ka dhe".split())
# A vertical gap above a line taller than this many line heights starts a paragraph.
PARAGRAPH_GAP = 1.0
# The printed page number is looked for in lines within this share of the page's height from the
# top or the bottom.
EDGE_SHARE = 0.1
PAGE_NUMBER = re.compile(r"^(?:page\s+|faqe\s+|p\.\s*)?[-–—(]?\s*(?P<n>\d{1,4}|[ivxlc]{2,7})\s*[-–—)]?$",
                         re.IGNORECASE)
# A number that runs into a word in a page head ("Fig.69 Number of ...") is not a page number;
# one that stands apart at the start or end of the head or foot line is ("71 Global Report"), if it
# has at most three digits (four are a year: "Global Report on Trafficking in Persons 2024").
EDGE_NUMBER = re.compile(r"^(?P<a>\d{1,3})\s+\S|\S\s+(?P<b>\d{1,3})$")
INSTALL_HINT = ("install Tesseract OCR with its English and Albanian data "
                "(Debian/Ubuntu: sudo apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-sqi; "
                "macOS: brew install tesseract tesseract-lang; Windows: the UB Mannheim installer, "
                "github.com/UB-Mannheim/tesseract/wiki, with Albanian ticked), then add the file again")
LANGUAGE_PACKAGES = {"eng": "tesseract-ocr-eng", "sqi": "tesseract-ocr-sqi"}


class TesseractMissing(Exception):
    """Tesseract or one of the asked-for languages is not installed: `problem` says which, `fix` how."""

    def __init__(self, problem: str, fix: str = INSTALL_HINT):
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}; fix: {fix}")


@dataclass(frozen=True)
class OcrPage:
    text: str
    printed: str | None  # the page number as printed in the head or foot, if one was read
    confidence: float  # mean word confidence, 0-100


def tesseract_command() -> str:
    """The tesseract executable: $TESSERACT_CMD, else the one on PATH."""
    command = os.environ.get("TESSERACT_CMD") or shutil.which("tesseract")
    if not command:
        raise TesseractMissing("Tesseract (the OCR program) is not installed")
    return command


def check_languages(command: str, languages: str) -> None:
    """Raise TesseractMissing naming the Debian package of each language Tesseract lacks."""
    try:
        listed = subprocess.run([command, "--list-langs"], capture_output=True, timeout=30, env=_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TesseractMissing(f"Tesseract at {command} does not run ({exc})") from None
    output = (listed.stdout + listed.stderr).decode("utf-8", "replace").split()
    missing = [lang for lang in languages.split("+") if lang and lang not in output]
    if missing:
        packages = " ".join(LANGUAGE_PACKAGES.get(m, f"tesseract-ocr-{m}") for m in missing)
        raise TesseractMissing(f"Tesseract has no language data for {', '.join(missing)}",
                               f"install it (Debian/Ubuntu: sudo apt-get install {packages}) "
                               f"or choose other languages with --ocr-lang")


def needs_ocr(letters: int, width_pt: float, height_pt: float, image_share: float) -> bool:
    """A page whose text is too thin for its area and that is mostly a picture (a scan)."""
    square_inches = max(width_pt, 0) * max(height_pt, 0) / POINTS_PER_INCH ** 2
    return square_inches >= MIN_OCR_SQUARE_INCHES and image_share >= MIN_IMAGE_SHARE \
        and letters < MIN_LETTERS_PER_SQUARE_INCH * square_inches


def may_need_ocr(letters: int) -> bool:
    """Whether a page with this many letters could need OCR on a page as large as A3 (cheap pre-check)."""
    return letters < MIN_LETTERS_PER_SQUARE_INCH * LARGEST_USUAL_PAGE_SQUARE_INCHES


def image_share(page, pdfium) -> float:
    """Share of a pypdfium2 page's area covered by its largest image."""
    width, height = page.get_size()
    area = max(width * height, 1e-6)
    best = 0.0
    for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        covered = max(0.0, min(right, width) - max(left, 0.0)) * max(0.0, min(top, height) - max(bottom, 0.0))
        best = max(best, covered / area)
    return best


def render_scale(width_pt: float, height_pt: float, dpi: int = RENDER_DPI) -> float:
    scale = dpi / POINTS_PER_INCH
    pixels = width_pt * height_pt * scale * scale
    if pixels > MAX_RENDER_PIXELS:
        scale *= (MAX_RENDER_PIXELS / pixels) ** 0.5
    return scale


def read_page(page, command: str, languages: str, *, dpi: int = RENDER_DPI,
              timeout_s: float = PAGE_TIMEOUT_S) -> OcrPage:
    """Render one pypdfium2 page and read it with Tesseract."""
    image, effective_dpi = render(page, dpi)
    return read_image(image, effective_dpi, command, languages, timeout_s=timeout_s)


def render(page, dpi: int = RENDER_DPI):
    """The page as a greyscale PIL image, and the resolution it was rendered at.

    pypdfium2 is not thread-safe: call this from one thread only."""
    width, height = page.get_size()
    scale = render_scale(width, height, dpi)
    image = page.render(scale=scale, grayscale=True).to_pil()
    return image, max(1, round(scale * POINTS_PER_INCH))


def read_image(image, effective_dpi: int, command: str, languages: str, *,
               timeout_s: float = PAGE_TIMEOUT_S) -> OcrPage:
    """Read a rendered page with Tesseract (safe to run in several threads at once)."""
    with tempfile.TemporaryDirectory(prefix="caaht-ocr-") as folder:
        tsv = _tesseract(command, image, folder, languages, effective_dpi, PAGE_LAYOUT, timeout_s)
        result = page_from_tsv(tsv, image.size[1])
        if result.printed is None:
            printed = _number_in_margins(command, image, folder, effective_dpi, timeout_s)
            result = OcrPage(result.text, printed, result.confidence)
    return result


def _number_in_margins(command: str, image, folder: str, dpi: int, timeout_s: float) -> str | None:
    """A second look at the foot and the head alone, as sparse text: a lone page number far from
    the text block is often skipped by the full-page layout analysis."""
    width, height = image.size
    strip = max(1, int(EDGE_SHARE * height))
    for box in ((0, height - strip, width, height), (0, 0, width, strip)):
        margin = image.crop(box)
        for layout in MARGIN_LAYOUTS:
            lines = _lines(_tesseract(command, margin, folder, MARGIN_LANGUAGE, dpi, layout, timeout_s))
            # The number must stand alone there: a margin with more text holds footnotes, whose
            # numbers are no page numbers.
            match = PAGE_NUMBER.match(lines[0].text.strip()) if len(lines) == 1 else None
            if match and _mean(lines[0].confidences) >= LINE_CONFIDENCE:
                return match.group("n")
    return None


def _tesseract(command: str, image, folder: str, languages: str, dpi: int, layout: int,
               timeout_s: float) -> str:
    png = os.path.join(folder, "page.png")
    image.save(png)
    completed = subprocess.run([command, png, "stdout", "-l", languages, "--dpi", str(dpi),
                                "--psm", str(layout), "tsv"], capture_output=True, timeout=timeout_s, env=_env())
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.decode("utf-8", "replace").strip()[-200:] or "tesseract failed")
    return completed.stdout.decode("utf-8", "replace")


def _env() -> dict:
    # One thread per Tesseract: the machine's cores are shared, and OpenMP threads each reserve
    # address space that counts against the worker's memory limit.
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


@dataclass
class _Line:
    key: tuple[int, int]  # (block, paragraph)
    words: list[str]
    confidences: list[float]
    top: int
    bottom: int

    @property
    def text(self) -> str:
        return " ".join(self.words)


def page_from_tsv(tsv: str, image_height: int) -> OcrPage:
    """Lines and paragraphs from Tesseract's TSV; the printed page number taken out of the text."""
    lines = _lines(tsv)
    kept = [line for line in lines if _mean(line.confidences) >= LINE_CONFIDENCE and _reads_as_text(line.words)]
    printed, number_line = _printed_number(kept, image_height)
    kept = [line for line in kept if line is not number_line]
    out: list[str] = []
    previous: _Line | None = None
    for line in kept:
        if previous is not None and _new_paragraph(previous, line):
            out.append("")  # a blank line, as the PDF reader's paragraph rebuilding expects
        out.append(line.text)
        previous = line
    confidences = [c for line in kept for c in line.confidences]
    return OcrPage(text="\n".join(out), printed=printed, confidence=round(_mean(confidences), 1))


def _new_paragraph(previous: _Line, line: _Line) -> bool:
    """A new text block (column, caption, box), or a gap taller than a line above this one.

    Tesseract's own paragraph numbers are not used: it starts a new one at every ragged line."""
    gap = line.top - previous.bottom
    return line.key[0] != previous.key[0] or gap > PARAGRAPH_GAP * (previous.bottom - previous.top)


def _reads_as_text(words: list[str]) -> bool:
    """More than half the tokens are words or numbers: chart marks and photo texture read as
    letters ("u 5 ott lil a | ll | NS HY") are mostly one- and two-letter scraps."""
    good = sum(bool(NUMBER_TOKEN.match(w) or WORD_TOKEN.match(w)) or w.casefold().strip(".,;:") in SHORT_WORDS
               for w in words)
    return good * 2 > len(words)


def _lines(tsv: str) -> list[_Line]:
    lines: dict[tuple[int, int, int], _Line] = {}
    reader = csv.reader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    next(reader, None)
    for row in reader:
        if len(row) < 12 or row[0] != "5":
            continue
        word, confidence = row[11].strip(), float(row[10])
        if not word or confidence < WORD_CONFIDENCE:
            continue
        block, paragraph, number = int(row[2]), int(row[3]), int(row[4])
        top, height = int(row[7]), int(row[9])
        line = lines.setdefault((block, paragraph, number),
                                _Line((block, paragraph), [], [], top, top + height))
        line.words.append(word)
        line.confidences.append(confidence)
        line.top, line.bottom = min(line.top, top), max(line.bottom, top + height)
    return list(lines.values())


def _printed_number(lines: list[_Line], image_height: int) -> tuple[str | None, _Line | None]:
    """The page number printed alone in the foot or head; else a number at the outer end of the
    page's last line ("Global Report 2024 | 71") or either end of its first ("71 Global Report").

    Returns the number and the line to drop from the text (None when the number shares its line)."""
    foot = sorted((line for line in lines if line.bottom > (1 - EDGE_SHARE) * image_height),
                  key=lambda line: -line.bottom)
    head = sorted((line for line in lines if line.top < EDGE_SHARE * image_height), key=lambda line: line.top)
    # Only the outermost lines: lines further in are footnotes ("1 See 18 U.S.C Chapter 77").
    for line in foot[:1] + head[:1]:
        match = PAGE_NUMBER.match(line.text.strip())
        if match:
            return match.group("n"), line
    if foot:
        match = EDGE_NUMBER.search(foot[0].text.strip())
        if match and match.group("b"):
            return match.group("b"), None
    if head:
        match = EDGE_NUMBER.search(head[0].text.strip())
        if match:
            return match.group("a") or match.group("b"), None
    return None, None


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
