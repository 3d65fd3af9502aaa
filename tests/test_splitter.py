"""The splitter on the real CAAHT extract and on tiny inline texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.readers import read_report
from index.records import Document, Heading, Page, Passage
from ingest.splitter import MAX_WORDS, split_document
from index.text import sentence_spans, word_count
from ingest.text_reader import parse_heading, read_text_pages

from tests.conftest import CORPUS_FILE

TITLE = "2006 CAAHT Annual Conference Report"
REPORT = "caaht-2006-kukes-extract.txt"


@pytest.fixture(scope="module")
def passages() -> list[Passage]:
    return split_document(read_report(CORPUS_FILE))


def find(passages: list[Passage], start: str) -> Passage:
    matches = [p for p in passages if p.text.startswith(start)]
    assert len(matches) == 1, f"{len(matches)} passages start with {start!r}"
    return matches[0]


def test_flyers_passage_is_page_23_presentation_by_aida_orgocka(passages):
    assert find(passages, "An awareness raising campaign") == Passage(
        id="caaht-2006-kukes-extract.txt:p23:6",
        report=REPORT, title=TITLE, year=2006,
        text="An awareness raising campaign distributed 1,500 flyers and 150 posters with anti-trafficking messages.",
        page=23, page_end=23, page_label="23", page_end_label="23",
        section="School-based prevention activities",
        speaker="Ms. Aida Orgocka", organisation="Christian Children's Fund, Albania",
        part="presentation", kind="content")


@pytest.mark.parametrize(
    "start, page, section, speaker, organisation, part",
    [
        ("The qark of Kukes is a major transit location", 38,
         "Recent developments in the work of the Regional Committee in the Fight Against Trafficking in Human Beings",
         "Mr. Azem Tema", "Kukes—Prefect's Office (Technical Secretariat)", "presentation"),
        ("The Regional Anti-Trafficking Committees are very useful", 38,
         "Recent developments in the work of the Regional Committee in the Fight Against Trafficking in Human Beings",
         "Mr. Azem Tema", "Kukes—Prefect's Office (Technical Secretariat)", "discussion"),
        ("So far, the interest of the community towards children", 40,
         "Objectives and current activities of the municipality child protection structures",
         "Ms. Klodiana Pacara", "Kukes Municipality Child Protection Unit", "discussion"),
        ("They created training with student governments", 20,
         "Building capacity of local government structures to provide effective prevention and protection "
         "services for women at risk", "Ms. Enkelejda Cenaj", "VMA-Kukes", "presentation"),
        ("The AFCR representative gave participants", 18,
         "Mediation and conflict resolution techniques to decrease stigmatization and improve reintegration "
         "of victims of trafficking", "Mr. Oltion Kadaifciu", "Albanian Foundation for Conflict Resolution",
         "discussion"),
        ("All Actions\nImprove legal framework.\nTrain anti-trafficking police.", 69, "All actions from Qark Discussions — Qark Group: Diber and Kukes",
         None, None, "actions"),
        ("Five chosen actions:", 48, "Identifying Actions in Qark Groups — Qarqe: Diber and Kukes",
         None, None, "actions"),
    ],
    ids=["transit-p38", "saviours-p38", "community-p40", "student-gov-p20", "afcr-p18", "train-police-p69",
         "five-actions-p48"],
)
def test_citation_fields_of_passages(passages, start, page, section, speaker, organisation, part):
    p = find(passages, start)
    assert (p.page, p.page_label, p.section, p.speaker, p.organisation, p.part) == \
        (page, str(page), section, speaker, organisation, part)


def test_introduction_has_no_page(passages):
    intro = [p for p in passages if p.page is None]
    assert [p.text[:40] for p in intro] == [
        "Extracts of Presentations and Recommenda",
        "This document extracts key data for Kukë",
    ]
    assert all(p.page_end is None and p.page_label is None and p.part is None for p in intro)


def test_no_passage_crosses_a_page_or_exceeds_the_word_limit(passages):
    assert all(p.page == p.page_end for p in passages)
    assert max(word_count(p.text) for p in passages) <= MAX_WORDS


def test_markup_is_removed_and_lines_rejoined(passages):
    assert not any("*" in p.text for p in passages)
    rejoined = find(passages, "The precise identification of target groups")
    assert "combating trafficking of human beings. Therefore, drafting" in rejoined.text


def test_question_and_answer_stay_together(passages):
    qa = find(passages, "Question: What made you successful")
    assert "\nAnswer: The particularity of this project" in qa.text


def test_presenter_line_is_its_own_passage(passages):
    heading = find(passages, "Recent developments in the work")
    assert heading.text.endswith("— Mr. Azem Tema") and heading.part is None and heading.page == 38


def test_ids_are_unique_and_stable(passages):
    again = split_document(read_report(CORPUS_FILE))
    assert len({p.id for p in passages}) == len(passages)
    assert [p.id for p in again] == [p.id for p in passages]


def test_form_feed_pages(tmp_path: Path):
    path = tmp_path / "ff.txt"
    path.write_text("First page paragraph.\n\fSecond page text here.\n\nAnother one.\n\f\fFourth page.", "utf-8")
    got = [(p.page, p.page_label, p.text) for p in split_document(read_report(path))]
    assert got == [(1, "1", "First page paragraph."), (2, "2", "Second page text here."),
                   (2, "2", "Another one."), (4, "4", "Fourth page.")]


def test_sentence_split_over_a_page_break_is_one_passage_with_a_range(tmp_path: Path):
    path = tmp_path / "ff.txt"
    path.write_text("The shelter hosted women from\n\fKukes and Has. Then it closed.", "utf-8")
    [p] = split_document(read_report(path))
    assert (p.text, p.page, p.page_end) == ("The shelter hosted women from Kukes and Has. Then it closed.", 1, 2)


def test_short_bullets_stay_together_under_their_lead_in(tmp_path: Path):
    path = tmp_path / "list.txt"
    path.write_text("Collect as much information as possible about the people, like:\n\n"
                    "» Approximate ages\n\n» Travel details\n\n» Vehicle information (color, make, model)\n\n"
                    "Then call the tip line.", "utf-8")
    assert [p.text for p in split_document(read_report(path))] == [
        "Collect as much information as possible about the people, like:\n"
        "Approximate ages\nTravel details\nVehicle information (color, make, model)",
        "Then call the tip line.",
    ]


def test_a_long_list_is_cut_at_items_and_each_piece_keeps_its_lead_in(tmp_path: Path):
    item = "Improve coordination between government structures and NGOs in the region"
    path = tmp_path / "list.txt"
    path.write_text("All Actions\n\n" + "".join(f"- {item} {n}.\n" for n in range(12)), "utf-8")
    parts = [p.text.split("\n") for p in split_document(read_report(path))]
    assert [len(lines) - 1 for lines in parts] == [10, 2]
    assert all(lines[0] == "All Actions" and word_count("\n".join(lines)) <= MAX_WORDS for lines in parts)


def test_long_bullets_without_a_lead_in_stand_alone(tmp_path: Path):
    bullet = ("The committee met the prefect every month to review the referral of victims, the budget of the "
              "shelter and the training of police officers in the district")
    path = tmp_path / "bullets.txt"
    path.write_text(f"- {bullet} one.\n- {bullet} two.\n", "utf-8")
    assert [p.text for p in split_document(read_report(path))] == [f"{bullet} one.", f"{bullet} two."]


def test_long_paragraph_is_cut_at_sentences(tmp_path: Path):
    sentence = "Victims were referred to the shelter by the police in the region. "
    path = tmp_path / "long.txt"
    path.write_text(sentence * 30, "utf-8")
    parts = split_document(read_report(path))
    assert len(parts) > 1
    assert all(word_count(p.text) <= MAX_WORDS and p.text.endswith("region.") for p in parts)


@pytest.mark.parametrize(
    "lines, expected",
    [
        (["Title", "Org Name — Mr. A B"], Heading("Title", "Mr. A B", "Org Name", "Title\nOrg Name — Mr. A B")),
        (["Some title — Ms. C D, Org"], Heading("Some title", "Ms. C D", "Org", "Some title — Ms. C D, Org")),
        (["Actions", "Qark Group: X"], Heading("Actions — Qark Group: X", None, None, "Actions\nQark Group: X")),
    ],
    ids=["org-then-speaker", "title-then-speaker-with-org", "no-speaker"],
)
def test_parse_heading(lines, expected):
    assert parse_heading(lines) == expected


def test_marker_on_title_line_is_removed_from_heading():
    pages = read_text_pages("Intro title\n\nText.\n\nA title\nUnit — Ms. X Y (2001 AC Report, page 7)\n\n- Point.\n")
    assert [(p.number, p.heading.section if p.heading else None) for p in pages] == [(None, "Intro title"),
                                                                                      (7, "A title")]


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("One. Two three. Four?", ["One.", "Two three.", "Four?"]),
        ("Mr. Tema spoke. It ended.", ["Mr. Tema spoke.", "It ended."]),
        ("Lead in:\n1. First.\n2. Second.", ["Lead in:", "1. First.", "2. Second."]),
    ],
    ids=["plain", "abbreviation", "list-lines"],
)
def test_sentence_spans_are_exact_slices(text, sentences):
    assert [text[a:b] for a, b in sentence_spans(text)] == sentences


def test_items_of_any_length_stay_under_a_lead_in_ending_in_a_colon(tmp_path: Path):
    """"The potential victim(s):" announces every item below it, long or short, and names no
    section; items wrapped by the page's width are one item again."""
    path = tmp_path / "indicators.txt"
    path.write_text("Indicators of Human Trafficking\n\nThe potential victim(s):\n\n"
                    "» Shows signs of fear, anxiety, tension, submission, and/or nervousness.\n"
                    "» Is in a group where everyone has identical tattoos in similar locations. This may indicate\n"
                    "“branding” by a trafficker.\n"
                    "» Exhibits evidence of verbal threats, emotional abuse, and/or being treated in a\n"
                    "demeaning way.\n\nThen call the tip line.", "utf-8")
    assert [(p.section, p.text) for p in split_document(read_report(path))] == [
        ("Indicators of Human Trafficking",
         "The potential victim(s):\nShows signs of fear, anxiety, tension, submission, and/or nervousness.\n"
         "Is in a group where everyone has identical tattoos in similar locations. This may indicate “branding” "
         "by a trafficker.\nExhibits evidence of verbal threats, emotional abuse, and/or being treated in a "
         "demeaning way."),
        ("Indicators of Human Trafficking", "Then call the tip line."),
    ]


