"""What the app's pages share: the models, the store and searcher, the user's saved work, the
citation style, the page viewer and download buttons.

Streamlit only here and in the page modules; everything else is plain Python in index/ and ingest/.
The model and the index are loaded once per server and shared read-only by all sessions; each
user's conversation and baskets are in SQLite (index.quotes.workspace), cached in the session.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from index.embedder import DEFAULT_MODEL_NAME, EMBEDDERS, Embedder, MultilingualEmbedder, load_embedder, load_multilingual
from index.errors import StoreError, StoreMismatch
from index.quotes.basket import Basket, BasketError
from index.quotes.citations import DEFAULT_STYLE, STYLES
from index.quotes.export import MIME_TYPES, to_csv_file, to_docx, to_markdown
from index.quotes.pages import pdf_page_views, text_pages
from index.quotes.present import escape_markdown
from index.quotes.workspace import LOCAL_USER, Workspace, WorkspaceError
from index.records import Passage
from index.retrieval.search import Searcher
from index.settings import default_index_dir
from index.store.backend import database_url, kept_copy
from index.store.embedded import ReportInfo, Store, current_generation, load_store, read_current_manifest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PAGE_TITLE = "Ask the CAAHT reports"
STYLE_NAMES = {"plain": "Plain", "footnote": "Footnote", "author-date": "Author–date"}
# On a shared server behind a login proxy: the request header that names the signed-in user
# (e.g. X-Forwarded-User from oauth2-proxy, X-Remote-User from nginx auth_request).
USER_HEADER_ENV = "CAAHT_USER_HEADER"
MAX_USER_CHARS = 200


@dataclass(frozen=True)
class Models:
    embedder: Embedder
    multilingual: MultilingualEmbedder | None


def english_model_name() -> str:
    """The English model the app works with: the one the store (or database) was built with, so
    that questions are embedded alike and an upload adds to it rather than rebuilding it; the
    default model when there is no store yet."""
    try:
        if database_url():
            view = current_database(database_url(), quiet=True)
            return view.manifest.model if view is not None else DEFAULT_MODEL_NAME
        return read_current_manifest(index_dir()).model
    except StoreError:
        return DEFAULT_MODEL_NAME


def _load_models(name: str) -> Models:
    embedder = load_embedder(name)
    embedder.encode(["warm up"])  # the first encode is slow; pay it at start-up, not on a question
    return Models(embedder, load_multilingual())


@st.cache_resource(show_spinner=False)
def _model_loading(name: str) -> Future:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-models").submit(_load_models, name)


def model_loading(name: str | None = None) -> Future:
    """Load the models once per server (and English model), in a background thread, so the page is
    usable at once."""
    return _model_loading(name or english_model_name())


def get_models(name: str | None = None) -> Models:
    loading = model_loading(name)
    if not loading.done():
        with st.spinner("Loading the language model…"):
            loading.exception()  # waits; result() below raises what the loading raised
    return loading.result()


@st.cache_resource(show_spinner="Loading the index…", max_entries=2)
def get_store(index_dir: str, generation: str) -> Store:
    # Keyed by generation: after an ingest publishes a new one, the next run loads it.
    store = load_store(index_dir)
    if store.manifest.model not in EMBEDDERS:
        raise StoreMismatch(index_dir, f"the store was built with model {store.manifest.model!r}, "
                                       f"which this code does not know")
    return store


@st.cache_resource(show_spinner=False, max_entries=2)
def get_searcher(index_dir: str, generation: str) -> Searcher:
    url = database_url()
    if url:  # PostgreSQL (CAAHT_DATABASE_URL): the database answers; one connection per app server
        from index.store.postgres import PostgresSearcher
        models = get_models()
        return PostgresSearcher(url, models.embedder, models.multilingual)
    store = get_store(index_dir, generation)
    models = get_models(store.manifest.model)  # the model this generation was built with
    return Searcher(store, models.embedder, models.multilingual)


@st.cache_resource(show_spinner="Loading the index…", max_entries=2)
def get_database_view(url: str, version: str):
    # Keyed by the database's version: after an ingest adds or removes a report, the next run reloads.
    from index.store.postgres.view import load_view
    return load_view(url)


def current_database(url: str, *, quiet: bool):
    """current_store() on PostgreSQL: the reports and passages in the database, as a Store-like view."""
    from index.store.postgres.view import version

    try:
        now = version(url)
        if now is None:
            if not quiet:
                st.info("The database holds no reports yet. Add them with:\n\n"
                        "`python -m ingest --database-url …` (or with `CAAHT_DATABASE_URL` set), "
                        "then reload this page.")
            return None
        return get_database_view(url, now)
    except StoreError as exc:
        if not quiet:
            st.error(f"The database cannot be used. {exc}")
        return None


def index_dir() -> Path:
    return default_index_dir()


def report_source(report) -> Path | None:
    """The kept copy of a report's file: in the store's folder, or (PostgreSQL) a local copy of
    the one the database keeps. None when there is none."""
    try:
        return kept_copy(report.source_file, index_dir=index_dir(), url=database_url())
    except (OSError, StoreError):
        return None  # the page is shown from its text instead


def current_store(*, quiet: bool = False) -> Store | None:
    """The store as published now, or None after saying why (unless `quiet`)."""
    if database_url():
        return current_database(database_url(), quiet=quiet)
    folder = index_dir()
    try:
        generation = current_generation(folder)
        if generation is None:
            if not quiet:
                st.info(f"No index has been built yet. Build it from the bundled reports with:\n\n"
                        f"`python -m ingest`\n\n(it writes the index to `{folder}`), then reload this page. "
                        "You can also add a report on the Library page.")
            return None
        return get_store(str(folder), generation)
    except StoreError as exc:
        if not quiet:
            st.error(f"The index cannot be used. {damage_message(str(folder), exc)}")
        return None


def damage_message(folder: str, exc: StoreError) -> str:
    """The same sentence and command `python -m index verify` prints, when it finds the damage;
    else the load error's own sentence (what is wrong, then the fix)."""
    try:
        from index.store.verify import store_alert

        alert = store_alert(folder)
    except Exception:  # noqa: BLE001 - the verifier is a help here; the load error still says it all
        alert = None
    return alert or exc.sentence


