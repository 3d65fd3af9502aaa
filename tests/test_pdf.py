"""PDF reading: real files, hostile files, limits, printed page labels."""

from __future__ import annotations

import random
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from index.quotes.citations import page_reference
from index.store.embedded import current_generation, load_store
from ingest.errors import ReportError
from ingest.pdf_reader import _part_of_a_table, paragraphs, printed_paragraphs, remove_running_lines
from ingest.readers import ReadOptions, read_report
from ingest.splitter import split_document

from tests.conftest import CORPUS_FILE, ROOT, ingest_files

PDFS = ROOT / "tests" / "data" / "pdfs"


def outcome(path: Path, options: ReadOptions = ReadOptions()) -> str:
    try:
        read_report(path, options)
    except ReportError as exc:
        return exc.outcome
    return "ok"


def bomb_pdf(megabytes: int = 256) -> bytes:
    """A one-page PDF whose content stream inflates to `megabytes` MB."""
    packer = zlib.compressobj(9)
    chunk = b"0 0 m " * (1 << 16)
    body = b"".join(packer.compress(chunk) for _ in range(megabytes * (1 << 20) // len(chunk))) + packer.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def bit_flipped(data: bytes, flips: int = 200, seed: int = 7) -> bytes:
    rng, flipped = random.Random(seed), bytearray(data)
    for _ in range(flips):
        flipped[rng.randrange(200, len(flipped))] ^= 0xFF
    return bytes(flipped)


@pytest.mark.parametrize(
    "name, passwords, expected",
    [
        ("crazyones.pdf", (), "ok"),
        ("crazyones-encrypted-256.pdf", (), "needs password"),
        ("crazyones-encrypted-256.pdf", ("qwerty",), "needs password"),
        ("crazyones-encrypted-256.pdf", ("qwerty", "password"), "ok"),
        ("r6-user-password.pdf", ("asdfzxcv",), "ok"),
        ("r4-aes-user-password.pdf", ("asdfzxcv",), "ok"),
        ("r5-empty-password.pdf", (), "ok"),
        ("r6-owner-password.pdf", (), "ok"),
        ("issue-297.pdf", (), "ok"),
        ("imagemagick-lzw.pdf", (), "no text layer (scanned? needs OCR)"),
        ("unreadablemetadata.pdf", (), "corrupt"),
    ],
    ids=["plain", "encrypted-no-password", "encrypted-wrong-password", "encrypted-right-password",
         "aes256-r6", "aes128-r4", "empty-user-password-r5", "owner-password-only-r6", "broken-xref-recovered",
         "image-only", "corrupt-page-tree"],
)
def test_real_pdf_outcomes(name, passwords, expected):
    assert outcome(PDFS / name, ReadOptions(passwords=passwords)) == expected


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda src: src[: len(src) // 2], "corrupt"),
        (lambda src: bit_flipped(src), "corrupt"),
        (lambda src: b"", "unsupported type"),
        (lambda src: b"<!DOCTYPE html><html><body><p>Not a PDF</p></body></html>", "unsupported type"),
        (lambda src: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "unsupported type"),
        (lambda src: bomb_pdf(), "too large"),
    ],
    ids=["truncated", "bit-flipped", "zero-bytes", "html-named-pdf", "png-named-pdf", "decompression-bomb"],
)
def test_broken_files_get_a_clear_outcome(tmp_path: Path, make, expected):
    path = tmp_path / "report.pdf"
    path.write_bytes(make((PDFS / "crazyones.pdf").read_bytes()))
    assert outcome(path) == expected


@pytest.mark.parametrize(
    "options, expected",
    [(ReadOptions(timeout_s=0.01), "timed out"), (ReadOptions(memory_mb=40), "too large"),
     (ReadOptions(max_mb=0.001), "too large"), (ReadOptions(max_pages=10), "too large")],
    ids=["wall-clock", "memory", "file-size", "page-count"],
)
def test_limits(options, expected):
    assert outcome(PDFS / "GLOTIP2024_Chapter_2.pdf", options) == expected


def test_error_message_names_the_file_and_the_fix():
    with pytest.raises(ReportError) as info:
        read_report(PDFS / "crazyones-encrypted-256.pdf")
    assert str(info.value) == ("crazyones-encrypted-256.pdf: needs password (the file is encrypted). "
                               "Fix: re-run with --password PASSWORD.")


def test_printed_page_labels_are_kept_beside_physical_pages():
    passages = split_document(read_report(PDFS / "GLOTIP2024_Chapter_2.pdf"))
    [west] = [p for p in passages if "4,712 victims of trafficking for forced labour" in p.text]
    assert (west.page, west.page_end, west.page_label) == (5, 5, "69")
    assert page_reference(west) == "p. 69 (printed page; PDF p. 5)"


def test_running_headers_are_dropped_and_pages_kept():
    doc = read_report(PDFS / "GLOTIP2024_Chapter_2.pdf")
    texts = [p.text for p in split_document(doc)]
    assert not any(t.startswith("Global Report on Trafficking in Persons 2024") for t in texts)
    assert [p.label for p in doc.pages[:3]] == ["65", "66", "67"]


def test_non_latin_text_survives():
    [passage] = split_document(read_report(PDFS / "multilang.pdf"))
    for greeting in ("Привет, мир", "你好世界", "こんにちは世界"):
        assert greeting in passage.text or greeting in (passage.section or "")


def test_outline_names_sections():
    passages = split_document(read_report(PDFS / "pdflatex-outline.pdf"))
    runs = [p.section for p in passages if p.page == 2]
    assert [s for i, s in enumerate(runs) if i == 0 or runs[i - 1] != s] == ["Foo", "Bar", "Baz", "Foo"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Victims of traf-\nficking were found.\nShort one.\n", "Victims of trafficking were found. Short one."),
        ("Routes via Albania-\nKosovo-Serbia.", "Routes via Albania- Kosovo-Serbia."),
        ("A long line of text that goes on and on here.\nEnd.\n• First point\n• Second point",
         "A long line of text that goes on and on here. End.\n\n• First point\n\n• Second point"),
    ],
    ids=["hyphenated-word", "real-hyphen-kept", "bullets"],
)
def test_paragraphs(raw, expected):
    assert paragraphs(raw) == expected


