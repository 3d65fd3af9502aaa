"""Citation styles on tiny inline passages: pages, printed labels, presenters, organisations."""

from __future__ import annotations

from dataclasses import replace

import pytest

from index.quotes.citations import (STYLES, Citation, UnknownStyle, author_date, citation_text, footnote_text,
                             format_citation, page_reference)
from index.records import Passage
from index.quotes.citations import table_description

TITLE = "2006 CAAHT Annual Conference Report"
SECTION = "Recent developments in the work of the Regional Committee"
QUOTE = "The qark of Kukes is a major transit location."

TEMA = Passage(
    id="caaht-2006-kukes-extract.txt:p38:1", report="caaht-2006-kukes-extract.txt", title=TITLE, year=2006,
    text=QUOTE, page=38, page_end=38, page_label="38", page_end_label="38", section=SECTION,
    speaker="Mr. Azem Tema", organisation="Kukes—Prefect's Office (Technical Secretariat)", part="presentation")
DISCUSSION = replace(TEMA, part="discussion")
RANGE = replace(TEMA, page_end=39, page_end_label="39")
ACTIONS = replace(TEMA, page=69, page_end=69, page_label="69", page_end_label="69",
                  section="All actions from Qark Discussions — Qark Group: Diber and Kukes",
                  speaker=None, organisation=None, part="actions")
INTRO = replace(TEMA, page=None, page_end=None, page_label=None, page_end_label=None, section=None,
                speaker=None, organisation=None, part=None)
ORGANISATION_ONLY = replace(TEMA, speaker=None, organisation="Kukes Municipality Child Protection Unit")
NO_YEAR = replace(TEMA, title="Shelter Network Annual Report", year=None)
YEAR_NOT_IN_TITLE = replace(TEMA, title="Shelter Network Annual Report", year=2009)
PDF = Passage(
    id="GLOTIP2024_Chapter_2.pdf:p5:3", report="GLOTIP2024_Chapter_2.pdf",
    title="Global Report on Trafficking in Persons 2024", year=2024, text=QUOTE, page=5, page_end=5,
    page_label="69", page_end_label="69", section="Western and Southern Europe", speaker=None,
    organisation=None, part=None)
PDF_RANGE = replace(PDF, page_end=6, page_end_label="70")


def cite(passage: Passage, style: str) -> str:
    return format_citation(Citation.of(passage), style)


def test_plain_style_is_unchanged():
    assert cite(TEMA, "plain") == (
        "“The qark of Kukes is a major transit location.” — 2006 CAAHT Annual Conference Report, p. 38, "
        "presentation by Mr. Azem Tema (Kukes—Prefect's Office)")


@pytest.mark.parametrize(
    "passage, expected",
    [
        (TEMA, "2006 CAAHT Annual Conference Report, p. 38, presentation by Mr. Azem Tema (Kukes—Prefect's Office)"),
        (DISCUSSION, "2006 CAAHT Annual Conference Report, p. 38, discussion of the presentation by Mr. Azem Tema "
                     "(Kukes—Prefect's Office)"),
        (RANGE, "2006 CAAHT Annual Conference Report, pp. 38–39, presentation by Mr. Azem Tema "
                "(Kukes—Prefect's Office)"),
        (ACTIONS, "2006 CAAHT Annual Conference Report, p. 69, “All actions from Qark Discussions — Qark Group: "
                  "Diber and Kukes”"),
        (INTRO, "2006 CAAHT Annual Conference Report"),
        (ORGANISATION_ONLY, f"2006 CAAHT Annual Conference Report, p. 38, “{SECTION}”"),
        (PDF, "Global Report on Trafficking in Persons 2024, p. 69 (printed page; PDF p. 5), "
              "“Western and Southern Europe”"),
        (PDF_RANGE, "Global Report on Trafficking in Persons 2024, pp. 69–70 (printed page; PDF pp. 5–6), "
                    "“Western and Southern Europe”"),
    ],
    ids=["presentation", "discussion", "page-range", "section-no-speaker", "no-page", "organisation-only",
         "printed-label", "printed-range"],
)
def test_plain(passage, expected):
    assert cite(passage, "plain") == f"“{QUOTE}” — {expected}"


