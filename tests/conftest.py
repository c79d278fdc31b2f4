"""Fixtures for the tests of the built HTML book, shared by every test file.

- ``edition``: each edition of the book the tests check ("en", "zh"); tests that
  use the built book run once per edition.
- ``built_book``: the edition built once per test session with warnings as
  errors: ``{"edition", "returncode", "html", "site", "log"}``; ``html`` is the
  edition's folder, ``site`` the English root that holds both (Chinese: zh/).
- ``html_dir``: the edition's built html folder (fails with the build log if the
  build did not produce one).
- ``bundle``: the path of the offline zip of the session's site (both
  editions), made once, as the README's build command makes it after building
  both editions.
- ``server``: the base URL of ``html_dir``, served on 127.0.0.1 from the site's
  root, so that links between the editions resolve.
- ``browser``: headless Chromium (Debian's package) through Playwright; the test
  is skipped, with the reason, where either is missing.
- ``open_page``: ``open_page(path) -> (page, recorder)``: a fresh browser context
  on a served page, waited until it settled (MathJax typeset); ``recorder.problems()``
  lists its JavaScript errors, console errors, failed requests, HTTP errors and
  every request to another host (all blocked: the book must read offline).

The notebook plugin (tests/notebook_plugin.py) marks every test that uses
``built_book`` ``slow`` and starts those first. The site is built once per
session, by the command readers run (tools/build_book.py, every edition at
once): the first worker that needs it builds it, the others wait on a lock. The
English edition is at the site's root, the Chinese one in its zh/ folder
(``EDITIONS``); an edition that failed to build, or was written elsewhere, fails
the tests of that edition.
"""

import fcntl
import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
from urllib.parse import urljoin, urlparse

import pytest

from bookinfo import (  # noqa: F401 (cell_source, load_notebook: for test files)
    CHROMIUM,
    ROOT,
    cell_source,
    load_notebook,
)
from build_book import BUNDLE, EDITIONS  # EDITIONS: edition -> its folder
from build_book import bundle as make_bundle
from build_book import html_dir as site_root

BOOK = ROOT / "book"
BUILD_BOOK = [sys.executable, str(ROOT / "tools" / "build_book.py")]

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
HOST = "127.0.0.1"
# Console errors that are known and harmless, each with its reason. Empty: the two
# stock ones are fixed in _config.yml ("Got invalid theme mode": html_context
# default_mode) and book/_ext ("Identifier 'THEBE_JS_URL' has already been
# declared": duplicated inline scripts are emitted once).
ALLOWED_CONSOLE_ERRORS = {}  # regex -> reason


def pytest_addoption(parser):
    parser.addoption("--full-screenshots", action="store_true",
                     help="browser test: screenshot whole pages, not the first "
                     "screen (slower: about 1 s per page)")
    parser.addoption("--pdf", action="store_true",
                     help="build the PDFs and check them (tests/test_pdf.py; "
                     "XeLaTeX, 40 s to 3 minutes on two cores)")


def _session_folder(tmp_path_factory):
    """A folder shared by this session's xdist workers, and by no other session."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist a worker's basetemp is pytest-N/popen-gwK: its parent is this
    # session's. Without xdist, basetemp itself is this session's.
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session", params=list(EDITIONS))
def edition(request):
    return request.param


def _build(edition, shared):
    """The whole site, built once per session by the README's build command
    (tools/build_book.py with --output: every edition, at once); xdist workers
    share it through a lock file. Returns `edition`'s part of it."""
    target = shared / "book"
    with open(shared / "book.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = target / "result.json"
        log = target / "build.log"
        if not done.exists():
            target.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run([*BUILD_BOOK, "--output", str(target)], cwd=ROOT,
                                  capture_output=True, text=True,
                                  env={**os.environ, "PYTHONWARNINGS": ""})
            log.write_text(proc.stdout + proc.stderr)
            done.write_text(json.dumps({"returncode": proc.returncode}))
        result = json.loads(done.read_text())
    site = site_root(target)
    return {"edition": edition, "returncode": result["returncode"],
            "html": site / EDITIONS[edition], "site": site, "log": log.read_text()}


@pytest.fixture(scope="session")
def built_book(edition, tmp_path_factory):
    """The edition, built once per session."""
    return _build(edition, _session_folder(tmp_path_factory))


def _built_html(build):
    """The edition's html folder; fails with the build log if there is none."""
    if not (build["html"] / "index.html").exists():
        pytest.fail(f"the {build['edition']} book did not build; build log "
                    "tail:\n" + build["log"][-3000:])
    return build["html"]


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The root folder of the whole site, with every edition built."""
    builds = [_build(e, _session_folder(tmp_path_factory)) for e in EDITIONS]
    for build in builds:
        _built_html(build)
    return builds[0]["site"]


@pytest.fixture(scope="session")
def bundle(site, tmp_path_factory):
    """The offline zip of the session's site, made once, after both editions."""
    with open(_session_folder(tmp_path_factory) / "bundle.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = site.parent / "bundle-made"
        if not done.exists():
            make_bundle(site)
            done.touch()
    return site / BUNDLE


@pytest.fixture(scope="session")
def html_dir(built_book):
    return _built_html(built_book)


@pytest.fixture(scope="session")
def server(built_book, html_dir, site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer((HOST, 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://{HOST}:{httpd.server_address[1]}/{EDITIONS[built_book['edition']]}"
    httpd.shutdown()
    httpd.server_close()


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


@pytest.fixture(scope="session")
def browser():
    reason = browser_skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


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


@pytest.fixture
def open_page(browser, server):
    """open_page(path, **context_options) -> (page, recorder); the contexts close
    after the test."""
    contexts = []
    yield functools.partial(open_in, browser, server, contexts=contexts)
    for context in contexts:
        context.close()
