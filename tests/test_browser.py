"""End to end: a real `streamlit run app.py` server, driven by Debian's headless Chromium.

Each store under test gets one server (module-scoped), each test a fresh browser context,
so a fresh Streamlit session with an empty history. Never `playwright install`: the tests
use the system's /usr/bin/chromium (or $CHROMIUM) and are skipped without it, unless
REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.conftest import HOSTILE_REPORT, ROOT
from tests.streamlit_server import CHROMIUM_ARGS, LOOPBACK_HOSTS, Server, ServerStartError, start_server, stop_server

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("REQUIRE_BROWSER") == "1"


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"browser tests are required (REQUIRE_BROWSER=1) but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (install it with: sudo apt-get install -y chromium)",
                allow_module_level=True)


if not os.access(CHROMIUM, os.X_OK):
    _unavailable(f"{CHROMIUM} is not installed")
try:
    from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
except ImportError as exc:  # pragma: no cover - playwright is in requirements.txt
    _unavailable(f"playwright cannot be imported ({exc})")

ANSWER_TIMEOUT = 180_000  # ms; the first question loads the models (and CI machines are slow)
INGEST_TIMEOUT = 420_000  # ms for an upload to be read and embedded (a PDF, on a busy 2-core machine)
PAGE_TIMEOUT = 60_000  # ms, for anything else
ARTIFACTS = ROOT / "test-artifacts"

FLYERS = "How many flyers were distributed?"
POLICE = "Should anti-trafficking police be trained?"
FLYERS_CITATION = ("“An awareness raising campaign distributed 1,500 flyers and 150 posters with "
                   "anti-trafficking messages.” — 2006 CAAHT Annual Conference Report, p. 23, "
                   "presentation by Ms. Aida Orgocka (Christian Children's Fund, Albania)")

# Streamlit 1.67 DOM (data-testid attributes are what Streamlit's own tests select on).
CHAT_INPUT = "[data-testid=stChatInput] textarea"
MESSAGE = "[data-testid=stChatMessage]"
CONTENT = "[data-testid=stChatMessageContent]"
BEST = f"{CONTENT} [class*=st-key-best-]"  # the best quote of an answer, large, with its citation
SOURCE = f"{CONTENT} [data-testid=stExpander]"  # "Whole passage" and each other source, collapsed
PASSAGE = f"{CONTENT} [data-testid=stMarkdownContainer]"  # st.markdown: passages and source lines
# The citation as a reader sees it: captions and the numbered source lines (expander labels).
CAPTION = f"{CONTENT} :is([data-testid=stCaptionContainer], [data-testid=stExpander] summary " \
          f"[data-testid=stMarkdownContainer])"
COPY_BLOCK = f"{CONTENT} [data-testid=stCode]"  # st.code: what the copy button copies
# The code block's copy button is an element-toolbar button (it shows while the block is hovered).
COPY_BUTTON = "[data-testid=stBaseButton-elementToolbar][aria-label='Copy to clipboard']"
# Everything on the page that shows report text through Markdown (passages and citation captions).
PROSE = f"{CONTENT} :is([data-testid=stMarkdownContainer], [data-testid=stCaptionContainer])"
REPORT_TEXT = f"{CONTENT} :is([data-testid=stMarkdownContainer], [data-testid=stCaptionContainer], " \
              f"[data-testid=stCode] pre)"


# The app puts a zero-width space after "http", "www" and "@" in displayed text (index/present.py),
# so that GitHub-flavoured Markdown does not turn report URLs into links. It is invisible, so
# the comparisons of what a reader sees ignore it; what the copy button copies must not hold one.
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def normalise(text: str) -> str:
    """Text as a reader sees it: runs of whitespace as one space, zero-width characters gone."""
    return " ".join(text.translate(ZERO_WIDTH).split())


# --------------------------------------------------------------------------- the server

# The servers run as behind a login proxy that names the user in this header; each browser
# context is its own user (open_tab), so saved conversations and baskets never leak between tests.
USER_HEADER = "X-Test-User"
SERVER_ENV = {"CAAHT_USER_HEADER": USER_HEADER}


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    """Start `streamlit run app.py` on a private copy of a store (the app saves each user's work in
    the index directory); every server started is stopped after the module."""
    servers: list[Server] = []

    def start(index_dir: Path) -> Server:
        log = tmp_path_factory.mktemp("streamlit") / "server.log"
        if index_dir.is_dir():
            copy = tmp_path_factory.mktemp("served") / "store"
            shutil.copytree(index_dir, copy)
            index_dir = copy
        try:
            servers.append(start_server(index_dir, log, env=SERVER_ENV))
        except ServerStartError as exc:
            pytest.fail(str(exc), pytrace=False)
        return servers[-1]

    yield start
    for server in servers:
        stop_server(server)


@pytest.fixture(scope="module")
def corpus_server(serve, real_store: Path) -> Server:
    return serve(real_store)


@pytest.fixture(scope="module")
def empty_server(serve, tmp_path_factory) -> Server:
    return serve(tmp_path_factory.mktemp("no-store") / "store")


@pytest.fixture(scope="module")
def hostile_server(serve, hostile_store: Path) -> Server:
    return serve(hostile_store)


# --------------------------------------------------------------------------- the browser

@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    """A page in its own browser context, with a record of what it tried to do."""

    context: BrowserContext
    page: Page
    outside_requests: list[str] = field(default_factory=list)  # URLs off loopback (all aborted)
    dialogs: list[str] = field(default_factory=list)  # alert/confirm/prompt messages
    page_errors: list[str] = field(default_factory=list)  # uncaught exceptions in the page


def open_tab(browser: Browser, server: Server, user: str | None = None) -> Tab:
    """A new browser context as `user` (a fresh, unique user by default)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  extra_http_headers={USER_HEADER: user or f"tester-{uuid.uuid4().hex[:8]}"})
    context.set_default_timeout(PAGE_TIMEOUT)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    tab = Tab(context, page)

    def route(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK_HOSTS:
            route.continue_()
        else:
            tab.outside_requests.append(route.request.url)
            route.abort()

    def on_websocket(socket) -> None:  # route() does not see WebSockets
        if urlsplit(socket.url).hostname not in LOOPBACK_HOSTS:
            tab.outside_requests.append(socket.url)

    def on_dialog(dialog) -> None:  # an alert() would otherwise be dismissed unseen
        tab.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    context.route("**/*", route)
    page.on("websocket", on_websocket)
    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: tab.page_errors.append(str(error)))
    page.goto(server.url)
    return tab


