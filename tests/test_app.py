"""The chat page's logic, driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from index.settings import INDEX_DIR_ENV

from tests.conftest import ROOT

APP = str(ROOT / "app.py")
TIMEOUT = 180


def shown_text(markdown: str) -> str:
    """What a reader sees of escaped Markdown."""
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.fixture
def app_on(monkeypatch, tmp_path_factory):
    def start(index_dir: Path, at: AppTest | None = None, *, page: str | None = None) -> AppTest:
        if index_dir.is_dir():  # a private copy: the app saves the user's work in the index directory
            copy = tmp_path_factory.mktemp("app-store") / "store"
            shutil.copytree(index_dir, copy)
            index_dir = copy
        monkeypatch.setenv(INDEX_DIR_ENV, str(index_dir))
        at = AppTest.from_file(APP, default_timeout=TIMEOUT) if at is None else at
        if page:
            at.switch_page(page)
        return at.run()
    return start


def test_no_store_shows_the_command_that_builds_it(app_on, tmp_path: Path):
    at = app_on(tmp_path / "empty")
    assert not at.exception
    [info] = at.info
    assert "python -m ingest" in info.value
    assert len(at.chat_input) == 0


def test_question_gives_cited_passages_with_pages(app_on, real_store: Path):
    at = app_on(real_store)
    at.chat_input[0].set_value("How many flyers were distributed?").run()
    assert not at.exception
    first_copy = at.code[0].value
    assert first_copy == ("“An awareness raising campaign distributed 1,500 flyers and 150 posters with "
                          "anti-trafficking messages.” — 2006 CAAHT Annual Conference Report, p. 23, "
                          "presentation by Ms. Aida Orgocka (Christian Children's Fund, Albania)")


def test_history_keeps_earlier_questions(app_on, real_store: Path):
    at = app_on(real_store)
    at.chat_input[0].set_value("How many flyers were distributed?").run()
    at.chat_input[0].set_value("Should anti-trafficking police be trained?").run()
    assert [a.question for a in at.session_state.history] == [
        "How many flyers were distributed?", "Should anti-trafficking police be trained?"]
    assert len(at.chat_message) == 4


def test_follow_up_shows_how_it_was_understood(app_on, real_store: Path):
    at = app_on(real_store)
    at.chat_input[0].set_value("How many flyers were distributed?").run()
    at.chat_input[0].set_value("who presented that?").run()
    understood = [shown_text(c.value) for c in at.caption if "Understood as" in shown_text(c.value)]
    assert understood == ["Understood as: who presented that? many flyers were distributed "
                          "School-based prevention activities"]


def test_add_quote_to_basket_and_switch_citation_style(app_on, real_store: Path):
    at = app_on(real_store)
    at.chat_input[0].set_value("How many flyers were distributed?").run()
    at.button(key="add-quote-0-1").click().run()
    [item] = at.session_state.basket.items
    assert (item.quote, item.passage.page, item.verified) == (
        "An awareness raising campaign distributed 1,500 flyers and 150 posters with anti-trafficking messages.",
        23, True)
    at.selectbox(key="style").set_value("author-date").run()
    assert at.code[0].value.endswith("(Ms. Aida Orgocka 2006, Christian Children's Fund, Albania, "
                                     "2006 CAAHT Annual Conference Report, p. 23)")


def test_an_edited_quote_is_flagged(app_on, real_store: Path):
    at = app_on(real_store)
    at.chat_input[0].set_value("How many flyers were distributed?").run()
    at.button(key="add-quote-0-1").click().run()
    [item] = at.session_state.basket.items
    at.switch_page("app_pages/basket.py").run()
    at.text_area(key=f"quote-{item.id}").set_value("An awareness campaign distributed 2,000 flyers.").run()
    [edited] = at.session_state.basket.items
    assert (edited.quote, edited.verified) == ("An awareness campaign distributed 2,000 flyers.", False)
    assert [w.value for w in at.warning] == ["Edited: this quote no longer matches the report's words."]


def test_add_pressed_long_ago_with_no_file_still_says_it_waits(app_on, tmp_path: Path):
    """A press is remembered, not dropped, while no file has arrived (the browser test
    covers the file arriving later); after the look-again period the page stays still."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["add_requested"] = time.monotonic() - 60
    app_on(tmp_path / "empty", at, page="app_pages/library.py")
    assert not at.exception
    assert [i.value for i in at.info if "Waiting for a file" in i.value] == [
        "Waiting for a file: choose or drop one above. It is added as soon as it has uploaded."]


