"""Child process that parses one PDF: `python -m ingest.pdf_worker`.

pypdf has had many infinite-loop and memory-exhaustion bugs, so it never runs in the
ingest process itself; neither do pypdfium2 and Tesseract, which render and read scanned
pages (OCR). The parent sends {"path", "passwords", "memory_mb", "max_pages", "ocr",
"ocr_languages", "ocr_dpi"} as JSON on stdin and reads JSON events from stdout, one per line:

    {"event": "text", "texts": [...], "labels": [...], ...}   every page's text layer (pypdf), and
                                                              what each prints large ("large_print")
    {"event": "ocr_plan", "pages": [i, ...]}                  0-based pages about to be OCR'd
    {"event": "ocr_page", "page": i, "text", "printed", "confidence", "seconds"}
    {"event": "ocr_failed", "page": i, "detail"}              one page could not be read
    {"event": "ocr_unavailable", "detail", "fix"}             Tesseract or a language is missing
    {"event": "ocr_error", "detail"}                          OCR could not run (the renderer failed)
    {"event": "failure", "outcome", "detail"}                 the file cannot be read at all
    {"event": "done"}

so the parent can show OCR progress and keep the text already read if OCR dies. It kills
this process when its time limit passes. Here we cap our own address space (Tesseract,
our child, inherits the cap).
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
import warnings
from concurrent.futures import Future, ThreadPoolExecutor


# Text printed this much larger than the report's body text (its most common size) is a heading;
# bold text, from the body's size. On the shelf's PDFs, body text is 9–10 pt, section titles 12–25
# pt, a box's bold title 11 pt, a run-in bold heading 9 pt ("Attracting the victims"); an info
# sheet's 11.8 pt text against 9.8 pt is not, nor a chart's 7–8.9 pt labels. Only a line that is
# a whole run is a title (ingest.pdf_reader.printed_paragraphs), not a bold word in a sentence.
LARGE_PRINT = 1.3
LARGE_BOLD_PRINT = 1.0
BOLD_FONT_WORDS = ("bold", "black", "heavy", "semibold", "demi", "extrabld")
# Fewer runs printed large than this in a whole report: its print says nothing of its headings.
MIN_LARGE_RUNS = 3
# A page's headings are a few lines; past this many large runs (a poster, a chart) the rest are
# not looked at, which bounds the work of matching them to the page's lines.
MAX_LARGE_RUNS_PER_PAGE = 100

# How running out of address space shows when it hits a lazy import rather than an allocation.
OUT_OF_MEMORY_SIGNS = ("failed to map segment", "Cannot allocate memory")


def limit_memory(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: only the parent's time limit applies.
        return
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def die_with_parent() -> None:
    """Linux: end this worker when the ingest that started it ends (it runs in its own process
    group, so a kill of the ingest's group would not reach it otherwise)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import os
        import signal

        parent = os.getppid()
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)
    except (OSError, AttributeError):
        pass


def failure(outcome: str, detail: str) -> dict:
    return {"event": "failure", "outcome": outcome, "detail": detail[:300]}


def emit(event: dict) -> None:
    sys.stdout.buffer.write(json.dumps(event).encode("utf-8") + b"\n")
    sys.stdout.flush()


def open_reader(path: str, passwords: list[str]):
    from pypdf import PdfReader
    from pypdf import PasswordType

    reader = PdfReader(path, strict=False)
    if not reader.is_encrypted:
        return reader, None, None
    # The empty user password opens most "encrypted" PDFs (they restrict only printing/copying).
    for password in ["", *passwords]:
        if reader.decrypt(password) != PasswordType.NOT_DECRYPTED:
            return reader, password, None
    detail = "wrong password" if passwords else "the file is encrypted"
    return None, None, failure("needs password", detail)


def page_labels(reader, count: int) -> list[str]:
    try:
        labels = list(reader.page_labels)
        if len(labels) == count:
            return [str(label) for label in labels]
    except Exception:  # noqa: BLE001 - a broken label tree only costs us the printed labels
        pass
    return [str(i + 1) for i in range(count)]


def outline_entries(reader) -> list[list]:
    """[(title, 0-based page), ...] of the top two outline levels, in reading order."""
    entries: list[list] = []

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                if depth < 1:
                    walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
                title = str(item.title).strip()
            except Exception:  # noqa: BLE001
                continue
            if page is not None and page >= 0 and title:
                entries.append([title, page])

    try:
        walk(reader.outline, 0)
    except Exception:  # noqa: BLE001 - outlines are a nicety; a broken one is ignored
        return []
    return entries[:2000]


