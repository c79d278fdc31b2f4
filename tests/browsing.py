"""Helpers for the browser tests (tests/test_browser.py, tests/test_explorer.py):
open a page of the served book in headless Chromium through Playwright, record
what goes wrong on it, and wait until it settled. The fixtures that use them
(``browser``, ``server``, ``open_page``) are in tests/conftest.py.
"""

import re
import time
from urllib.parse import urljoin, urlparse

from bookinfo import CHROMIUM

HOST = "127.0.0.1"  # the book is served here; every other host is blocked

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
# Console errors that are known and harmless, each with its reason. Empty: the two
# stock ones are fixed in _config.yml ("Got invalid theme mode": html_context
# default_mode) and book/_ext ("Identifier 'THEBE_JS_URL' has already been
# declared": duplicated inline scripts are emitted once).
ALLOWED_CONSOLE_ERRORS = {}  # regex -> reason


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
    """Everything that went wrong on one page."""

    def __init__(self):
        self.errors = []
        self.external = []
        self.open = {}  # requests in flight -> their URL
        self.last = time.monotonic()  # when a request last started or ended

    def attach(self, page):
        page.route("**/*", self._route)
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)
        page.on("pageerror", lambda exc: self.errors.append(f"JS error: {exc}"))
        page.on("console", self._console)
        page.on("requestfailed", lambda req: self.errors.append(
            f"request failed: {req.url} ({req.failure})"))
        page.on("response", lambda res: res.status >= 400 and self.errors.append(
            f"HTTP {res.status}: {res.url}"))

    def _console(self, msg):
        if msg.type == "error" and not any(
                re.search(pattern, msg.text) for pattern in ALLOWED_CONSOLE_ERRORS):
            self.errors.append(f"console error: {msg.text}")

    def _started(self, request):
        self.open[request] = request.url
        self.last = time.monotonic()

    def _ended(self, request):
        self.open.pop(request, None)
        self.last = time.monotonic()

    def _route(self, route):
        url = route.request.url
        if urlparse(url).hostname == HOST:
            route.continue_()
        else:
            self.external.append(url)
            route.abort("blockedbyclient")

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


def new_context(browser, **context_options):
    options = {"viewport": {"width": 1280, "height": 900}, "color_scheme": "light",
               "service_workers": "block", **context_options}
    return browser.new_context(**options)


def start_page(context, server, path):
    """Start loading `path` of the served book in a new tab of `context`, with a
    recorder attached before the first request; return (page, recorder)."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    recorder = Recorder()
    recorder.attach(page)
    page.goto(urljoin(server, path), wait_until="commit")
    return page, recorder


def open_in(browser, server, path, contexts, **context_options):
    """Open `path` of the served book in a fresh context (appended to `contexts`,
    for the caller to close), settled; return (page, recorder)."""
    contexts.append(new_context(browser, **context_options))
    page, recorder = start_page(contexts[-1], server, path)
    settle(page)
    return page, recorder


