"""Shelf ranking parts without a model: passage kinds, key terms, tables, report scoping."""

from __future__ import annotations

import numpy as np
import pytest

from index.passage_kind import mark_kinds, passage_kind
from index.records import Passage
from index.retrieval.keyterms import KeyTerm, Vocabulary, key_terms, missing_terms
from index.retrieval import rerank
from index.retrieval.ranking import RankingQuery
from index.text import is_table_row
from ingest.tables import Table, find_tables


@pytest.mark.parametrize("text, kind", [
    ("Traffickers exploit victims by enforcing debts that they are required to repay.", "content"),
    ("Five Chosen Actions", "heading"),
    ("Smith, J. (2019). Child labour in mines. Journal of Development, 15(4), 178–185, "
     "https://doi.org/10.1000/xyz", "reference"),
    ("UNODC Observatory on Smuggling of Migrants (2021). West Africa: https://storymaps.arcgis.com/stories/9b5",
     "reference"),
    ("I. Introduction ........ 3\nII. Why the Guide? ........ 4", "contents"),
    ("0 500 1,000 1,500 2,000 2,500", "chart"),
    ("Call 1-866-347-2423 to report suspicious criminal activity to the HSI Tip Line.", "content"),
    ("Lighthouse ferry posters showed a tracker http://203.0.113.7/pixel.png beside the hotline number.",
     "content"),
    ("https://www.unodc.org/documents/data-and-analysis/glotip/2024/GLOTIP2024.pdf", "reference"),
    ("91 David Okech and others, “Sex Trafficking in the Gold Mining Areas of Kédougou, Senegal”.", "reference"),
    ("The study by Okech and others, “Sex trafficking in gold mining areas”, found 1,200 victims.", "content"),
    ("Fig. 80 Number of children recruited and used by armed groups, by top African countries of "
     "recruitment, 2021–2022", "chart"),
    ("Figure 3 shows that 1,200 children were recruited in 2022, most of them in North and South Kivu, "
     "where militias recruit children as young as nine or ten years old, and the share of girls among "
     "them has grown every year since 2019 according to the reports of the United Nations verified "
     "by the country task force.", "content"),
    ("130 FAO, Crop Prospects and Food Situation: Triannual Global Report, No. 1 (Rome, March 2024).", "reference"),
    ("Climate in Africa 2022, (Geneva, WMO, 2023). 118 IOM, The Climate Change-Human Trafficking Nexus, (2016). "
     "119 FAO, The relations between climate change and child labour in agriculture.", "reference"),
    ("Children are particularly vulnerable to human trafficking because they depend on others. 2 New research "
     "shows that children who have experienced abuse are vulnerable. 3 Children of military families move often.",
     "content"),
    ("20 countries reported victims of forced labour in 2022, most of them in West Africa.", "content"),
    ("Figure 3 shows that most detected victims in 2022 were girls.", "content"),
    ("15 Member States reported an increase in child victims (UNODC, 2022).", "content"),
], ids=["sentence", "bare-heading", "bibliography", "endnote-url", "contents", "chart-ticks", "phone-number",
        "sentence-with-link", "bare-link", "endnote-and-others", "sentence-citing-and-others", "figure-caption",
        "long-text-opening-with-a-figure", "numbered-endnote", "endnotes-run-together",
        "text-with-footnote-numbers", "sentence-opening-with-a-number", "sentence-about-a-figure",
        "sentence-opening-with-a-number-citing-a-source"])
def test_passage_kind(text, kind):
    assert passage_kind(text) == kind


def test_running_head_is_a_short_line_repeated_on_several_pages():
    assert passage_kind("Global Report on Trafficking in Persons 2024", pages_with_same_text=3) == "running-head"
    assert passage_kind("Global Report on Trafficking in Persons 2024", pages_with_same_text=1) == "content"


def _passage(pid: str, text: str, page: int = 1, report: str = "r.pdf", title: str = "R") -> Passage:
    return Passage(id=pid, report=report, title=title, year=None, text=text, page=page, page_end=page,
                   page_label=str(page), page_end_label=str(page), section=None, speaker=None,
                   organisation=None, part=None)


def test_mark_kinds_counts_repeats_across_pages_and_keeps_known_kinds():
    head = "II — Trafficking in persons in and from Africa"
    passages = [_passage(f"r:p{n}:1", f"{head} {60 + n}", page=n) for n in (1, 2, 3)] + \
        [_passage("r:p3:2", "Algeria 850 2,382 2,815", page=3)]
    assert [p.kind for p in mark_kinds(passages, known={"r:p3:2": "table"})] == \
        ["running-head", "running-head", "running-head", "table"]


