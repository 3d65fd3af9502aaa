"""The saved workspace (SQLite): conversations and named baskets per user, stale quotes."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from index.quotes.basket import Basket
from index.quotes.workspace import (CURRENT, DEFAULT_BASKET, REMOVED, REPLACED, WORKSPACE_FILE, BadBasketName,
                                    BasketNameTaken, UnknownBasket, Workspace, WorkspaceUnreadable,
                                    answer_from_json, answer_to_json, item_status)
from index.retrieval.search import Answer, Filters, Hit
from tests.test_basket import FLYERS as ACTIONS, REPORT, TRANSIT


def answer(question: str = "Where do victims pass?") -> Answer:
    hit = Hit(rank=1, score=0.5, passage=TRANSIT, quote="Victims pass through Kukës to Kosovo.",
              quote_start=47, similarity=0.61)
    return Answer(question, True, (hit,), "where do victims pass", Filters(reports=("a.txt",), year=2006))


def test_answer_round_trips_through_json():
    assert answer_from_json(answer_to_json(answer())) == answer()


def test_conversation_survives_reopening(tmp_path: Path):
    ws = Workspace.open(tmp_path)
    ws.add_answer(answer("first"))
    ws.add_answer(answer("second"))
    again = Workspace.open(tmp_path)
    assert [a.question for a in again.answers()] == ["first", "second"]
    assert again.answers()[0] == answer("first")
    assert (tmp_path / WORKSPACE_FILE).is_file()


def test_new_conversation_starts_empty(tmp_path: Path):
    ws = Workspace.open(tmp_path)
    ws.add_answer(answer())
    ws.new_conversation()
    assert ws.answers() == []


def test_each_user_has_their_own_work(tmp_path: Path):
    ana, ben = Workspace.open(tmp_path, "ana@ngo.al"), Workspace.open(tmp_path, "ben@ngo.al")
    ana.add_answer(answer())
    ana_basket = ana.current_basket().id
    ana.save_basket(ana_basket, Basket().add(TRANSIT, REPORT))
    assert ben.answers() == []
    assert [(b.name, b.items) for b in ben.baskets()] == [(DEFAULT_BASKET, 0)]
    with pytest.raises(UnknownBasket):
        ben.load_basket(ana_basket)
    with pytest.raises(UnknownBasket):
        ben.delete_basket(ana_basket)


def test_named_baskets_are_created_renamed_and_deleted(tmp_path: Path):
    ws = Workspace.open(tmp_path)
    first = ws.current_basket()
    second = ws.create_basket("  Proposal for the   shelter ")
    assert ws.current_basket().id == second
    ws.rename_basket(second, "Proposal for Kukës")
    with pytest.raises(BasketNameTaken):
        ws.create_basket(DEFAULT_BASKET)
    with pytest.raises(BadBasketName):
        ws.rename_basket(second, "   ")
    assert [(b.name, b.items) for b in ws.baskets()] == [(DEFAULT_BASKET, 0), ("Proposal for Kukës", 0)]
    ws.delete_basket(second)
    assert [b.id for b in ws.baskets()] == [first.id]
    assert ws.current_basket().id == first.id


def test_basket_items_keep_order_notes_offsets_and_provenance(tmp_path: Path):
    ws = Workspace.open(tmp_path)
    basket = (Basket().add(TRANSIT, REPORT, "Victims pass through Kukës to Kosovo.")
              .add(ACTIONS, REPORT).edit_note(2, "for section 3").move_up(2))
    basket_id = ws.current_basket().id
    ws.save_basket(basket_id, basket)
    loaded = Workspace.open(tmp_path).load_basket(basket_id)
    assert loaded == basket
    assert [(i.passage.id, i.quote_start, i.report_sha256, i.passage.page) for i in loaded] == [
        (ACTIONS.id, 0, REPORT.sha256, 23), (TRANSIT.id, 47, REPORT.sha256, 38)]
    assert loaded.add(TRANSIT, REPORT).items[-1].id == 3  # ids go on after a reload


def test_quote_of_a_replaced_or_removed_report_is_stale(tmp_path: Path):
    item = Basket().add(TRANSIT, REPORT).items[0]
    assert item_status(item, [REPORT]) == CURRENT
    assert item_status(item, [replace(REPORT, sha256="ef" * 32)]) == REPLACED
    assert item_status(item, []) == REMOVED


def test_a_damaged_file_names_itself_and_the_fix(tmp_path: Path):
    (tmp_path / WORKSPACE_FILE).write_bytes(b"not a database at all" * 100)
    with pytest.raises(WorkspaceUnreadable, match="move the file aside") as caught:
        Workspace.open(tmp_path)
    assert str(tmp_path / WORKSPACE_FILE) in str(caught.value)


def test_the_file_holds_json_not_pickles(tmp_path: Path):
    ws = Workspace.open(tmp_path)
    ws.save_basket(ws.current_basket().id, Basket().add(TRANSIT, REPORT))
    with sqlite3.connect(tmp_path / WORKSPACE_FILE) as db:
        (data,) = db.execute("SELECT data FROM basket_items").fetchone()
    assert data.startswith("{") and "Kukës" in data
