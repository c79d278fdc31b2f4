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
- ``open_page``: ``open_page(path) -> (page, recorder)``: the edition's reader
  tab (one per test module, browsing.Tab) on a served page, waited until it
  settled (MathJax typeset, no request open); ``recorder.problems()``
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
import subprocess
import sys
import threading

import pytest

from bookinfo import (
    EDITIONS,  # name -> edition_table.Edition
    ROOT,
)
from browsing import (
    HOST,
    Tab,
    browser_skip_reason,
    chromium,
    new_context,
)
from build_book import BUNDLE, site_root
from build_book import bundle as make_bundle

BUILD_BOOK = [sys.executable, str(ROOT / "tools" / "build_book.py")]

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
            "html": site / EDITIONS[edition].folder, "site": site,
            "log": log.read_text()}


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
    yield f"http://{HOST}:{httpd.server_address[1]}/{EDITIONS[built_book['edition']].folder}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    reason = browser_skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, chromium(playwright) as browser:
        yield browser


@pytest.fixture(scope="module")
def reader_tab(browser, server):
    """One tab per test module and edition, which the tests move from page to
    page (browsing.Tab)."""
    context = new_context(browser)
    yield Tab(context)
    context.close()


@pytest.fixture
def open_page(reader_tab, server):
    """open_page(path) -> (page, recorder), settled, in the edition's reader tab."""
    return functools.partial(reader_tab.open, server)