def test_front_matter_and_a_cover_are_marked_as_titles():
    """Before a report's first page reference (the extract's preface) and a first page that mostly
    repeats the title: they describe the report rather than say what it says."""
    title = "How to Talk to Youth about Human Trafficking"
    passages = [_passage("r:p0:1", "This document extracts key data for Kukësi Qark.", title=title),
                _passage("r:p1:1", "HOW TO TALK TO YOUTH ABOUT HUMAN TRAFFICKING A Guide", page=1, title=title),
                _passage("r:p1:2", "Traffickers target youth who are looking for work abroad.", page=1, title=title),
                _passage("r:p2:1", "Youth about human trafficking: how to talk", page=2, title=title)]
    passages[0] = Passage(**{**passages[0].to_json(), "page": None, "page_end": None, "page_label": None})
    assert [p.kind for p in mark_kinds(passages)] == ["title", "title", "content", "heading"]


def test_short_fragments_on_a_page_of_notes_are_references():
    """A page where most passages are notes: a fragment cut by the layout ("Sudan”, 10 September
    2018.") is a note too, while on a page of text the same fragment stays content."""
    notes = [_passage(f"r:p9:{n}", f"{80 + n} UNODC, “Gold Trafficking in the Sahel”, (Vienna, UNODC, 2023).", 9)
             for n in range(4)]
    fragment = _passage("r:p9:9", "Sudan”, 10 September 2018.", 9)
    text = [_passage(f"r:p3:{n}", "Traffickers recruit victims through false job offers abroad.", 3) for n in range(4)]
    marked = mark_kinds(notes + [fragment] + text + [_passage("r:p3:9", "Sudan”, 10 September 2018.", 3)])
    assert [p.kind for p in marked] == ["reference"] * 5 + ["content"] * 5


def test_a_report_without_pages_has_no_front_matter():
    """A Word report cites paragraphs, not pages: none of its passages is front matter."""
    word = Passage(id="d:1", report="d.docx", title="D", year=None, text="This report covers Kukës in 2024.",
                   page=None, page_end=None, page_label=None, page_end_label=None, section=None, speaker=None,
                   organisation=None, part=None, paragraph=1)
    assert [p.kind for p in mark_kinds([word])] == ["content"]


@pytest.mark.parametrize("question, terms", [
    ("How many victims were detected in Bangladesh in 2022?", ["Bangladesh", "2022"]),
    ("What is the goal of Project iGuardian?", ["Project", "iGuardian"]),
    ("What did Mr. Azem Tema say about the bylaws?", ["Azem", "Tema"]),
    ("How do I bake sourdough bread?", []),
    ("How much was paid, $11,000?", ["$11,000"]),
    ("To which number can an SMS about trafficking be sent?", []),
], ids=["country-year", "inner-capital", "title-skipped", "none", "money", "common-initialism"])
def test_key_terms(question, terms):
    assert [t.text for t in key_terms(question)] == terms


@pytest.mark.parametrize("term, text, found", [
    ("DRC", "the Democratic Republic of the Congo reported", True),
    ("Afrika", "victims from Africa were detected", True),
    ("Kukës", "the Kukes region", True),
    ("1500", "distributed 1,500 flyers", True),
    ("Moldova", "victims from Morocco were detected", False),
    ("2010", "in 2016 and 2011", False),
    ("30", "990 million under the age of 30.2 By 2050, Africa will grow", True),
    ("30", "the rate was 30.2 per cent", False),
], ids=["initialism", "albanian-spelling", "accent", "thousands-separator", "other-country", "other-year",
        "footnote-mark-glued", "decimal"])
def test_vocabulary_matches_spellings_and_initialisms(term, text, found):
    kind = "year" if term.isdigit() and len(term) == 4 and term.startswith(("19", "20")) and term != "1500" \
        else "number" if term[0].isdigit() else "name"
    assert Vocabulary.of([text]).has(KeyTerm(term, term.casefold().replace("ë", "e"), kind)) is found


def test_missing_terms_need_one_window_holding_them_all():
    terms = key_terms("How many victims were detected in Bangladesh in 2022?")
    apart = [["People from Syria, Bangladesh and Pakistan"], ["In 2022, 772 victims were detected"]]
    together = apart + [["In 2022, Bangladesh detected 40 victims"]]
    assert [t.text for t in missing_terms(terms, apart)] == ["2022"]
    assert missing_terms(terms, together) == ()


