"""Page weight: each chapter page's own HTML plus the images it shows stays under
1.5 MB (issue 8), so a chapter loads quickly on a slow connection.

Shared assets (theme CSS and JS, MathJax) are cached across pages and not counted.
The size table goes to _build/page_weight.txt and into the failure message.
"""

import html.parser
import posixpath
from urllib.parse import unquote, urlparse

from conftest import ROOT

LIMIT = 1_500_000  # bytes, per chapter page: its HTML + its images
REPORT = ROOT / "_build" / "page_weight.txt"


class ImageRefs(html.parser.HTMLParser):
    """The images a page displays: <img src>, <source srcset>, <object data>,
    <embed src>, and <image href> inside inline SVG."""

    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src"):
            self.refs.append(attrs["src"])
        elif tag == "source" and attrs.get("srcset"):
            self.refs += [part.split()[0] for part in attrs["srcset"].split(",")]
        elif tag == "object" and attrs.get("data"):
            self.refs.append(attrs["data"])
        elif tag == "embed" and attrs.get("src"):
            self.refs.append(attrs["src"])
        elif tag == "image" and (attrs.get("href") or attrs.get("xlink:href")):
            self.refs.append(attrs.get("href") or attrs.get("xlink:href"))


def page_weight(html_dir, page):
    """(html bytes, {image path: bytes}, [missing refs]) for one built page."""
    parser = ImageRefs()
    parser.feed(page.read_text(encoding="utf-8"))
    images, missing = {}, []
    page_dir = page.parent.relative_to(html_dir).as_posix()
    for ref in parser.refs:
        url = urlparse(ref)
        if url.scheme or url.netloc:
            continue  # data: URIs are inside the HTML already; remote ones fail
                      # tests/test_offline.py
        rel = posixpath.normpath(posixpath.join(page_dir, unquote(url.path)))
        target = html_dir / rel
        if target.is_file():
            images[rel] = target.stat().st_size
        else:
            missing.append(ref)
    return page.stat().st_size, images, missing


def test_chapter_pages_are_light(built_book):
    html_dir = built_book["html"]
    pages = sorted((html_dir / "book").glob("[0-9][0-9]_*.html"))
    assert pages, "no chapter pages were built"
    lines = [f"{'page':<34}{'html':>11}{'images':>8}{'image bytes':>13}"
             f"{'total':>11}  largest image",
             "-" * 100]
    too_heavy, missing_refs = [], {}
    for page in pages:
        html_bytes, images, missing = page_weight(html_dir, page)
        total = html_bytes + sum(images.values())
        largest = max(images.items(), key=lambda item: item[1], default=("-", 0))
        lines.append(f"{page.name:<34}{html_bytes:>11,}{len(images):>8}"
                     f"{sum(images.values()):>13,}{total:>11,}  "
                     f"{largest[0]} ({largest[1]:,} B)")
        if total >= LIMIT:
            too_heavy.append(page.name)
        if missing:
            missing_refs[page.name] = missing
    lines.append(f"limit: {LIMIT:,} bytes per page (HTML + images)")
    table = "\n".join(lines)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(table + "\n", encoding="utf-8")
    print(table)
    assert not missing_refs, f"images referenced but not built: {missing_refs}"
    assert not too_heavy, (f"pages over {LIMIT:,} bytes: {too_heavy}; save figures "
                           f"smaller (dpi, size, SVG->PNG)\n{table}")