@pytest.fixture
def new_tab(browser):
    """Open the app in a fresh context (a new Streamlit session); closed after the test."""
    tabs: list[Tab] = []

    def open_(server: Server, user: str | None = None) -> Tab:
        tabs.append(open_tab(browser, server, user))
        return tabs[-1]

    yield open_
    for tab in tabs:
        tab.context.close()


def ask(page: Page, question: str, timeout: float = ANSWER_TIMEOUT) -> None:
    """Type a question, press Enter, and wait until the app has finished answering it."""
    asked = page.locator(MESSAGE).count() // 2
    box = page.locator(CHAT_INPUT)
    box.wait_for(state="visible")
    box.fill(question)
    box.press("Enter")
    # Done when the new assistant message exists, has content, and the script run is over
    # (Streamlit shows its status widget while running and marks old elements stale).
    page.wait_for_function(
        """(expected) => {
            const messages = document.querySelectorAll('[data-testid=stChatMessage]');
            if (messages.length < 2 * expected) return false;
            const answer = messages[2 * expected - 1];
            if (answer.querySelector('[data-testid=stSpinner]')) return false;
            // An answer is rendered when its citations (copy blocks) or its "no passages" line are.
            const done = answer.querySelector('[data-testid=stCode]')
                || answer.innerText.includes('No passages')
                || answer.innerText.includes('do not seem to answer');
            if (!done) return false;
            return !document.querySelector('[data-testid=stStatusWidget]')
                && !document.querySelector('[data-stale=true]');
        }""",
        arg=asked + 1, timeout=timeout)


SCROLLER = "[data-testid=stAppScrollToBottomContainer]"  # Streamlit scrolls this, not the document


def wait_until_still(page: Page, timeout: float = 15) -> None:
    """The chat keeps itself scrolled to the bottom, smoothly: wait until it stops moving."""
    where = f"(() => {{ const m = document.querySelector('{SCROLLER}'); return m ? m.scrollTop : 0; }})()"
    deadline, last = time.monotonic() + timeout, page.evaluate(where)
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        now = page.evaluate(where)
        if now == last:
            return
        last = now


def fit_viewport(page: Page) -> None:
    """Make the viewport as tall as the app's content, so nothing scrolls (or hides under the header)."""
    wait_until_still(page)
    height = page.evaluate("""(selector) => {
        const main = document.querySelector(selector);
        return Math.max(document.documentElement.scrollHeight, main ? main.scrollHeight : 0);
    }""", SCROLLER)
    page.set_viewport_size({"width": page.viewport_size["width"], "height": min(int(height) + 50, 16000)})
    wait_until_still(page)