def test_table_rows_keep_caption_and_header():
    lines = ["Some prose before the table.",
             "Table 4. Detected victims of trafficking for forced labour, North Africa, 2019-2022",
             "Country 2019 2020 2021 2022 Change",
             "Algeria 850 2,382 2,815 271 -68%",
             "Egypt 404 3,857 3,458 714 +77%",
             "Libya 20 3,688 620 1,797 +8885%",
             "Source: synthetic data."]
    assert find_tables(lines) == [Table(
        start=1, end=6, caption=lines[1], header=lines[2], rows=tuple(lines[3:6]))]
    assert find_tables(lines)[0].passages(rows_per_passage=2) == [
        [lines[1], lines[2], lines[3], lines[4]], [lines[1], lines[2], lines[5]]]


def test_a_wide_tables_passages_hold_only_the_rows_that_fit_with_its_caption_and_header():
    """A passage the splitter would cut (over its word limit) would leave rows without their
    header; fewer rows per passage keep every figure under its column names."""
    caption, header = "Table 7. Revenue by segment", "Segment Q1 Q2 Q3 Q4 FY"
    rows = ("North 1,204 1,310 1,498 1,602 5,614", "South 804 910 1,098 1,202 4,014",
            "East 604 710 898 1,002 3,214")
    table = Table(start=0, end=5, caption=caption, header=header, rows=rows)
    # caption and header: 11 words; each row 11 ("1,204" counts as two)
    assert table.passages(rows_per_passage=4, max_words=33) == [
        [caption, header, rows[0], rows[1]], [caption, header, rows[2]]]
    assert table.passages(rows_per_passage=4, max_words=5) == [[caption, header, row] for row in rows]


@pytest.mark.parametrize("line, row", [
    ("Algeria 850 2,382 2,815 271 -68%", True),
    ("Country 2019 2020 2021 2022 Change", False),
    ("In 2022, some 15,000 victims from 40 countries were detected outside Africa.", False),
], ids=["row", "header-of-years", "sentence-with-numbers"])
def test_is_table_row(line, row):
    assert is_table_row(line) is row


def test_named_report_is_the_one_whose_title_words_the_question_uses():
    passages = [_passage("a:p1:1", "x", report="Parent Resource Guide.pdf", title="Parent Resource Guide"),
                _passage("b:p1:1", "x", report="SRO.pdf", title="Response Guide for School Resource Officers"),
                _passage("c:p1:1", "x", report="glotip.pdf", title="Global Report on Trafficking in Persons 2024")]
    words = rerank.report_words(passages)
    assert rerank.named_report("According to the school resource officer guide, why?", words) == "SRO.pdf"
    assert rerank.named_report("How many victims were detected?", words) is None
    # A backend holding only some rows in memory (PostgreSQL) reads the words from the shelf's titles.
    titles = rerank.words_of_titles({p.report: p.title for p in passages})
    assert rerank.named_report("According to the school resource officer guide, why?", titles) == "SRO.pdf"


def test_within_report_query_drops_the_words_that_name_the_report():
    passages = [_passage("a:p1:1", "x", report="Parent Resource Guide.pdf", title="Parent Resource Guide"),
                _passage("b:p1:1", "x", report="Retail.pdf", title="Awareness Guide for Convenience Retail Employees"),
                _passage("c:p1:1", "x", report="glotip.pdf", title="Global Report on Trafficking in Persons 2024")]
    def within(question: str) -> str:
        named = rerank.named_report(question, rerank.report_words(passages))
        return rerank.within_report_query(question, rerank.report_words(passages).by_report.get(named))

    assert within("Which purchases at a convenience retail store are indicators?") \
        == "Which purchases at a store are indicators?"
    # No report named: the question is asked as it is.
    assert within("Which purchases are indicators?") == "Which purchases are indicators?"
    # Too little would be left: as it is.
    assert within("convenience retail employees?") == "convenience retail employees?"


def test_a_title_word_most_reports_use_in_their_texts_names_none_of_them():
    passages = [_passage("a:p1:1", "x", report="annex.pdf", title="Annex: detected victims by country"),
                _passage("b:p1:1", "x", report="kukes.txt", title="Annual Conference Kukes"),
                _passage("c:p1:1", "x", report="glotip.pdf", title="Global Report on Trafficking in Persons")]
    question = "Through which countries do victims pass from Kukes to Western Europe?"
    # By titles alone, "victims" and "countries" name the annex ...
    assert rerank.named_report(question, rerank.report_words(passages)) == "annex.pdf"
    # ... but all three reports' texts use them: then the question names no report.
    in_texts = {"victim": 3, "countri": 3, "kuke": 1}
    assert rerank.named_report(question, rerank.report_words(passages), spread=lambda w: in_texts.get(w, 1)) is None


