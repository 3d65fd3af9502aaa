"""Report text shown in the app is text, never Markdown or HTML."""

from __future__ import annotations

import pytest

from index.quotes.present import ZERO_WIDTH_SPACE, escape_markdown


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<script>alert(1)</script>", "\\<script\\>alert\\(1\\)\\<\\/script\\>"),
        ("[x](javascript:alert(1))", "\\[x\\]\\(javascript\\:alert\\(1\\)\\)"),
        ("![t](http://203.0.113.7/p.png)", f"\\!\\[t\\]\\(http{ZERO_WIDTH_SPACE}\\:\\/\\/203\\.0\\.113\\.7\\/p\\.png\\)"),
        (":red[x] $x$", "\\:red\\[x\\] \\$x\\$"),
        ("see www.caaht.com", f"see www{ZERO_WIDTH_SPACE}\\.caaht\\.com"),
        ("1,500 flyers", "1,500 flyers"),
    ],
    ids=["script", "javascript-link", "outside-image", "streamlit-directive-and-math", "bare-www", "plain"],
)
def test_escape_markdown(text, expected):
    assert escape_markdown(text) == expected