@pytest.mark.parametrize(
    "passage, expected",
    [
        (TEMA, f"Mr. Azem Tema, Kukes—Prefect's Office (Technical Secretariat), presentation “{SECTION}”, "
               "2006 CAAHT Annual Conference Report, p. 38."),
        (DISCUSSION, f"Mr. Azem Tema, Kukes—Prefect's Office (Technical Secretariat), discussion of the "
                     f"presentation “{SECTION}”, 2006 CAAHT Annual Conference Report, p. 38."),
        (RANGE, f"Mr. Azem Tema, Kukes—Prefect's Office (Technical Secretariat), presentation “{SECTION}”, "
                "2006 CAAHT Annual Conference Report, pp. 38–39."),
        (ACTIONS, "“All actions from Qark Discussions — Qark Group: Diber and Kukes”, "
                  "2006 CAAHT Annual Conference Report, p. 69."),
        (INTRO, "2006 CAAHT Annual Conference Report."),
        (ORGANISATION_ONLY, f"Kukes Municipality Child Protection Unit, presentation “{SECTION}”, "
                            "2006 CAAHT Annual Conference Report, p. 38."),
        (NO_YEAR, f"Mr. Azem Tema, Kukes—Prefect's Office (Technical Secretariat), presentation “{SECTION}”, "
                  "Shelter Network Annual Report (n.d.), p. 38."),
        (YEAR_NOT_IN_TITLE, f"Mr. Azem Tema, Kukes—Prefect's Office (Technical Secretariat), presentation "
                            f"“{SECTION}”, Shelter Network Annual Report (2009), p. 38."),
        (PDF, "“Western and Southern Europe”, Global Report on Trafficking in Persons 2024, "
              "p. 69 (printed page; PDF p. 5)."),
        (PDF_RANGE, "“Western and Southern Europe”, Global Report on Trafficking in Persons 2024, "
                    "pp. 69–70 (printed page; PDF pp. 5–6)."),
    ],
    ids=["presentation", "discussion", "page-range", "section-no-speaker", "no-page", "organisation-only",
         "no-year", "year-not-in-title", "printed-label", "printed-range"],
)
def test_footnote(passage, expected):
    assert footnote_text(Citation.of(passage)) == expected
    assert cite(passage, "footnote") == f"“{QUOTE}”[1]\n\n[1] {expected}"


def test_footnote_number_is_chosen_by_the_caller():
    assert format_citation(Citation.of(INTRO), "footnote", note_number=7) == \
        f"“{QUOTE}”[7]\n\n[7] 2006 CAAHT Annual Conference Report."


@pytest.mark.parametrize(
    "passage, expected",
    [
        (TEMA, "Mr. Azem Tema 2006, Kukes—Prefect's Office, 2006 CAAHT Annual Conference Report, p. 38"),
        (RANGE, "Mr. Azem Tema 2006, Kukes—Prefect's Office, 2006 CAAHT Annual Conference Report, pp. 38–39"),
        (replace(TEMA, organisation=None), "Mr. Azem Tema 2006, 2006 CAAHT Annual Conference Report, p. 38"),
        (ORGANISATION_ONLY, "Kukes Municipality Child Protection Unit 2006, 2006 CAAHT Annual Conference Report, "
                            "p. 38"),
        (ACTIONS, "2006 CAAHT Annual Conference Report, p. 69"),
        (INTRO, "2006 CAAHT Annual Conference Report"),
        (NO_YEAR, "Mr. Azem Tema n.d., Kukes—Prefect's Office, Shelter Network Annual Report, p. 38"),
        (replace(INTRO, title="Shelter Network Annual Report", year=None), "Shelter Network Annual Report n.d."),
        (PDF, "Global Report on Trafficking in Persons 2024, p. 69 [printed page; PDF p. 5]"),
        (PDF_RANGE, "Global Report on Trafficking in Persons 2024, pp. 69–70 [printed page; PDF pp. 5–6]"),
    ],
    ids=["presenter-and-organisation", "page-range", "presenter-only", "organisation-as-author",
         "title-as-author", "no-page", "no-year", "title-as-author-no-year", "printed-label", "printed-range"],
)
def test_author_date(passage, expected):
    assert author_date(Citation.of(passage)) == expected
    assert cite(passage, "author-date") == f"“{QUOTE}” ({expected})"


