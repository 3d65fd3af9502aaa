"""Ask: the chat. The best quote of each answer first, large; the other sources as numbered lines.

Only the latest answer is drawn with all its controls. Earlier answers are drawn light (the
best quote and one line per source) until "Sources and actions" opens one, so the 20th answer
of a conversation costs about what the first did.
"""

from __future__ import annotations

import time

import streamlit as st

from app_pages.common import (basket_summary, current_store, get_searcher, indexed_reports, load_session,
                              model_loading, report_error, set_basket, show_errors, show_page, style_selector,
                              workspace, download_buttons)
from index.quotes.basket import BasketError, items_from_hits
from index.quotes.citations import Citation, reference
from index.quotes.library import example_questions
from index.quotes.present import copy_text, escape_markdown, highlighted_passage
from index.retrieval.followup import interpret
from index.retrieval.search import Answer, Filters, Hit, filter_choices

NOT_ANSWERED = ("The reports do not seem to answer this question. The closest passages are below, "
                "but they are probably not an answer.")
ANY = "(any)"
EXAMPLES = 3
EXAMPLE_LABEL_CHARS = 80
LINE_QUOTE_CHARS = 80  # how much of a quote a collapsed source line shows


# ------------------------------------------------------------------ start page

def indexed_line(store) -> str:
    reports = indexed_reports(store)
    years = sorted({r.year for r in reports if r.year})
    span = "" if not years else f", {years[0]}" if len(years) == 1 else f", {years[0]}–{years[-1]}"
    pages = sum(r.pages for r in reports)
    return (f"Indexed: {len(reports)} report{'s' if len(reports) != 1 else ''}{span}, "
            f"{pages:,} pages, {store.manifest.passage_count:,} passages.")


def _short(question: str) -> str:
    """A long example as a short button label (the whole question is asked)."""
    words, label = question.split(), ""
    for word in words:
        if len(label) + len(word) + 1 > EXAMPLE_LABEL_CHARS:
            return escape_markdown(label + "…?")
        label = f"{label} {word}".strip()
    return escape_markdown(label)


def start_page(store) -> None:
    st.caption(escape_markdown(indexed_line(store)))
    examples = example_questions(store.passages, EXAMPLES)
    if examples:
        st.pills("Try one of these questions", examples, key="example", on_change=_ask_example,
                 format_func=_short)


def _ask_example() -> None:
    st.session_state.pending_question = st.session_state.example
    st.session_state.example = None


# ------------------------------------------------------------------ filters

def filters_sidebar(store) -> Filters:
    choices = filter_choices(store)
    with st.sidebar.expander("Restrict questions to…", expanded=False):
        reports = st.multiselect("Reports", choices.reports, key="filter_reports")
        year = st.selectbox("Year", (ANY, *choices.years), key="filter_year")
        section = st.selectbox("Section", (ANY, *choices.sections), key="filter_section")
        organisation = st.selectbox("Organisation", (ANY, *choices.organisations), key="filter_organisation")
    return Filters(reports=tuple(reports), year=None if year == ANY else year,
                   section=None if section == ANY else section,
                   organisation=None if organisation == ANY else organisation)


def describe_filters(filters: Filters) -> str:
    parts = [*filters.reports, str(filters.year or ""), filters.section or "", filters.organisation or ""]
    return "; ".join(p for p in parts if p)


# ------------------------------------------------------------------ answers

def add_to_basket(hit: Hit, whole: bool) -> None:
    store = current_store(quiet=True)
    report = next((r for r in indexed_reports(store) if r.report == hit.passage.report), None)
    if report is None:
        report_error(BasketError(f"{hit.passage.report} is no longer in the index; ask again to quote it"))
        return
    try:
        basket = st.session_state.basket
        set_basket(basket.add(hit.passage, report) if whole else basket.add_hit(hit, report))
    except BasketError as exc:
        report_error(exc)


def source_line(hit: Hit) -> str:
    """"2. “An awareness raising campaign…” — 2006 CAAHT …, p. 23, presentation by …" (escaped)."""
    quote = " ".join(hit.quote.split()) or " ".join(hit.passage.text.split())
    if len(quote) > LINE_QUOTE_CHARS:
        quote = quote[:LINE_QUOTE_CHARS].rsplit(" ", 1)[0] + "…"
    return escape_markdown(f"{hit.rank}. “{quote}” — {reference(Citation.of(hit.passage, hit.quote))}")


def actions(hit: Hit, key: str) -> None:
    quote, whole, page = st.columns(3)
    quote.button("Add quote to basket", key=f"add-quote-{key}", on_click=add_to_basket, args=(hit, False),
                 icon=":material/format_quote:")
    whole.button("Add whole passage", key=f"add-whole-{key}", on_click=add_to_basket, args=(hit, True))
    if page.button("Show page", key=f"page-{key}", icon=":material/description:"):
        show_page(hit.passage, hit.quote, hit.quote_start)


