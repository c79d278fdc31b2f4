"""What the book is made of, read from its sources: one place for the tools, the
tests and the benchmark.

- the chapters and their order (``_toc.yml``), their titles and summaries;
- the Colab URL of a chapter (``_config.yml``);
- notebooks as JSON, read and written exactly as Jupyter writes them;
- the pages of a built book and the weight of a page (its HTML plus its images).

Every function takes the repository root as ``root`` (default: this checkout), so
that the sync tool and its tests can work on a copy.
"""

import functools
import json
import posixpath
import re
import shlex
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"  # the chapters, pages, references and the site's code (_ext)
BUILD = "_build"  # under the repository root, or under a build's --output
SCREENSHOTS = ROOT / BUILD / "screenshots"  # the browser tests' pictures
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; no browser downloads
MATRIX_RESULTS = ROOT / "benchmarks" / "results" / "matrix.json"
BENCHMARK_RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
# How many asserts each chapter cell holds (tools/sync.py --record-asserts), so
# that a deleted check is noticed (tests/test_notebooks.py).
ASSERT_RECORD = ROOT / "tests" / "asserts.json"
# What readers and CI may wait for (benchmarks/run.py measures it; the README's
# table shows it). A budget changes only in a commit of its own that says why.
BUDGETS = {
    "notebook_above_floor_s": 30.0,  # each chapter, fresh kernel, 2 cores
    "tests_full_s": 180.0,           # the README's test command, 2 cores
    "tests_fast_s": 60.0,            # the fast tier with one notebook
    "explorer_slider_median_ms": 100.0,  # ch. 3's live explorer, any slider move
    "explorer_html_median_ms": 16.0,      # the HTML explorer: one frame
    "page_bytes": 1_500_000,         # a chapter page: HTML plus images
}
CHAPTER = re.compile(r"book/(\d\d)_[a-z0-9]+(?:_[a-z0-9]+)*")

sys.path.insert(0, str(BOOK / "_ext"))  # the site's code: its edition table
from edition_table import BUNDLE, edition_table  # noqa: E402, F401 (BUNDLE: the zip)
from edition_table import CONFIG as EDITIONS_KEY  # noqa: E402


def load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def toc_entries(root=ROOT):
    """Every `file:` entry of _toc.yml as a dict, in order, the root first (read
    once, and again only when the file changes)."""
    path = Path(root) / "_toc.yml"
    return [dict(e) for e in _toc_entries(str(path), path.stat().st_mtime_ns)]