def _is_bomb(page) -> bool:
    """pypdf returns empty text for a page whose content stream exceeds its limit; tell that apart."""
    from pypdf.errors import LimitReachedError

    try:
        contents = page.get_contents()
        if contents is not None:
            contents.get_data()
    except LimitReachedError:
        return True
    except Exception:  # noqa: BLE001 - other damage is judged by the text we got
        return False
    return False


def metadata(reader) -> dict:
    try:
        info = reader.metadata
        if info is None:
            return {}
        title = info.title
        created = info.creation_date
        return {"title": str(title) if title else None, "year": created.year if created else None}
    except Exception:  # noqa: BLE001
        return {}


def extract(request: dict) -> tuple[dict, str | None]:
    """The text event (or a failure) and the password that opened the file."""
    reader, password, problem = open_reader(request["path"], request.get("passwords", []))
    if problem:
        return problem, None
    count = len(reader.pages)
    if count > request.get("max_pages", 2000):
        return failure("too large", f"{count} pages > {request['max_pages']}"), None
    texts, errors, fonts = [], 0, PrintSizes()
    for page in reader.pages:
        fonts.next_page()
        try:
            texts.append(page.extract_text(visitor_text=fonts.visit) or "")
        except Exception:  # noqa: BLE001 - one unreadable page should not lose the others
            texts.append("")
            errors += 1
        if not texts[-1] and _is_bomb(page):
            return failure("too large", "a page decompresses past pypdf's safety limit (decompression bomb?)"), None
    return {"event": "text", "texts": texts, "labels": page_labels(reader, count), "errors": errors,
            "outline": outline_entries(reader), "large_print": fonts.large_print(), **metadata(reader)}, password


class PrintSizes:
    """The size and weight of each run of text pypdf reads (its `visitor_text` callback), and from
    them what each page prints larger than the report's body text: its headings. A PDF without an
    outline names its sections only in its text, where a chart's label or a note's first line
    looks as much like a heading as a heading does; the print tells them apart."""

    def __init__(self) -> None:
        self._pages: list[list[tuple[str, float, bool]]] = []
        self._characters: dict[float, int] = {}

    def next_page(self) -> None:
        self._pages.append([])

    def visit(self, text, cm, tm, font, size) -> None:
        try:
            if not text.strip():
                return
            scale = math.sqrt(abs(tm[0] * tm[3] - tm[1] * tm[2]) * abs(cm[0] * cm[3] - cm[1] * cm[2]))
            printed = round(float(size) * scale * 2) / 2  # to half a point: the same size, read twice
            if not printed > 0:  # a degenerate matrix: no size to tell
                return
            name = str(font.get("/BaseFont", "")) if font else ""
            self._pages[-1].append((text, printed, any(w in name.casefold() for w in BOLD_FONT_WORDS)))
            self._characters[printed] = self._characters.get(printed, 0) + len(text.strip())
        except Exception:  # noqa: BLE001 - the print is a hint; an odd font or matrix only loses it
            return

    def large_print(self) -> list[list[str]] | None:
        """Per page, the runs printed large (consecutive ones joined), or None when the report
        shows too few to tell (one size all through, or no text layer)."""
        if not self._characters:
            return None
        body = max(self._characters, key=lambda size: self._characters[size])
        pages = [self._joined(runs, body)[:MAX_LARGE_RUNS_PER_PAGE] for runs in self._pages]
        return pages if sum(len(p) for p in pages) >= MIN_LARGE_RUNS else None

    @staticmethod
    def _joined(runs: list[tuple[str, float, bool]], body: float) -> list[str]:
        joined: list[str] = []
        previous: float | None = None  # the size of the run before, when it was large
        for text, size, bold in runs:
            large = size >= LARGE_PRINT * body or (bold and size >= LARGE_BOLD_PRINT * body)
            if large and previous == size:  # a title over two lines; a smaller one after it is another
                joined[-1] += " " + text.strip()
            elif large:
                joined.append(text.strip())
            previous = size if large else None
        return joined


