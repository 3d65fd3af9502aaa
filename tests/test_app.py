"""The chat page's logic, driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

import re
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
def app_on(monkeypatch):
    def start(index_dir: Path, at: AppTest | None = None) -> AppTest:
        monkeypatch.setenv(INDEX_DIR_ENV, str(index_dir))
        at = AppTest.from_file(APP, default_timeout=TIMEOUT) if at is None else at
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
    captions = [shown_text(c.value) for c in at.caption]
    assert any("p. 23" in c and "Ms. Aida Orgocka" in c for c in captions), captions
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
    at.text_area(key=f"quote-{item.id}").set_value("An awareness campaign distributed 2,000 flyers.").run()
    [edited] = at.session_state.basket.items
    assert (edited.quote, edited.verified) == ("An awareness campaign distributed 2,000 flyers.", False)
    assert [w.value for w in at.sidebar.warning] == ["Edited: this quote no longer matches the report's words."]


def test_add_pressed_long_ago_with_no_file_still_says_it_waits(app_on, tmp_path: Path):
    """A press is remembered, not dropped, while no file has arrived (the browser test
    covers the file arriving later); after the look-again period the page stays still."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["add_requested"] = time.monotonic() - 60
    app_on(tmp_path / "empty", at)
    assert not at.exception
    assert [i.value for i in at.info if "Waiting for a file" in i.value] == [
        "Waiting for a file: choose or drop one above. It is added as soon as it has uploaded."]