def full_page_screenshot(page: Page, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    fit_viewport(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def click_copy(page: Page, code_block) -> None:
    fit_viewport(page)
    code_block.hover()  # the copy button shows while the code block is hovered
    code_block.locator(COPY_BUTTON).click()


# --------------------------------------------------------------------------- answers

def open_sources(page: Page) -> None:
    """Open every collapsed source of the last answer (as a reader clicking each line)."""
    summaries = page.locator(f"{CONTENT} [data-testid=stExpander] summary")
    for i in range(summaries.count()):
        details = summaries.nth(i).locator("xpath=..")
        if details.get_attribute("open") is None:
            summaries.nth(i).click()
    page.wait_for_timeout(300)


def test_question_shows_the_best_quote_first_and_the_others_collapsed(new_tab, corpus_server):
    page = new_tab(corpus_server).page
    ask(page, FLYERS)
    best = page.locator(BEST).last
    assert normalise(best.inner_text()) == FLYERS_CITATION
    sources = page.locator(SOURCE)
    labels = [normalise(sources.nth(i).locator("summary [data-testid=stMarkdownContainer]").inner_text()) for i in range(sources.count())]
    assert labels[0] == "Whole passage" and [label[:2] for label in labels[1:5]] == ["2.", "3.", "4.", "5."], labels
    assert all(sources.nth(i).locator("details").get_attribute("open") is None for i in range(5))
    # A source line opens to the whole passage with the quote highlighted.
    sources.nth(1).locator("summary").click()
    marked = sources.nth(1).locator(".stMarkdownColoredBackground")
    marked.wait_for(state="visible")
    assert normalise(marked.inner_text()) in normalise(sources.nth(1).inner_text())
    full_page_screenshot(page, ARTIFACTS / "ask-answer.png")
    assert (ARTIFACTS / "ask-answer.png").stat().st_size > 10_000


def test_copy_button_copies_quote_with_citation(new_tab, corpus_server):
    page = new_tab(corpus_server).page
    ask(page, FLYERS)
    first = page.locator(COPY_BLOCK).first
    assert normalise(first.locator("pre").inner_text()) == FLYERS_CITATION
    # Overwrite the clipboard first so that a stale value cannot pass the test.
    page.evaluate("navigator.clipboard.writeText('nothing copied yet')")
    # The copy button appears on hover, and the chat may still be scrolling into place, so
    # a click can land on a neighbouring block's button: hover and click again (3 tries).
    for _ in range(3):
        click_copy(page, first)
        deadline = time.monotonic() + 5
        while (copied := page.evaluate("navigator.clipboard.readText()")) != FLYERS_CITATION \
                and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        if copied == FLYERS_CITATION:
            break
    assert copied == FLYERS_CITATION


def test_follow_up_question_keeps_the_history(new_tab, corpus_server):
    page = new_tab(corpus_server).page
    ask(page, FLYERS)
    ask(page, POLICE)
    messages = page.locator(MESSAGE)
    assert messages.count() == 4
    roles = ["User" if messages.nth(i).locator("[data-testid=stChatMessageAvatarUser]").count() else
             "Assistant" for i in range(4)]
    assert roles == ["User", "Assistant", "User", "Assistant"]
    texts = [normalise(messages.nth(i).locator(CONTENT).inner_text()) for i in range(4)]
    assert texts[0] == FLYERS and texts[2] == POLICE
    assert "1,500 flyers and 150 posters" in texts[1], texts[1]
    assert "anti-trafficking police" in texts[3], texts[3]
    # In order on screen too, each visible (measured at once: the chat scrolls smoothly).
    wait_until_still(page)
    tops = messages.evaluate_all("elements => elements.map(e => e.getBoundingClientRect().top)")
    assert tops == sorted(tops) and all(messages.nth(i).is_visible() for i in range(4))


def test_no_store_shows_the_command_that_builds_it(new_tab, empty_server):
    page = new_tab(empty_server).page
    alert = page.locator("[data-testid=stAlert]")
    alert.wait_for(state="visible")
    assert "python -m ingest" in alert.inner_text()
    assert page.locator(CHAT_INPUT).count() == 0


# --------------------------------------------------------------------------- hostile report text

# Questions that retrieve every passage of tests/data/hostile-report.txt within the default k=5
# (checked with `python -m index ask --index-dir DIR "..."`).
HOSTILE_QUESTIONS = (
    "What did the beekeeping cooperative put on its honey jars and leaflets?",
    "What did the lighthouse ferry inspectors write?",
    "What did the violin orchestra write?",
    "What did the glacier observatory staff find?",
    "What did the pomegranate orchard workers write?",
    "What did the tangerine market stalls show?",
    "What did the quince exporters write?",
)
# Each must show literally, as text, in the passages (st.markdown) ...
PASSAGE_PAYLOADS = {
    "script": "<script>window.__pwned=1</script>",
    "img-onerror": '<img src=x onerror="window.__pwned=2">',
    "svg-onload": '<svg onload="window.__pwned=3">',
    "iframe-javascript": '<iframe src="javascript:alert(1)">',
    "md-link-javascript": "[click me](javascript:alert(1))",
    "md-link-data": "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "md-image-outside-host": "![tracker](http://203.0.113.7/pixel.png)",
    "html-link": '<a href="http://evil.example/">link</a>',
    "style": "<style>body{display:none}</style>",
    "b-onmouseover": "<b onmouseover=alert(1)>bold</b>",
    "colour-directive": ":red[streamlit colour directive]",
    "latex": r"$\alert{x}$",
    "display-math": "$$x^2$$",
    "details-ontoggle": "<details open ontoggle=alert(1)>",
    "javascript-url": "javascript:alert(document.cookie)",
    "input-autofocus": "<input autofocus onfocus=alert(1)>",
    "template": "{{7*7}}",
    "md-heading": "# Big heading",
    "entity-lt-gt": "&lt;b&gt;",
    "entity-amp": "&amp;",
    "emoji-shortcode": ":smile:",
    "material-icon": ":material/warning:",
    "html-comment": "<!-- a comment -->",
    "strikethrough": "~~struck words~~",
    "inline-code": "`inline code`",
    "autolink": "<https://evil.example/auto>",
    "bare-url": "https://evil.example/bare",
    "www-url": "www.evil.example",
    "email": "orders@evil.example",
    "url-upper-case": "HTTPS://EVIL.EXAMPLE/UPPER",
    "www-mixed-case": "Www.Evil.Example/mixed",
    "mailto": "mailto:quince@evil.example",
    "xmpp": "xmpp:quince@evil.example",
    "email-plus": "first.last+quince@evil.example",
    "url-in-parentheses": "(see http://evil.example/paren)",
    "ftp-url": "ftp://203.0.113.7/quince.csv",
    "url-port-query": "https://203.0.113.7:8443/quince?x=1&y=2#frag",
    "link-stylesheet": '<link rel="stylesheet" href="http://203.0.113.7/style.css">',
    "object": '<object data="http://203.0.113.7/object.swf"></object>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=http://evil.example/">',
    "section-title": 'Beekeeping cooperatives <svg onload="window.__pwned=10"> in the highlands',
}
# ... or in the citation captions (st.caption) and copy blocks: the title and presenter lines.
CAPTION_PAYLOADS = {
    "report-title": "2006 <u>Hostile</u> Input Test Report",
    "speaker": "Mr. Evil <b>Tester</b>",
    "organisation-img": 'Beekeepers Union <img src=x onerror="window.__pwned=9"> Team',
    "organisation-script": "Lighthouse Ferry <script>window.__pwned=8</script> Union",
}
# Elements that report text must never become (passages, captions and copy blocks).
FORBIDDEN_ELEMENTS = {
    "script": "script", "img": "img", "svg": "svg", "iframe": "iframe", "style": "style",
    "details": "details", "input": "input, textarea, button, form", "object": "object, embed",
    "link-meta": "link, meta", "heading": "h1, h2, h3, h4, h5, h6", "math": ".katex, math",
    "strikethrough": "del, s", "list-table": "ul, ol, table, hr", "underline-bold": "u, b",
    "coloured-text": ".stMarkdownColoredText", "icon": "[data-testid=stIconMaterial]",
}


# Inline event handlers anywhere in the document, and addresses of the outside host or javascript:
# / data:text URLs in src-like attributes (links, <a href>, are checked on their own).
SUSPICIOUS_ATTRIBUTES = """() => [...document.querySelectorAll('*')].flatMap(e =>
    [...e.attributes]
      .filter(a => /^on/i.test(a.name)
          || (['src', 'href', 'data', 'action', 'formaction', 'srcdoc', 'content', 'style'].includes(a.name)
              && /203\\.0\\.113\\.7|evil\\.example|^\\s*(javascript|data:text)/i.test(a.value)))
      .filter(a => !(e.tagName === 'A' && a.name === 'href'))
      .map(a => `<${e.tagName.toLowerCase()} ${a.name}="${a.value}">`))"""


@dataclass
class Visit:
    """One hostile question, asked in its own session, and what the page showed and did."""

    question: str
    error: str = ""  # why the answer could not be read, if it could not
    passages: str = ""  # the passages' Markdown text, whitespace-normalised
    captions: str = ""  # the citation captions' text
    copy_blocks: str = ""  # the st.code blocks' text
    raw_copy_blocks: str = ""  # the same, not normalised
    body: str = ""  # all visible text of the page
    elements: dict[str, list[str]] = field(default_factory=dict)  # FORBIDDEN_ELEMENTS name -> outerHTML
    links: list[str] = field(default_factory=list)  # <a> elements inside report text
    attributes: list[str] = field(default_factory=list)  # on* handlers, outside or javascript: addresses
    pwned: str = "undefined"  # typeof window.__pwned
    shown: bool = True  # the body is displayed and the chat input visible
    tab: Tab | None = None


def visit(browser: Browser, server: Server, question: str) -> Visit:
    tab = open_tab(browser, server)
    result = Visit(question, tab=tab)
    page = tab.page

    def texts(selector: str) -> str:
        return normalise(" \n".join(page.locator(selector).all_inner_texts()))

    try:
        ask(page, question)
    except Exception as exc:  # noqa: BLE001 - recorded; the tests report it with the rest
        result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    try:
        open_sources(page)
    except Exception as exc:  # noqa: BLE001
        result.error += f" / opening the sources: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    try:  # pass the mouse over the passages (onmouseover), best effort
        page.locator(PROSE).last.hover(timeout=5_000, force=True)
    except Exception:  # noqa: BLE001
        pass
    try:
        # Give anything that would load or fire (onerror, autofocus, meta refresh) time to do so.
        page.wait_for_timeout(1_000)
        result.passages, result.captions = texts(PASSAGE), texts(CAPTION)
        result.copy_blocks, result.body = texts(COPY_BLOCK), texts("body")
        result.raw_copy_blocks = "\n".join(page.locator(COPY_BLOCK).all_inner_texts())
        outer_html = "elements => elements.map(e => e.outerHTML)"
        for name, selector in FORBIDDEN_ELEMENTS.items():
            scoped = ", ".join(f"{REPORT_TEXT} {part.strip()}" for part in selector.split(","))
            result.elements[name] = page.locator(scoped).evaluate_all(outer_html)
        result.links = page.locator(f"{REPORT_TEXT} a, a[href^='javascript:' i], a[href^='data:' i]") \
            .evaluate_all(outer_html)
        result.attributes = page.evaluate(SUSPICIOUS_ATTRIBUTES)
        result.pwned = page.evaluate("typeof window.__pwned")
        result.shown = (page.evaluate("getComputedStyle(document.body).display") != "none"
                        and page.locator(CHAT_INPUT).is_visible())
        full_page_screenshot(page, ARTIFACTS / f"hostile-{HOSTILE_QUESTIONS.index(question) + 1}.png")
    except Exception as exc:  # noqa: BLE001
        result.error += f" / reading the page: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    return result


@pytest.fixture(scope="module")
def hostile(browser, hostile_server) -> list[Visit]:
    """Every hostile question asked once, each in a fresh session (one broken page spoils no other)."""
    visits = [visit(browser, hostile_server, question) for question in HOSTILE_QUESTIONS]
    yield visits
    for one in visits:
        one.tab.context.close()


def everywhere(visits: list[Visit], name: str) -> str:
    return " \n".join(getattr(v, name) for v in visits)


def test_hostile_report_holds_every_payload():
    text = normalise(HOSTILE_REPORT.read_text(encoding="utf-8"))
    missing = [p for p in [*PASSAGE_PAYLOADS.values(), *CAPTION_PAYLOADS.values()] if normalise(p) not in text]
    assert missing == []


def test_every_hostile_question_was_answered(hostile):
    assert [(v.question, v.error) for v in hostile if v.error] == []


@pytest.mark.parametrize("payload", PASSAGE_PAYLOADS.values(), ids=PASSAGE_PAYLOADS.keys())
def test_passage_payload_shows_literally(hostile, payload):
    shown = normalise(payload)
    assert shown in everywhere(hostile, "passages"), f"{payload!r} is not shown literally in any passage"
    assert shown in everywhere(hostile, "body")


@pytest.mark.parametrize("payload", CAPTION_PAYLOADS.values(), ids=CAPTION_PAYLOADS.keys())
def test_citation_payload_shows_literally(hostile, payload):
    shown = normalise(payload)
    assert shown in everywhere(hostile, "captions"), f"{payload!r} is not shown literally in any citation"
    assert shown in everywhere(hostile, "copy_blocks")
    assert shown in everywhere(hostile, "body")


def test_copy_blocks_hold_no_invisible_characters(hostile):
    """The copy button gives the report's own text: no zero-width character slipped in for display."""
    copied = "\n".join(v.raw_copy_blocks for v in hostile)
    assert "Beekeepers Union" in copied
    assert [hex(ord(c)) for c in copied if ord(c) in ZERO_WIDTH] == []


@pytest.mark.parametrize("name", FORBIDDEN_ELEMENTS.keys())
def test_report_text_creates_no_element(hostile, name):
    assert [html for v in hostile for html in v.elements.get(name, [])] == []


def test_report_text_creates_no_links(hostile):
    """URLs in report text stay text: no link that takes a reader to a stranger's host (or runs script)."""
    assert [html for v in hostile for html in v.links] == []


def test_no_event_handler_or_outside_address_in_the_page(hostile):
    assert [found for v in hostile for found in v.attributes] == []


def test_no_dialog_and_no_script_ran(hostile):
    assert [d for v in hostile for d in v.tab.dialogs] == []
    assert [v.pwned for v in hostile] == ["undefined"] * len(hostile)
    assert [e for v in hostile for e in v.tab.page_errors] == []


def test_no_request_leaves_loopback(hostile):
    assert [url for v in hostile for url in v.tab.outside_requests] == []


def test_page_stays_visible(hostile):
    """<style>body{display:none}</style> taken as CSS would hide the whole app."""
    assert [v.question for v in hostile if not v.shown] == []


# --------------------------------------------------------------------------- sessions, uploads, basket

SHELTER = "How many women did the shelter in Kukes host?"


@pytest.fixture(scope="module")
def upload_server(serve, real_store: Path, tmp_path_factory) -> Server:
    """A server on a copy of the corpus store, so that uploads do not change the shared one."""
    import shutil

    store = tmp_path_factory.mktemp("upload") / "store"
    shutil.copytree(real_store, store)
    return serve(store)


def settled(page: Page, timeout: float = PAGE_TIMEOUT) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=timeout)


def add_first_quote(page: Page, nth: int = 0) -> None:
    """Add the best quote (nth=0), or the quote of the nth other source (opened first)."""
    if nth:
        page.locator(SOURCE).nth(nth).locator("summary").click()
    page.get_by_role("button", name="Add quote to basket").nth(nth).click()
    settled(page)


def library_report_count(page: Page) -> int:
    """The number of reports the Library page's summary line names ("2 reports · years …")."""
    line = page.get_by_text(re.compile(r"^\d+ reports? · ")).first
    line.wait_for(timeout=ANSWER_TIMEOUT)
    return int(line.inner_text().split()[0])


def go_to(page: Page, title: str) -> None:
    """Follow the sidebar's navigation link to the page titled `title`."""
    page.locator("[data-testid=stSidebarNav] a", has_text=title).first.click()
    settled(page)


def test_sessions_do_not_share_history_or_basket(new_tab, corpus_server):
    first = new_tab(corpus_server).page
    ask(first, FLYERS)
    add_first_quote(first)
    first.get_by_text("Quote basket (1)").wait_for(timeout=PAGE_TIMEOUT)
    second = new_tab(corpus_server).page
    second.locator(CHAT_INPUT).wait_for(state="visible", timeout=PAGE_TIMEOUT)
    second.get_by_text("Quote basket (0)").wait_for(timeout=PAGE_TIMEOUT)
    assert second.locator(MESSAGE).count() == 0


def test_upload_a_report_and_ask_about_it_at_once(new_tab, upload_server, tmp_path: Path):
    from tests.conftest import TINY_REPORT

    report = tmp_path / "shelter-report-2009.txt"
    report.write_text(TINY_REPORT, encoding="utf-8")
    page = new_tab(upload_server).page
    go_to(page, "Library")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(report))
    # Pressed as a person does, once the file shows as uploaded and the page is still.
    # (Pressing first is the next test. A press in the very instant the upload lands can
    # be lost inside Streamlit; the person then presses again.)
    page.locator("[data-testid=stFileChip]").wait_for(timeout=PAGE_TIMEOUT)
    page.locator("[data-testid=stFileChipIconSpinner]").wait_for(state="detached", timeout=PAGE_TIMEOUT)
    page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=ANSWER_TIMEOUT)
    page.get_by_role("button", name="Add to the index").click()
    page.get_by_text("1 file(s): 1 ok.").wait_for(timeout=ANSWER_TIMEOUT)
    page.locator("[data-testid=stFileChip]").wait_for(state="detached")  # the uploader is emptied
    go_to(page, "Ask")
    ask(page, SHELTER)
    best = normalise(page.locator(BEST).last.inner_text())
    assert "hosted 42 women" in best and "p. 5" in best, best