BODY = ["Most victims detected in the region were adults, and a third", "of them were children trafficked for forced labour.",
        "Courts convicted more traffickers than in earlier years, and", "most of them were men from the same country."]


def _printed(tmp_path: Path, lines: list[tuple[int, str]]) -> Path:
    """A one-page PDF of (size in points, text) lines, top to bottom, in Helvetica."""
    from scripts.make_table_pdf import pdf_bytes

    items, y = [], 800
    for size, text in lines:
        items.append((50, y, size, text))
        y -= size + 6
    path = tmp_path / "printed.pdf"
    path.write_bytes(pdf_bytes([items]))
    return path


def test_a_pdf_without_an_outline_is_cut_into_sections_by_what_it_prints_large(tmp_path: Path):
    """A chart's label ("Prefer not to say") looks like a heading in the text alone, and had become the
    section of every passage after it; a title set in large print, wrapped or long, is a section."""
    body = [(10, line) for line in BODY]
    path = _printed(tmp_path, [(20, "Trafficking in Africa"), *body, (10, "Prefer not to say"),
                               (16, "The roots of trafficking in"), (16, "persons in Africa"), *body,
                               (16, "Important advancements in criminal justice responses but measures to target "
                                    "crime still lacking"), *body])
    sections = [p.section for p in split_document(read_report(path))]
    assert sections == ["Trafficking in Africa", "The roots of trafficking in persons in Africa",
                        "Important advancements in criminal justice responses but measures to target crime "
                        "still lacking"]


def test_a_title_printed_large_stands_alone_and_a_name_after_it_is_its_own_heading():
    runs = ("climatechangecanaffecttraffickinginafrica", "therootsoftraffickinginpersonsinafrica",
            "d.survivortestimonialstheresaflores")
    line = "Courts convicted more traffickers than in earlier years, most of them men"
    body = f"{line}\n{line}\n{line}."  # a page's usual line is its body text's
    raw = (f"Climate change\n{body}\nThe roots of trafficking in\npersons in Africa\n{body}\n"
           f"D. Survivor Testimonials\nTheresa Flores\n{body}")
    body = " ".join(body.split("\n"))
    text, large = printed_paragraphs(raw, runs)
    # "Climate change", a chart's label, only begins like a title printed large: it is none.
    assert (text.split("\n\n"), large) == (
        ["Climate change", body, "The roots of trafficking in persons in Africa", body,
         "D. Survivor Testimonials", "Theresa Flores", body],
        ("therootsoftraffickinginpersonsinafrica", "d.survivortestimonials", "theresaflores"))


def test_the_print_sizes_a_pdf_reader_sees_tell_its_large_runs():
    from ingest.pdf_worker import PrintSizes

    sizes, identity = PrintSizes(), [1, 0, 0, 1, 0, 0]
    sizes.next_page()
    for text, size, font in [("Key findings", 16, "/Helvetica"), ("on flows", 16, "/Helvetica"),
                             ("Most victims were adults. " * 20, 10, "/Helvetica"), ("Box title", 11.5, "/Avenir-Black"),
                             ("Prefer not to say", 10, "/Helvetica"), ("Sources", 16, "/Helvetica"),
                             ("Notes", 12, "/Helvetica")]:
        sizes.visit(text, identity, [size / 10, 0, 0, size / 10, 0, 0], {"/BaseFont": font}, 10)
    assert sizes.large_print() == [["Key findings on flows", "Box title", "Sources"]]


