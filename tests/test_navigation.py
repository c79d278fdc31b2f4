"""Navigation (issue 8): every chapter ends with a link to the next one (in
_toc.yml order), the PyTorch API index links to sections that really mention each
API, and the reference pages (glossary, bibliography, API index) are in the book.
"""

import html.parser
import importlib.util
import re
from urllib.parse import unquote, urlparse

import pytest

from conftest import (BOOK, ROOT, cell_source, load_notebook, toc_chapters,
                      toc_files)

REFERENCE_PAGES = ["book/glossary", "book/bibliography", "book/api_index"]


def h1_title(path):
    for cell in load_notebook(path)["cells"]:
        if cell["cell_type"] == "markdown":
            for line in cell_source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def last_line(path):
    cells = load_notebook(path)["cells"]
    assert cells, f"{path.name} is empty"
    cell = cells[-1]
    assert cell["cell_type"] == "markdown", f"{path.name}: last cell is not markdown"
    lines = [line.strip() for line in cell_source(cell).splitlines() if line.strip()]
    return lines[-1] if lines else ""


@pytest.mark.parametrize("docname", [pytest.param(n, id=n.split("/")[-1])
                                     for n in toc_chapters()])
def test_chapter_ends_with_link_to_next(docname):
    chapters = toc_chapters()
    path = ROOT / f"{docname}.ipynb"
    assert path.exists(), f"{docname}.ipynb is in _toc.yml but missing"
    index = chapters.index(docname)
    if index + 1 < len(chapters):
        following = ROOT / f"{chapters[index + 1]}.ipynb"
        assert following.exists(), f"{following.name} is in _toc.yml but missing"
        expected = f"Next: [{h1_title(following)}]({following.name})"
    else:
        expected = "Back to the [start of the book](intro.md)"
    assert last_line(path) == expected, (
        f"{path.name} must end with the line: {expected}")


def test_reference_pages_in_toc():
    toc = toc_files()
    for page in REFERENCE_PAGES:
        assert page in toc, f"{page} is not in _toc.yml"
        assert (ROOT / f"{page}.md").exists(), f"{page}.md is missing"


# --- the API index: unit tests of the name rule, then the built page


def load_extension():
    spec = importlib.util.spec_from_file_location(
        "mbm_html", BOOK / "_ext" / "mbm_html.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("written, full", [
    ("nn.Conv2d", "torch.nn.Conv2d"),
    ("nn.Conv2d(3, 6, kernel_size=5)", "torch.nn.Conv2d"),
    ("torch.nn.init.kaiming_normal_", "torch.nn.init.kaiming_normal_"),
    ("nn.init.xavier_uniform_(w)", "torch.nn.init.xavier_uniform_"),
    ("F.relu", "torch.nn.functional.relu"),
    ("torch.manual_seed(0)", "torch.manual_seed"),
    ("optim.SGD", "torch.optim.SGD"),
    ("model.state_dict()", "torch.nn.Module.state_dict"),
    ("layer.register_forward_hook(fn)", "torch.nn.Module.register_forward_hook"),
    ("register_buffer", "torch.nn.Module.register_buffer"),
    ("out.shape", None),
    ("x", None),
    ("(N, C, H, W)", None),
])
def test_api_name_rule(written, full):
    assert load_extension().api_name(written) == full


class Links(html.parser.HTMLParser):
    """Rows of the API table: (api, [hrefs])."""

    def __init__(self):
        super().__init__()
        self.rows, self._in_table, self._cell, self._row = [], False, 0, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "mbm-api-index" in (attrs.get("class") or ""):
            self._in_table = True
        elif self._in_table and tag == "tr":
            self._row, self._cell = ["", []], 0
        elif self._in_table and tag == "td":
            self._cell += 1
        elif self._in_table and tag == "a" and self._row and attrs.get("href"):
            self._row[1].append(attrs["href"])

    def handle_data(self, data):
        if self._in_table and self._row is not None and self._cell == 1:
            self._row[0] += data.strip()

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif self._in_table and tag == "tr" and self._row and self._row[0]:
            self.rows.append(tuple(self._row))
            self._row = None


class SectionText(html.parser.HTMLParser):
    """The text inside the element with a given id (a <section>)."""

    def __init__(self, anchor):
        super().__init__()
        self.anchor, self.depth, self.text, self.found = anchor, 0, [], False

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag not in VOID
        elif dict(attrs).get("id") == self.anchor:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


VOID = {"br", "img", "hr", "input", "meta", "link", "wbr", "col", "source"}


def test_api_index_links_to_sections_that_mention_the_api(built_book):
    html_dir = built_book["html"]
    index = html_dir / "book" / "api_index.html"
    assert index.exists(), "book/api_index.html was not built"
    parser = Links()
    parser.feed(index.read_text(encoding="utf-8"))
    problems, linked_pages = [], set()
    for api, hrefs in parser.rows:
        assert hrefs, f"{api} has no link"
        for href in hrefs:
            url = urlparse(href)
            page = (index.parent / unquote(url.path)).resolve()
            if not page.exists():
                problems.append(f"{api}: {href} does not exist")
                continue
            linked_pages.add(page.name)
            section = SectionText(url.fragment)
            section.feed(page.read_text(encoding="utf-8"))
            text = " ".join(section.text)
            short = api.rsplit(".", 1)[-1]
            if not section.found:
                problems.append(f"{api}: no section #{url.fragment} in {page.name}")
            elif short not in text:
                problems.append(f"{api}: {short!r} not in {page.name}#{url.fragment}")
    assert not problems, "\n".join(problems)
    # Every written chapter (one that follows the template) teaches some API.
    for docname in toc_chapters():
        path = ROOT / f"{docname}.ipynb"
        text = "".join(cell_source(c) for c in load_notebook(path)["cells"])
        if "## Learning objectives" in text:
            assert f"{path.stem}.html" in linked_pages, (
                f"the API index lists nothing from {path.name}: name the APIs a "
                "section teaches in its prose as inline code, e.g. `nn.Conv2d`")


def test_bibliography_lists_every_reference(built_book):
    text = (built_book["html"] / "book" / "bibliography.html").read_text(
        encoding="utf-8")
    bib = (BOOK / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"@\w+\{([^,\s]+),", bib)
    assert keys, "references.bib has no entries"
    for title in re.findall(r"^\s*title\s*=\s*[{\"]+(.+?)[}\"]+,?\s*$", bib,
                            flags=re.M | re.I):
        words = re.sub(r"[{}\\]", "", title).split()[:3]
        page = re.sub(r"\s+", " ", text).lower()
        assert " ".join(words).lower() in page, f"not on the page: {title}"
