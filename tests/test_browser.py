"""The HTML book as readers get it, in a real browser.

Serves the built book on 127.0.0.1 and opens every page in headless Chromium
(Debian's `chromium` package) through Playwright (fixtures in tests/conftest.py,
helpers in tests/browsing.py).
A page fails on a JavaScript error, a console error, a failed request or an HTTP
error, and on ANY request to a host other than 127.0.0.1 (blocked and recorded):
the book must read offline. Then what only a browser can show: formulas typeset
by the local MathJax, the search page and the search box, the launch dropdown. A
screenshot of every page's first screen goes to _build/screenshots/<edition>/
(whole pages with `--full-screenshots`).

What the static HTML proves (links, buttons' targets, no remote resources, page
weight) is in tests/test_html.py; chapter 3's explorer has its own browser test.
Without /usr/bin/chromium or the playwright package these tests are SKIPPED with
the reason, which `-ra` prints in the summary.
"""

import json
import re
from urllib.parse import urlparse

import pytest

from bookinfo import EDITIONS, SCREENSHOTS, toc_chapters, toc_files
from browsing import PHONE, Tab, browser_skip_reason, new_context, settle

# edition -> (a word to search for, a page the results must include)
SEARCH = {"en": ("backpropagation", "glossary.html"),  # the glossary defines it
          "zh": ("卷积", "01_layers.html")}  # "convolution": chapter 1 teaches it
# An edition without its own word: a class name, the same in every language.
ANY_EDITION = ("Conv2d", "01_layers.html")

if browser_skip_reason():  # one plain line in the `-ra` summary, before any build
    pytest.skip(browser_skip_reason(), allow_module_level=True)

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


TABS = 3  # pages loading at once, each in a tab of its own
# What a reader on a phone (browsing.PHONE) would scroll sideways to see.
PAGE_WIDTH = "() => document.documentElement.scrollWidth"
# Header rows above the article that a reader sees (the article's own header,
# with the sidebar toggle, search and the other buttons, is not counted).
HEADER_ROWS = """() => [...document.querySelectorAll('header.bd-header')]
    .filter(h => h.getBoundingClientRect().height > 0).length"""
# The font families the page's text asks for, and chapter 3's explorer's.
FONTS = """() => [document.body, document.querySelector('.mbm-init-explorer')]
    .filter(Boolean).map(e => getComputedStyle(e).fontFamily)"""


def book_pages():
    """Every page a reader can reach, relative to the html folder."""
    return (["index.html"] + [f"{name}.html" for name in toc_files()]
            + ["genindex.html", "search.html"])


@pytest.fixture(scope="module")
def visits(edition, browser, server, pytestconfig):
    """Open every page once: record its problems and math, take a screenshot."""
    shots = SCREENSHOTS / edition
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    results = {}
    context = new_context(browser)
    try:
        # One context for the edition; TABS tabs load pages at once, each page
        # waited until its requests ended (late ones count too; browsing.quiet,
        # not Chromium's networkidle), then the tabs move on (browsing.Tab).
        tabs = [Tab(context) for _ in range(TABS)]
        paths = book_pages()
        for start in range(0, len(paths), TABS):
            batch = list(zip(paths[start:start + TABS], tabs))
            for path, tab in batch:
                tab.start(server, path)
            for path, tab in batch:
                page, recorder = tab.page, tab.recorder
                settle(page, recorder)
                page.bring_to_front()
                shot = shots / f"{path[:-len('.html')].replace('/', '_')}.png"
                page.screenshot(path=str(shot),
                                full_page=pytestconfig.getoption("full_screenshots"))
                results[path] = {"problems": recorder.problems(),
                                 "math": page.evaluate(MATH_REPORT),
                                 "header_rows": page.evaluate(HEADER_ROWS),
                                 "fonts": page.evaluate(FONTS)}
                page.set_viewport_size(PHONE)  # the same page, laid out for a phone
                results[path]["phone_width"] = page.evaluate(PAGE_WIDTH)
    finally:
        context.close()
    return results