def test_add_pressed_before_choosing_a_file_adds_it_once_uploaded(new_tab, upload_server, tmp_path: Path):
    from tests.conftest import TINY_REPORT

    report = tmp_path / "outreach-report-2010.txt"
    report.write_text(TINY_REPORT.replace("2009", "2010").replace("42 women", "57 women"), encoding="utf-8")
    page = new_tab(upload_server).page
    go_to(page, "Library")
    page.get_by_role("button", name="Add to the index").click()
    page.get_by_text("Waiting for a file").wait_for(timeout=ANSWER_TIMEOUT)
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(report))
    page.get_by_text("1 file(s): 1 ok.").wait_for(timeout=ANSWER_TIMEOUT)
    assert page.get_by_text("Waiting for a file").count() == 0


def test_two_quotes_in_the_basket_download_as_word(new_tab, corpus_server, tmp_path: Path):
    from docx import Document

    page = new_tab(corpus_server).page
    ask(page, FLYERS)
    add_first_quote(page, 0)
    add_first_quote(page, 1)
    page.get_by_text("Quote basket (2)").wait_for(timeout=PAGE_TIMEOUT)
    go_to(page, "Basket")
    word = page.locator("[data-testid=stDownloadButton] button", has_text="Word")
    word.wait_for(state="visible")
    with page.expect_download(timeout=PAGE_TIMEOUT) as download:
        word.click()
    path = tmp_path / "quotes.docx"
    download.value.save_as(path)
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert "An awareness raising campaign distributed 1,500 flyers and 150 posters" in text
    assert "2006 CAAHT Annual Conference Report, p. 23, presentation by Ms. Aida Orgocka" in text
    assert text.count("2006 CAAHT Annual Conference Report") >= 2


