"""Ask the anti-trafficking reports in a browser: `streamlit run app.py`.

A thin Streamlit script: it loads the model and the current store once per server,
keeps each visitor's conversation and quote basket in st.session_state, and renders
cited passages. Retrieval lives in index/, reading reports in ingest/.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import streamlit as st

from index.quotes.basket import Basket, BasketError, items_from_hits
from index.quotes.citations import DEFAULT_STYLE, STYLES, reference
from index.embedder import MiniLMEmbedder, MultilingualEmbedder, load_multilingual
from index.errors import StoreError
from index.quotes.export import MIME_TYPES, to_csv_file, to_docx, to_markdown
from index.retrieval.followup import interpret
from index.quotes.present import citation_line, copy_text, escape_markdown, highlighted_passage
from index.retrieval.search import Answer, Filters, Hit, Searcher, filter_choices
from index.settings import default_index_dir
from index.store.embedded import ReportInfo, Store, current_generation, load_store
from ingest.readers import ReadOptions
from ingest.uploads import MAX_UPLOAD_MB, ingest_uploads

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PAGE_TITLE = "Ask the CAAHT reports"
EXAMPLE = "Which routes make Kukës a transit location?"
NOT_ANSWERED = ("The reports do not seem to answer this question. The closest passages are shown "
                "below, but they are probably not an answer.")
STYLE_NAMES = {"plain": "Plain", "footnote": "Footnote", "author-date": "Author–date"}
ANY = "(any)"
UPLOAD_POLL_SECONDS = 30.0  # after "Add to the index" with no file yet, keep looking this long
UPLOAD_POLL_INTERVAL = 0.5


@dataclass(frozen=True)
class UploadReport:
    """What the last "Add to the index" did, kept across the rerun that empties the uploader."""

    ok: bool
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Models:
    embedder: MiniLMEmbedder
    multilingual: MultilingualEmbedder | None


def _load_models() -> Models:
    embedder = MiniLMEmbedder()
    embedder.encode(["warm up"])  # the first encode is slow; pay it at start-up, not on a question
    return Models(embedder, load_multilingual())


@st.cache_resource(show_spinner=False)
def model_loading() -> Future:
    """Load the models once per server, in a background thread.

    The page's first run only starts the loading, so the page (sidebar, history, upload
    control) is usable at once instead of after half a minute of torch; a question or an
    upload waits for the loading only if it comes first.
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-models").submit(_load_models)


def get_models() -> Models:
    loading = model_loading()
    if not loading.done():
        with st.spinner("Loading the language model…"):
            loading.exception()  # waits; result() below raises what the loading raised
    return loading.result()


@st.cache_resource(show_spinner="Loading the index…", max_entries=2)
def get_store(index_dir: str, generation: str) -> Store:
    # Keyed by generation: after an ingest publishes a new one, the next run loads it;
    # sessions never see a half-written store.
    return load_store(index_dir, model=MiniLMEmbedder.name)


@st.cache_resource(show_spinner=False, max_entries=2)
def get_searcher(index_dir: str, generation: str) -> Searcher:
    models = get_models()
    return Searcher(get_store(index_dir, generation), models.embedder, models.multilingual)


def current_store() -> Store | None:
    index_dir = default_index_dir()
    generation = current_generation(index_dir)
    if generation is None:
        st.info(f"No index has been built yet. Build it from the bundled reports with:\n\n"
                f"`python -m ingest`\n\n(it writes the index to `{index_dir}`), then reload this page. "
                "You can also add a report with the upload control in the sidebar.")
        return None
    try:
        return get_store(str(index_dir), generation)
    except StoreError as exc:
        st.error(f"The index cannot be used: {exc.detail}.\n\nFix: {exc.fix}.")
        return None


# ------------------------------------------------------------------ sidebar

def filters_sidebar(store: Store) -> Filters:
    choices = filter_choices(store)
    with st.sidebar.expander("Restrict questions to…", expanded=False):
        reports = st.multiselect("Reports", choices.reports, key="filter_reports")
        year = st.selectbox("Year", (ANY, *choices.years), key="filter_year")
        section = st.selectbox("Section", (ANY, *choices.sections), key="filter_section")
        organisation = st.selectbox("Organisation", (ANY, *choices.organisations), key="filter_organisation")
    return Filters(reports=tuple(reports), year=None if year == ANY else year,
                   section=None if section == ANY else section,
                   organisation=None if organisation == ANY else organisation)


