"""Basket: the proposal workspace. Named baskets of saved quotes, with notes, order and exports.

Every change is saved at once (SQLite in the index directory), so the work survives a reload
or a server restart. A quote whose report was replaced or removed since it was saved is
marked stale and kept exactly as it was.
"""

from __future__ import annotations

import streamlit as st

from app_pages.common import (current_store, download_buttons, indexed_reports, load_session, marked_page_image,
                              model_loading,
                              report_error, set_basket, show_errors, show_page, style_selector, switch_basket,
                              workspace)
from index.quotes.basket import BasketError
from index.quotes.citations import reference
from index.quotes.present import escape_markdown
from index.quotes.workspace import CURRENT, STATUS_TEXT, Workspace, WorkspaceError, item_status


def choose_basket(ws: Workspace) -> None:
    baskets = ws.baskets()
    names = {b.id: f"{b.name} ({b.items})" for b in baskets}
    current = st.session_state.basket_id if st.session_state.basket_id in names else baskets[0].id
    st.session_state.basket_title = next(b.name for b in baskets if b.id == current)
    chosen = st.selectbox("Basket", list(names), index=list(names).index(current), format_func=names.get,
                          key=f"basket-choice-{current}")
    if chosen != current:
        switch_basket(ws, chosen)
        st.rerun()
    new, rename, delete = st.columns(3)
    with new.popover("New basket", icon=":material/add:"):
        name = st.text_input("Name", placeholder="Proposal for …", key="new-basket-name")
        if st.button("Create", key="create-basket") and name:
            _try(lambda: switch_basket(ws, ws.create_basket(name)))
            st.rerun()
    with rename.popover("Rename", icon=":material/edit:"):
        name = st.text_input("New name", key=f"rename-{current}")
        if st.button("Rename", key="rename-basket") and name:
            _try(lambda: ws.rename_basket(current, name))
            st.rerun()
    with delete.popover("Delete…", icon=":material/delete:"):
        st.write(f"Delete the basket **{escape_markdown(names[current])}** and its quotes?")
        if st.button("Yes, delete it", key="delete-basket", type="primary"):
            ws.delete_basket(current)
            switch_basket(ws, ws.baskets()[0].id)
            st.rerun()


def _try(action) -> None:
    try:
        action()
    except (BasketError, WorkspaceError) as exc:
        report_error(exc)


def items(reports, style: str) -> None:
    basket = st.session_state.basket
    if not len(basket):
        st.info("This basket is empty. On the Ask page, use “Add quote to basket” under an answer.")
        return
    for number, item in enumerate(basket, start=1):
        status = item_status(item, reports)
        with st.container(border=True, key=f"item-{item.id}"):
            st.markdown(f"**{number}.** " + escape_markdown(f"“{item.quote}”"))
            st.caption(escape_markdown(reference(item.citation)))
            if status != CURRENT:
                st.warning(STATUS_TEXT[status], icon=":material/history:")
            if not item.verified:
                st.warning("Edited: this quote no longer matches the report's words.")
            st.text_area("Note", item.note, key=f"note-{item.id}", on_change=edit_note, args=(item.id,),
                         height=68)
            up, down, edit, page, remove = st.columns(5)
            up.button("↑", key=f"up-{item.id}", on_click=change, args=("move_up", item.id), help="Move up")
            down.button("↓", key=f"down-{item.id}", on_click=change, args=("move_down", item.id),
                        help="Move down")
            with edit.popover("Edit quote"):
                st.text_area("Quote (keep the report's exact words)", item.quote, key=f"quote-{item.id}",
                             on_change=edit_quote, args=(item.id,))
            if page.button("Show page", key=f"page-{item.id}", disabled=status != CURRENT):
                show_page(item.passage, item.quote, item.quote_start)
            remove.button("Remove", key=f"remove-{item.id}", on_click=change, args=("remove", item.id))
    st.subheader("Download")
    title = st.session_state.get("basket_title") or "Quotes from the reports"
    images = st.checkbox("Word: add a small image of each quote's page (PDF reports)", key="word-images")
    download_buttons(basket.items, style, key="basket", title=title,
                     page_image=marked_page_image if images else None)


def edit_note(item_id: int) -> None:
    _try(lambda: set_basket(st.session_state.basket.edit_note(item_id, st.session_state[f"note-{item_id}"])))


def edit_quote(item_id: int) -> None:
    _try(lambda: set_basket(st.session_state.basket.edit_quote(item_id, st.session_state[f"quote-{item_id}"])))


def change(action: str, item_id: int) -> None:
    _try(lambda: set_basket(getattr(st.session_state.basket, action)(item_id)))


def main() -> None:
    model_loading()
    style = style_selector()
    ws = workspace()
    if ws is None:
        return
    load_session(ws)
    st.header("Quote basket")
    show_errors()
    choose_basket(ws)
    store = current_store(quiet=True)
    items(indexed_reports(store), style)


main()
