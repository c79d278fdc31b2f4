"""The built HTML book, read with BeautifulSoup (no browser needed): it builds with
warnings as errors; every page is there and linked in _toc.yml order; it reads
offline; the Colab and download buttons point at the right notebook, and every
page's download menu at its edition's PDF; the intro links to the offline zip,
which holds both editions; the API index links to sections that mention each
API; each chapter page stays light.

The build is the `built_book` fixture (tests/conftest.py); tests/test_browser.py
opens the same pages in Chromium.
"""

import functools
import importlib.util
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
from bs4 import BeautifulSoup
from figure_text import english_words, font_families, texts

from bookinfo import (
    BOOK,
    BUDGETS,
    EDITIONS,
    ROOT,
    built_pages,
    colab_url,
    load_notebook,
    page_weight,
    stored_figures,
    toc_chapters,
    toc_files,
)
from build_book import BUNDLE, BUNDLE_FOLDER, bundle
from translations import fallbacks, page_catalogs

PAGE_LIMIT = BUDGETS["page_bytes"]  # a chapter page: its HTML plus its images
EXTRA_PAGES = ["index.html", "genindex.html", "search.html"]
# (tag, attribute) pairs whose URL the browser fetches by itself.
FETCHED = [("script", "src"), ("img", "src"), ("iframe", "src"), ("embed", "src"),
           ("source", "src"), ("audio", "src"), ("video", "src"), ("object", "data"),
           ("image", "href"), ("image", "xlink:href")]
LINK_RELS_FETCHED = {"stylesheet", "preload", "prefetch", "icon", "modulepreload",
                     "manifest"}


def soup(path):
    """The parsed page, parsed once per test session (no test changes a soup)."""
    return _parsed(Path(path).resolve())


@functools.cache
def _parsed(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="module")
def pages(html_dir):
    """{path relative to the html folder: parsed page}."""
    return {p.relative_to(html_dir).as_posix(): soup(p) for p in built_pages(html_dir)}


def resolve(folder, relative):
    """The path of `relative`, a link on a page in `folder`."""
    return urlparse(urljoin(f"{folder}/", relative)).path


def is_remote(url):
    return urlparse(url).scheme in ("http", "https") or url.startswith("//")


def test_build_succeeds_without_warnings(built_book):
    log = built_book["log"]
    warnings = [ln for ln in log.splitlines() if re.search(r"WARNING|ERROR", ln)]
    assert built_book["returncode"] == 0, log[-3000:]
    assert not warnings, "\n".join(warnings[:20])


def test_navigation_follows_the_toc(pages):
    """The pages of _toc.yml, and only they, are built; each page's "next" and
    "previous" links walk _toc.yml in order, and the sidebar lists every page.
    (That _toc.yml and book/ agree is tests/test_toc.py's.)"""
    order = [f"{name}.html" for name in toc_files()]
    expected = set(order) | set(EXTRA_PAGES)
    assert set(pages) == expected, (
        f"missing: {sorted(expected - set(pages))}; "
        f"not in _toc.yml: {sorted(set(pages) - expected)}")
    problems = []
    for i, path in enumerate(order):
        page = pages[path]
        for css, j in (("a.right-next", i + 1), ("a.left-prev", i - 1)):
            link = page.select_one(css)
            target = (urlparse(urljoin(path, link["href"])).path
                      if link and link.get("href") else None)
            wanted = order[j] if 0 <= j < len(order) else None
            if target != wanted:
                problems.append(f"{path}: {css} goes to {target}, not {wanted}")
        sidebar = {urlparse(urljoin(path, a["href"])).path
                   for a in page.select("nav.bd-docs-nav a[href]")}
        missing = [p for p in order[1:] if p not in sidebar and p != path]
        if missing:
            problems.append(f"{path}: sidebar lacks {missing}")
    assert not problems, "\n".join(problems)


def test_launch_and_download_buttons(html_dir, pages):
    """Each chapter's Colab button opens this notebook in Colab, and its download
    button serves this very notebook."""
    problems = []
    for docname in toc_chapters():
        page = pages[f"{docname}.html"]
        colab = {a["href"] for a in page.find_all("a", href=True)
                 if a["href"].startswith("https://colab.research.google.com/")}
        if colab != {colab_url(docname)}:
            problems.append(f"{docname}: Colab links {colab}")
        source = page.select_one("a.btn-download-source-button[href]")
        served = (html_dir / Path(docname).parent / unquote(source["href"])
                  if source else None)
        if not served or not served.is_file():
            problems.append(f"{docname}: no downloadable .ipynb")
        elif (len(json.loads(served.read_text())["cells"])
              != len(load_notebook(ROOT / f"{docname}.ipynb")["cells"])):
            problems.append(f"{docname}: the download is another notebook")
    assert not problems, "\n".join(problems)


