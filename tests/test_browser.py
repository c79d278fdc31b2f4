"""The HTML book as readers get it, in a real browser (issue 8).

Serves the book built by the `built_book` fixture on 127.0.0.1 and opens every
page in headless Chromium (Debian's `chromium` package) through Playwright. A page
fails on a JavaScript error, a console error, a failed request or an HTTP error,
and on ANY request to a host other than 127.0.0.1 (the request is blocked and
recorded): the book must read offline. Then: chapter navigation, the search page,
the Colab and download buttons, rendered math, and chapter 3's kernel-free
explorer. A full-page screenshot of every page goes to _build/screenshots/.

Without /usr/bin/chromium or the playwright package, every test here is SKIPPED
with the reason, which `-ra` prints in the test summary.
"""

import functools
import http.server
import json
import re
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from conftest import (BOOK, ROOT, built_pages, colab_url, load_notebook,
                      toc_chapters, toc_files)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "_build" / "screenshots"
HOST = "127.0.0.1"
EXPLORER_NOTEBOOK = BOOK / "03_initialization.ipynb"

# Console errors that are known and harmless, each with its reason. Empty: the two
# stock ones are fixed in _config.yml ("Got invalid theme mode": html_context
# default_mode) and book/_ext/mbm_html.py ("Identifier 'THEBE_JS_URL' has already
# been declared": duplicated inline scripts are emitted once).
ALLOWED_CONSOLE_ERRORS = {}  # regex -> reason


def _skip_reason():
    if not CHROMIUM.exists():
        return (f"browser test skipped: {CHROMIUM} not found; install Debian's "
                "chromium package (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return ("browser test skipped: the playwright package is not installed; "
                "pip install -r requirements.txt")
    return None


SKIP_REASON = _skip_reason()
if SKIP_REASON:  # one plain line in the `-ra` summary, before anything is built
    pytest.skip(SKIP_REASON, allow_module_level=True)


def book_pages():
    """Every page a reader can reach, as paths relative to the html folder."""
    pages = [f"{name}.html" for name in toc_files()]
    return ["index.html"] + pages + ["genindex.html", "search.html"]


def page_name(path):
    return path[:-len(".html")].replace("/", "_")


# --- fixtures: the book on a local server, a browser, a page that records problems


@pytest.fixture(scope="module")
def html_dir(built_book):
    html = built_book["html"]
    if not (html / "index.html").exists():
        pytest.fail("the book did not build; build log tail:\n"
                    + built_book["log"][-3000:])
    return html


@pytest.fixture(scope="module")
def server(html_dir):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(html_dir))
    httpd = http.server.ThreadingHTTPServer((HOST, 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://{HOST}:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


class Recorder:
    """Everything that went wrong on one page."""

    def __init__(self):
        self.problems = []
        self.external = []

    def attach(self, page):
        page.on("pageerror", lambda exc: self.problems.append(f"JS error: {exc}"))
        page.on("console", self._console)
        page.on("requestfailed", lambda req: self.problems.append(
            f"request failed: {req.url} ({req.failure})"))
        page.on("response", lambda res: res.status >= 400 and self.problems.append(
            f"HTTP {res.status}: {res.url}"))

    def _console(self, msg):
        if msg.type != "error":
            return
        if any(re.search(pattern, msg.text) for pattern in ALLOWED_CONSOLE_ERRORS):
            return
        self.problems.append(f"console error: {msg.text}")

    def route(self, route):
        url = route.request.url
        if urlparse(url).hostname == HOST:
            route.continue_()
        else:
            self.external.append(url)
            route.abort("blockedbyclient")


@pytest.fixture
def open_page(browser, server):
    """open_page(path) -> (page, recorder); the page's context closes afterwards."""
    contexts = []

    def _open(path):
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      color_scheme="light", service_workers="block")
        contexts.append(context)
        recorder = Recorder()
        context.route("**/*", recorder.route)
        page = context.new_page()
        page.set_default_timeout(30_000)
        recorder.attach(page)
        page.goto(urljoin(server, path), wait_until="load")
        settle(page)
        return page, recorder

    yield _open
    for context in contexts:
        context.close()


def settle(page):
    """Wait until MathJax (if the page loads it) has typeset and requests stopped."""
    page.wait_for_load_state("networkidle")
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            await MathJax.startup.promise;
        }
    }""")
    page.wait_for_load_state("networkidle")


def problems_of(recorder):
    blocked = [f"request to another host (blocked): {url}" for url in recorder.external]
    # A blocked request also fails; report it once, as blocked.
    failed = [p for p in recorder.problems
              if not any(url in p for url in recorder.external)]
    return blocked + failed


# --- every page


@pytest.fixture(scope="module")
def visits(browser, server, html_dir):
    """Open every page once: record problems, math status, take a screenshot."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    results = {}
    for path in book_pages():
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      color_scheme="light", service_workers="block")
        recorder = Recorder()
        context.route("**/*", recorder.route)
        page = context.new_page()
        page.set_default_timeout(30_000)
        recorder.attach(page)
        try:
            page.goto(urljoin(server, path), wait_until="load")
            settle(page)
            shot = SCREENSHOTS / f"{page_name(path)}.png"
            page.screenshot(path=str(shot), full_page=True)
            results[path] = {
                "problems": problems_of(recorder),
                "url": page.url,
                "math": page.evaluate(MATH_REPORT),
                "widgets": page.locator(
                    'script[type^="application/vnd.jupyter.widget"]').count(),
                "screenshot": shot,
            }
        finally:
            context.close()
    return results