def add_reports_sidebar() -> None:
    """Upload PDFs or text extracts; each gets the same per-file outcome as `python -m ingest`.

    Not an st.form: a press on "Add to the index" that arrives before the file has
    reached the server would find no file and be lost. Outside a form, the press is
    remembered, and the page looks for the file again until it has arrived.
    """
    with st.sidebar.expander("Add reports", expanded=False):
        generation = st.session_state.setdefault("upload_generation", 0)
        files = st.file_uploader("PDF or text extract", type=["pdf", "txt"], accept_multiple_files=True,
                                 key=f"upload-{generation}")
        password = st.text_input("Password (only for encrypted PDFs)", type="password",
                                 key=f"password-{generation}")
        if st.button("Add to the index"):
            st.session_state.add_requested = time.monotonic()
        requested = st.session_state.get("add_requested")
        if requested and files:
            del st.session_state.add_requested
            st.session_state.upload_generation += 1  # a fresh uploader and password box next time
            ingest_uploaded(files, password)
            st.rerun()  # redraw with the emptied uploader; the outcome shows from upload_report
        elif requested:
            st.info("Waiting for a file: choose or drop one above. It is added as soon as it has uploaded.")
            # The browser may name a file whose bytes have not reached the server yet, and
            # sends nothing more once they have: look again for a while.
            if time.monotonic() - requested < UPLOAD_POLL_SECONDS:
                time.sleep(UPLOAD_POLL_INTERVAL)
                st.rerun()
        report = st.session_state.get("upload_report")
        if report is not None and not report.ok:
            st.error("Some files could not be added; the index is unchanged for them.")
        for line in report.lines if report else ():
            st.text(line)


def ingest_uploaded(files, password: str) -> None:
    too_big = [f.name for f in files if f.size > MAX_UPLOAD_MB * 1024 * 1024]
    if too_big:
        st.session_state.upload_report = UploadReport(ok=False, lines=(
            f"Too large (over {MAX_UPLOAD_MB} MB): {', '.join(too_big)}. "
            "Split the file or use `python -m ingest` on the command line.",))
        return
    uploads = [(f.name, f.getvalue()) for f in files]
    options = ReadOptions(passwords=(password,) if password else ())
    models = get_models()
    with st.status(f"Adding {len(uploads)} file(s)…", expanded=True) as status:
        summary = ingest_uploads(default_index_dir(), uploads, options=options,
                                 log=lambda text: status.text(text.strip()) if text.strip() else None,
                                 embedder=models.embedder, multilingual_factory=lambda: models.multilingual)
    st.session_state.upload_report = UploadReport(ok=summary.ok, lines=tuple(summary.render().splitlines()))


def basket_sidebar(style: str) -> None:
    basket: Basket = st.session_state.basket
    with st.sidebar.expander(f"Quote basket ({len(basket)})", expanded=bool(len(basket))):
        if not len(basket):
            st.caption("Add quotes from the answers to collect them for a proposal.")
            return
        for item in basket:
            with st.container(border=True):
                st.markdown(escape_markdown(f"“{item.quote}”"))
                st.caption(escape_markdown(reference(item.citation)))
                if not item.verified:
                    st.warning("Edited: this quote no longer matches the report's words.")
                with st.popover("Edit quote"):
                    st.text_area("Quote (keep the report's exact words)", item.quote, key=f"quote-{item.id}",
                                 on_change=edit_quote, args=(item.id,))
                st.text_area("Note", item.note, key=f"note-{item.id}", on_change=edit_note, args=(item.id,))
                up, down, remove = st.columns(3)
                up.button("↑", key=f"up-{item.id}", on_click=change_basket, args=("move_up", item.id),
                          help="Move up")
                down.button("↓", key=f"down-{item.id}", on_click=change_basket, args=("move_down", item.id),
                            help="Move down")
                remove.button("✕", key=f"remove-{item.id}", on_click=change_basket, args=("remove", item.id),
                              help="Remove from the basket")
        download_buttons(basket.items, style, key="basket")


def edit_note(item_id: int) -> None:
    st.session_state.basket = st.session_state.basket.edit_note(item_id, st.session_state[f"note-{item_id}"])


def edit_quote(item_id: int) -> None:
    try:
        st.session_state.basket = st.session_state.basket.edit_quote(item_id, st.session_state[f"quote-{item_id}"])
    except BasketError as exc:
        st.session_state.basket_error = str(exc)


def change_basket(action: str, item_id: int) -> None:
    st.session_state.basket = getattr(st.session_state.basket, action)(item_id)