def test_a_long_line_without_a_full_stop_is_text_not_a_heading(tmp_path: Path):
    """A heading names a section in a few words; a longer line ending in ':' or in no stop at all
    is a sentence, and is indexed (it used to be dropped as a heading)."""
    line = ("No single indicator is proof that human trafficking is occurring; the indicators below are a few "
            "examples that may alert you to a potential situation:")
    path = tmp_path / "lead.txt"
    path.write_text(f"Indicators\n\n{line}\n\nSchools are a place of safety.", "utf-8")
    # A single word ("Indicators", or a chart's "Rwanda") heads nothing: it is dropped as before.
    assert [p.text for p in split_document(read_report(path))] == [line, "Schools are a place of safety."]


TESTIMONY = ("In 2009, in the Dominican Republic, I heard from friends about a recruiter. "
             "He promised a job in a hotel in Kansas City.")


def _testimonials(text: str) -> Document:
    """A PDF-like report whose page starts the outline section "D. Survivor Testimonials"."""
    page = Page(number=49, label="49", text=text, heading=Heading(section="D. Survivor Testimonials"))
    return Document(report="guide.pdf", title="Guide", year=2021, sha256="0" * 64, pages=(page,), kind="pdf")


def test_a_heading_that_names_no_section_heads_its_paragraph():
    """Inside an outline section, a survivor's name over her story names no section: it used to be
    dropped, so "Ronny Marty's testimony" was found nowhere. It is kept as the paragraph's first line."""
    passages = split_document(_testimonials(f"I am who I am today.\n\nRonny Marty\n\n{TESTIMONY}"))
    assert [(p.text, p.section, p.page) for p in passages] == [
        ("I am who I am today.", "D. Survivor Testimonials", 49),
        (f"Ronny Marty\n{TESTIMONY}", "D. Survivor Testimonials", 49),
    ]