@pytest.mark.parametrize("question, names", [
    ("Through which countries do victims pass from Kukës to Western Europe?", ["Kukës", "Western", "Europe"]),
    ("Who spoke for VMA Kukes?", ["VMA", "Kukes"]),
    ("VMA trained whom? And Hannah?", ["VMA", "Hannah"]),
    ("What is sextortion?", []),
    ("What did Ms. Orgocka say? And Znj. Cenaj?", ["Orgocka", "Cenaj"]),
    ("Is Albania-Kosovo-Serbia a route?", ["Albania", "Kosovo", "Serbia"]),
], ids=["place", "acronym", "sentence-starts", "none", "after-honorifics", "hyphenated"])
def test_names_in_a_question(question, names):
    assert rerank.names_in(question) == names


def test_keep_rows_sets_table_lines_apart_so_paragraph_rebuilding_keeps_them():
    from ingest.pdf_reader import paragraphs
    from ingest.tables import keep_rows

    text = "\n".join(["Table 4. Detected victims, North Africa, 2019-2022", "Country 2019 2020 2021",
                      "Algeria 850 2,382 2,815", "Egypt 404 3,857 3,458", "Libya 20 3,688 620"])
    rebuilt = paragraphs(keep_rows(text)).split("\n\n")
    assert rebuilt == text.split("\n")


def _candidates(rows, best=0.6, lexical=None):
    import numpy as np
    from index.retrieval.ranking import Candidates, SignalList
    order = np.array(rows, dtype=np.int64)
    bm25 = np.linspace(2.0, 1.0, len(rows)) if lexical is None else np.array(lexical)
    lists = {"lexical": SignalList(order, bm25.astype(np.float32)),
             "sentence": SignalList(order, np.full(len(rows), best, np.float32))}
    return Candidates(lists, {int(r): best for r in rows})


def test_rank_puts_a_reference_entry_below_the_content_that_answers():
    from index.retrieval.ranking import RankingQuery, rank
    passages = (
        _passage("g:p40:1", "Nigeria 2022 (2023). Journal of Migration, 15(4), 178–185, https://doi.org/10.1/x", 40),
        _passage("g:p9:1", "In 2022, Nigeria detected 1,200 victims of trafficking for forced labour.", 9),
        _passage("g:p11:1", "Shelters in the region offer beds to women and children.", 11))
    query = RankingQuery("How many victims did Nigeria detect in 2022?", "How many victims did Nigeria detect in 2022?",
                         "How many victims did Nigeria detect in 2022?", "en")
    # BM25 puts the reference entry a little ahead of the content (and both well ahead of the third).
    ranked = rank(query, _candidates([0, 1, 2], lexical=[2.0, 1.9, 1.0]), passages, k=3, multilingual=False)
    assert (ranked.rows, ranked.answered) == ((1, 0, 2), True)


@pytest.mark.parametrize("country, answered", [("Nigeria", True), ("Bangladesh", False)],
                         ids=["named-in-passage", "named-nowhere"])
def test_rank_refuses_a_question_whose_key_terms_no_passage_holds(country, answered):
    from index.retrieval.ranking import RankingQuery, rank
    passages = (_passage("g:p9:1", "In 2022, Nigeria detected 1,200 victims of trafficking for forced labour.", 9),
                _passage("g:p10:1", "Victims of forced labour were detected in many countries in 2022.", 10))
    q = f"How many victims of forced labour did {country} detect in 2022?"
    ranked = rank(RankingQuery(q, q, q, "en"), _candidates([0, 1]), passages, k=2, multilingual=False)
    assert ranked.answered is answered


@pytest.mark.parametrize("question, first, second, missing", [
    ("Which speakers represented VMA-Kukes and Christian Children's Fund?",
     "VMA-Kukes presented its work with mine victims.", "Christian Children's Fund worked in Tropoja.", []),
    ("Which speakers represented VMA-Kukes and Christian Children's Fund?",
     "VMA-Kukes presented its work with mine victims.", "The committee met twice.",
     ["Christian", "Children", "Fund"]),
    ("How many victims did Bangladesh detect in 2022?",
     "In 2022, Nigeria detected 1,200 victims.", "In 2019 Bangladesh adopted a law.", ["Bangladesh"]),
], ids=["two-names-two-passages", "one-name-missing", "no-names-joined"])
def test_a_question_joining_two_names_is_answered_by_the_first_two_passages(question, first, second, missing):
    """No single passage (read with its neighbours) names both organisations; the first two
    passages together do. A question that joins no names gets no such help: Bangladesh in one
    passage and 2022 in another do not answer it."""
    passages = (_passage("k:p20:1", first, 20), _passage("k:p21:1", "The conference closed at noon.", 21),
                _passage("k:p23:1", second, 23))
    assert [t.text for t in rerank.unanswered_terms(question, [0, 2], passages)] == missing