def add_to_basket(hit: Hit, report: ReportInfo, whole: bool) -> None:
    try:
        basket = st.session_state.basket
        st.session_state.basket = basket.add(hit.passage, report) if whole else basket.add_hit(hit, report)
    except BasketError as exc:
        st.session_state.basket_error = str(exc)


def download_buttons(items, style: str, *, key: str) -> None:
    columns = st.columns(3)
    files = [("MD", "md", "markdown", lambda: to_markdown(items, style)),
             ("Word", "docx", "docx", lambda: to_docx(items, style)),
             ("CSV", "csv", "csv", lambda: to_csv_file(items))]
    for column, (label, suffix, mime, make) in zip(columns, files):
        # A callable defers building the file until the button is clicked.
        column.download_button(label, data=make, file_name=f"quotes.{suffix}", mime=MIME_TYPES[mime],
                               key=f"download-{key}-{suffix}", on_click="ignore")


# ------------------------------------------------------------------ answers

def render_answer(answer: Answer, number: int, style: str, store: Store) -> None:
    if answer.interpreted and answer.interpreted != answer.question:
        st.caption(escape_markdown(f"Understood as: {answer.interpreted}"))
    if answer.filters.active:
        st.caption(escape_markdown(f"Restricted to: {describe_filters(answer.filters)}"))
    if not answer.hits:
        st.write("No passages match these restrictions.")
        return
    if not answer.answered:
        st.warning(NOT_ANSWERED)
    reports = {r.report: r for r in store.manifest.reports}
    for hit in answer.hits:
        render_hit(hit, reports.get(hit.passage.report), answer.answered, style, key=f"{number}-{hit.rank}")
    # A report removed since this answer was given can no longer be exported with provenance.
    current = tuple(h for h in answer.hits if h.passage.report in reports)
    with st.expander("Export this answer"):
        download_buttons(items_from_hits(current, reports.values()), style, key=f"answer-{number}")


def render_hit(hit: Hit, report: ReportInfo | None, answered: bool, style: str, *, key: str) -> None:
    with st.container(border=True):
        label = "Citation" if answered else "Closest passage (probably not an answer)"
        st.markdown(f"**{label} {hit.rank}**")
        st.markdown(highlighted_passage(hit))
        st.caption(escape_markdown(citation_line(hit)))
        st.code(copy_text(hit, style), language=None, wrap_lines=True)
        quote, whole = st.columns(2)
        gone = report is None
        quote.button("Add quote to basket", key=f"add-quote-{key}", on_click=add_to_basket,
                     args=(hit, report, False), disabled=gone)
        whole.button("Add whole passage", key=f"add-whole-{key}", on_click=add_to_basket,
                     args=(hit, report, True), disabled=gone)


def describe_filters(filters: Filters) -> str:
    parts = [*filters.reports, str(filters.year or ""), filters.section or "", filters.organisation or ""]
    return "; ".join(p for p in parts if p)


def render_history(style: str, store: Store) -> None:
    for number, answer in enumerate(st.session_state.history):
        with st.chat_message("user"):
            st.text(answer.question)
        with st.chat_message("assistant"):
            render_answer(answer, number, style, store)


def main() -> None:
    st.set_page_config(page_title=PAGE_TITLE, page_icon="📑", layout="centered")
    st.title(PAGE_TITLE)
    st.caption("Every answer is a passage quoted from the reports, with report, page and presenter. "
               "Use the copy icon on a citation to paste it into a proposal, or collect quotes in the basket.")
    st.session_state.setdefault("history", [])
    st.session_state.setdefault("basket", Basket())
    style = st.sidebar.selectbox("Citation style", STYLES, index=STYLES.index(DEFAULT_STYLE),
                                 format_func=STYLE_NAMES.get, key="style")
    model_loading()  # starts loading in the background; the page does not wait for it
    add_reports_sidebar()
    store = current_store()
    if store is None:
        return
    filters = filters_sidebar(store)
    basket_sidebar(style)
    if "basket_error" in st.session_state:
        st.sidebar.error(escape_markdown(st.session_state.pop("basket_error")))
    render_history(style, store)
    question = st.chat_input(f"Ask a question, e.g. {EXAMPLE}")
    if question:
        # Show the question at once; the answer follows when the search is done.
        with st.chat_message("user"):
            st.text(question)
        history = st.session_state.history
        understood = interpret(question, history[-1] if history else None)
        with st.chat_message("assistant"):
            searcher = get_searcher(str(store.path), store.generation)
            with st.spinner("Searching the reports…"):
                answer = searcher.ask(question, filters=filters, interpreted=understood.interpreted)
            render_answer(answer, len(history), style, store)
        history.append(answer)


main()