def test_a_short_line_going_on_in_lower_case_is_no_heading():
    """"During my preteen and early teenage years, my two" / "sisters, …": a wrapped sentence, not a
    heading; the name above it heads the paragraph (it had been pushed out as a heading of nothing)."""
    text = ("James Dold\n\nDuring my preteen and early teenage years, my two\n\n"
            "sisters and two brothers lived in a small house with my parents.")
    assert [p.text for p in split_document(_testimonials(text))] == [
        "James Dold\nDuring my preteen and early teenage years, my two sisters and two brothers lived in a "
        "small house with my parents."]


@pytest.mark.parametrize("text, passages", [
    ("27%\n\nlinked to the practice of sending boys to religious school.",
     ["linked to the practice of sending boys to religious school."]),
    ("Conclusions and policy\n\nrecommendations follow from the findings.",
     ["recommendations follow from the findings."]),
    ("Rwanda\n\nIn Burkina Faso most victims were children.", ["In Burkina Faso most victims were children."]),
    ("I grew up in El Salvador, raised by a courageous single\n\nMother of four. She worked hard.",
     ["Mother of four. She worked hard."]),
    ("North Africa\n\nand the\n\nMiddle East\n\nMost victims in the region were adults.",
     ["Middle East\nMost victims in the region were adults."]),
], ids=["figure", "wrapped-heading", "chart-label", "sentence-cut-short", "labels-cut-short"])
def test_lines_that_are_no_titles_head_nothing(text, passages):
    """A figure, a one-word chart label or a sentence cut short is not printed over the paragraph
    after it, and a heading wrapped over two lines does not become the paragraph's first sentence."""
    assert [p.text for p in split_document(_testimonials(text))] == passages


