"""Ask the anti-trafficking reports in a browser: `streamlit run app.py`.

The entry point only: page set-up and navigation. The pages are in app_pages/ (ask, library,
basket; `common.py` holds what they share). Retrieval lives in index/, reading reports in ingest/.
"""

from __future__ import annotations

import streamlit as st

from app_pages.common import PAGE_TITLE, apply_style

st.set_page_config(page_title=PAGE_TITLE, page_icon="📑", layout="centered")
apply_style()
navigation = st.navigation([
    st.Page("app_pages/ask.py", title="Ask", icon=":material/chat:", default=True),
    st.Page("app_pages/library.py", title="Library", icon=":material/library_books:"),
    st.Page("app_pages/basket.py", title="Basket", icon=":material/shopping_basket:"),
])
st.title(PAGE_TITLE)
navigation.run()
