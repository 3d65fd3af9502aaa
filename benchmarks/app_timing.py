"""The app as a person meets it: `streamlit run app.py` on a store, driven in headless Chromium.

Times (wall clock of this process):
  * first answer: from launching `streamlit run` until the first answer's citations are on the
    page (server start, page load, model load and the answer);
  * one conversation of CONVERSATION_LENGTH questions in a fresh session: each answer from Enter
    until every citation of the new message is shown and the script run is over.
The server's RSS (its process and its children, from /proc) is sampled throughout; the peak is
reported. Uses Debian's chromium (never `playwright install`) and tests/streamlit_server.py.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.proc import TreePeak

CHROMIUM = "/usr/bin/chromium"
CONVERSATION_LENGTH = 20
ANSWER_TIMEOUT_S = 240.0
PAGE_TIMEOUT_S = 120.0
POLL_MS = 100
CHAT_INPUT = "[data-testid=stChatInput] textarea"
MESSAGE = "[data-testid=stChatMessage]"
# Each browser context is its own user, named in the header a login proxy would set.
USER_HEADER = "X-Bench-User"
SERVER_ENV = {"CAAHT_USER_HEADER": USER_HEADER}
# Done when the expected number of chat messages is there, the last one shows its citations
# (copy blocks) or says it has none, and Streamlit is no longer running the script (no status
# widget, no stale elements). Same rule as tests/test_browser.py's ask().
ANSWER_DONE_JS = """(expected) => {
    const messages = document.querySelectorAll('[data-testid=stChatMessage]');
    if (messages.length < expected) return false;
    const answer = messages[messages.length - 1];
    if (answer.querySelector('[data-testid=stSpinner]')) return false;
    const text = answer.innerText || '';
    const done = answer.querySelector('[data-testid=stCode]') || text.includes('No passages')
        || text.includes('do not seem to answer') || text.includes('Closest passage');
    if (!done) return false;
    return !document.querySelector('[data-testid=stStatusWidget]')
        && !document.querySelector('[data-stale=true]');
}"""


def available() -> str | None:
    """None when the browser part can run here, else the reason it cannot."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


def measure(index_dir: Path, questions: list[str], *, length: int = CONVERSATION_LENGTH) -> dict:
    from playwright.sync_api import sync_playwright
    from tests.streamlit_server import CHROMIUM_ARGS, descendants, start_server, stop_server

    log = Path(tempfile.mkdtemp(prefix="bench-app-")) / "server.log"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            started = time.monotonic()
            server = start_server(index_dir, log, env=SERVER_ENV)
            try:
                with TreePeak(server.process.pid, descendants) as rss:
                    healthy_s = time.monotonic() - started
                    first = _first_answer(browser, server.url, questions[0], started)
                    conversation = _conversation(browser, server.url, questions, length)
                    rss.sample()
            finally:
                stop_server(server)
        finally:
            browser.close()
    return {"healthy_s": healthy_s, "first_answer_s": first, "conversation_s": conversation,
            "server_peak_rss_mb": rss.peak_mb, "server_log": str(log)}


def _first_answer(browser, url: str, question: str, started: float) -> float:
    page = _open(browser, url)
    try:
        _ask(page, question)
        return time.monotonic() - started
    finally:
        page.context.close()


def _conversation(browser, url: str, questions: list[str], length: int) -> list[float]:
    page = _open(browser, url)
    try:
        return [_ask(page, questions[i % len(questions)]) for i in range(length)]
    finally:
        page.context.close()


def _open(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce",
                                  extra_http_headers={USER_HEADER: f"bench-{uuid.uuid4().hex[:8]}"})
    page = context.new_page()
    page.goto(url, timeout=PAGE_TIMEOUT_S * 1000)
    page.locator(CHAT_INPUT).wait_for(state="visible", timeout=PAGE_TIMEOUT_S * 1000)
    return page


def _ask(page, question: str) -> float:
    """Ask in the chat box; seconds from Enter until the answer is fully shown."""
    expected = page.locator(MESSAGE).count() + 2  # the question and its answer
    box = page.locator(CHAT_INPUT)
    box.fill(question)
    started = time.monotonic()
    box.press("Enter")
    page.wait_for_function(ANSWER_DONE_JS, arg=expected, polling=POLL_MS, timeout=ANSWER_TIMEOUT_S * 1000)
    return time.monotonic() - started