def test_a_question_does_not_head_another_question():
    text = "What is trafficking?\n\nWho is at risk?\n\nAnyone can be targeted by traffickers."
    assert [p.text for p in split_document(_testimonials(text))] == [
        "What is trafficking?", "Who is at risk?\nAnyone can be targeted by traffickers."]


def test_a_short_question_standing_alone_heads_the_paragraph_answering_it():
    """"Who are Traffickers?" alone answered nothing and came up for many questions."""
    answer = "There is no single face of traffickers, they can be any gender, age, or race."
    passages = split_document(_testimonials(f"Who are Traffickers?\n\n{answer}\n\nIs it over? Not yet."))
    assert [p.text for p in passages] == [f"Who are Traffickers?\n{answer}", "Is it over? Not yet."]


def test_a_long_headed_paragraph_repeats_its_heading_in_each_piece():
    body = " ".join(f"Sentence number {i} tells one more part of the story." for i in range(30))
    passages = split_document(_testimonials(f"Ronny Marty\n\n{body}"), max_words=40)
    assert len(passages) > 1
    assert all(p.text.startswith("Ronny Marty\n") and word_count(p.text) <= 40 for p in passages)
    assert " ".join(p.text.removeprefix("Ronny Marty\n") for p in passages) == body


def test_a_headed_paragraph_continued_on_the_next_page_keeps_its_heading_line():
    first = _testimonials("Ronny Marty\n\nIn 2009, in the Dominican Republic, I heard from friends about")
    pages = (*first.pages, Page(number=50, label="50", text="a recruiter who came to the island."))
    passages = split_document(Document("guide.pdf", "Guide", 2021, "0" * 64, pages, kind="pdf"))
    assert [(p.text, p.page, p.page_end) for p in passages] == [
        ("Ronny Marty\nIn 2009, in the Dominican Republic, I heard from friends about a recruiter who came "
         "to the island.", 49, 50)]


