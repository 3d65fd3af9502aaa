"""The quote basket: adding, ordering, notes and edited quotes, on tiny inline passages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from index.quotes.basket import (Basket, BasketItem, DuplicateQuote, EmptyQuote, ItemNotFound, QuoteNotInPassage,
                          WrongReport, items_from_hits, quote_matches_source)
from index.retrieval.search import Hit
from index.store.embedded import ReportInfo
from index.records import Passage

REPORT = ReportInfo(report="caaht-2006-kukes-extract.txt", title="2006 CAAHT Annual Conference Report",
                    year=2006, sha256="ab" * 32, kind="text", pages=70, passages=70,
                    ingested_at="2024-05-01T10:00:00+00:00", source_file="corpus/caaht-2006-kukes-extract.txt")
OTHER_REPORT = replace(REPORT, report="tiny-2009.txt", sha256="cd" * 32)

TRANSIT = Passage(
    id="caaht-2006-kukes-extract.txt:p38:1", report=REPORT.report, title=REPORT.title, year=2006,
    text="The qark of Kukes is a major transit location. Victims pass through Kukës to Kosovo.",
    page=38, page_end=38, page_label="38", page_end_label="38", section="Recent developments",
    speaker="Mr. Azem Tema", organisation="Kukes—Prefect's Office", part="presentation")
FLYERS = replace(TRANSIT, id="caaht-2006-kukes-extract.txt:p23:6", page=23, page_end=23, page_label="23",
                 page_end_label="23", text="An awareness raising campaign distributed 1,500 flyers.")
INTRO = replace(TRANSIT, id="caaht-2006-kukes-extract.txt:intro:1", page=None, page_end=None, page_label=None,
                page_end_label=None, text="This document extracts key data for Kukës.")
SECOND_SENTENCE = "Victims pass through Kukës to Kosovo."


def item(item_id: int, passage: Passage, quote: str, start: int, note: str = "") -> BasketItem:
    return BasketItem(id=item_id, passage=passage, quote=quote, quote_start=start, report_sha256=REPORT.sha256,
                      ingested_at=REPORT.ingested_at, note=note)


def three() -> Basket:
    return Basket().add(TRANSIT, REPORT).add(FLYERS, REPORT).add(INTRO, REPORT)


def test_add_whole_passage_and_a_quote_with_provenance():
    basket = Basket().add(TRANSIT, REPORT).add(TRANSIT, REPORT, SECOND_SENTENCE)
    assert basket == Basket(items=(item(1, TRANSIT, TRANSIT.text, 0), item(2, TRANSIT, SECOND_SENTENCE, 47)),
                            next_id=3)
    assert all(i.verified for i in basket)


def test_add_at_a_given_offset():
    basket = Basket().add(TRANSIT, REPORT, "Kukes", start=12)
    assert basket.items == (item(1, TRANSIT, "Kukes", 12),)


def test_adding_the_same_quote_twice_changes_nothing():
    once = Basket().add(TRANSIT, REPORT, SECOND_SENTENCE)
    assert once.add(TRANSIT, REPORT, SECOND_SENTENCE) is once
    assert once.find(TRANSIT.id, SECOND_SENTENCE) == item(1, TRANSIT, SECOND_SENTENCE, 47)
    assert once.find(TRANSIT.id, TRANSIT.text) is None


@pytest.mark.parametrize(
    "quote, start, error",
    [
        ("transit hub", None, QuoteNotInPassage),
        ("Kukes", 0, QuoteNotInPassage),
        ("Kukes", -73, QuoteNotInPassage),
        ("", None, EmptyQuote),
        ("  ", 3, EmptyQuote),
    ],
    ids=["not-in-passage", "wrong-offset", "negative-offset", "empty", "blank"],
)
def test_add_refuses_a_quote_that_is_not_the_source(quote, start, error):
    with pytest.raises(error):
        Basket().add(TRANSIT, REPORT, quote, start)


def test_add_refuses_another_reports_provenance():
    with pytest.raises(WrongReport, match="'caaht-2006-kukes-extract.txt'.*'tiny-2009.txt'"):
        Basket().add(TRANSIT, OTHER_REPORT)


def test_add_hit_takes_the_highlighted_quote():
    hit = Hit(rank=1, score=0.5, passage=TRANSIT, quote=SECOND_SENTENCE, quote_start=47, similarity=0.6)
    assert Basket().add_hit(hit, REPORT).items == (item(1, TRANSIT, SECOND_SENTENCE, 47),)


def test_add_hit_without_a_highlight_takes_the_passage():
    hit = Hit(rank=1, score=0.5, passage=FLYERS, quote="", quote_start=0, similarity=0.6)
    assert Basket().add_hit(hit, REPORT).items == (item(1, FLYERS, FLYERS.text, 0),)


def test_items_from_hits_is_an_answer_as_basket_items():
    hits = [Hit(1, 0.9, TRANSIT, SECOND_SENTENCE, 47, 0.7), Hit(2, 0.8, FLYERS, FLYERS.text, 0, 0.6),
            Hit(3, 0.7, TRANSIT, SECOND_SENTENCE, 47, 0.5)]
    assert items_from_hits(hits, [OTHER_REPORT, REPORT]) == (item(1, TRANSIT, SECOND_SENTENCE, 47),
                                                             item(2, FLYERS, FLYERS.text, 0))


def test_items_from_hits_needs_every_report():
    with pytest.raises(WrongReport, match="no report was given"):
        items_from_hits([Hit(1, 0.9, TRANSIT, SECOND_SENTENCE, 47, 0.7)], [OTHER_REPORT])


def test_remove_keeps_the_other_ids_and_never_reuses_one():
    basket = three().remove(2)
    assert [i.id for i in basket] == [1, 3]
    assert [i.id for i in basket.add(FLYERS, REPORT)] == [1, 3, 4]


@pytest.mark.parametrize(
    "operation, item_id, order",
    [
        ("move_up", 3, [1, 3, 2]),
        ("move_up", 2, [2, 1, 3]),
        ("move_up", 1, [1, 2, 3]),
        ("move_down", 1, [2, 1, 3]),
        ("move_down", 2, [1, 3, 2]),
        ("move_down", 3, [1, 2, 3]),
    ],
    ids=["up-last", "up-middle", "up-first-stays", "down-first", "down-middle", "down-last-stays"],
)
def test_move(operation, item_id, order):
    assert [i.id for i in getattr(three(), operation)(item_id)] == order


@pytest.mark.parametrize("operation", ["remove", "move_up", "move_down", "item"])
def test_unknown_item_is_named(operation):
    with pytest.raises(ItemNotFound, match="no item 9 in the quote basket"):
        getattr(three(), operation)(9)


def test_operations_leave_the_old_basket_alone():
    basket = three()
    basket.remove(1), basket.move_up(3), basket.edit_note(2, "x"), basket.edit_quote(1, "changed")
    basket.add(TRANSIT, REPORT, SECOND_SENTENCE)
    assert basket == three()


def test_edit_note_trims_only_the_ends():
    basket = three().edit_note(2, "  Use in section 2,\n“budget” — Kukës.\n")
    assert basket.item(2) == item(2, FLYERS, FLYERS.text, 0, note="Use in section 2,\n“budget” — Kukës.")


def test_shortening_a_quote_to_source_words_stays_verified():
    basket = Basket().add(TRANSIT, REPORT).edit_quote(1, "a major transit location")
    assert basket.item(1) == item(1, TRANSIT, "a major transit location", 21)
    assert basket.item(1).verified


def test_changed_words_are_kept_and_flagged():
    basket = Basket().add(TRANSIT, REPORT, SECOND_SENTENCE).edit_quote(1, "Victims pass through Kukes to Kosovo.")
    assert basket.item(1) == item(1, TRANSIT, "Victims pass through Kukes to Kosovo.", 47)
    assert not basket.item(1).verified and not quote_matches_source(basket.item(1))


def test_edit_back_to_the_source_is_verified_again():
    basket = Basket().add(TRANSIT, REPORT, SECOND_SENTENCE)
    again = basket.edit_quote(1, "edited").edit_quote(1, SECOND_SENTENCE)
    assert again == basket and again.item(1).verified


def test_edited_quote_is_found_nearest_its_old_place():
    passage = replace(TRANSIT, text="Kukes first. Then Kukes again. And Kukes last.")
    basket = Basket().add(passage, REPORT, "Then Kukes again.").edit_quote(1, "Kukes")
    assert basket.item(1).quote_start == 18


def test_edit_quote_refuses_empty_and_duplicates():
    basket = Basket().add(TRANSIT, REPORT).add(TRANSIT, REPORT, SECOND_SENTENCE)
    with pytest.raises(EmptyQuote, match="remove the item instead"):
        basket.edit_quote(1, " \n")
    with pytest.raises(DuplicateQuote, match="item 2 already holds this quote"):
        basket.edit_quote(1, SECOND_SENTENCE)
    assert basket.edit_quote(2, SECOND_SENTENCE) == basket


@pytest.mark.parametrize(
    "quote, start, verified",
    [
        (SECOND_SENTENCE, 47, True),
        (TRANSIT.text, 0, True),
        (SECOND_SENTENCE, 46, False),
        ("Victims pass through Kukes to Kosovo.", 47, False),
        ("Victims  pass through Kukës to Kosovo.", 47, False),
        ("Kosovo.", -7, False),
        ("", 0, False),
    ],
    ids=["exact", "whole", "wrong-offset", "accent-dropped", "double-space", "negative-offset", "empty"],
)
def test_quote_matches_source(quote, start, verified):
    assert quote_matches_source(item(1, TRANSIT, quote, start)) is verified


def test_citation_of_an_item_cites_its_quote():
    assert Basket().add(INTRO, REPORT).item(1).citation.quote == INTRO.text
    assert Basket().add(INTRO, REPORT).item(1).citation.pages is None
