"""Child process that reads one Word (.docx) file: `python -m ingest.docx_worker`.

A .docx is a ZIP of XML parts, so a hostile one can be a zip bomb, a huge or deeply
nested XML document, or point at external files and templates. It is read here, in a
child with a memory cap that the parent kills when its time runs out, after checking
the archive's declared sizes before anything is inflated. Nothing external is ever
fetched: python-docx reads only the parts inside the archive, and its XML parser does
not resolve entities.

The parent sends {"path", "memory_mb"} as JSON on stdin and reads one JSON line:
{"event": "text", "title", "author", "year", "blocks": [...]} or {"event": "failure", "outcome", "detail"}.
Each block is {"kind": "heading", "level", "text"}, {"kind": "paragraph", "text"},
{"kind": "list", "numbered", "items"} or {"kind": "table", "rows"}.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile

from ingest.pdf_worker import OUT_OF_MEMORY_SIGNS, emit, failure, limit_memory

# Limits on the archive, checked from its directory before anything is inflated.
MAX_ENTRIES = 5_000
MAX_UNCOMPRESSED_MB = 300
MAX_PART_MB = 100  # word/document.xml and any other single part
MAX_RATIO = 200  # a part inflating more than 200-fold (and past 1 MB) is a bomb, not a document
RATIO_FLOOR_BYTES = 1 << 20
DOCUMENT_PART = "word/document.xml"
MAX_BLOCKS = 200_000
HEADING_STYLE = re.compile(r"^(heading|titre|überschrift|titull)\s*(\d)", re.IGNORECASE)
NUMBERED_FORMATS = {"decimal", "decimalZero", "upperRoman", "lowerRoman", "upperLetter", "lowerLetter",
                    "ordinal", "cardinalText", "ordinalText"}


def check_archive(path: str) -> dict | None:
    """A failure when the archive is not a Word document or would inflate past the limits."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        return failure("corrupt", f"not a readable ZIP archive ({exc})")
    with archive:
        entries = archive.infolist()
        names = {e.filename for e in entries}
        if DOCUMENT_PART not in names:
            return failure("unsupported type", "a ZIP archive without word/document.xml (not a Word .docx)")
        if len(entries) > MAX_ENTRIES:
            return failure("too large", f"{len(entries)} parts in the archive > {MAX_ENTRIES}")
        total = sum(e.file_size for e in entries)
        if total > MAX_UNCOMPRESSED_MB << 20:
            return failure("too large", f"inflates to {total >> 20} MB > {MAX_UNCOMPRESSED_MB} MB (zip bomb?)")
        for entry in entries:
            if entry.file_size > MAX_PART_MB << 20:
                return failure("too large", f"{entry.filename} inflates to {entry.file_size >> 20} MB "
                                            f"> {MAX_PART_MB} MB")
            ratio = entry.file_size / max(entry.compress_size, 1)
            if entry.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
                return failure("too large", f"{entry.filename} inflates {ratio:.0f}-fold (zip bomb?)")
        head = archive.open(DOCUMENT_PART).read(4096)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            return failure("corrupt", "the document declares XML entities (Word never does; a hostile file?)")
    return None


def read(path: str) -> dict:
    problem = check_archive(path)
    if problem:
        return problem
    import docx

    document = docx.Document(path)
    properties = document.core_properties
    created = properties.created
    return {"event": "text", "title": (properties.title or "").strip() or None,
            "author": (properties.author or "").strip() or None,
            "year": created.year if created else None, "blocks": blocks(document)}


def blocks(document) -> list[dict]:
    """The body in reading order: headings, paragraphs, whole lists and tables."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[dict] = []
    numbering = _numbering_formats(document)
    for item in document.iter_inner_content():
        if len(out) > MAX_BLOCKS:
            break
        if isinstance(item, Table):
            rows = _table_rows(item)
            if rows:
                out.append({"kind": "table", "rows": rows})
        elif isinstance(item, Paragraph):
            _add_paragraph(out, item, numbering)
    return out


def _add_paragraph(out: list[dict], paragraph, numbering: dict[tuple[str, str], str]) -> None:
    text = " ".join(paragraph.text.split())
    if not text:
        return
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    heading = HEADING_STYLE.match(style)
    if heading or style == "Title":
        out.append({"kind": "heading", "level": int(heading.group(2)) if heading else 0, "text": text})
        return
    numbered = _list_kind(paragraph, style, numbering)
    if numbered is None:
        out.append({"kind": "paragraph", "text": text})
    elif out and out[-1]["kind"] == "list" and out[-1]["numbered"] == numbered:
        out[-1]["items"].append(text)
    else:
        out.append({"kind": "list", "numbered": numbered, "items": [text]})


def _list_kind(paragraph, style: str, numbering: dict[tuple[str, str], str]) -> bool | None:
    """True for a numbered list item, False for a bullet, None for a plain paragraph."""
    properties = paragraph._p.pPr
    num = properties.numPr if properties is not None else None
    if num is not None and num.numId is not None:
        level = num.ilvl.val if num.ilvl is not None else 0
        return numbering.get((str(num.numId.val), str(level)), "bullet") in NUMBERED_FORMATS
    if style.startswith("List Number"):
        return True
    if style.startswith("List Bullet") or style.startswith("List Paragraph"):
        return False
    return None


def _numbering_formats(document) -> dict[tuple[str, str], str]:
    """(numId, level) → numFmt ("decimal", "bullet", …) from the numbering part."""
    try:
        part = document.part.numbering_part.element
    except Exception:  # noqa: BLE001 - a document without numbering has only plain paragraphs
        return {}
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    abstract: dict[tuple[str, str], str] = {}
    for definition in part.iter(f"{w}abstractNum"):
        for level in definition.iter(f"{w}lvl"):
            fmt = level.find(f"{w}numFmt")
            abstract[(definition.get(f"{w}abstractNumId"), level.get(f"{w}ilvl"))] = \
                fmt.get(f"{w}val") if fmt is not None else "bullet"
    formats: dict[tuple[str, str], str] = {}
    for num in part.iter(f"{w}num"):
        ref = num.find(f"{w}abstractNumId")
        if ref is None:
            continue
        for (abstract_id, level), fmt in abstract.items():
            if abstract_id == ref.get(f"{w}val"):
                formats[(num.get(f"{w}numId"), level)] = fmt
    return formats


def _table_rows(table) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            # A merged cell is returned once per grid column it spans: keep it once.
            if not cells or text != cells[-1] or not text:
                cells.append(text)
        if any(cells):
            rows.append(cells)
    return rows


def main() -> int:
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    import docx  # noqa: F401 - loaded before the limit, which is for what the file makes us allocate
    import docx.table  # noqa: F401
    import docx.text.paragraph  # noqa: F401

    limit_memory(int(request.get("memory_mb", 2048)))
    try:
        result = read(request["path"])
    except MemoryError:
        result = failure("too large", "reading needed more memory than allowed")
    except RecursionError:
        result = failure("corrupt", "the document's XML is nested too deeply")
    except Exception as exc:  # noqa: BLE001 - any reader failure means the file is unreadable
        if any(sign in str(exc) for sign in OUT_OF_MEMORY_SIGNS):
            result = failure("too large", "reading needed more memory than allowed")
        else:
            result = failure("corrupt", f"{type(exc).__name__}: {exc}")
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