def run_ocr(request: dict, texts: list[str], password: str | None) -> None:
    """OCR the pages whose text layer is missing or too thin, emitting one event per page."""
    import pypdfium2 as pdfium

    from ingest import ocr

    # Most pages have plenty of text for any page size: only thin ones are looked at with pdfium.
    thin = [i for i, text in enumerate(texts) if ocr.may_need_ocr(sum(c.isalpha() for c in text))]
    if not thin:
        return
    try:
        document = pdfium.PdfDocument(request["path"], password=password or None)
    except Exception as exc:  # noqa: BLE001 - pypdf read it; pdfium cannot: keep the text layer
        emit({"event": "ocr_error", "detail": f"the page renderer cannot open the file ({exc})"[:300]})
        return
    plan = [i for i in thin if i < len(document) and _page_needs_ocr(document[i], texts[i], pdfium)]
    if not plan:
        return
    languages = request.get("ocr_languages") or ocr.DEFAULT_LANGUAGES
    dpi = int(request.get("ocr_dpi") or ocr.RENDER_DPI)
    try:
        command = ocr.tesseract_command()
        ocr.check_languages(command, languages)
    except ocr.TesseractMissing as exc:
        emit({"event": "ocr_unavailable", "detail": exc.problem, "fix": exc.fix, "pages": plan})
        return
    emit({"event": "ocr_plan", "pages": plan})
    # Pages are rendered here one at a time (pdfium is not thread-safe) and read by Tesseract
    # processes in parallel; at most PARALLEL_PAGES rendered images wait in memory.
    with ThreadPoolExecutor(max_workers=ocr.PARALLEL_PAGES) as pool:
        pending: list[Future] = []
        for index in plan:
            if len(pending) >= ocr.PARALLEL_PAGES:
                _emit_page(pending.pop(0))
            pending.append(_submit(pool, document, index, command, languages, dpi))
        for future in pending:
            _emit_page(future)


def _submit(pool, document, index: int, command: str, languages: str, dpi: int) -> Future:
    from ingest import ocr

    started = time.monotonic()
    try:
        image, rendered_dpi = ocr.render(document[index], dpi)
    except Exception as exc:  # noqa: BLE001 - one unrenderable page should not lose the others
        future: Future = Future()
        future.set_exception(exc)
    else:
        future = pool.submit(ocr.read_image, image, rendered_dpi, command, languages)
    future.page_index, future.started = index, started  # type: ignore[attr-defined]
    return future


def _emit_page(future: Future) -> None:
    index = future.page_index  # type: ignore[attr-defined]
    try:
        page = future.result()
    except Exception as exc:  # noqa: BLE001 - one unreadable page should not lose the others
        emit({"event": "ocr_failed", "page": index, "detail": f"{type(exc).__name__}: {exc}"[:300]})
        return
    emit({"event": "ocr_page", "page": index, "text": page.text, "printed": page.printed,
          "confidence": page.confidence,
          "seconds": round(time.monotonic() - future.started, 3)})  # type: ignore[attr-defined]


def _page_needs_ocr(page, text: str, pdfium) -> bool:
    from ingest import ocr

    try:
        width, height = page.get_size()
        letters = sum(c.isalpha() for c in text)
        return ocr.needs_ocr(letters, width, height, ocr.image_share(page, pdfium))
    except Exception:  # noqa: BLE001 - a page pdfium cannot inspect keeps its text layer
        return False


def main() -> int:
    die_with_parent()
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    # Load the parser, the renderer and their decoders first: the limit is for what a file makes
    # them allocate.
    import unicodedata  # noqa: F401
    import pypdf  # noqa: F401
    import pypdf._crypt_providers  # noqa: F401
    if request.get("ocr"):
        import PIL.Image  # noqa: F401
        import PIL.PngImagePlugin  # noqa: F401
        import pypdfium2  # noqa: F401
    limit_memory(int(request.get("memory_mb", 2048)))
    logging.disable(logging.CRITICAL)  # pypdf logs every oddity of a malformed file
    warnings.simplefilter("ignore")
    result, password = parse(request)
    emit(result)
    if result["event"] == "text" and request.get("ocr"):
        ocr_safely(request, result["texts"], password)
    emit({"event": "done"})
    return 0


def ocr_safely(request: dict, texts: list[str], password: str | None) -> None:
    try:
        run_ocr(request, texts, password)
    except (MemoryError, RecursionError) as exc:
        emit({"event": "ocr_error", "detail": f"OCR needed more than allowed ({type(exc).__name__})"})
    except Exception as exc:  # noqa: BLE001 - OCR trouble keeps the text layer already sent
        emit({"event": "ocr_error", "detail": f"{type(exc).__name__}: {exc}"[:300]})


def parse(request: dict) -> tuple[dict, str | None]:
    """The text event or a failure; never raises."""
    password = None
    try:
        result, password = extract(request)
    except MemoryError:
        result = failure("too large", "parsing needed more memory than allowed")
    except RecursionError:
        result = failure("corrupt", "the PDF's object structure is nested too deeply")
    except Exception as exc:  # noqa: BLE001 - any parser failure means the file is unreadable
        name = type(exc).__name__
        if any(sign in str(exc) for sign in OUT_OF_MEMORY_SIGNS):
            result = failure("too large", "parsing needed more memory than allowed")
        elif name in ("FileNotDecryptedError", "WrongPasswordError"):
            result = failure("needs password", str(exc))
        elif name == "DependencyError":
            result = failure("corrupt", f"missing decoder: {exc}")
        else:
            result = failure("corrupt", f"{name}: {exc}")
    return result, password


if __name__ == "__main__":
    sys.exit(main())