def test_start_page_says_what_is_indexed_and_offers_examples_that_run(app_on, real_store: Path):
    from index.quotes.library import example_questions
    from index.store.embedded import load_store

    at = app_on(real_store)
    assert not at.exception
    assert re.fullmatch(r"Indexed: 1 report, 2006, \d+ pages, 63 passages\.", shown_text(at.caption[0].value))
    [examples] = at.button_group
    questions = example_questions(load_store(real_store).passages)
    assert len(examples.options) == len(questions) == 3
    examples.set_value(questions[0]).run()
    assert not at.exception
    assert len(at.chat_message) == 2
    assert [a.question for a in at.session_state.history] == [questions[0]]
    assert at.code[0].value.startswith("“")


def test_best_quote_first_other_sources_collapsed(app_on, real_store: Path):
    at = app_on(real_store)
    at.chat_input[0].set_value("How many flyers were distributed?").run()
    assert at.code[0].value.startswith("“An awareness raising campaign distributed 1,500 flyers")
    sources = [e for e in at.expander if re.match(r"\d\. ", shown_text(e.label))]
    assert [shown_text(e.label)[:2] for e in sources] == ["2.", "3.", "4.", "5."]
    assert all(not e.proto.expanded for e in sources)


def test_conversation_and_basket_come_back_in_a_new_session(app_on, real_store: Path):
    at = app_on(real_store)
    at.chat_input[0].set_value("How many flyers were distributed?").run()
    at.button(key="add-quote-0-1").click().run()
    again = AppTest.from_file(APP, default_timeout=TIMEOUT).run()  # the same index directory, a new session
    assert [a.question for a in again.session_state.history] == ["How many flyers were distributed?"]
    assert [i.passage.page for i in again.session_state.basket.items] == [23]


def test_library_lists_the_reports_with_what_was_found(app_on, real_store: Path):
    at = app_on(real_store, page="app_pages/library.py")
    assert not at.exception
    [table] = at.dataframe
    row = table.value.iloc[0].to_dict()
    assert (row["file"], row["pages"], row["passages"], row["status"]) == ("caaht-2006-kukes-extract.txt", 7, 63, "ok")
    assert row["speakers"] >= 3 and row["sections"] >= 5 and len(row["sha256"]) == 12


def test_an_index_whose_reports_were_all_removed_says_how_to_add_some(app_on, tmp_path: Path):
    from tests.conftest import ingest_files

    report = tmp_path / "one-2009.txt"
    report.write_text("[p. 1]\nThe shelter hosted 12 women in 2009.\n", "utf-8")
    ingest_files(tmp_path / "store", [report])
    ingest_files(tmp_path / "store", [], remove=["one-2009.txt"])
    at = app_on(tmp_path / "store")
    assert not at.exception
    assert [i.value for i in at.info] == [
        "The index holds no reports. Add them on the Library page, or with `python -m ingest FILE…`."]


def test_reindex_reads_the_kept_copy_again_and_says_what_it_did(app_on, real_store: Path):
    at = app_on(real_store, page="app_pages/library.py")
    at.button(key="reindex").click().run()
    assert not at.exception
    outcome = [t.value for t in at.text]
    assert any("caaht-2006-kukes-extract.txt" in line and "read again" in line for line in outcome), outcome
    assert at.dataframe[0].value.iloc[0]["passages"] == 63


def test_reindex_without_a_kept_copy_says_so(app_on, real_store: Path):
    at = app_on(real_store, page="app_pages/library.py")
    index_dir = Path(os.environ[INDEX_DIR_ENV])
    for kept in (index_dir / "sources").iterdir():
        if kept.is_file() and not kept.name.endswith(".json"):
            kept.unlink()
    at.button(key="reindex").click().run()
    assert not at.exception
    assert [t.value for t in at.text] == [
        "caaht-2006-kukes-extract.txt: its kept copy is missing, so it cannot be read again; add the file anew."]


def test_a_damaged_store_shows_what_index_verify_says(monkeypatch, real_store: Path, tmp_path: Path):
    from index.store.embedded import current_generation
    from index.store.verify import store_alert

    store = tmp_path / "store"
    shutil.copytree(real_store, store)
    passages = store / current_generation(store) / "passages.jsonl"
    passages.write_bytes(passages.read_bytes()[:-200])
    monkeypatch.setenv(INDEX_DIR_ENV, str(store))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    [error] = at.error
    alert = store_alert(store)
    assert alert and "python -m" in alert
    assert alert in error.value