def test_each_passage_under_a_heading_line_names_it_as_its_subsection():
    """Every passage of a testimony is under the name over it, up to the next heading: "Which Nevada
    bill did James Dold work to pass?" is answered by a passage pages after his name."""
    text = (f"I am who I am today.\n\nRonny Marty\n\n{TESTIMONY}\n\n- He kept my passport.\n\n"
            "Then I ran away.\n\nJames Dold\n\nI grew up in Nevada.\n\nWhat is trafficking?\n\n"
            "It is a crime.")
    second = Page(number=50, label="50", text="Nevada passed the bill.")
    passages = split_document(Document("guide.pdf", "Guide", 2021, "0" * 64, (*_testimonials(text).pages, second),
                                       kind="pdf"))
    assert [(p.text, p.subsection) for p in passages] == [
        ("I am who I am today.", None),
        (f"Ronny Marty\n{TESTIMONY}", "Ronny Marty"),
        ("He kept my passport.", "Ronny Marty"),
        ("Then I ran away.", "Ronny Marty"),
        ("James Dold\nI grew up in Nevada.", "James Dold"),
        # A short question heads the paragraph answering it, within the testimony.
        ("What is trafficking?\nIt is a crime.", "James Dold"),
        ("Nevada passed the bill.", "James Dold"),
    ]


@pytest.mark.parametrize("text", [
    "Ronny Marty\n\nI left home that year.\n\n27%\n\nMost victims were adults.",
    "Ronny Marty\n\nI left home that year.\n\nEffects\n\nMost victims were adults.",
    "16 International Labour Organization, Brick by Brick:\n\nI left home that year.\n\nMost victims were adults.",
    "Human Trafficking:\n\nI left home that year.\n\nMost victims were adults.",
    "The Committee met in Kukës in March\n\nI left home that year.\n\nMost victims were adults.",
    "D. Survivor\n\nI left home that year.\n\nMost victims were adults.",
], ids=["after-a-figure", "after-a-label", "a-numbered-note", "a-lead-in", "a-sentence", "the-sections-own-title"])
def test_a_subsection_ends_at_any_heading_line_and_needs_a_title(text):
    """After a chart's figure or label, text is no longer known to be under the heading before it;
    a note opening with its number, a lead-in ending in ':', a sentence without its full stop or a
    line of the section's own title (wrapped) is no title to cite."""
    assert split_document(_testimonials(text))[-1].subsection is None


def test_a_note_is_under_no_subsection():
    text = ("Ronny Marty\n\nI left home that year.\n\n12 UNODC, Global Report on Trafficking in Persons 2022 (United "
            "Nations publication, 2023), p. 45. Available at https://www.unodc.org/report.pdf")
    assert [(p.kind, p.subsection) for p in split_document(_testimonials(text))] == [
        ("content", "Ronny Marty"), ("reference", None)]


def test_a_new_section_ends_the_subsection():
    first = _testimonials("Ronny Marty\n\nI left home that year.")
    later = Page(number=50, label="50", text="Most victims were adults.", heading=Heading(section="E. Resources"))
    passages = split_document(Document("guide.pdf", "Guide", 2021, "0" * 64, (*first.pages, later), kind="pdf"))
    assert [(p.section, p.subsection) for p in passages] == [
        ("D. Survivor Testimonials", "Ronny Marty"), ("E. Resources", None)]


def test_a_paragraph_cut_at_sentences_keeps_every_character_of_them():
    """Each piece of a long paragraph is its sentences as printed: a closing quote after a full
    stop ("goes by “Ghost.” Ghost is …") had been dropped where the pieces were put back together."""
    body = " ".join(f"Joel says “this is visit {i}.” Ghost buys a drink (as usual.)" for i in range(12))
    passages = split_document(_testimonials(body), max_words=40)
    assert len(passages) > 1
    assert " ".join(p.text for p in passages) == body


