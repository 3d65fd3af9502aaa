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
from ingest.readers import ReadOptions
from ingest.uploads import MAX_UPLOAD_MB, ingest_uploads

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


def add_reports_sidebar() -> None:
    """Upload PDFs or text extracts; each gets the same per-file outcome as `python -m ingest`."""
    with st.sidebar:
        st.header("Add reports")
        with st.form("upload", clear_on_submit=True):
            files = st.file_uploader("PDF or text extract", type=["pdf", "txt"], accept_multiple_files=True)
            password = st.text_input("Password (only for encrypted PDFs)", type="password")
            submitted = st.form_submit_button("Add to the index")
        if submitted and files:
            ingest_uploaded(files, password)
        for line in st.session_state.get("upload_report", []):
            st.text(line)


def ingest_uploaded(files, password: str) -> None:
    too_big = [f.name for f in files if f.size > MAX_UPLOAD_MB * 1024 * 1024]
    if too_big:
        st.error(f"Too large (over {MAX_UPLOAD_MB} MB): {', '.join(too_big)}. Split the file or use "
                 "`python -m ingest` on the command line.")
        return
    uploads = [(f.name, f.getvalue()) for f in files]
    options = ReadOptions(passwords=(password,) if password else ())
    with st.status(f"Adding {len(uploads)} file(s)…", expanded=True) as status:
        summary = ingest_uploads(default_index_dir(), uploads, options=options,
                                 log=lambda text: status.write(escape_markdown(text.strip())) if text.strip() else None,
                                 embedder_factory=get_embedder)
        status.update(label="Done" if summary.ok else "Some files could not be added",
                      state="complete" if summary.ok else "error", expanded=not summary.ok)
    st.session_state.upload_report = summary.render().splitlines()


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
    add_reports_sidebar()
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