def test_every_download_menu_offers_the_book_pdf(built_book, html_dir, pages):
    """Every page (but the redirecting index.html) links, in its download menu, to
    the place where tools/build_pdf.py puts the edition's PDF."""
    name = EDITIONS[built_book["edition"]].pdf
    problems = []
    for path, page in pages.items():
        if path == "index.html":
            continue
        links = page.select(".dropdown-download-buttons a.btn-download-book-pdf-button")
        target = (html_dir / Path(path).parent / unquote(links[0]["href"])).resolve(
        ) if len(links) == 1 else None
        if target != (html_dir / name).resolve():
            problems.append(f"{path}: {[a.get('href') for a in links]}")
    assert not problems, "\n".join(problems)


def test_the_intro_links_to_the_offline_bundle(bundle, site):
    """The intro of each edition links to the zip, which unpacks into one folder
    holding every page of both editions (and the PDFs, where they were built)."""
    problems = []
    for folder in (e.folder for e in EDITIONS.values()):
        intro = site / folder / "book" / "intro.html"
        hrefs = [a["href"] for a in soup(intro).select("a.mbm-download")]
        zips = [h for h in hrefs if h.endswith(".zip")]
        if [(intro.parent / h).resolve() for h in zips] != [bundle.resolve()]:
            problems.append(f"{folder}book/intro.html links to {hrefs}")
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        assert archive.testzip() is None, "a damaged member in the zip"
    wanted = {f"{BUNDLE_FOLDER}/{p.relative_to(site).as_posix()}"
              for edition in EDITIONS.values()
              for p in built_pages(site / edition.folder)}
    missing = sorted(wanted - names)
    if missing:
        problems.append(f"pages not in the zip: {missing[:10]}")
    if any(BUNDLE in n for n in names):
        problems.append("the zip holds a zip")
    assert not problems, "\n".join(problems)


def test_bundle_packs_a_site_under_one_folder(tmp_path):
    site = tmp_path / "html"
    (site / "zh" / "book").mkdir(parents=True)
    (site / "index.html").write_text("en")
    (site / "zh" / "book" / "intro.html").write_text("zh")
    (site / BUNDLE).write_text("an older zip")
    path = bundle(site)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [
            f"{BUNDLE_FOLDER}/index.html", f"{BUNDLE_FOLDER}/zh/book/intro.html"]
    left = sorted(p.name for p in site.iterdir())
    assert left == sorted([BUNDLE, "index.html", "zh"]), "the partial zip was left"


def test_no_page_fetches_from_another_host(pages):
    """Offline reading: scripts, styles, images, fonts and frames come from the book
    itself. Hyperlinks (Colab, the repository, docs) are links, not requests."""
    remote = {}
    for path, page in pages.items():
        found = [f"<{tag} {attr}> {el[attr]}" for tag, attr in FETCHED
                 for el in page.find_all(tag) if el.get(attr) and is_remote(el[attr])]
        found += [f"<link rel={' '.join(el['rel'])}> {el['href']}"
                  for el in page.find_all("link", href=True, rel=True)
                  if set(el["rel"]) & LINK_RELS_FETCHED and is_remote(el["href"])]
        if found:
            remote[path] = found
    assert not remote, f"pages that need the network: {remote}"


def test_no_stored_widget_state(pages):
    """Stored ipywidgets state needs a widget manager from a CDN: blank offline."""
    dead = [path for path, page in pages.items()
            if page.find("script", type=re.compile("jupyter.widget"))]
    assert not dead, (f"pages with stored ipywidgets state: {dead}; "
                      ".venv/bin/python tools/sync.py drops it from the notebooks")


def test_mathjax_is_served_locally(html_dir, pages):
    assert (html_dir / "_static" / "mathjax" / "tex-chtml.js").is_file(), (
        "the local MathJax is missing: is sphinx-mathjax-offline installed and "
        "listed in _config.yml's sphinx.extra_extensions?")
    with_math = [path for path, page in pages.items() if page.select(".math")]
    assert with_math, "no page has math"
    for path in with_math:
        scripts = [s["src"] for s in pages[path].find_all("script", src=True)]
        assert any("_static/mathjax/" in src for src in scripts), (
            f"{path} has math but does not load the local MathJax")


