"""Readable offline, checked without a browser (issue 8).

tests/test_browser.py proves it in Chromium by blocking every request to another
host; this file checks the built HTML itself, so it also runs where Chromium is
missing: no page loads a script, stylesheet, image, font or frame from another
host, and no page carries stored ipywidgets state (which would need a widget
manager from a CDN). Plain hyperlinks (<a href>, e.g. the Colab launch button and
the repository button) are links a reader chooses to follow, not requests, and
stay.
"""

import html.parser
from urllib.parse import urlparse

from conftest import CONFIG, built_pages, load_yaml

# (tag, attribute) pairs whose URL the browser fetches by itself.
FETCHED = {("script", "src"), ("img", "src"), ("iframe", "src"), ("embed", "src"),
           ("source", "src"), ("audio", "src"), ("video", "src"),
           ("object", "data"), ("image", "href"), ("image", "xlink:href")}
LINK_RELS_FETCHED = {"stylesheet", "preload", "prefetch", "icon", "modulepreload",
                     "manifest"}


class Resources(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.remote = []
        self.widget_state = False
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for (t, attribute) in FETCHED:
            if tag == t and attrs.get(attribute):
                self._check(attrs[attribute], f"<{tag} {attribute}>")
        if tag == "link" and set((attrs.get("rel") or "").split()) & LINK_RELS_FETCHED:
            self._check(attrs.get("href") or "", f"<link rel={attrs.get('rel')}>")
        if tag == "script" and "jupyter.widget" in (attrs.get("type") or ""):
            self.widget_state = True
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def _check(self, url, what):
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https") or url.startswith("//"):
            self.remote.append(f"{what} {url}")


def scan(html_dir):
    results = {}
    for page in built_pages(html_dir):
        parser = Resources()
        text = page.read_text(encoding="utf-8")
        parser.feed(text)
        results[page.relative_to(html_dir).as_posix()] = (parser, text)
    return results


def test_no_page_fetches_from_another_host(built_book):
    results = scan(built_book["html"])
    assert results, "no pages were built"
    remote = {page: parser.remote for page, (parser, _) in results.items()
              if parser.remote}
    assert not remote, f"pages that need the network: {remote}"


def test_no_stored_widget_state(built_book):
    results = scan(built_book["html"])
    dead = [page for page, (parser, _) in results.items() if parser.widget_state]
    assert not dead, (f"pages with stored ipywidgets state (blank offline): {dead}; "
                      "clear the notebook's widget metadata, show a static figure")


def test_mathjax_is_served_locally(built_book):
    html_dir = built_book["html"]
    assert (html_dir / "_static" / "mathjax" / "tex-chtml.js").is_file(), (
        "the local MathJax is missing: is sphinx-mathjax-offline installed and "
        "listed in _config.yml's sphinx.extra_extensions?")
    results = scan(html_dir)
    for page, (_, text) in results.items():
        if 'class="math' in text:
            assert "_static/mathjax/" in text, f"{page} has math but no local MathJax"


def test_remaining_external_references_are_links(built_book):
    """The only external URLs left are hyperlinks: the Colab launch buttons and
    badges, the repository button, and links in the prose."""
    repo = load_yaml(CONFIG)["repository"]["url"]
    results = scan(built_book["html"])
    hosts = set()
    for parser, _ in results.values():
        for href in parser.links:
            parsed = urlparse(href)
            if parsed.scheme in ("http", "https"):
                hosts.add(parsed.netloc)
    assert urlparse(repo).netloc in hosts, "the repository button is missing"