def test_text_asks_for_the_editions_fonts(visits, edition):
    """An edition's `fonts` (its row of the table) come before the generic
    family in the body's font list and the explorer's, on every page."""
    fonts = ", ".join(f'"{font}"' for font in EDITIONS[edition].fonts)
    others = {font for e in EDITIONS.values() for font in e.fonts} - set(
        EDITIONS[edition].fonts)  # an edition without fonts asks for none
    wrong = {path: v["fonts"] for path, v in visits.items() if not all(
        (fonts in family and family.index(fonts) < family.index("sans-serif")
         if fonts else True) and not any(font in family for font in others)
        for family in v["fonts"])}
    assert not wrong, f"pages whose text does not ask for {fonts!r} first: {wrong}"


def test_pages_load_offline_without_errors(visits):
    report = {path: v["problems"] for path, v in visits.items() if v["problems"]}
    assert not report, "problems in the browser:\n" + json.dumps(report, indent=1)


def test_no_page_scrolls_sideways_on_a_phone(visits):
    """At 390 px every page fits the screen: long inline code wraps and wide
    tables scroll inside their own box (book/_ext/static/layout.css)."""
    wide = {path: v["phone_width"] for path, v in visits.items()
            if v["phone_width"] > PHONE["width"]}
    assert not wide, f"pages wider than a {PHONE['width']} px phone: {wide}"


def test_one_header_row(visits):
    """No extra header row that holds only a second search button above the
    article header (book/_ext/layout.py)."""
    extra = {path: v["header_rows"] for path, v in visits.items() if v["header_rows"]}
    assert not extra, f"pages with the theme's extra header row: {extra}"



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
    assert not raw, "raw TeX in the rendered pages:\n" + json.dumps(
        raw, indent=1, ensure_ascii=False)


def test_search_finds_pages_offline(edition, open_page):
    """The search box on a chapter leads to results, and they include the page
    that teaches the word (search runs in the browser, from the book's own index;
    Chinese words are indexed because the build has jieba to segment them)."""
    word, expected = SEARCH.get(edition, ANY_EDITION)
    page, recorder = open_page(f"{toc_chapters()[0]}.html")
    page.locator(".search-button__button:visible").first.click()
    box = page.locator("#pst-search-dialog input[name=q]")
    box.wait_for(state="visible")
    box.fill(word)
    box.press("Enter")
    page.wait_for_url(re.compile(r"search\.html\?q="))
    page.locator("#search-results ul.search li").first.wait_for(state="visible")
    links = page.eval_on_selector_all("#search-results ul.search li a",
                                      "links => links.map(a => a.href)")
    assert any(expected in href for href in links), links
    assert not recorder.problems(external=False), recorder.problems()


def test_edition_switch_leads_to_the_same_page(edition, open_page):
    """The switch in the header opens the same chapter in the other edition."""
    chapter = toc_chapters()[0]
    page, recorder = open_page(f"{chapter}.html")
    switch = page.locator("a.edition-switch")
    assert switch.count() == len(EDITIONS) - 1, "one link per other edition"
    target_lang = switch.first.get_attribute("hreflang")
    target = next(e for e in EDITIONS.values() if e.html_lang == target_lang)
    switch.first.click()
    settle(page)
    assert urlparse(page.url).path == f"/{target.folder}{chapter}.html", page.url
    assert page.evaluate("document.documentElement.lang") == target_lang
    assert not recorder.problems(external=False), recorder.problems()



def test_launch_dropdown_opens(open_page):
    """The theme's launch dropdown works (its Colab target is checked statically
    in test_html.py for every chapter)."""
    page, recorder = open_page(f"{toc_chapters()[0]}.html")
    page.locator(".dropdown-launch-buttons button.dropdown-toggle").click()
    colab = page.locator(".dropdown-launch-buttons a[href*='colab']")
    colab.wait_for(state="visible")
    assert not recorder.problems(external=False), recorder.problems()


def test_requests_to_other_hosts_fail_and_are_recorded(open_page):
    """What keeps the other tests honest: a page's request to any host but the
    local server, by name or by address, fails and is reported as blocked."""
    page, recorder = open_page("search.html")
    outside = ["http://example.com/mbm-probe.js", "http://192.0.2.1/mbm-probe.png"]
    reached = page.evaluate("""async (urls) => Promise.all(urls.map((url) =>
        fetch(url, {mode: "no-cors"}).then(() => url, () => null)))""", outside)
    assert reached == [None, None], f"requests that left the machine: {reached}"
    problems = recorder.problems()
    assert [p for p in problems if "another host" in p] == [
        f"request to another host (blocked): {url}" for url in outside], problems