@pytest.mark.parametrize("holding, characterised", [
    ({"g.pdf": 17, "k.txt": 1}, {"g.pdf"}),
    ({"g.pdf": 9}, set()),
    ({}, set()),
    ({"small.txt": 1}, set()),
    ({"small.txt": 3}, {"small.txt"}),
    ({"unknown.pdf": 50}, set()),
], ids=["printed-all-through", "printed-here-and-there", "printed-nowhere", "once-in-a-small-report",
        "three-times-in-a-small-report", "report-of-unknown-size"])
def test_a_name_characterises_the_reports_printing_it_in_a_tenth_of_their_passages(holding, characterised):
    sizes = {"g.pdf": 100, "k.txt": 60, "small.txt": 8}
    assert rerank.characterising_reports(holding, sizes) == characterised


@pytest.mark.parametrize("characterises, missing", [
    (frozenset({"g.pdf"}), []),
    (frozenset({"k.txt"}), ["UNODC"]),
    (frozenset(), ["UNODC"]),
], ids=["the-passages-report", "another-report", "no-report"])
def test_a_name_a_report_is_about_is_held_by_each_of_its_passages(characterises, missing):
    """"According to the UNODC global report …": the answering passage need not repeat the publisher
    the report prints all through; a name only another report is about is still missing, and so is
    a year (only names are read so)."""
    passages = (_passage("g:p12:1", "In 2023, between 4,500 and 5,000 children were recruited by armed groups.",
                         12, report="g.pdf"),)
    question = "How many children did armed groups recruit in 2023, according to UNODC?"
    found = rerank.unanswered_terms(question, [0], passages, characterised=lambda name: characterises)
    assert [t.text for t in found] == missing
    assert [t.text for t in rerank.unanswered_terms(question.replace("2023", "2019"), [0], passages,
                                                    characterised=lambda name: frozenset({"g.pdf"}))] == ["2019"]


@pytest.mark.parametrize("question, terms", [
    ("Cili është numri i Linjës Kombëtare kundër Trafikimit?", []),
    ("Kush u bë burim referimi për Fondacionin për Zgjidhjen e Konflikteve?", []),
    ("Çfarë zbatoi Save the Children në Tropojë?", ["Save", "Children", "Tropoja"]),
    ("Çfarë projekti zbatoi World Vision në Lezhë?", ["World", "Vision", "Lezha"]),
    ("Sa strehëza ka në Rrëshen?", ["Rrëshen"]),
    ("Çfarë tha Ermira Çela për strehëzat?", ["Ermira", "Çela"]),
], ids=["albanian-words-of-a-name", "inflected-words", "english-name", "town-in-english", "town-not-listed",
        "person"])
def test_capitalised_albanian_words_are_not_names_but_places_and_english_names_are(question, terms):
    """The reports print "National Human Trafficking Hotline" in English: "Linjës Kombëtare" is not
    a name to find as written; a town is looked for by its English name."""
    assert [t.text for t in rerank.question_terms(question)] == terms


def _implied_shelf(tmp_path):
    from tests.conftest import ingest_files

    kukes = tmp_path / "kukes-2006.txt"
    kukes.write_text("[p. 1]\nThe qark of Kukes is a major transit location into Western Europe via "
                     "Albania-Kosovo-Serbia.\n\nThe committee met twice.\n", "utf-8")
    annex = tmp_path / "annex-2020.txt"
    annex.write_text("".join(f"[p. {n}]\nDetected victims of trafficking passing through countries of "
                             f"Western Europe, table {n}.\n\n" for n in range(1, 4)), "utf-8")
    ingest_files(tmp_path / "store", [kukes, annex])
    from index.embedder import HashingEmbedder
    from index.retrieval.search import Searcher
    from index.store.embedded import load_store

    return Searcher(load_store(tmp_path / "store"), HashingEmbedder())


IMPLIED_QUESTION = "Through which countries do victims pass from Kukes to Western Europe?"


