"""Ask the anti-trafficking reports in a browser: `streamlit run app.py`.

A thin Streamlit script: it loads the model and the current store once per server,
keeps each visitor's conversation in st.session_state, and renders cited passages.
Retrieval lives in index/, reading reports in ingest/.
"""

from __future__ import annotations

import os

import streamlit as st

from index.embedder import MiniLMEmbedder
from index.errors import StoreError
from index.present import citation_line, copy_text, escape_markdown, highlighted_passage
from index.search import Answer, Searcher
from index.settings import default_index_dir
from index.store import current_generation, load_store

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PAGE_TITLE = "Ask the CAAHT reports"
EXAMPLE = "Which routes make Kukës a transit location?"
NOT_ANSWERED = ("The reports do not seem to answer this question. "
                "The closest passages are shown below, but they are probably not an answer.")


@st.cache_resource(show_spinner="Loading the language model…")
def get_embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@st.cache_resource(show_spinner="Loading the index…", max_entries=2)
def get_searcher(index_dir: str, generation: str) -> Searcher:
    # Keyed by generation: after an ingest publishes a new one, the next question
    # loads it; sessions never see a half-written store.
    store = load_store(index_dir, model=MiniLMEmbedder.name)
    return Searcher(store, get_embedder())


def current_searcher() -> Searcher | None:
    index_dir = default_index_dir()
    generation = current_generation(index_dir)
    if generation is None:
        st.info(f"No index has been built yet. Build it from the bundled reports with:\n\n"
                f"`python -m ingest`\n\n(it writes the index to `{index_dir}`), then reload this page.")
        return None
    try:
        return get_searcher(str(index_dir), generation)
    except StoreError as exc:
        st.error(f"The index cannot be used: {exc.detail}.\n\nFix: {exc.fix}.")
        return None


def render_answer(answer: Answer) -> None:
    if not answer.hits:
        st.write("No passages to show.")
        return
    if not answer.answered:
        st.warning(NOT_ANSWERED)
    for hit in answer.hits:
        with st.container(border=True):
            label = "Closest passage" if not answer.answered else "Citation"
            st.markdown(f"**{label} {hit.rank}**")
            st.markdown(highlighted_passage(hit))
            st.caption(escape_markdown(citation_line(hit)))
            st.code(copy_text(hit), language=None, wrap_lines=True)


def render_history() -> None:
    for answer in st.session_state.history:
        with st.chat_message("user"):
            st.text(answer.question)
        with st.chat_message("assistant"):
            render_answer(answer)


def main() -> None:
    st.set_page_config(page_title=PAGE_TITLE, page_icon="📑", layout="centered")
    st.title(PAGE_TITLE)
    st.caption("Every answer is a passage quoted from the reports, with report, page and presenter. "
               "Use the copy icon on a citation to paste it into a proposal.")
    st.session_state.setdefault("history", [])
    searcher = current_searcher()
    if searcher is None:
        return
    render_history()
    question = st.chat_input(f"Ask a question, e.g. {EXAMPLE}")
    if question:
        answer = searcher.ask(question)
        st.session_state.history.append(answer)
        with st.chat_message("user"):
            st.text(question)
        with st.chat_message("assistant"):
            render_answer(answer)


main()