def test_chapter_pages_are_light(html_dir):
    rows, problems = [], []
    for docname in toc_chapters():
        page = html_dir / f"{docname}.html"
        html_bytes, images, missing = page_weight(html_dir, page, soup(page))
        total = html_bytes + sum(images.values())
        rows.append(f"{docname}: {html_bytes:,} B HTML + {len(images)} images "
                    f"{sum(images.values()):,} B = {total:,} B")
        if missing:
            problems.append(f"{docname}: images referenced but not built: {missing}")
        if total >= PAGE_LIMIT:
            problems.append(f"{docname}: {total:,} B is over {PAGE_LIMIT:,} B; save "
                            "figures smaller (dpi, size, SVG->PNG)")
    assert not problems, "\n".join(problems + rows)


# --- the API index (book/_ext/api_index.py)


def load_extension():
    path = BOOK / "_ext" / "api_index.py"
    spec = importlib.util.spec_from_file_location("api_index", path)
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


def test_api_index_links_to_sections_that_mention_the_api(html_dir, pages):
    index = pages.get("book/api_index.html")
    assert index, "book/api_index.html was not built"
    rows = index.select("table.mbm-api-index tbody tr")
    assert rows, "the API index is empty"
    problems, linked = [], set()

    @functools.cache
    def section_text(target, fragment):  # None: no such section
        section = pages[target].find(id=fragment)
        return None if section is None else section.get_text(" ")

    for row in rows:
        api = row.find("td").get_text(strip=True)
        hrefs = [a["href"] for a in row.find_all("a", href=True)]
        if not hrefs:
            problems.append(f"{api} has no link")
        for href in hrefs:
            url = urlparse(href)
            target = resolve("book", unquote(url.path))
            if target not in pages:
                problems.append(f"{api}: {href} does not exist")
                continue
            linked.add(target)
            text = section_text(target, url.fragment)
            short = api.rsplit(".", 1)[-1]
            if text is None:
                problems.append(f"{api}: no section #{url.fragment} in {target}")
            elif short not in text:
                problems.append(f"{api}: {short!r} not in {target}#{url.fragment}")
    unlisted = [d for d in toc_chapters() if f"{d}.html" not in linked]
    if unlisted:
        problems.append(f"the API index lists nothing from {unlisted}: name the APIs "
                        "a section teaches in its prose as inline code, e.g. "
                        "`nn.Conv2d`")
    assert not problems, "\n".join(problems)


def test_bibliography_lists_every_reference(pages):
    text = re.sub(r"\s+", " ", pages["book/bibliography.html"].get_text(" ")).lower()
    bib = (BOOK / "references.bib").read_text(encoding="utf-8")
    titles = re.findall(r"^\s*title\s*=\s*[{\"]+(.+?)[}\"]+,?\s*$", bib,
                        flags=re.M | re.I)
    assert titles, "references.bib has no titled entries"
    missing = [t for t in titles
               if " ".join(re.sub(r"[{}\\]", "", t).split()[:3]).lower() not in text]
    assert not missing, f"not on the bibliography page: {missing}"


def test_every_page_links_to_its_twins_in_the_other_editions(built_book, pages, site):
    """Each page's edition switch points at the same page of every other edition,
    which exists and points back; the page declares its language."""
    here = built_book["html"]
    lang = EDITIONS[built_book["edition"]].html_lang
    problems = []
    for path, page in pages.items():
        if path == "index.html":  # a redirect to the intro, no header
            continue
        if page.html.get("lang") != lang:
            problems.append(f"{path}: <html lang={page.html.get('lang')!r}>")
        switches = page.select("a.edition-switch")
        if len(switches) != len(EDITIONS) - 1:
            problems.append(f"{path}: {len(switches)} edition switches")
            continue
        others = {(site / e.folder / path).resolve() for e in EDITIONS.values()
                  if e.name != built_book["edition"]}
        for switch in switches:
            target = (here / Path(path).parent / switch["href"]).resolve()
            if not target.is_file() or target not in others:
                problems.append(f"{path}: the switch leads to {switch['href']}")
                continue
            back = [(target.parent / a["href"]).resolve()
                    for a in soup(target).select("a.edition-switch")]
            if (here / path).resolve() not in back:
                problems.append(f"{path}: its twin does not link back")
    assert not problems, "\n".join(problems)