@pytest.mark.parametrize("large_print, sections", [
    (None, ["Key Findings", "Prefer not to say"]),
    (("keyfindings",), ["Key Findings", "Key Findings"]),
], ids=["print-unknown", "print-known"])
def test_where_the_print_is_known_only_a_line_printed_large_names_a_section(large_print, sections):
    text = "Key Findings\n\nMost victims were adults.\n\nPrefer not to say\n\nChildren were a third of them."
    page = Page(number=3, label="3", text=text, large_print=large_print)
    doc = Document(report="r.pdf", title="R", year=2024, sha256="0" * 64, pages=(page,), kind="pdf")
    assert [p.section for p in split_document(doc)] == sections


def test_where_the_print_is_known_a_line_printed_large_that_heads_nothing_is_text():
    """A form's one-word label printed large, or a title under an outline's section heading
    nothing (a list follows), was dropped as a heading."""
    text = "Header\n\nthe form's first field.\n\nShipping Services Ltd Haifa\n\n- Call the office."
    page = Page(number=1, label="1", text=text, large_print=("header", "shippingservicesltdhaifa"),
                heading=Heading(section="Contact"))
    doc = Document(report="r.pdf", title="R", year=2021, sha256="0" * 64, pages=(page,), kind="pdf")
    assert [p.text for p in split_document(doc)] == [
        "Header the form's first field.", "Shipping Services Ltd Haifa\nCall the office."]


def test_where_the_print_is_known_a_sentence_cut_short_by_the_layout_is_text():
    """Printed as the text is, "I grew up in El Salvador, raised by a courageous single" is the
    testimony's first line, not a heading to drop; a chart's short label still is dropped."""
    text = ("Carlos Dimas\n\nI grew up in El Salvador, raised by a courageous single\n\nMom. I have two "
            "siblings.\n\nPrefer not to say\n\nWe moved to the city.")
    page = Page(number=52, label="52", text=text, large_print=("carlosdimas",), heading=Heading(section="D"))
    doc = Document(report="r.pdf", title="R", year=2021, sha256="0" * 64, pages=(page,), kind="pdf")
    assert [(p.text, p.subsection) for p in split_document(doc)] == [
        ("Carlos Dimas\nI grew up in El Salvador, raised by a courageous single", "Carlos Dimas"),
        ("Mom. I have two siblings.", "Carlos Dimas"), ("We moved to the city.", None)]


@pytest.mark.parametrize("label, part", [("Five Chosen Actions", "actions"), ("Action Card #6: Warning Signs", None)],
                         ids=["list-of-actions", "action-card"])
def test_only_a_list_of_actions_is_the_actions_part(label, part):
    page = Page(number=3, label="3", text=f"{label}\n\nTrain the police.", heading=Heading(section="Cards"))
    doc = Document(report="r.pdf", title="R", year=2024, sha256="0" * 64, pages=(page,), kind="pdf")
    assert [p.part for p in split_document(doc)] == [part]


def test_lines_giving_a_phone_number_are_kept_with_their_labels():
    """Each line of a hotline's card looks like a heading; all were dropped, so "What is the DoD
    Inspector General hotline's number?" was answered by no passage."""
    text = ("For reporting trafficking in DoD, the best number is the DoD IG Hotline:\n\nDoD Inspector General "
            "Hotline\n\nHotline Phone Number:\n\n800-424-9098 (Toll-Free)\n\n703-604-8799 (Commercial)\n\n"
            "Hotline Complaint Form: https://www.dodig.mil/Components/DoD-Hotline/\n\n"
            "Action Card #15: Ways to Seek Help\n\nIt is never too late.")
    assert [(p.kind, p.text) for p in split_document(_testimonials(text))] == [
        ("content", "For reporting trafficking in DoD, the best number is the DoD IG Hotline:"),
        ("content", "DoD Inspector General Hotline\nHotline Phone Number:\n800-424-9098 (Toll-Free)\n"
                    "703-604-8799 (Commercial)\nHotline Complaint Form: https://www.dodig.mil/Components/DoD-Hotline/"),
        ("content", "Action Card #15: Ways to Seek Help\nIt is never too late."),
    ]


def test_labels_without_a_number_or_an_address_stay_headings():
    text = "Physical or Behavioral:\n\nSocial:\n\nThe youth is withdrawn."
    assert [p.text for p in split_document(_testimonials(text))] == ["The youth is withdrawn."]