@functools.lru_cache(maxsize=8)
def _toc_entries(path, mtime_ns):
    toc = load_yaml(path)
    entries = [{"file": toc["root"]}]

    def walk(items):
        for item in items or []:
            if "file" in item:
                entries.append(item)
            walk(item.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return entries


def toc_files(root=ROOT):
    """Docnames in _toc.yml order, e.g. ['book/intro', 'book/01_layers', ...]."""
    return [entry["file"] for entry in toc_entries(root)]


def toc_chapters(root=ROOT):
    """The chapter docnames of _toc.yml, in order, e.g. 'book/01_layers'."""
    return [name for name in toc_files(root) if CHAPTER.fullmatch(name)]


def chapter_summary(docname, root=ROOT):
    """The one-line summary of a chapter (`meta: summary:` of its _toc.yml entry)."""
    for entry in toc_entries(root):
        if entry["file"] == docname:
            return ((entry.get("meta") or {}).get("summary") or "").strip()
    raise KeyError(docname)


def chapter_paths(root=ROOT):
    """The chapter notebooks in book/, sorted by name."""
    return sorted(p for p in (Path(root) / "book").glob("*.ipynb")
                  if CHAPTER.fullmatch(f"book/{p.stem}"))


def colab_url(docname, root=ROOT):
    """The Colab URL of a notebook page ('book/01_layers'), from _config.yml.

    The launch button Jupyter Book builds and the badge in each notebook both
    equal it."""
    config = load_yaml(Path(root) / "_config.yml")
    repo = config["repository"]
    slug = urlparse(repo["url"]).path.strip("/")
    path = "/".join(p for p in [(repo.get("path_to_book") or "").strip("/"),
                                f"{docname}.ipynb"] if p)
    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    return f"{colab}/github/{slug}/blob/{repo.get('branch', 'main')}/{path}"


def readme_commands(root=ROOT):
    """The shell commands the README gives readers: each line of its ```bash
    blocks, without comments. CI and the workflows run these, not copies."""
    text = (Path(root) / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```bash\n(.*?)^```", text, flags=re.M | re.S)
    return [line.split("  #")[0].strip() for block in blocks
            for line in block.splitlines() if line.strip()]


def readme_test_commands(root=ROOT):
    """The README's two test commands as argument lists, run from the repository
    root: the full one (what follows the venv set-up), and the fast tier with its
    example notebook as the last argument."""
    commands = readme_commands(root)
    full = next(c for c in commands if c.endswith(".venv/bin/pytest"))
    fast = next(c for c in commands if c.startswith('.venv/bin/pytest -m "not slow"'))
    return shlex.split(full.split("&&")[-1]), shlex.split(fast)


# --- notebooks


def load_notebook(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def stored_figures(docname, root=ROOT):
    """How many figures (image outputs) a chapter's notebook stores."""
    return sum("image/png" in output.get("data", {})
               for cell in load_notebook(Path(root) / f"{docname}.ipynb")["cells"]
               for output in cell.get("outputs", []))


def dump_notebook(nb):
    """The text Jupyter (nbformat) writes for `nb`: sorted keys, one-space indent."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def cell_source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def set_source(cell, text):
    """Store `text` as nbformat does: a list of lines that keep their newlines."""
    cell["source"] = text.splitlines(keepends=True)


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def chapter_title(nb):
    """'1. Layers' from a chapter's first line '# 1. Layers', or None."""
    cells = nb.get("cells", [])
    if not cells or cells[0]["cell_type"] != "markdown":
        return None
    first = cell_source(cells[0]).lstrip().splitlines()[:1]
    return first[0][2:].strip() if first and first[0].startswith("# ") else None


# --- the built book


def built_pages(html_dir):
    """Every HTML page of a built book: the top level and book/."""
    html_dir = Path(html_dir)
    return sorted([*html_dir.glob("*.html"), *html_dir.glob("book/*.html")])


def page_weight(html_dir, page, soup=None):
    """(html bytes, {image path: bytes}, [missing refs]) of one built page
    (`soup`: the page already parsed with BeautifulSoup, if the caller has it).

    Images are what the page displays: <img src>, <source srcset>, <object data>,
    <embed src> and <image href> in inline SVG. Shared assets (theme CSS and JS,
    MathJax) are cached across pages and not counted; data: URIs are inside the
    HTML already."""
    from bs4 import BeautifulSoup

    html_dir, page = Path(html_dir), Path(page)
    if soup is None:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    refs = [tag["src"] for tag in soup.find_all(["img", "embed"], src=True)]
    refs += [tag["data"] for tag in soup.find_all("object", data=True)]
    refs += [part.split()[0] for tag in soup.find_all("source", srcset=True)
             for part in tag["srcset"].split(",") if part.strip()]
    refs += [tag.get("href") or tag.get("xlink:href")
             for tag in soup.find_all("image")
             if tag.get("href") or tag.get("xlink:href")]
    images, missing = {}, []
    page_dir = page.parent.relative_to(html_dir).as_posix()
    for ref in refs:
        url = urlparse(ref)
        if url.scheme or url.netloc:
            continue
        rel = posixpath.normpath(posixpath.join(page_dir, unquote(url.path)))
        target = html_dir / rel
        if target.is_file():
            images[rel] = target.stat().st_size
        else:
            missing.append(ref)
    return page.stat().st_size, images, missing


def assert_counts(nb):
    """{cell id: number of assert statements} for the code cells that hold any."""
    counts = {}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            n = len(re.findall(r"^\s*assert\b", cell_source(cell), re.M))
            if n:
                counts[cell["id"]] = n
    return counts


def site_root(output=None):
    """The built site's root folder (the English edition) for an output folder
    (default: this checkout): <output>/_build/html."""
    return Path(output or ROOT) / BUILD / "html"


def latex_dir(edition, output=None):
    """Where an edition's LaTeX (and XeLaTeX's log) goes (tools/build_pdf.py):
    <output>/_build/latex/<edition>."""
    return Path(output or ROOT) / BUILD / "latex" / edition


def editions(root=ROOT):
    """The book's editions (edition_table.Edition), in _config.yml's order."""
    config = load_yaml(Path(root) / "_config.yml")["sphinx"]["config"]
    return edition_table(config[EDITIONS_KEY])


EDITIONS = {edition.name: edition for edition in editions()}  # "en", "zh"
SOURCE_LANGUAGE = next(e for e in EDITIONS.values() if e.root).language  # "en"


def frame_text(language, msgid, root=ROOT):
    """`msgid` in `language`, from the edition's hand-kept frame catalog
    (locales/<language>/LC_MESSAGES/sphinx.po, which the site's extensions also
    read through Sphinx); English, and a missing translation, give msgid."""
    path = Path(root) / "locales" / language / "LC_MESSAGES" / "sphinx.po"
    if language == SOURCE_LANGUAGE or not path.exists():
        return msgid
    return _frame_catalog(str(path), path.stat().st_mtime_ns).get(msgid) or msgid


@functools.lru_cache(maxsize=8)
def _frame_catalog(path, mtime_ns):
    """{msgid: msgstr} of a frame catalog, read once while the file is unchanged."""
    from babel.messages.pofile import read_po

    with open(path, "rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and m.string}