def test_chinese_pages_show_no_untranslated_prose(site):
    """On the Chinese pages no translated paragraph falls back to English (Sphinx
    keeps the English silently when a translation does not parse like it)."""
    zh = EDITIONS["zh"]
    assert page_catalogs(zh.language), "no page catalogs found"
    left = {page: found for page in page_catalogs(zh.language)
            if (found := fallbacks(zh.language, page, site / zh.folder))}
    assert not left, json.dumps(left, indent=1, ensure_ascii=False)[:3000]


# Words of the page frame that stay English in the Chinese edition, with the reason.
FRAME_ENGLISH = {
    "English": "the edition switch names the other edition in its own language",
    "Module by Module": "the book's name",
    "Colab": "a service's name (the launch button)",
    ".ipynb": "a file type (the download button)",
    ".pdf": "a file type (the download button)",
    "Main": "aria-label hard-coded in sphinx-book-theme's sidebar template",
    "Page": "aria-label hard-coded in sphinx-book-theme's layout template",
    "Toggle hidden content": "aria-label hard-coded in myst-nb's fold of hidden cells",
}
CJK = re.compile("[\u4e00-\u9fff]")


def test_chinese_page_frame_speaks_chinese(site):
    """On a Chinese chapter page, the theme's words (sidebar captions, search box,
    buttons, tooltips, folds of hidden cells) are Chinese."""
    page = soup(site / EDITIONS["zh"].folder / f"{toc_chapters()[0]}.html")
    for citation in page.select(".bibtex-citation, .bibtex-citation *"):
        citation.attrs.pop("title", None)  # a paper's reference, not the frame
    english = set()
    for element in page.find_all(True):
        for attribute in ("title", "aria-label", "placeholder", "data-bs-title"):
            value = (element.get(attribute) or "").strip()
            if re.search("[A-Za-z]{3}", value) and not CJK.search(value):
                english.add(value)
    for element in page.select(".caption-text, .admonition-title, "
                               ".btn__text-container"):
        text = element.get_text(" ", strip=True)
        if re.search("[A-Za-z]{3}", text) and not CJK.search(text):
            english.add(text)
    left = sorted(english - set(FRAME_ENGLISH))
    assert not left, f"English words in the Chinese page's frame: {left}"


FIGURE_FILE = re.compile(r"/[0-9a-f]{64}(\.\w+)?\.svg$")  # myst-nb's output files
LETTER = re.compile(r"[^\W\d_]")  # a letter of any script


def test_figures_show_their_words_in_the_page_language(built_book, html_dir, pages):
    """Every figure a chapter stores is shown as its SVG, whose words are text, not
    outlines, with an alt text of words; on a translated edition's pages no English
    word is left in the figure or its alt text (book/_ext/figure_text.py; code
    names, numbers and symbols aside), and every text asks for the edition's
    figure fonts."""
    edition = EDITIONS[built_book["edition"]]
    translated = not edition.root
    fonts = ", ".join(f"'{font}'" for font in edition.fonts)
    problems, shown = [], 0
    for name in toc_chapters():
        path = f"{name}.html"
        figures = [img for img in pages[path].select("img[src]")
                   if FIGURE_FILE.search(img["src"])]
        if len(figures) != (stored := stored_figures(name)):
            problems.append(f"{path}: {len(figures)} SVG figures shown, "
                            f"{stored} stored")
        for img in figures:
            src, alt = img["src"], img.get("alt", "")
            svg = (html_dir / path).parent.joinpath(src).read_text("utf-8")
            words = texts(svg)
            if fonts and not all(fonts in family for family in font_families(svg)):
                problems.append(f"{path}: {src} does not ask for {fonts}")
            shown += 1
            if not any(LETTER.search(text) for text in words):
                problems.append(f"{path}: {src} has no words as text")
            if not LETTER.search(alt) or FIGURE_FILE.search("/" + alt):
                problems.append(f"{path}: {src} has no alt text, only {alt!r}")
            english = sorted({w for text in [*words, alt] for w in english_words(text)})
            if translated and english:
                problems.append(f"{path}: {src.rsplit('/', 1)[-1]} shows {english}")
    assert shown, "no SVG figure on any chapter page"
    assert not problems, "\n".join(problems)
