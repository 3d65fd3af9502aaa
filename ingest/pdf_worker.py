"""Child process that parses one PDF with pypdf: `python -m ingest.pdf_worker`.

pypdf has had many infinite-loop and memory-exhaustion bugs, so it never runs in the
ingest process itself. The parent sends {"path", "passwords", "memory_mb", "max_pages"}
as JSON on stdin and reads one JSON result from stdout; it kills this process when
the wall-clock limit passes. Here we cap our own address space.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings


# How running out of address space shows when it hits a lazy import rather than an allocation.
OUT_OF_MEMORY_SIGNS = ("failed to map segment", "Cannot allocate memory")


def limit_memory(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: only the parent's time limit applies.
        return
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def failure(outcome: str, detail: str) -> dict:
    return {"ok": False, "outcome": outcome, "detail": detail[:300]}


def open_reader(path: str, passwords: list[str]):
    from pypdf import PdfReader
    from pypdf import PasswordType

    reader = PdfReader(path, strict=False)
    if not reader.is_encrypted:
        return reader, None
    # The empty user password opens most "encrypted" PDFs (they restrict only printing/copying).
    for password in ["", *passwords]:
        if reader.decrypt(password) != PasswordType.NOT_DECRYPTED:
            return reader, None
    detail = "wrong password" if passwords else "the file is encrypted"
    return None, failure("needs password", detail)


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


def extract(request: dict) -> dict:
    reader, problem = open_reader(request["path"], request.get("passwords", []))
    if problem:
        return problem
    count = len(reader.pages)
    if count > request.get("max_pages", 2000):
        return failure("too large", f"{count} pages > {request['max_pages']}")
    texts, errors = [], 0
    for page in reader.pages:
        try:
            texts.append(page.extract_text() or "")
        except Exception:  # noqa: BLE001 - one unreadable page should not lose the others
            texts.append("")
            errors += 1
        if not texts[-1] and _is_bomb(page):
            return failure("too large", "a page decompresses past pypdf's safety limit (decompression bomb?)")
    return {"ok": True, "texts": texts, "labels": page_labels(reader, count), "errors": errors,
            "outline": outline_entries(reader), **metadata(reader)}


def main() -> int:
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    # Load the parser and its decoders first: the limit is for what a file makes it allocate.
    import unicodedata  # noqa: F401
    import pypdf  # noqa: F401
    import pypdf._crypt_providers  # noqa: F401
    limit_memory(int(request.get("memory_mb", 2048)))
    logging.disable(logging.CRITICAL)  # pypdf logs every oddity of a malformed file
    warnings.simplefilter("ignore")
    try:
        result = extract(request)
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
    sys.stdout.buffer.write(json.dumps(result).encode("utf-8"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