def test_a_name_only_one_report_holds_implies_that_report(tmp_path):
    searcher = _implied_shelf(tmp_path)
    rq = RankingQuery(IMPLIED_QUESTION, IMPLIED_QUESTION, IMPLIED_QUESTION, "en")
    assert searcher._named_and_implied(rq) == (None, "kukes-2006.txt")


def test_the_implied_report_wins_a_near_tie_and_only_a_near_tie(monkeypatch):
    """A prior, not an override: the fusion's scores are scaled to each signal's list, so a
    passage well ahead stays ahead; one a little behind moves up."""
    monkeypatch.setattr(rerank, "QUESTION_WORD_WEIGHT", 0.0)
    annex = _passage("annex:p1:1", "Detected victims of trafficking passing through countries of Western Europe.", 1)
    kukes = _passage("kukes:p1:1", "The qark of Kukes is a major transit location into Western Europe.",
                     report="kukes-2006.txt")
    rows = np.array([0, 1])
    near = rerank.adjust(IMPLIED_QUESTION, rows, np.array([1.0, 0.9]), [annex, kukes], implied="kukes-2006.txt")
    far = rerank.adjust(IMPLIED_QUESTION, rows, np.array([2.0, 0.9]), [annex, kukes], implied="kukes-2006.txt")
    first = [[annex, kukes][int(np.argmax(scores))].report for scores in (near, far)]
    assert first == ["kukes-2006.txt", "r.pdf"]


@pytest.mark.parametrize("question, boosted", [
    ("Who presented the child protection unit?", True),
    ("Who spoke for VMA Kukes?", True),
    ("Kush e prezantoi Njësinë e Mbrojtjes së Fëmijëve?", True),
    ("Who partnered with the Parents Associations?", False),
    ("What did the presenter say about funding?", False),
    ("Who followed up on the victims after their return?", False),
    ("Who was present at the border crossing?", False),
    ("Which speaker presented the school-based prevention work?", True),
    ("Which risk factor concerns gangs?", False),
], ids=["who-presented", "who-spoke", "albanian", "who-other-verb", "not-who", "followed", "present-adjective",
        "which-speaker", "which-other"])
def test_a_who_presented_question_lifts_the_line_naming_the_presenter(question, boosted, monkeypatch):
    monkeypatch.setattr(rerank, "QUESTION_WORD_WEIGHT", 0.0)

    def passage(pid: str, text: str) -> Passage:
        return Passage(id=pid, report="r.txt", title="R", year=2006, text=text, page=1, page_end=1,
                       page_label="1", page_end_label=None, section="Child Protection Unit",
                       speaker="Ms. Klodiana Pacara", organisation="Kukes Municipality", part="presentation",
                       kind="content")

    passages = [passage("r:p1:1", "The unit offers preventative services to children at risk (Pacaraj Street)."),
                passage("r:p1:2", "Child Protection Unit — Ms. Klodiana Pacara, Kukes Municipality")]
    assert [rerank.names_its_speaker(p) for p in passages] == [False, True]  # the whole surname only
    fused = np.array([0.05, 0.04])
    adjusted = rerank.adjust(question, np.array([0, 1]), fused, passages)
    assert adjusted.tolist() == ([0.05, 0.04 * rerank.PRESENTER_BOOST] if boosted else [0.05, 0.04])


@pytest.mark.parametrize("scores, depth, want", [
    ([3.0, 2.0, 1.0], 100, [1.0, 0.5, 0.0]),
    ([4.0, 3.0, 2.0, 1.0], 3, [1.0, 0.5, 0.0, 0.0]),
    ([2.0, 2.0, 1.0], 2, [1.0, 1.0, 0.0]),
    ([], 100, []),
], ids=["to-the-last", "stops-at-its-depth", "equal-at-the-top", "empty"])
def test_each_signal_is_scaled_between_its_best_and_its_depth(scores, depth, want, monkeypatch):
    from index.retrieval import ranking
    monkeypatch.setattr(ranking, "SCALE_DEPTH", depth)
    assert ranking.scaled(np.array(scores)).tolist() == want


@pytest.mark.parametrize("close_row, answered", [(0, True), (2, True), (3, False)],
                         ids=["first", "third", "fourth"])