def indexed_reports(store: Store | None) -> tuple[ReportInfo, ...]:
    return store.manifest.reports if store is not None else ()


# ------------------------------------------------------------------ who is asking

def current_user() -> str | None:
    """The signed-in user (Streamlit's own login, or the login proxy's header when configured);
    the one local user otherwise. None when a header is configured but missing."""
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email") or st.user.get("name") or st.user.get("sub"))[:MAX_USER_CHARS]
    except (AttributeError, KeyError, RuntimeError):
        pass  # no login configured
    header = os.environ.get(USER_HEADER_ENV)
    if header:
        value = (st.context.headers.get(header) or "").strip()
        return value[:MAX_USER_CHARS] or None
    return LOCAL_USER


def workspace() -> Workspace | None:
    user = current_user()
    if user is None:
        st.error(f"This server expects the login proxy to name the user in the `{os.environ[USER_HEADER_ENV]}` "
                 "header, and the request had none. Open the app through the proxy's address.")
        return None
    try:
        return Workspace.open(index_dir(), user)
    except WorkspaceError as exc:
        st.error(str(exc))
        return None


def load_session(ws: Workspace) -> None:
    """The user's conversation and current basket, read from SQLite once per session."""
    if st.session_state.get("workspace_user") == ws.user:
        return
    st.session_state.workspace_user = ws.user
    st.session_state.history = ws.answers()
    info = ws.current_basket()
    st.session_state.basket_id = info.id
    st.session_state.basket = ws.load_basket(info.id)


def set_basket(basket: Basket) -> None:
    """Keep a changed basket: in the session and in SQLite."""
    ws = workspace()
    st.session_state.basket = basket
    if ws is not None:
        ws.save_basket(st.session_state.basket_id, basket)


def switch_basket(ws: Workspace, basket_id: int) -> None:
    ws.choose_basket(basket_id)
    st.session_state.basket_id = basket_id
    st.session_state.basket = ws.load_basket(basket_id)


def report_error(exc: BasketError | WorkspaceError) -> None:
    st.session_state.basket_error = str(exc)


def show_errors() -> None:
    if "basket_error" in st.session_state:
        st.error(escape_markdown(st.session_state.pop("basket_error")))


# ------------------------------------------------------------------ sidebar

def style_selector() -> str:
    return st.sidebar.selectbox("Citation style", STYLES, index=STYLES.index(DEFAULT_STYLE),
                                format_func=STYLE_NAMES.get, key="style")