# --------------------------------------------------------------------------- the daily tool (issue 11)

# A one-page PDF with a text layer: small enough to embed quickly on a busy CI machine.
PDF_REPORT = ROOT / "tests" / "data" / "pdfs" / "crazyones.pdf"
PDF_NAME, PDF_TITLE = "crazyones.pdf", "The Crazy Ones"
PDF_QUESTION = "Who are the crazy ones, the misfits, the rebels and the troublemakers?"
DIALOG = "[role=dialog]"


def test_start_page_example_question_runs_when_clicked(new_tab, corpus_server):
    page = new_tab(corpus_server).page
    intro = page.get_by_text("Indexed: 1 report")
    intro.wait_for()
    assert "passages" in intro.inner_text()
    examples = page.locator("[data-testid=stButtonGroup] button")
    examples.first.wait_for()
    assert examples.count() == 3
    full_page_screenshot(page, ARTIFACTS / "ask-start.png")
    label = normalise(examples.first.inner_text())
    examples.first.click()
    page.locator(BEST).first.wait_for(timeout=ANSWER_TIMEOUT)
    settled(page, ANSWER_TIMEOUT)
    question = normalise(page.locator(MESSAGE).first.locator(CONTENT).inner_text())
    assert question.startswith("What was said about") and question.startswith(label.rstrip("…?").rstrip("…"))
    assert page.get_by_text("Indexed: 1 report").count() == 0  # the start page gave way to the chat