def test_running_lines_on_most_pages_go():
    bodies = ["Shelters opened.", "Police were trained.", "Flyers went out.", "Courts met.", "Funds arrived."]
    pages = [f"Annual Report 2024\n{body}\nPage {i}" for i, body in enumerate(bodies, start=1)]
    assert remove_running_lines(pages) == bodies


def test_a_failed_file_changes_nothing_and_the_run_goes_on(tmp_path: Path):
    index_dir = tmp_path / "store"
    assert ingest_files(index_dir, [CORPUS_FILE]).ok
    before = load_store(index_dir).passages
    broken = tmp_path / "broken.pdf"
    broken.write_bytes((PDFS / "crazyones.pdf").read_bytes()[:500])
    summary = ingest_files(index_dir, [broken, PDFS / "crazyones.pdf"])
    assert [(Path(o.source).name, o.outcome) for o in summary.outcomes] == [("broken.pdf", "corrupt"),
                                                                              ("crazyones.pdf", "ok")]
    assert not summary.ok
    after = load_store(index_dir).passages
    assert after[: len(before)] == before
    assert {p.report for p in after} == {"caaht-2006-kukes-extract.txt", "crazyones.pdf"}


def test_cli_reports_bad_files_without_a_traceback(tmp_path: Path):
    (tmp_path / "zero.pdf").write_bytes(b"")
    (tmp_path / "page.pdf").write_text("<html><script>alert(1)</script></html>")
    index_dir = tmp_path / "store"
    result = subprocess.run([sys.executable, "-m", "ingest", "--index-dir", str(index_dir), str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "2 file(s): 2 unsupported type." in result.stdout
    assert "zero.pdf: unsupported type — empty file. Fix: give a PDF, a Word .docx or a UTF-8 text extract (.txt)." \
        in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert current_generation(index_dir) is None


def test_text_a_broken_font_map_gives_is_stored_whole(tmp_path: Path, monkeypatch):
    """Surrogate halves (a font's broken ToUnicode map) and NULs could not be written to the store
    (UTF-8) or PostgreSQL: a pair becomes its character, a lone half U+FFFD, a NUL nothing."""
    from ingest import pdf_reader

    real = pdf_reader.run_worker

    def broken_font_map(path, options):
        result = real(path, options)
        result["texts"][0] = "Bold \ud835\udc00 and a lone \ud835 half,\x00 then the text.\n" + result["texts"][0]
        result["title"] = "Crazy \ud835ones"
        return result

    monkeypatch.setattr(pdf_reader, "run_worker", broken_font_map)
    pdf = tmp_path / "crazyones.pdf"
    pdf.write_bytes((PDFS / "crazyones.pdf").read_bytes())
    assert ingest_files(tmp_path / "store", [pdf]).ok
    store = load_store(tmp_path / "store")
    assert "Bold 𝐀 and a lone \ufffd half, then the text." in store.passages[0].text
    assert store.manifest.reports[0].title == "Crazy \ufffdones"


@pytest.mark.parametrize("raw, clean", [
    ("plain Kukës", "plain Kukës"), ("pair \ud835\udc00", "pair 𝐀"), ("lone \udc00 half", "lone \ufffd half"),
    ("nul\x00byte", "nulbyte")], ids=["plain", "surrogate-pair", "lone-surrogate", "nul"])
def test_clean_text(raw, clean):
    from index.text import clean_text

    assert clean_text(raw) == clean


@pytest.mark.parametrize("line, of_a_table", [
    ("Table 1. Detected victims of trafficking for forced labour, East Africa, by country, 2019-2022", True),
    ("Country 2019 2020 2021 2022 Change", True),
    ("Burundi 1,928 747 2,985 2,371 +23%", True),
    ("Human Trafficking Awareness Guide for Convenience Retail Employees", False),
    ("2006 CAAHT Annual Conference Report", False),
    ("Annual Report 2019 2020", False),
], ids=["caption", "header-of-years", "row", "title", "title-with-a-year", "title-with-two-years"])
def test_a_tables_lines_are_not_a_reports_title(line, of_a_table):
    assert _part_of_a_table(line) is of_a_table


def test_a_pdf_without_a_title_whose_first_lines_are_a_table_is_named_by_its_file():
    doc = read_report(ROOT / "tests/data/tables/synthetic-statistical-annex.pdf", ReadOptions())
    assert doc.title == "synthetic-statistical-annex"