@pytest.mark.parametrize("style", STYLES)
def test_a_style_is_the_quote_then_its_citation_text(style):
    citation = Citation.of(TEMA, "a major transit location")
    text = citation_text(citation, style)
    assert format_citation(citation, style) in (f"“a major transit location” {text}",
                                                f"“a major transit location”[1]\n\n[1] {text}")


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({}, "p. 38"),
        ({"page_label": None, "page_end_label": None}, "p. 38"),
        ({"page_end": 39, "page_end_label": "39"}, "pp. 38–39"),
        ({"page_end": 39, "page_label": None, "page_end_label": None}, "pp. 38–39"),
        ({"page": 5, "page_end": 5, "page_label": "ix", "page_end_label": "ix"}, "p. ix (printed page; PDF p. 5)"),
        ({"page": None, "page_end": None, "page_label": None, "page_end_label": None}, None),
    ],
    ids=["label", "no-label", "range", "range-no-labels", "roman-label", "no-page"],
)
def test_page_reference(changes, expected):
    assert page_reference(replace(TEMA, **changes)) == expected


def test_citation_of_a_quote_keeps_the_quote_and_the_part():
    assert Citation.of(DISCUSSION, "major transit") == Citation(
        quote="major transit", title=TITLE, year=2006, pages="p. 38",
        source="discussion of the presentation by Mr. Azem Tema (Kukes—Prefect's Office)",
        speaker="Mr. Azem Tema", organisation="Kukes—Prefect's Office (Technical Secretariat)", section=SECTION,
        report="caaht-2006-kukes-extract.txt", part="discussion")


def test_unknown_style_names_the_choices():
    with pytest.raises(UnknownStyle, match="'apa'.*plain, footnote, author-date"):
        format_citation(Citation.of(TEMA), "apa")
    assert issubclass(UnknownStyle, ValueError)  # callers that caught ValueError still do


ANNEX_TABLE = replace(PDF, id="annex.pdf:p17:1", report="annex.pdf", title="Statistical annex", year=2024,
                      page=17, page_end=17, page_label="17", page_end_label="17", section=None, kind="table",
                      text="Table 17. Detected victims, by country, 2019-2022\nCountry 2019 2020 2021\n"
                           "Benin 444 538 1,389\nCabo Verde 2,243 3,376 3,082")


@pytest.mark.parametrize("quote, described", [
    ("Cabo Verde 2,243 3,376 3,082",
     "Table 17. Detected victims, by country, 2019-2022 (columns: Country 2019 2020 2021)"),
    ("Detected victims, by country, 2019-2022", None),
    (ANNEX_TABLE.text, None),
], ids=["row", "caption", "whole-table"])
def test_a_quoted_table_row_is_cited_with_its_table(quote, described):
    """A row alone ("Cabo Verde 2,243 3,376 3,082") means nothing pasted into a proposal without the
    table's caption and columns; a quote that holds them needs no such note."""
    assert table_description(ANNEX_TABLE, quote) == described
    assert format_citation(Citation.of(ANNEX_TABLE, quote)) == \
        f"“{quote}” — Statistical annex, p. 17" + (f", {described}" if described else "")


def test_a_table_with_a_caption_and_no_header_is_cited_by_its_caption():
    table = replace(ANNEX_TABLE, text="Table 4. Victims detected in East Africa, 2019-2022\nKenya 1,204 1,310 1,498")
    assert table_description(table, "Kenya 1,204 1,310 1,498") == "Table 4. Victims detected in East Africa, 2019-2022"


def test_a_passage_that_is_no_table_gets_no_table_note():
    assert Citation.of(PDF, "Benin 444 538 1,389").table is None


TESTIMONY = replace(PDF, id="Parent.pdf:p48:6", report="Parent.pdf", title="Parent Resource Guide", year=2021,
                    text="The bill passed unanimously.", page=48, page_end=48, page_label="48",
                    page_end_label="48", section="D. Survivor Testimonials", subsection="James Dold")


@pytest.mark.parametrize("style, expected", [
    ("plain", "“The bill passed unanimously.” — Parent Resource Guide, p. 48, “D. Survivor Testimonials — "
              "James Dold”"),
    ("footnote", "“The bill passed unanimously.”[1]\n\n[1] “D. Survivor Testimonials — James Dold”, Parent "
                 "Resource Guide (2021), p. 48."),
    ("author-date", "“The bill passed unanimously.” (Parent Resource Guide 2021, p. 48)"),
], ids=STYLES)
def test_a_passage_under_a_heading_within_its_section_is_cited_with_both(style, expected):
    """Pages after the name over a testimony, the citation still says whose testimony it is."""
    assert cite(TESTIMONY, style) == expected


def test_quotation_marks_in_a_title_become_single_inside_the_citations_own():
    card = replace(TESTIMONY, section="C. Action Cards", subsection="“It’s Never Too Late”")
    assert citation_text(Citation.of(card)) == "— Parent Resource Guide, p. 48, “C. Action Cards — ‘It’s Never Too Late’”"
