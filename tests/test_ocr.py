"""OCR of scanned PDFs: pages found on the right physical and printed page, progress, missing Tesseract.

The scans in tests/data/scanned/ are pages of two reports in tests/data/shelf/ rendered as
a scanner would (see SOURCES.md there). Seven pages are OCR'd once for the whole module;
the rest of the tests need no Tesseract run or a few seconds of one.
Accuracy and speed are measured, not asserted: `python scripts/ocr_accuracy.py`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pypdf
import pytest

from index.__main__ import hit_json
from index.quotes.citations import Citation, format_citation
from index.retrieval.search import Hit
from index.store.embedded import load_store
from index.embedder import HashingEmbedder
from ingest import ocr
from ingest.errors import ReportError
from ingest.pdf_reader import consistent_printed_numbers
from ingest.pipeline import IngestRun
from ingest.readers import ReadOptions, read_report

from tests.conftest import DATA

SCANNED = DATA / "scanned"
GLOTIP = SCANNED / "GLOTIP2024_Chapter_2-scanned-printed-pp69-71.pdf"
RETAIL = SCANNED / "retail-awareness-guide-scanned-pp1-4.pdf"
TEXT_PDF = DATA / "pdfs" / "crazyones.pdf"

HAVE_TESSERACT = shutil.which("tesseract") is not None
needs_tesseract = pytest.mark.skipif(
    not HAVE_TESSERACT and not os.environ.get("REQUIRE_OCR"),
    reason="Tesseract is not installed (sudo apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-sqi)")

# (scan, physical page, printed page, a sentence of that page as the original PDF's text layer has it)
SENTENCES = [
    (GLOTIP, 1, "69", "Child trafficking, particularly for forced labour, must be understood within a "
                      "socio-economic context where traffickers prey upon the vulnerability of families"),
    (GLOTIP, 2, "70", "traffickers are more likely to find opportunities to operate and traffic children "
                      "for forced labour"),
    (GLOTIP, 3, "71", "As opposed to the main profile of victims trafficked within the African continent, "
                      "most African victims detected in Europe are adults"),
    (RETAIL, 2, "2", "Convenience retailers can play a significant role in combating human trafficking"),
    (RETAIL, 3, "3", "During the workday you observe customers as they shop and communicate with them"),
    (RETAIL, 4, "4", "The following examples are fictional but based on actual indicators"),
]


def mixed_pdf(path: Path) -> Path:
    """A text page, then a scanned page (GLOTIP's printed 71), then the text page again."""
    writer = pypdf.PdfWriter()
    text, scan = pypdf.PdfReader(TEXT_PDF), pypdf.PdfReader(GLOTIP)
    writer.add_page(text.pages[0])
    writer.add_page(scan.pages[2])
    writer.add_page(text.pages[0])
    with path.open("wb") as out:
        writer.write(out)
    return path


@pytest.fixture(scope="module")
def ocr_store(tmp_path_factory):
    """The two scans and a mixed PDF, ingested once with OCR; the progress reported on the way."""
    folder = tmp_path_factory.mktemp("ocr")
    progress: list[tuple[int, int]] = []
    lines: list[str] = []
    options = ReadOptions(ocr_progress=lambda done, total, rate: progress.append((done, total)),
                          log=lines.append)
    run = IngestRun(folder / "store", options=options, embedder_factory=HashingEmbedder,
                    multilingual_factory=lambda: None)
    summary = run.execute([GLOTIP, RETAIL, mixed_pdf(folder / "mixed.pdf")])
    assert summary.ok, summary.render()
    return {"store": load_store(folder / "store"), "progress": progress, "lines": lines}


def normalised(text: str) -> str:
    return " ".join(text.split())


@needs_tesseract
@pytest.mark.parametrize("scan, physical, printed, sentence", SENTENCES,
                         ids=[f"{s.name[:6]}-p{p}" for s, p, _, _ in SENTENCES])
def test_sentence_of_each_scanned_page_is_found_on_its_page(ocr_store, scan, physical, printed, sentence):
    found = [(p.page, p.page_label, p.ocr) for p in ocr_store["store"].passages
             if p.report == scan.name and sentence in normalised(p.text)]
    assert found == [(physical, printed, True)]


@needs_tesseract
def test_library_records_which_pages_were_read_by_ocr(ocr_store):
    got = {r.report: (r.pages, r.ocr_pages) for r in ocr_store["store"].manifest.reports}
    assert got == {GLOTIP.name: (3, (1, 2, 3)), RETAIL.name: (4, (1, 2, 3, 4)), "mixed.pdf": (3, (2,))}


@needs_tesseract
def test_mixed_pdf_ocrs_only_the_scanned_page(ocr_store):
    pages = {(p.page, p.page_label, p.ocr) for p in ocr_store["store"].passages if p.report == "mixed.pdf"}
    assert pages == {(1, "1", False), (2, "71", True), (3, "3", False)}


@needs_tesseract
def test_progress_counts_pages_with_rate_and_time_left(ocr_store):
    assert ocr_store["progress"] == [(0, 3), (1, 3), (2, 3), (3, 3), (0, 4), (1, 4), (2, 4), (3, 4), (4, 4),
                                     (0, 1), (1, 1)]
    page_lines = [line for line in ocr_store["lines"] if "OCR page" in line]
    assert len(page_lines) == 8
    assert all("pages/s" in line and "left" in line for line in page_lines)


@needs_tesseract
def test_ocr_passages_are_flagged_in_json_and_citations(ocr_store):
    passage = next(p for p in ocr_store["store"].passages
                   if p.report == GLOTIP.name and "As opposed to the main profile" in p.text)
    hit = hit_json(Hit(rank=1, score=1.0, passage=passage, quote=passage.text, quote_start=0, similarity=1.0))
    assert (hit["ocr"], hit["language"], hit["page"], hit["page_label"]) == (True, "en", 3, "71")
    citation = format_citation(Citation.of(passage, "most African victims detected in Europe are adults"))
    assert citation == ("“most African victims detected in Europe are adults” — "
                        "GLOTIP2024_Chapter_2-scanned-pp67-69, p. 71 (printed page; PDF p. 3), "
                        "“Trafficked while migrating: exploiting hope” "
                        "[text read by OCR, check the quote against the page]")


def test_no_ocr_flag_leaves_a_scan_unread_and_says_how_to_fix_it():
    with pytest.raises(ReportError) as caught:
        read_report(GLOTIP, ReadOptions(ocr=False))
    assert caught.value.outcome == "no text layer (scanned? needs OCR)"
    assert "without --no-ocr" in caught.value.fix


def test_missing_tesseract_outcome_says_how_to_install_it(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # the worker (started by absolute path) finds no tesseract
    monkeypatch.delenv("TESSERACT_CMD", raising=False)
    with pytest.raises(ReportError) as caught:
        read_report(GLOTIP)
    assert caught.value.outcome == "needs OCR (Tesseract not available)"
    assert "sudo apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-sqi" in str(caught.value)


@needs_tesseract
def test_missing_language_names_its_package():
    with pytest.raises(ReportError) as caught:
        read_report(GLOTIP, ReadOptions(ocr_languages="eng+xyz"))
    assert caught.value.outcome == "needs OCR (Tesseract not available)"
    assert "tesseract-ocr-xyz" in str(caught.value) and "--ocr-lang" in str(caught.value)


# ------------------------------------------------------------------ page reading, without Tesseract

def tsv(*lines: tuple[int, int, str, float]) -> str:
    """Tesseract TSV for lines given as (block, top, text, confidence); one word row per word."""
    rows = ["level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"]
    for number, (block, top, text, confidence) in enumerate(lines, start=1):
        for w, word in enumerate(text.split(), start=1):
            rows.append(f"5\t1\t{block}\t1\t{number}\t{w}\t{100 * w}\t{top}\t90\t30\t{confidence}\t{word}")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    "lines, expected_text, expected_printed",
    [
        ([(1, 50, "Global Report on Trafficking in Persons 2024", 95), (2, 400, "Body text here.", 95),
          (3, 3300, "71", 96)],
         "Global Report on Trafficking in Persons 2024\n\nBody text here.", "71"),
        ([(1, 400, "Body text here.", 95), (2, 3200, "1 See 18 U.S.C Chapter 77 for definitions", 95),
          (2, 3250, "3 Learn more about the difference", 95)],
         "Body text here.\n\n1 See 18 U.S.C Chapter 77 for definitions\n3 Learn more about the difference", None),
        ([(1, 50, "Faqe 12", 92), (2, 400, "Komiteti u mblodh në Kukës.", 90)], "Komiteti u mblodh në Kukës.", "12"),
        ([(1, 400, "Body text here.", 95), (2, 900, "u 5 ott lil a | ll | NS HY BF", 60),
          (3, 1000, "Blurry words", 20)], "Body text here.", None),
    ],
    ids=["number-alone-in-foot", "footnotes-are-not-page-numbers", "albanian-faqe-in-head", "scraps-dropped"],
)
def test_page_from_tsv(lines, expected_text, expected_printed):
    page = ocr.page_from_tsv(tsv(*lines), 3508)
    assert (page.text, page.printed) == (expected_text, expected_printed)


@pytest.mark.parametrize(
    "letters, width, height, image_share, expected",
    [(0, 595, 842, 1.0, True), (40, 595, 842, 0.9, True), (2500, 595, 842, 1.0, False),
     (0, 595, 842, 0.0, False), (0, 3.84, 3.84, 1.0, False)],
    ids=["blank-scan", "scan-with-stamp-text", "text-over-background-image", "blank-page-no-image", "tiny-page"],
)
def test_which_pages_need_ocr(letters, width, height, image_share, expected):
    assert ocr.needs_ocr(letters, width, height, image_share) is expected


def test_render_scale_caps_the_pixels_of_a_huge_page():
    assert ocr.render_scale(595, 842) == pytest.approx(300 / 72)
    scale = ocr.render_scale(14400, 14400)  # a 200-inch page box
    assert (14400 * scale) ** 2 <= ocr.MAX_RENDER_PIXELS * 1.0001


@pytest.mark.parametrize(
    "read, expected",
    [({0: None, 1: "70", 2: "71"}, {0: "69", 1: "70", 2: "71"}),
     ({0: "69", 1: "7", 2: "71", 3: None, 5: None}, {0: "69", 1: "70", 2: "71", 3: "72"}),
     ({3: "5"}, {3: "5"}),
     ({0: "ix", 1: None}, {0: "ix"}),
     ({0: None, 1: None}, {})],
    ids=["missed-number-between-agreeing-pages", "misread-number-and-far-page", "one-number-kept-as-read",
         "roman-kept", "no-numbers"],
)
def test_printed_numbers_are_checked_against_each_other(read, expected):
    assert consistent_printed_numbers(read) == expected