def test_show_page_of_an_extract_highlights_the_quote(new_tab, corpus_server):
    page = new_tab(corpus_server).page
    ask(page, FLYERS)
    page.get_by_role("button", name="Show page").first.click()
    dialog = page.locator(DIALOG)
    marked = dialog.locator(".stMarkdownColoredBackground")
    marked.wait_for()
    assert normalise(marked.inner_text()) == ("An awareness raising campaign distributed 1,500 flyers and 150 "
                                              "posters with anti-trafficking messages.")
    assert "Page 23" in normalise(dialog.inner_text())
    download = dialog.get_by_role("button", name="Download the original report file")
    download.wait_for()  # the dialog draws its text first; on a busy machine the button follows
    assert download.count() == 1
    page.screenshot(path=str(ARTIFACTS / "page-extract.png"))


def _quote_char_boxes(pdf_path: Path, page_number: int, quote: str, scale: float):
    """The quote's characters' boxes in image pixels, by PDFium's own search (not the app's code)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        page = pdf[page_number - 1]
        textpage = page.get_textpage()
        words, found = quote.split(), None
        for start in range(max(1, len(words) - 2)):  # the first three words PDFium finds as they are
            found = textpage.search(" ".join(words[start:start + 3]), match_case=False).get_next()
            if found is not None:
                break
        assert found is not None, quote
        _, height = page.get_size()
        boxes = []
        for index in range(found[0], found[0] + found[1]):
            left, bottom, right, top = textpage.get_charbox(index)
            if right > left and top > bottom:
                boxes.append(((left + right) / 2 * scale, (height - (top + bottom) / 2) * scale))
        return boxes, page.get_size()
    finally:
        pdf.close()


def test_a_pdf_report_uploaded_is_listed_shown_with_its_quote_marked_and_removed(new_tab, upload_server):
    import io

    from PIL import Image

    page = new_tab(upload_server).page
    go_to(page, "Library")
    # Other tests in this module upload to the same server first: count from what is there.
    before = library_report_count(page)
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(PDF_REPORT))
    page.locator("[data-testid=stFileChip]").wait_for(timeout=PAGE_TIMEOUT)
    page.locator("[data-testid=stFileChipIconSpinner]").wait_for(state="detached", timeout=PAGE_TIMEOUT)
    settled(page)
    page.get_by_role("button", name="Add to the index").click()
    page.get_by_text("1 file(s): 1 ok.").wait_for(timeout=INGEST_TIMEOUT)
    table = page.locator("[data-testid=stDataFrame]")
    table.wait_for()
    full_page_screenshot(page, ARTIFACTS / "library.png")
    # The table is a canvas grid; the report count above it and the report chooser below are text.
    page.get_by_text(f"{before + 1} reports · years").wait_for(timeout=ANSWER_TIMEOUT)  # the page reloads the store

    go_to(page, "Ask")
    ask(page, PDF_QUESTION)
    best = page.locator(BEST).last
    assert PDF_TITLE in best.inner_text()
    quote = normalise(best.inner_text()).split("”")[0].lstrip("“")
    page.get_by_role("button", name="Show page").first.click()
    image = page.locator(f"{DIALOG} img").first
    image.wait_for(timeout=ANSWER_TIMEOUT)
    caption = normalise(page.locator(DIALOG).inner_text())
    assert "printed page" in caption and "PDF page" in caption, caption
    assert "could not be located" not in caption
    page.screenshot(path=str(ARTIFACTS / "page-pdf.png"))
    png = page.request.get(urljoin(page.url, image.get_attribute("src"))).body()
    marked = Image.open(io.BytesIO(png)).convert("RGB")
    page_number = int(caption.split("PDF page ")[1].split()[0])
    from index.quotes.pages import RENDER_SCALE, page_image

    plain = Image.open(io.BytesIO(page_image(PDF_REPORT, page_number, scale=RENDER_SCALE))).convert("RGB")
    assert marked.size == plain.size
    centres, _ = _quote_char_boxes(PDF_REPORT, page_number, quote, RENDER_SCALE)
    # Every character of the quote's start is under the mark (painted), and the mark is not everywhere.
    painted = [marked.getpixel((int(x), int(y))) != plain.getpixel((int(x), int(y))) for x, y in centres]
    assert painted and all(painted), painted
    changed = sum(1 for a, b in zip(marked.getdata(), plain.getdata()) if a != b)
    assert changed < 0.2 * marked.size[0] * marked.size[1]
    page.keyboard.press("Escape")

    go_to(page, "Library")
    chooser = page.locator("[data-testid=stMain] [data-testid=stSelectbox]").first
    chooser.click()
    page.keyboard.type(PDF_NAME)
    page.keyboard.press("Enter")
    settled(page)
    page.get_by_role("button", name="Remove…").click()
    page.get_by_text(f"({PDF_NAME}) from the index?").wait_for()  # the confirmation names the report
    page.get_by_role("button", name="Yes, remove it").click()
    page.get_by_text("1 removed").wait_for(timeout=INGEST_TIMEOUT)
    go_to(page, "Ask")
    page.locator(MESSAGE).nth(1).wait_for()  # the saved conversation is back before asking again
    ask(page, PDF_QUESTION)
    assert PDF_TITLE not in page.locator(CONTENT).last.inner_text()


def test_work_survives_a_reload_and_a_server_restart(browser, real_store: Path, tmp_path: Path):
    store = tmp_path / "store"
    shutil.copytree(real_store, store)
    server = start_server(store, tmp_path / "server.log", env=SERVER_ENV)
    try:
        tab = open_tab(browser, server, user="ana@ngo.example")
        page = tab.page
        ask(page, FLYERS)
        add_first_quote(page)
        page.get_by_text("Quote basket (1)").wait_for()
        page.reload()
        page.locator(BEST).first.wait_for()
        page.get_by_text("Quote basket (1)").wait_for()
        assert normalise(page.locator(MESSAGE).first.locator(CONTENT).inner_text()) == FLYERS
        tab.context.close()
    finally:
        stop_server(server)
    server = start_server(store, tmp_path / "server-2.log", env=SERVER_ENV)
    try:
        tab = open_tab(browser, server, user="ana@ngo.example")
        page = tab.page
        page.locator(f"{BEST} [data-testid=stCode]").first.wait_for(timeout=ANSWER_TIMEOUT)
        settled(page)
        assert normalise(page.locator(BEST).first.inner_text()) == FLYERS_CITATION
        go_to(page, "Basket")
        page.get_by_text("1,500 flyers and 150 posters").first.wait_for()
        page.locator("[data-testid=stDownloadButton]").first.wait_for()
        settled(page)
        full_page_screenshot(page, ARTIFACTS / "basket.png")
        tab.context.close()
        other = open_tab(browser, server)  # another user sees none of it
        other.page.get_by_text("Quote basket (0)").wait_for()
        assert other.page.locator(MESSAGE).count() == 0
        other.context.close()
    finally:
        stop_server(server)


def test_quotes_of_a_replaced_report_are_marked_stale(new_tab, upload_server, tmp_path: Path):
    from tests.conftest import TINY_REPORT

    # Named like the 2009 report an earlier test uploads, so that the question's year, not the
    # word "shelter" in one file name, tells the two apart.
    report = tmp_path / "shelter-report-2011.txt"
    report.write_text(TINY_REPORT.replace("2009", "2011").replace("42 women", "61 women"), encoding="utf-8")
    page = new_tab(upload_server).page

    def upload() -> None:
        go_to(page, "Library")
        page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(report))
        page.locator("[data-testid=stFileChip]").wait_for(timeout=PAGE_TIMEOUT)
        page.locator("[data-testid=stFileChipIconSpinner]").wait_for(state="detached", timeout=PAGE_TIMEOUT)
        settled(page)
        page.get_by_role("button", name="Add to the index").click()
        page.locator("[data-testid=stFileChip]").wait_for(state="detached", timeout=INGEST_TIMEOUT)
        settled(page, INGEST_TIMEOUT)

    upload()
    go_to(page, "Ask")
    ask(page, "How many women did the shelter in Kukes host in 2011?")
    add_first_quote(page)
    go_to(page, "Basket")
    page.get_by_text("61 women").first.wait_for(timeout=ANSWER_TIMEOUT)
    assert page.get_by_text("Stale:").count() == 0
    report.write_text(TINY_REPORT.replace("2009", "2011").replace("42 women", "64 women"), encoding="utf-8")
    upload()
    go_to(page, "Basket")
    page.get_by_text("Stale: this report has been replaced").wait_for()
    assert page.get_by_text("61 women").count() >= 1  # the quote is kept as it was saved


def test_csv_of_a_hostile_quote_is_defused(new_tab, hostile_server, tmp_path: Path):
    import csv

    page = new_tab(hostile_server).page
    ask(page, "What did the walnut growers click in their ledger?")
    whole = page.get_by_role("button", name="Add whole passage")
    texts = normalise(page.locator(CONTENT).last.inner_text())
    assert "=HYPERLINK(" in texts, texts
    # The passage holding the formula is the best quote or one of the sources: add each whole.
    open_sources(page)
    for i in range(whole.count()):
        whole.nth(i).click()
        settled(page)
    go_to(page, "Basket")
    csv_button = page.locator("[data-testid=stDownloadButton] button", has_text="CSV")
    with page.expect_download(timeout=PAGE_TIMEOUT) as download:
        csv_button.click()
    path = tmp_path / "quotes.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig", newline="")))
    formulas = [r["quote"] for r in rows if "HYPERLINK" in r["quote"]]
    assert formulas and all(q.startswith("'=HYPERLINK(") for q in formulas), formulas
    assert not [r for r in rows for v in r.values() if v[:1] in ("=", "+", "-", "@")]