def basket_summary() -> None:
    basket: Basket = st.session_state.get("basket", Basket())
    st.sidebar.page_link("app_pages/basket.py", label=f"Quote basket ({len(basket)})", icon=":material/shopping_basket:")


def download_buttons(items, style: str, *, key: str, title: str = "Quotes from the reports",
                     page_image=None) -> None:
    columns = st.columns(3)
    files = [("Markdown", "md", "markdown", lambda: to_markdown(items, style, title=title)),
             ("Word", "docx", "docx", lambda: to_docx(items, style, title=title, page_image=page_image)),
             ("CSV", "csv", "csv", lambda: to_csv_file(items))]
    for column, (label, suffix, mime, make) in zip(columns, files):
        # A callable defers building the file until the button is clicked.
        column.download_button(label, data=make, file_name=f"quotes.{suffix}", mime=MIME_TYPES[mime],
                               key=f"download-{key}-{suffix}", on_click="ignore")


# ------------------------------------------------------------------ the page itself

@st.cache_data(show_spinner=False, max_entries=64)
def _pdf_views(path: str, passage_json: tuple, quote: str):
    passage = Passage.from_json(dict(passage_json))
    return pdf_page_views(path, passage, quote)


WORD_IMAGE_SCALE = 0.8  # pixels per PDF point for the small page image in a Word export


def marked_page_image(item) -> bytes | None:
    """The first page of a saved quote with the quote marked (PNG), for a PDF report still indexed
    as it was when the quote was saved; None otherwise."""
    store = current_store(quiet=True)
    report = next((r for r in indexed_reports(store) if r.report == item.passage.report), None)
    if report is None or report.kind != "pdf" or report.sha256 != item.report_sha256:
        return None
    source = report_source(report)
    if source is None:
        return None
    views = pdf_page_views(source, item.passage, item.quote, scale=WORD_IMAGE_SCALE)
    return views[0].image if views else None


@st.dialog("The page itself", width="large")
def show_page(passage: Passage, quote: str, quote_start: int) -> None:
    store = current_store(quiet=True)
    report = next((r for r in indexed_reports(store) if r.report == passage.report), None)
    if report is None:
        st.warning("This report is no longer in the index, so its page cannot be shown.")
        return
    source = report_source(report)
    st.caption(escape_markdown(f"{report.title} — {report.report}"))
    if report.kind == "pdf" and source is not None:
        views = _pdf_views(str(source), tuple(passage.to_json().items()), quote)
        if views and not views[0].located:
            st.warning("The quote could not be located exactly in the PDF's text layer, so nothing is marked; "
                       "the page is shown as it is.")
        for view in views:
            label = passage.page_label if view.page == passage.page else passage.page_end_label
            printed = f"printed page {label} · " if label else ""
            st.image(view.image, caption=f"{printed}PDF page {view.page} of the file", width="stretch")
    else:
        for view in text_pages(store.passages, passage, quote, quote_start):
            st.markdown(f"**Page {escape_markdown(view.label or str(view.page or '–'))}** (text extract)")
            with st.container(border=True, key=f"page-text-{view.page}"):
                st.markdown(_marked_text(view.text, view.quote_span))
            if view.quote_span is None:
                st.warning("The quote could not be located exactly on this page.")
    if source is not None:
        st.download_button("Download the original report file", data=source.read_bytes,
                           file_name=report.report, mime="application/pdf" if report.kind == "pdf" else "text/plain",
                           on_click="ignore", key="download-source")


def _marked_text(text: str, span: tuple[int, int] | None) -> str:
    if span is None:
        return escape_markdown(text)
    start, end = span
    return (escape_markdown(text[:start]) + f":orange-background[{escape_markdown(text[start:end])}]"
            + escape_markdown(text[end:]))


# ------------------------------------------------------------------ look

CSS = """
<style>
/* The best quote of an answer: a large, readable block (its copy icon copies quote and citation). */
[class*="st-key-best-"] [data-testid="stCode"] pre, [class*="st-key-best-"] [data-testid="stCode"] code {
    font-family: "Source Serif Pro", Georgia, serif; font-size: 1.15rem; line-height: 1.55;
    white-space: pre-wrap;
}
</style>
"""


def apply_style() -> None:
    st.html(CSS)