# Counts math elements, those MathJax rendered, and TeX left raw in the prose.
MATH_REPORT = """() => {
    const main = document.querySelector('main') || document.body;
    const math = [...main.querySelectorAll('span.math, div.math')];
    const rendered = math.filter(m => m.querySelector('mjx-container'));
    const clone = main.cloneNode(true);
    clone.querySelectorAll('pre, code, script, style, mjx-container, textarea')
         .forEach(n => n.remove());
    const text = clone.innerText || clone.textContent;
    const raw = [];
    const patterns = [/\\$\\$[^$]+\\$\\$/g, /(^|[^\\\\$])\\$[^$\\s][^$\\n]*?\\$/g,
                      /\\\\\\(.+?\\\\\\)/g, /\\\\\\[.+?\\\\\\]/g, /\\\\begin\\{/g];
    for (const p of patterns) {
        for (const m of text.matchAll(p)) raw.push(m[0].trim().slice(0, 60));
    }
    return {count: math.length, rendered: rendered.length,
            mathjax: !!(window.MathJax && MathJax.version), raw: raw};
}"""


def test_every_page_is_covered(html_dir):
    """The page list below is complete: every built HTML page is visited."""
    built = {p.relative_to(html_dir).as_posix()
             for p in built_pages(html_dir)}
    assert built == set(book_pages()), "pages built but not visited, or missing"


def test_pages_load_without_errors(visits):
    report = {path: v["problems"] for path, v in visits.items() if v["problems"]}
    assert not report, "problems in the browser:\n" + json.dumps(report, indent=1)


def test_no_page_needs_another_host(visits):
    """Offline reading: nothing is fetched from anywhere but the book itself."""
    external = {path: [p for p in v["problems"] if "another host" in p]
                for path, v in visits.items()}
    external = {path: found for path, found in external.items() if found}
    assert not external, ("pages that need the network:\n"
                          + json.dumps(external, indent=1))


def test_no_dead_widget_snapshots(visits):
    """Stored ipywidgets state needs a widget manager from a CDN; the book has none."""
    dead = [path for path, v in visits.items() if v["widgets"]]
    assert not dead, f"pages with stored widget state or views: {dead}"


def test_screenshots_saved(visits):
    for path, v in visits.items():
        shot = v["screenshot"]
        assert shot.exists() and shot.stat().st_size > 1000, f"no screenshot of {path}"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_math_renders(visits):
    """Every formula is typeset by the local MathJax; no raw TeX is left."""
    with_math = {path: v["math"] for path, v in visits.items() if v["math"]["count"]}
    assert with_math, "no page has math: the book's formulas did not reach the HTML"
    for path, math in with_math.items():
        assert math["mathjax"], f"{path}: MathJax did not load"
        assert math["rendered"] == math["count"], (
            f"{path}: {math['count'] - math['rendered']} of {math['count']} formulas "
            "not rendered by MathJax")
    raw = {path: v["math"]["raw"] for path, v in visits.items() if v["math"]["raw"]}
    assert not raw, "raw TeX in the rendered pages:\n" + json.dumps(raw, indent=1,
                                                                  ensure_ascii=False)


# --- navigation


def test_next_and_previous_links_walk_the_toc(open_page):
    """Clicking "next" from the landing page visits every page in _toc.yml order,
    and "previous" walks back."""
    order = [f"{name}.html" for name in toc_files()]
    page, recorder = open_page(order[0])
    seen = [urlparse(page.url).path.lstrip("/")]
    while page.locator("a.right-next").count():
        page.locator("a.right-next").first.click()
        page.wait_for_load_state("load")
        seen.append(urlparse(page.url).path.lstrip("/"))
        assert len(seen) <= len(order) + 1, f"next links loop: {seen}"
    assert seen == order, "next links do not follow _toc.yml"
    back = [seen[-1]]
    while page.locator("a.left-prev").count():
        page.locator("a.left-prev").first.click()
        page.wait_for_load_state("load")
        back.append(urlparse(page.url).path.lstrip("/"))
        assert len(back) <= len(order) + 1, f"previous links loop: {back}"
    assert back == order[::-1], "previous links do not follow _toc.yml backwards"
    assert not problems_of(recorder), problems_of(recorder)


