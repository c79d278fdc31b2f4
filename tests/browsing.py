"""Helpers for the browser tests (tests/test_browser.py, tests/test_explorer.py):
open a page of the served book in headless Chromium through Playwright, record
what goes wrong on it, and wait until it settled. The fixtures that use them
(``browser``, ``server``, ``open_page``) are in tests/conftest.py.
"""

import contextlib
import re
import socket
import time
from urllib.parse import urljoin, urlparse

from bookinfo import CHROMIUM

HOST = "127.0.0.1"  # the book is served here; every other host is blocked
# A phone's viewport (an iPhone 12-15), where no page may scroll sideways.
PHONE = {"width": 390, "height": 844}

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
# Console errors that are known and harmless, each with its reason. Empty: the two
# stock ones are fixed in _config.yml ("Got invalid theme mode": html_context
# default_mode) and book/_ext ("Identifier 'THEBE_JS_URL' has already been
# declared": duplicated inline scripts are emitted once).
ALLOWED_CONSOLE_ERRORS = {}  # regex -> reason


@contextlib.contextmanager
def chromium(playwright):
    """Headless Chromium that reaches 127.0.0.1 and nothing else: every other
    request goes to a proxy on a local port that refuses connections (bound, not
    listening), so it fails, whatever its host or IP address. Blocking there,
    not with Playwright's request interception (page.route), keeps the browser's
    cache on, which routing turns off (Playwright's documentation of page.route):
    every page would fetch and compile the theme's scripts again."""
    with socket.socket() as refuser:
        refuser.bind((HOST, 0))
        proxy = {"server": f"http://{HOST}:{refuser.getsockname()[1]}", "bypass": HOST}
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_FLAGS, headless=True,
                                             proxy=proxy)
        try:
            yield browser
        finally:
            browser.close()


def browser_skip_reason():
    if not CHROMIUM.exists():
        return (f"browser test skipped: {CHROMIUM} not found; install Debian's "
                "chromium package (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return ("browser test skipped: the playwright package is not installed; "
                "pip install -r requirements.lock")
    return None


class Recorder:
    """Everything that went wrong on one page. A request to another host is
    recorded here and fails in the browser (see chromium)."""

    def __init__(self):
        self.reset()

    def reset(self):
        """A clean record, for the next page loaded in the same tab."""
        self.errors = []
        self.external = []
        self.open = {}  # requests in flight -> their URL
        self.last = time.monotonic()  # when a request last started or ended

    def attach(self, page):
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._failed)
        page.on("pageerror", lambda exc: self.errors.append(f"JS error: {exc}"))
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, msg):
        if msg.type == "error" and not any(
                re.search(pattern, msg.text) for pattern in ALLOWED_CONSOLE_ERRORS):
            self.errors.append(f"console error: {msg.text}")

    def _started(self, request):
        self.open[request] = request.url
        self.last = time.monotonic()
        parts = urlparse(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != HOST:
            self.external.append(request.url)

    def _ended(self, request):
        self.open.pop(request, None)
        self.last = time.monotonic()

    # A request that started before reset() belongs to the page the tab left
    # (the search page's result previews, cut off by the next navigation).
    def _failed(self, request):
        if request in self.open:
            self.errors.append(f"request failed: {request.url} ({request.failure})")
        self._ended(request)

    def _response(self, response):
        if response.status >= 400 and response.request in self.open:
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def problems(self, external=True):
        """What went wrong; with external=False, requests to other hosts are left
        to the test that opens every page (one broken link, one failure)."""
        blocked = [f"request to another host (blocked): {url}" for url in self.external]
        # A blocked request also fails; report it once, as blocked.
        return (blocked if external else []) + [
            e for e in self.errors if not any(url in e for url in self.external)]


MATHJAX_DONE = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        await MathJax.startup.promise;
    }
}"""


def settle(page, recorder=None):
    """Wait until the page loaded and MathJax (where the page uses it) typeset;
    with the page's recorder, also until no request was open for half a second
    (see quiet). A page that navigates on load (index.html redirects to the
    intro) is followed."""
    from playwright.sync_api import Error

    for _ in range(3):
        page.wait_for_load_state("load")
        try:
            page.evaluate(MATHJAX_DONE)
            break
        except Error as exc:
            if "context was destroyed" not in str(exc):
                raise
    if recorder is not None:
        quiet(page, recorder)


def quiet(page, recorder, quiet_s=0.5, limit_s=20.0):
    """Wait until no request of the page was open for `quiet_s`. A request still
    open after `limit_s` is recorded as a problem, with its URL, and the test
    goes on. (Chromium's own "networkidle" wait only times out, without saying
    which request it waited for; it did so on a CI machine.)"""
    start = time.monotonic()
    while recorder.open or time.monotonic() - recorder.last < quiet_s:
        if time.monotonic() - start > limit_s:
            recorder.errors.append(f"requests still open after {limit_s:.0f} s: "
                                   + ", ".join(sorted(recorder.open.values())))
            return
        page.wait_for_timeout(100)  # Playwright delivers the page's events here


def new_context(browser):
    """A desktop-sized, light-scheme context without service workers."""
    return browser.new_context(viewport={"width": 1280, "height": 900},
                               color_scheme="light", service_workers="block")


class Tab:
    """One tab of a browser context, with its recorder, that goes from page to
    page as a reader does. Navigating an open tab costs Chromium less than half
    the CPU time of opening a new tab for each page (measured: 14 pages, 8.4 s
    against 20.8 s), and the suite runs on two cores. The recorder is reset for
    each page; a failed request that started before the reset belongs to the
    page the tab left and is not counted (Recorder._failed). Before the reset
    the tab goes to about:blank, which stops the page it leaves: a script there
    (Sphinx's search fetches each hit's page in turn) could otherwise start a
    request after the reset that the navigation then aborts."""

    def __init__(self, context):
        self.page = context.new_page()
        self.page.set_default_timeout(30_000)
        self.viewport = dict(self.page.viewport_size)  # the context's, restored
        self.recorder = Recorder()
        self.recorder.attach(self.page)

    def start(self, server, path):
        """Start loading `path` of the served book, with a fresh record and the
        context's viewport; return (page, recorder)."""
        if self.page.viewport_size != self.viewport:
            self.page.set_viewport_size(self.viewport)
        if self.page.url != "about:blank":
            self.page.goto("about:blank")
        self.recorder.reset()
        self.page.goto(urljoin(server, path), wait_until="commit")
        return self.page, self.recorder

    def open(self, server, path):
        """Load `path`, settled (MathJax typeset, no request open); return
        (page, recorder)."""
        page, recorder = self.start(server, path)
        settle(page, recorder)
        return page, recorder