def test_a_question_is_answered_when_one_of_the_first_three_passages_says_it(close_row, answered):
    from index.retrieval.ranking import Candidates, RankingQuery, SignalList, rank
    passages = tuple(_passage(f"g:p{n}:1", f"Passage {n} about victims in Africa.", n) for n in range(1, 6))
    rows = np.arange(5, dtype=np.int64)
    lists = {"lexical": SignalList(rows, np.array([5.0, 4.0, 3.0, 2.0, 1.0], np.float32))}
    best = {int(r): (0.6 if r == close_row else 0.1) for r in rows}
    q = "How many victims live in Africa?"
    ranked = rank(RankingQuery(q, q, q, "en"), Candidates(lists, best), passages, k=5, multilingual=False)
    assert (ranked.rows, ranked.answered) == ((0, 1, 2, 3, 4), answered)


@pytest.mark.parametrize("close_row, answered", [(1, True), (3, False)], ids=["second", "fourth"])
def test_an_albanian_question_the_vocabulary_cannot_read_is_answered_by_the_multilingual_model(close_row, answered):
    """The multilingual model reads the question as written: a clear match among the first three
    passages answers it (the vocabulary knows too few of its words: "shpëtoi", "minierat")."""
    from index.retrieval.query import gloss_coverage
    from index.retrieval.ranking import (MIN_GLOSS_COVERAGE, MULTILINGUAL_ANSWER_THRESHOLD, Candidates,
                                         RankingQuery, SignalList, answers)
    q = "Sa fëmijë shpëtoi Interpoli nga minierat e arit në Sudan?"
    assert gloss_coverage(q) < MIN_GLOSS_COVERAGE
    rows = np.arange(5, dtype=np.int64)
    scores = np.array([MULTILINGUAL_ANSWER_THRESHOLD + 0.05 if r == close_row else 0.5 for r in rows], np.float32)
    order = np.argsort(-scores, kind="stable")
    candidates = Candidates({"multilingual": SignalList(rows[order], scores[order])}, {int(r): 0.1 for r in rows})
    assert answers(RankingQuery(q, q, q, "sq"), tuple(int(r) for r in rows), candidates) is answered


@pytest.mark.parametrize("question, title_factor", [
    ("Who presented the child protection unit?", rerank.PRESENTER_BOOST),
    ("What does the child protection unit offer?", rerank.KIND_PRIOR["title"]),
], ids=["who-presented", "what"])
def test_a_section_title_ranks_below_content_unless_the_question_asks_who_presented(question, title_factor,
                                                                                       monkeypatch):
    monkeypatch.setattr(rerank, "QUESTION_WORD_WEIGHT", 0.0)

    def passage(pid: str, text: str, kind: str) -> Passage:
        return Passage(id=pid, report="r.txt", title="R", year=2006, text=text, page=1, page_end=1,
                       page_label="1", page_end_label=None, section="Child Protection Unit",
                       speaker="Ms. Klodiana Pacara", organisation="Kukes Municipality", part="presentation",
                       kind=kind)

    passages = [passage("r:p1:1", "Child Protection Unit — Ms. Klodiana Pacara, Kukes Municipality", "title"),
                passage("r:p1:2", "The unit offers preventative services to children at risk.", "content")]
    adjusted = rerank.adjust(question, np.array([0, 1]), np.array([0.05, 0.04]), passages)
    assert adjusted.tolist() == [0.05 * title_factor, 0.04]


def _section_passage(pid: str, text: str, section: str, speaker: str, kind: str = "content") -> Passage:
    return Passage(id=pid, report="r.txt", title="R", year=2006, text=text, page=1, page_end=1, page_label="1",
                   page_end_label=None, section=section, speaker=speaker, organisation=None,
                   part="presentation", kind=kind)


@pytest.mark.parametrize("question, first", [
    ("Who talked about mediation between victims and their families?", 2),
    ("What did the mediation project do for victims and their families?", 0),
    ("Who should victims talk to about mediation with their families?", 0),
    ("Who gave the presentation on mediation between victims and their families?", 2),
    ("Who should give a talk on mediation between victims and their families?", 0),
    ("Who made the decision on mediation after the presentation to victims and their families?", 0),
    ("Cilën organizatë përfaqësonte folësi për ndërmjetësimin mes viktimave dhe familjeve?", 2),
    ("Cila organizatë duhet të përfaqësojë viktimat në ndërmjetësimin me familjet?", 0),
], ids=["who-talked", "what", "who-should", "who-gave-a-presentation", "who-should-give-a-talk",
        "who-made-a-decision", "albanian-which-organisation-represented", "albanian-should-represent"])