def test_sidebar_lists_every_page(open_page):
    order = [f"{name}.html" for name in toc_files()]
    page, _ = open_page(order[-1])
    hrefs = page.eval_on_selector_all(
        "nav.bd-docs-nav a", "links => links.map(a => a.href)")
    targets = {urlparse(h).path.lstrip("/") for h in hrefs}
    missing = [p for p in order[1:] if p not in targets]
    assert not missing, f"pages missing from the sidebar: {missing}"


# --- search


SEARCH_WORD = "backpropagation"  # the glossary defines it (issue 2)


def test_search_page_finds_pages_offline(open_page):
    page, recorder = open_page(f"search.html?q={SEARCH_WORD}")
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(state="visible")
    links = page.eval_on_selector_all(
        "#search-results ul.search li a", "links => links.map(a => a.href)")
    assert any("glossary.html" in href for href in links), links
    assert not problems_of(recorder), problems_of(recorder)


def test_search_box_on_a_chapter_leads_to_results(open_page):
    chapter = f"{toc_chapters()[0]}.html"
    page, recorder = open_page(chapter)
    page.locator(".search-button__button:visible").first.click()
    box = page.locator("#pst-search-dialog input[name=q]")
    box.wait_for(state="visible")
    box.fill(SEARCH_WORD)
    box.press("Enter")
    page.wait_for_url(re.compile(r"search\.html\?q="))
    page.locator("#search-results ul.search li").first.wait_for(state="visible")
    assert not problems_of(recorder), problems_of(recorder)


# --- launch and download buttons on notebook pages


def test_launch_and_download_buttons(open_page):
    docnames = toc_chapters()
    assert docnames, "no notebook pages in _toc.yml"
    for docname in docnames:
        page, recorder = open_page(f"{docname}.html")
        # Colab: the launch dropdown opens and holds the exact Colab URL.
        page.locator(".dropdown-launch-buttons button.dropdown-toggle").click()
        # (Bootstrap's tooltip moves `title` away, so find the link by its host.)
        colab = page.locator(".dropdown-launch-buttons a[href*='colab']")
        colab.wait_for(state="visible")
        assert colab.get_attribute("href") == colab_url(docname), docname
        page.keyboard.press("Escape")
        # Download: the .ipynb link serves this very notebook; print-to-PDF exists.
        page.locator(".dropdown-download-buttons button.dropdown-toggle").click()
        source = page.locator(".dropdown-download-buttons a.btn-download-source-button")
        source.wait_for(state="visible")
        response = page.request.get(urljoin(page.url, source.get_attribute("href")))
        assert response.status == 200, f"{docname}: .ipynb download failed"
        served = json.loads(response.body())
        original = load_notebook(ROOT / f"{docname}.ipynb")
        assert len(served["cells"]) == len(original["cells"]), docname
        pdf = ".dropdown-download-buttons .btn-download-pdf-button"
        assert page.locator(pdf).count()
        assert not problems_of(recorder), (docname, problems_of(recorder))


# --- chapter 3's kernel-free explorer


def test_initialization_explorer_redraws_on_drag(open_page):
    if not EXPLORER_NOTEBOOK.exists():
        pytest.skip(f"{EXPLORER_NOTEBOOK.relative_to(ROOT)} does not exist yet "
                    "(chapter 3 not written), so there is no explorer to drag")
    page, recorder = open_page("book/03_initialization.html")
    root = page.locator(".mbm-init-explorer")
    assert root.count() == 1, "chapter 3 must contain one .mbm-init-explorer"
    for part in ["input[type=range].mbm-gain", "select.mbm-scheme",
                 "select.mbm-activation", "svg path.mbm-curve", ".mbm-readout"]:
        assert root.locator(part).count() >= 1, f"explorer lacks {part}"
    slider = root.locator("input[type=range].mbm-gain").first
    curve = root.locator("svg path.mbm-curve").first
    slider.scroll_into_view_if_needed()
    assert slider.is_visible(), "the explorer's slider is not visible to a reader"
    before = curve.get_attribute("d")
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    start = box["x"] + box["width"] * 0.5
    # Drag the thumb from the middle to 85 % of the track, as a reader would.
    page.mouse.move(start, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.85, y, steps=8)
    page.mouse.up()
    after = curve.get_attribute("d")
    assert before and after and after != before, "dragging the slider did not redraw"
    assert root.locator(".mbm-readout").first.inner_text().strip(), "empty readout"
    # The other controls work too (no JS errors; the page records them).
    for select in ["select.mbm-scheme", "select.mbm-activation"]:
        options = root.locator(f"{select} option").evaluate_all(
            "opts => opts.map(o => o.value)")
        if len(options) > 1:
            root.locator(select).first.select_option(options[-1])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "book_03_initialization_explorer.png"))
    assert not problems_of(recorder), problems_of(recorder)
