"""What the Library page says about each report, and the start page's example questions."""

from __future__ import annotations

from dataclasses import replace

from index.quotes.library import NO_TEXT, OK, PARTLY, ReportFacts, example_questions, page_list, report_facts
from tests.test_basket import FLYERS, REPORT, TRANSIT

PDF_INFO = replace(REPORT, report="guide.pdf", kind="pdf", pages=6, passages=3, sha256="ef" * 32)
PDF_PASSAGES = [
    replace(TRANSIT, id="guide.pdf:p1:1", report="guide.pdf", page=1, page_end=1, page_label="69",
            page_end_label="69", speaker=None, section="Intro"),
    replace(TRANSIT, id="guide.pdf:p2:1", report="guide.pdf", page=2, page_end=3, page_label="70",
            page_end_label="71", speaker=None, section="Europe"),
    replace(TRANSIT, id="guide.pdf:p6:1", report="guide.pdf", page=6, page_end=6, page_label="6",
            page_end_label="6", speaker=None, section="Europe"),
]


def test_report_facts_from_the_manifest_and_the_passages():
    facts = report_facts([replace(REPORT, passages=2), PDF_INFO], [TRANSIT, FLYERS, *PDF_PASSAGES])
    assert facts[1] == ReportFacts(
        report="guide.pdf", title=REPORT.title, year=2006, kind="pdf", pages=6, passages=3,
        pages_without_text=(4, 5), printed_labels=3, sections=2, speakers=0, ocr_pages=(),
        ingested_at=REPORT.ingested_at, sha256="ef" * 32, source_file=REPORT.source_file)
    assert (facts[1].status, facts[1].sha_prefix) == (PARTLY, "ef" * 6)
    # An extract numbers pages as printed (not 1..n) and has no text layer to miss.
    assert (facts[0].pages_without_text, facts[0].speakers, facts[0].status) == ((), 1, OK)


def test_a_report_without_passages_has_no_text_layer():
    [facts] = report_facts([replace(PDF_INFO, passages=0)], [])
    assert (facts.status, facts.pages_without_text) == (NO_TEXT, (1, 2, 3, 4, 5, 6))


def test_page_list_is_short():
    assert page_list([]) == "none"
    assert page_list([1, 2, 3, 5, 9, 10]) == "1–3, 5, 9–10"
    assert page_list(list(range(1, 40, 2)), limit=2) == "1, 3 … (20 pages)"


def test_example_questions_name_a_section_of_each_report_first():
    other = replace(FLYERS, id="b.txt:p1:1", report="b.txt", section="Shelters in Tropojë", speaker="Ms. B")
    questions = example_questions([TRANSIT, TRANSIT, FLYERS, other], 3)
    assert questions == ["What was said about Recent developments?", "What was said about Shelters in Tropojë?"]