def test_a_cut_list_repeats_the_sentence_that_announces_its_items_not_the_paragraph(tmp_path: Path):
    intro = "Understanding risk factors helps officers protect the students they meet every day."
    lead = "Keep the following risk factors in mind:"
    item = "History of running away from home or of being kicked out by a parent or guardian"
    path = tmp_path / "risks.txt"
    path.write_text(f"{intro} {lead}\n\n" + "".join(f"- {item} {n}\n" for n in range(10)), "utf-8")
    firsts = [p.text.split("\n")[0] for p in split_document(read_report(path))]
    assert firsts == [f"{intro} {lead}", lead]


def test_section_titles_as_printed_are_marked_as_titles(passages):
    """With or without the presenter's line, a title names what follows (KIND_PRIOR ranks it
    below the passages it heads unless the question asks who presented)."""
    kinds = {p.text: p.kind for p in passages if p.text.startswith(("Identifying Actions in Qark Groups",
                                                                    "Recent developments in the work",
                                                                    "The Kukes Municipality Child Protection Unit"))}
    assert kinds == {"Identifying Actions in Qark Groups\nQarqe: Diber and Kukes": "title",
                     "Recent developments in the work of the Regional Committee in the Fight Against Trafficking in "
                     "Human Beings\nKukes—Prefect's Office (Technical Secretariat) — Mr. Azem Tema": "title",
                     "The Kukes Municipality Child Protection Unit, (referred to hereafter as the Office) is attached "
                     "to the Municipality of Kukes and offers preventative and protective measures for children at "
                     "risk.": "content"}


def test_numbered_items_spaced_apart_are_one_list_under_their_heading(tmp_path: Path):
    """A PDF prints "1. …", "2. …" as paragraphs of their own: they are still one list, cut at
    items with its heading repeated whole ("A. 10 Steps …", not its last "sentence")."""
    item = "Know the people who are around your teen, their friends, acquaintances and teammates"
    path = tmp_path / "steps.txt"
    path.write_text("A. 10 Steps Parents Can Take\n\n" + "".join(f"{n}. {item}.\n\n" for n in range(1, 11)), "utf-8")
    parts = [p.text.split("\n") for p in split_document(read_report(path))]
    assert [(lines[0], lines[1][:2], lines[-1][:3]) for lines in parts] == [
        ("A. 10 Steps Parents Can Take", "1.", "8. "), ("A. 10 Steps Parents Can Take", "9.", "10.")]


def test_a_long_numbered_paragraph_is_cut_at_sentences_and_a_list_starting_again_is_another(tmp_path: Path):
    sentence = "Victims were referred to the shelter by the police in the region"
    path = tmp_path / "numbered.txt"
    path.write_text(f"1. {'. '.join([sentence] * 14)}.\n\n2. Short second item.\n\n1. A new list begins.\n",
                    "utf-8")
    texts = [p.text for p in split_document(read_report(path))]
    assert all(t.endswith((".", "item.", "begins.")) for t in texts), texts  # never cut inside a sentence
    assert texts[-1] == "1. A new list begins."


def test_a_new_paragraph_after_a_list_on_the_next_page_keeps_the_list_whole(tmp_path: Path):
    path = tmp_path / "adults.txt"
    path.write_text("Possible trusted adults:\n\n- Teacher\n- Club or activity leader\n\f"
                    "A friend's parents can also help.", "utf-8")
    assert [(p.page, p.text) for p in split_document(read_report(path))] == [
        (1, "Possible trusted adults:\nTeacher\nClub or activity leader"), (2, "A friend's parents can also help.")]


def test_a_long_line_of_chart_labels_is_not_indexed_as_text(tmp_path: Path):
    labels = "Central African Republic Zimbabwe Lao People's Democratic Republic Comoros Burundi Nigeria Liberia Niger"
    path = tmp_path / "chart.txt"
    path.write_text(f"Victims by country\n\n{labels}\n\nMost victims were children.", "utf-8")
    assert [p.text for p in split_document(read_report(path))] == ["Most victims were children."]