def render_source(hit: Hit, style: str, key: str, *, first: bool = False) -> None:
    """A source as one numbered line that opens to the whole passage, quote highlighted."""
    with st.expander(source_line(hit), expanded=False):
        st.markdown(highlighted_passage(hit))
        st.code(copy_text(hit, style), language=None, wrap_lines=True)
        actions(hit, key)


def render_best(hit: Hit, style: str, key: str) -> None:
    with st.container(key=f"best-{key}"):
        st.code(copy_text(hit, style), language=None, wrap_lines=True)
    actions(hit, key)
    with st.expander("Whole passage", expanded=False):
        st.markdown(highlighted_passage(hit))


def render_answer(answer: Answer, number: int, style: str, *, full: bool) -> None:
    if answer.interpreted and answer.interpreted != answer.question:
        st.caption(escape_markdown(f"Understood as: {answer.interpreted}"))
    if answer.filters.active:
        st.caption(escape_markdown(f"Restricted to: {describe_filters(answer.filters)}"))
    if not answer.hits:
        st.write("No passages match these restrictions." if answer.filters.active else "No passages found.")
        return
    if not full:
        render_light(answer, number, style)
        return
    if answer.answered:
        render_best(answer.hits[0], style, f"{number}-1")
        others = answer.hits[1:]
        if others:
            st.caption("Other sources")
    else:
        st.warning(NOT_ANSWERED)
        others = answer.hits
    for hit in others:
        render_source(hit, style, f"{number}-{hit.rank}")
    store = current_store(quiet=True)
    names = {r.report for r in indexed_reports(store)}
    current = tuple(h for h in answer.hits if h.passage.report in names)
    with st.expander("Export this answer"):
        download_buttons(items_from_hits(current, indexed_reports(store)), style, key=f"answer-{number}")


def render_light(answer: Answer, number: int, style: str) -> None:
    """An earlier answer in a few elements: the best quote, the other sources as one list."""
    if answer.answered:
        with st.container(key=f"best-{number}-1"):
            st.code(copy_text(answer.hits[0], style), language=None, wrap_lines=True)
        others = answer.hits[1:]
    else:
        st.warning(NOT_ANSWERED)
        others = answer.hits
    if others:
        st.caption("  \n".join(source_line(h) for h in others))
    st.button("Sources and actions", key=f"open-{number}", on_click=_open_answer, args=(number,),
              type="tertiary", icon=":material/unfold_more:")


def _open_answer(number: int) -> None:
    st.session_state.setdefault("open_answers", set()).add(number)


def render_history(style: str) -> None:
    history = st.session_state.history
    opened = st.session_state.get("open_answers", set())
    for number, answer in enumerate(history):
        with st.chat_message("user"):
            st.text(answer.question)
        with st.chat_message("assistant"):
            render_answer(answer, number, style, full=number == len(history) - 1 or number in opened)


def new_conversation() -> None:
    ws = workspace()
    if ws is not None:
        ws.new_conversation()
    st.session_state.history = []
    st.session_state.open_answers = set()


def main() -> None:
    model_loading()  # starts loading in the background; the page does not wait for it
    style = style_selector()
    ws = workspace()
    if ws is None:
        return
    load_session(ws)
    basket_summary()
    store = current_store()
    if store is None:
        return
    if not store.manifest.reports:  # every report was removed
        st.info("The index holds no reports. Add them on the Library page, or with "
                "`python -m ingest FILE…`.")
        return
    filters = filters_sidebar(store)
    if st.session_state.history:
        st.sidebar.button("New conversation", on_click=new_conversation, icon=":material/add_comment:")
    show_errors()
    # The chat input is pinned to the bottom wherever it is called; called first, its question
    # decides whether the start page (what is indexed, examples) is still wanted.
    typed = st.chat_input("Ask a question about the reports")
    question = typed or st.session_state.pop("pending_question", None)
    if not st.session_state.history and not question:
        start_page(store)
    render_history(style)
    if question:
        ask(question, store, filters, style)


def report_in_focus(history) -> str | None:
    """The report the conversation is about: the one the last answer cited first. "This report"
    or "this region" in the next question then means it."""
    last = history[-1] if history else None
    return last.hits[0].passage.report if last is not None and last.hits else None


def ask(question: str, store, filters: Filters, style: str) -> None:
    # Show the question at once; the answer follows when the search is done.
    with st.chat_message("user"):
        st.text(question)
    history = st.session_state.history
    understood = interpret(question, history[-1] if history else None)
    with st.chat_message("assistant"):
        searcher = get_searcher(str(store.path), store.generation)
        started = time.perf_counter()
        with st.spinner("Searching the reports…"):
            answer = searcher.ask(question, filters=filters, interpreted=understood.interpreted,
                                  focus=report_in_focus(history))
        st.session_state.last_search_seconds = time.perf_counter() - started
        render_answer(answer, len(history), style, full=True)
    history.append(answer)
    ws = workspace()
    if ws is not None:
        ws.add_answer(answer)


main()
