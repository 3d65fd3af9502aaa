"""Search behaviour with the real packaged models on the bundled corpus."""

from __future__ import annotations

import numpy as np
import pytest

from index.retrieval.evaluate import load_questions
from index.retrieval.followup import interpret
from index.retrieval.query import gloss, gloss_coverage, language_of
from index.retrieval.search import Filters, best_span
from index.text import sentence_spans

from tests.conftest import DATA


@pytest.fixture(scope="module")
def dev_answers(real_searcher):
    questions = load_questions(DATA / "dev_questions.jsonl") + load_questions(DATA / "dev_noanswer.jsonl")
    return [(q, real_searcher.ask(q.q, k=10)) for q in questions]


def test_every_quote_is_an_exact_substring_of_its_passage(dev_answers):
    hits = [hit for _, answer in dev_answers for hit in answer.hits]
    assert len(hits) == 270
    assert all(hit.passage.text[hit.quote_start:hit.quote_end] == hit.quote and hit.quote for hit in hits)


def test_unanswerable_dev_questions_are_not_answered(dev_answers):
    assert [(q.id, a.answered) for q, a in dev_answers if not q.answerable] == [
        ("dn1", False), ("dn2", False), ("dn3", False)]


@pytest.mark.parametrize(
    "question, page, quote_part",
    [
        ("How many flyers were distributed?", 23, "1,500 flyers and 150 posters"),
        ("Sa fletëpalosje u shpërndanë?", 23, "1,500 flyers and 150 posters"),
        ("Which routes make Kukës a transit location?", 38, "Albania-Kosovo-Serbia"),
    ],
    ids=["english", "albanian", "accented-place-name"],
)
def test_top_hit_cites_the_right_page(real_searcher, question, page, quote_part):
    top = real_searcher.ask(question).hits[0]
    assert (top.passage.page, quote_part in top.quote) == (page, True)


def test_follow_up_borrows_the_previous_answer(real_searcher):
    first = real_searcher.ask("How many flyers were distributed?")
    understood = interpret("who presented that?", first)
    answer = real_searcher.ask("who presented that?", interpreted=understood.interpreted)
    assert understood.reason == "refers to the previous answer"
    assert answer.interpreted == understood.interpreted != "who presented that?"
    # A "who presented" question lifts the line that names the presenter (rerank.PRESENTER_BOOST).
    assert "Ms. Aida Orgocka" in answer.hits[0].passage.text


def test_filters_restrict_hits(real_searcher):
    answer = real_searcher.ask("What should be improved?", filters=Filters(organisation="VMA"))
    assert {h.passage.organisation for h in answer.hits} == {"VMA-Kukes"}
    assert real_searcher.ask("flyers", filters=Filters(year=1999)).hits == ()


@pytest.mark.parametrize(
    "question, language",
    [("Sa fletëpalosje u shpërndanë?", "sq"), ("Which routes make Kukës a transit location?", "en"),
     ("Kush foli për komitetin?", "sq"), ("Who spoke for VMA Kukes?", "en")],
    ids=["albanian", "english-with-accented-name", "albanian-no-diacritic-question-word", "english"],
)
def test_language_of(question, language):
    assert language_of(question) == language


def test_gloss_keeps_names_and_translates_domain_words():
    assert gloss("Sa fletëpalosje u shpërndanë në Kukës?") == "how many flyers leaflets distributed Kukës"


@pytest.mark.parametrize("question, glossed, terms", [
    ("Sa viktima u zbuluan në Shqipëri në vitin 2020?", "how many victims detected discovered Albania year 2020",
     ["Albania", "2020"]),
    ("Sa fëmijë u rekrutuan në Republikën Demokratike të Kongos?",
     "how many children child recruitment recruited recruit Republic Democratic Congo",
     ["Republic", "Democratic", "Congo"]),
    ("Keni parë viktima nga Kosova?", "Keni parë victims Kosovo", ["Kosovo"]),
    ("Indikatorët e trafikimit në Azi?", "Indikatorët trafficking Asia", ["Asia"]),
], ids=["albania", "congo", "verb-first-stays", "a-stem-needs-a-case-ending"])
def test_albanian_places_are_read_by_their_english_names(question, glossed, terms):
    """The reports print "Albania" and "Democratic Republic of the Congo": an Albanian question's
    places are glossed, and checked as key terms, by those names."""
    from index.retrieval.rerank import question_terms
    assert (gloss(question), [t.text for t in question_terms(question)]) == (glossed, terms)