def test_a_presenter_question_puts_the_best_sections_presenter_line_first(question, first):
    """However far behind the content, the presenter's line of the best passage's section comes
    first; the line of another section does not move."""
    mediation, schools = "Mediation and conflict resolution", "School-based prevention"
    passages = [_section_passage("r:1", "The project mediated between victims and their families.", mediation,
                                 "Mr. Oltion Kadaifciu"),
                _section_passage("r:2", "School-based prevention — Ms. Aida Orgocka", schools, "Ms. Aida Orgocka",
                                 "title"),
                _section_passage("r:3", "Mediation and conflict resolution — Mr. Oltion Kadaifciu, AFCR", mediation,
                                 "Mr. Oltion Kadaifciu", "title")]
    adjusted = rerank.adjust(question, np.array([0, 1, 2]), np.array([0.9, 0.5, 0.1]), passages)
    assert int(np.argmax(adjusted)) == first


def test_a_candidate_holding_the_words_its_rivals_lack_gains():
    """Within one section every passage shares its title's words: the one that also holds the
    question's other words ("villages", "successes") gains; words all candidates hold weigh little."""
    section = "School-based prevention activities"
    passages = [_section_passage("r:1", "The project encouraged communities to discourage child migration.",
                                 section, "Ms. Aida Orgocka"),
                _section_passage("r:2", "In the villages of Shishtavec and Gjinaj there have been many successes.",
                                 section, "Ms. Aida Orgocka")]
    question = "In which villages did the school-based prevention project report successes?"
    fused = np.array([1.0, 0.95])
    adjusted = rerank.adjust(question, np.array([0, 1]), fused, passages)
    gains = (adjusted / fused).tolist()
    assert gains[0] < gains[1] and int(np.argmax(adjusted)) == 1


CAPTIONED_TABLE = ("Table 5. Detected victims of trafficking for forced labour, Western Balkans\n"
                   "Country 2019 2020 2021\nAlbania 1,082 1,977 2,148\nBosnia and Herz. 1,788 2,722 3,984")
ROWS_ONLY = "Kosovo 826 3,454 293\nMontenegro 1,242 1,143 559"


@pytest.mark.parametrize("text, kind, expected", [
    (CAPTIONED_TABLE, "table", 0.3),
    (CAPTIONED_TABLE, "content", 0.6),
    (ROWS_ONLY, "table", 0.6),
], ids=["table-read-by-caption-and-header", "text-read-whole", "rows-only-read-by-rows"])
def test_the_verdict_reads_a_table_by_its_caption_and_header_not_its_rows(text, kind, expected):
    """A row is a name and figures, close to any question naming the place; a table answers
    through what its caption and header say, its rows found by line even where a row's sentences
    split at an abbreviation ("Bosnia and Herz."). Text that is not a table is read whole; a
    table's piece without caption or header (a cut or continued table) by its rows."""
    from index.retrieval.ranking import verdict_sentence_score
    from index.text import sentence_spans

    passage = Passage(id="annex:p5:1", report="annex.pdf", title="Annex", year=None, text=text, page=5,
                      page_end=5, page_label="5", page_end_label=None, section=None, speaker=None,
                      organisation=None, part=None, kind=kind)
    first_row = text.find("Albania") if "Albania" in text else 0
    starts = [start for start, _ in sentence_spans(text)]
    scores = [0.3 if start < first_row else 0.6 for start in starts]
    assert verdict_sentence_score(passage, starts, scores) == expected


def test_a_question_about_football_is_not_answered_by_a_table_row_naming_albania(tmp_path: Path):
    """With the real model, "Albania 1,082 …" alone is about as close to the question as an answer
    (cosine 0.3-0.4); the verdict reads the table's caption and header, which are not."""
    from index.retrieval.search import open_searcher
    from ingest.pipeline import IngestRun

    annex = tmp_path / "annex.txt"
    annex.write_text("[p. 5]\nTable 5. Detected victims of trafficking for forced labour, Western Balkans, by country\n"
                     "Country 2019 2020 2021 2022\nAlbania 1,082 1,977 2,148 3,605\n"
                     "Bosnia and Herzegovina 1,788 2,722 3,984 1,702\nKosovo 826 3,454 293 1,237\n"
                     "Montenegro 1,242 1,143 559 2,315\n", "utf-8")
    assert IngestRun(tmp_path / "store", multilingual_factory=lambda: None).execute([annex]).ok
    searcher = open_searcher(tmp_path / "store")
    [table] = [p for p in searcher.store.passages if "Albania" in p.text]
    assert table.kind == "table"
    assert searcher.ask("Which football team won the Albanian league?").answered is False
    assert searcher.ask("How many victims of forced labour were detected in Albania in 2021?").answered is True