@pytest.mark.parametrize(
    "question, coverage",
    [("Sa fletëpalosje u shpërndanë në Kukës?", 1.0),
     ("Ku mbahen debatet publike nga zyra e mbrojtjes së fëmijëve?", 5 / 6),
     ("Sa studentë ka observatori në Kukës?", 0.5),
     ("Çfarë moti bën nesër në Kukës?", 0.0),
     ("Kush foli në Kukës?", 1.0)],
    ids=["all-known", "one-unknown-verb", "half-known", "weather-none-known", "names-only-do-not-count"],
)
def test_gloss_coverage_counts_known_content_words(question, coverage):
    assert gloss_coverage(question) == pytest.approx(coverage)


def test_albanian_question_the_vocabulary_cannot_read_is_not_answered(real_searcher):
    """It names a place in the reports, so its English gloss matches them; it still asks about the weather."""
    answer = real_searcher.ask("Çfarë moti bën nesër në Kukës?")
    assert (answer.answered, len(answer.hits) > 0) == (False, True)


CAPTION = "Detected victims of trafficking for forced marriage, West Africa, by country, 2019-2022"
TABLE_TEXT = (f"Table 17. {CAPTION}\nCountry 2019 2020 2021 2022 Change\nBenin 444 538 1,389 1,692 +281%\n"
              "Cabo Verde 2,243 3,376 3,082 968 -57%\nGambia 85 2,471 1,144 1,567 +1744%")


@pytest.mark.parametrize("question, kind, quote", [
    ("How many victims of forced marriage did Cabo Verde detect in 2021?", "table",
     "Cabo Verde 2,243 3,376 3,082 968 -57%"),
    ("Which country of West Africa detected the most victims of forced marriage?", "table", CAPTION),
    ("How many victims of forced marriage did Cabo Verde detect in 2021?", "content", CAPTION),
], ids=["row-named", "no-row-named", "not-a-table"])
def test_a_table_quote_is_the_row_the_question_names(question, kind, quote):
    """The answer at a glance to a figure is its row, not the table's caption (which the verdict and
    the sentence scores favour: it holds the question's words)."""
    spans = sentence_spans(TABLE_TEXT)
    sentences = np.array([[0, a, b] for a, b in spans], dtype=np.int64)
    scores = np.array([0.9 if TABLE_TEXT[a:b] == CAPTION else 0.1 for a, b in spans], dtype=np.float32)
    start, end = best_span(TABLE_TEXT, sentences, 0, scores, question, kind=kind)
    assert TABLE_TEXT[start:end] == quote


def _quote(text: str, question: str, kind: str = "content", best: str | None = None) -> str:
    """best_span over `text`, the sentence `best` scoring highest by its vector."""
    spans = sentence_spans(text)
    sentences = np.array([[0, a, b] for a, b in spans], dtype=np.int64)
    scores = np.array([0.9 if text[a:b] == best else 0.1 for a, b in spans], dtype=np.float32)
    start, end = best_span(text, sentences, 0, scores, question, kind=kind)
    return text[start:end]


STORY = ("Routine Rest Stop or Something More?\nAshley works the evening shift at a convenience store. "
         "She takes note of the name and city on the ID she checks.")


@pytest.mark.parametrize("text, best, quote", [
    (STORY, "Routine Rest Stop or Something More?", "She takes note of the name and city on the ID she checks."),
    ("Risk Factors\nGang involvement is a risk factor. Poverty is another.", "Risk Factors",
     "Gang involvement is a risk factor."),
    ("Risk factors are many.\nGang involvement is one.", "Risk factors are many.", "Risk factors are many."),
    ("Risk Factors", "Risk Factors", "Risk Factors"),
    ("Poverty\nGang involvement\nRunaway youth", "Poverty", "Poverty"),
    ("Indicators include:\nPoverty", "Indicators include:", "Indicators include:\nPoverty"),
], ids=["question-heading", "heading", "first-line-a-sentence", "heading-alone", "list-first-item",
        "lead-in"])
def test_a_heading_line_over_a_passage_is_never_the_quote_alone(text, best, quote):
    """The heading holds the question's words (so the passage is found) but answers nothing."""
    assert _quote(text, "What did the cashier note in the rest stop story about gang risk factors?",
                  best=best) == quote


def test_a_short_table_caption_is_quoted_when_no_row_is_named():
    text = "Table 3. Victims by region\nRegion 2019 2020 2021\nEast 1,204 1,310 1,498\nWest 903 1,015 1,120"
    # ("Table 3." is a sentence of its own to the sentence splitter.) Not the header line.
    assert _quote(text, "Which region had the most victims?", kind="table",
                  best="Victims by region") == "Victims by region"


def test_a_section_title_with_its_presenter_is_quoted_whole():
    """"Who gave the presentation on …?" is answered by the title and the presenter line together."""
    title = ("Recent developments in the work of the Regional Committee\n"
             "Kukes—Prefect's Office (Technical Secretariat) — Mr. Azem Tema")
    question = "Who gave the presentation on recent developments in the work of the Regional Committee?"
    assert _quote(title, question, kind="title") == title
    assert _quote(title, question, best="Recent developments in the work of the Regional Committee") != title


@pytest.mark.parametrize("text, sentences", [
    ("One of his regulars goes by “Ghost.” Ghost is in his 30s.", ["One of his regulars goes by “Ghost.”",
                                                                    "Ghost is in his 30s."]),
    ("She said (as ever.) Then Mr. Tema left.", ["She said (as ever.)", "Then Mr. Tema left."]),
    ("Is he your boyfriend?” Carmen asked.", ["Is he your boyfriend?”", "Carmen asked."]),
], ids=["closing-quote", "closing-bracket", "question"])
def test_a_sentence_ends_after_its_closing_quote(text, sentences):
    """A quote is copied into a proposal as printed: its closing quotation mark is part of it."""
    assert [text[a:b] for a, b in sentence_spans(text)] == sentences


def test_a_passage_is_indexed_with_its_section_and_the_heading_within_it():
    """A testimony's later passages are found by the name over it ("Which Nevada bill did James Dold
    work to pass?"): the name is indexed with each of them, and never quoted."""
    from index.records import Passage
    from index.retrieval.context import indexed_text

    passage = Passage(id="g.pdf:p48:1", report="g.pdf", title="Guide", year=2021, text="Nevada passed the bill.",
                      page=48, page_end=48, page_label="48", page_end_label="48",
                      section="D. Survivor Testimonials", speaker=None, organisation=None, part=None,
                      subsection="James Dold")
    assert indexed_text(passage) == "D. Survivor Testimonials · James Dold\nNevada passed the bill."


CARD = ("DoD Inspector General Hotline\nHotline Phone Number:\n800-424-9098 (Toll-Free)\n703-604-8799 (Commercial)\n"
        "Hotline Complaint Form: https://www.dodig.mil/Components/DoD-Hotline/ Finally, the Department of Health "
        "and Human Services funds a 24/7 National Human Trafficking Hotline")


def test_a_title_over_short_lines_is_quoted_with_the_card_it_heads():
    """The title alone ("DoD Inspector General Hotline") scores best and says nothing: the quote is the
    card under it, up to the first long line."""
    quote = _quote(CARD, "What is the commercial phone number of the DoD Inspector General hotline?",
                   best="DoD Inspector General Hotline")
    assert quote == ("DoD Inspector General Hotline\nHotline Phone Number:\n800-424-9098 (Toll-Free)\n"
                     "703-604-8799 (Commercial)")
