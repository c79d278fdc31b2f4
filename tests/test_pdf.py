"""The PDF of each edition (tools/build_pdf.py), built once into a temporary
folder and read with poppler's tools: it builds (Sphinx warnings are errors,
XeLaTeX must not miss a glyph); it is a book, not a stub; every font is embedded,
a CJK font among them; its text holds every chapter's title (the Chinese titles
in the Chinese PDF), the glossary and the bibliography; it has the chapters'
figures and math; nothing runs off the page.

Not part of the README's test command: the PDFs take 40 s (idle) to three
minutes (busy) on two cores. Run them with
`.venv/bin/pytest --pdf tests/test_pdf.py` (.ci/run does). Without `--pdf`, or
without XeLaTeX or poppler-utils, these tests are SKIPPED with the reason.
"""

import re
import shutil
import subprocess
import sys
import unicodedata

import pytest

from bookinfo import (
    BOOK,
    EDITIONS,
    ROOT,
    chapter_title,
    latex_dir,
    load_notebook,
    stored_figures,
    toc_chapters,
)
from build_pdf import missing_tools, pdf_path
from translations import read_catalog

pytestmark = pytest.mark.slow

POPPLER = ["pdffonts", "pdftotext", "pdfimages", "pdfinfo"]
MIN_PAGES = 120  # 164 in both editions when this was written
OVERFULL_PT = 5.0  # what a line may stick out into the margin, in points


def skip_reason(config):
    if not config.getoption("--pdf"):
        return ("PDF test skipped: it builds both PDFs; run .venv/bin/pytest --pdf "
                "tests/test_pdf.py")
    missing = missing_tools() + [t for t in POPPLER if shutil.which(t) is None]
    if missing:
        return (f"PDF test skipped: {', '.join(missing)} not found; install "
                "Debian's texlive-xetex latexmk texlive-lang-chinese "
                "fonts-wqy-microhei poppler-utils librsvg2-bin")
    return None


@pytest.fixture(scope="module")
def pdf_build(request, tmp_path_factory):
    """Both PDFs, built once into a temporary folder."""
    reason = skip_reason(request.config)
    if reason:
        pytest.skip(reason)
    output = tmp_path_factory.mktemp("pdf")
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build_pdf.py"),
                           "--output", str(output)], cwd=ROOT, capture_output=True,
                          text=True)
    return {"returncode": proc.returncode, "log": proc.stdout + proc.stderr,
            "output": output}


@pytest.fixture(scope="module", params=list(EDITIONS))
def pdf(request, pdf_build):
    """(edition, the PDF's path, the XeLaTeX log's text)."""
    edition = request.param
    path = pdf_path(edition, pdf_build["output"])
    if not path.is_file():
        pytest.fail(f"the {edition} PDF was not built:\n{pdf_build['log'][-3000:]}")
    log = latex_dir(edition, pdf_build["output"]) / path.with_suffix(".log").name
    return edition, path, log.read_text(errors="replace")


def poppler(tool, *args):
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True,
                          check=True).stdout


def test_the_pdfs_build(pdf_build):
    assert pdf_build["returncode"] == 0, pdf_build["log"][-3000:]


def test_a_book_not_a_stub(pdf):
    edition, path, _ = pdf
    pages = int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", path), re.M)[1])
    assert pages >= MIN_PAGES, f"{edition}: {pages} pages"


def test_every_font_is_embedded_and_one_is_cjk(pdf):
    edition, path, _ = pdf
    rows = poppler("pdffonts", path).splitlines()[2:]
    fonts = {row.split()[0].split("+")[-1]: row for row in rows}
    # the columns: name, type (one or more words), encoding, emb, sub, uni, ...
    loose = [name for name, row in fonts.items() if row.split()[-5] != "yes"]
    assert not loose, f"{edition}: fonts not embedded: {loose}"
    assert any("WenQuanYi" in name for name in fonts), (
        f"{edition}: no CJK font among {sorted(fonts)}")  # English: the glossary
    assert any(name.startswith("CMMI") for name in fonts), (
        f"{edition}: no math font among {sorted(fonts)}")


def page_title(docname):
    """A page's English title: a chapter's first heading, or a page's '# ...'."""
    if docname in toc_chapters():
        return chapter_title(load_notebook(ROOT / f"{docname}.ipynb"))
    first = (ROOT / f"{docname}.md").read_text(encoding="utf-8").splitlines()[0]
    return first.removeprefix("# ")


def titles(edition):
    """The titles of the chapters and of the glossary, in the edition's language
    (a Chinese title from the page's catalog, with the heading's escape undone)."""
    pages = [*toc_chapters(), "book/glossary"]
    language = EDITIONS[edition].language
    if EDITIONS[edition].root:
        return [page_title(d) for d in pages]
    return [{m.id: m.string for m in read_catalog(language, d)}[page_title(d)]
            .replace("\\.", ".") for d in pages]


def squeeze(text):
    """Text to compare: ligatures undone (NFKC), without spaces, hyphens (a word
    broken at the line's end) and case (the bibliography's style lowercases)."""
    return re.sub(r"[\s\-\u2010]+", "", unicodedata.normalize("NFKC", text)).lower()


def test_the_text_holds_every_chapter_title(pdf):
    edition, path, _ = pdf
    text = squeeze(poppler("pdftotext", path, "-"))
    missing = [t for t in titles(edition) if squeeze(t) not in text]
    assert not missing, f"{edition}: not in the PDF's text: {missing}"
    if edition != "en":
        assert all(re.search("[\u4e00-\u9fff]", t) for t in titles(edition))
    bib = (BOOK / "references.bib").read_text(encoding="utf-8")
    cited = re.findall(r"^\s*title\s*=\s*[{\"]+(.+?)[}\"]+,?\s*$", bib, re.M | re.I)
    lost = [t for t in cited if squeeze(re.sub(r"[{}\\]", "", t))[:20] not in text]
    assert cited and not lost, f"{edition}: bibliography entries missing: {lost}"


def test_figures_are_in(pdf, pdf_build):
    edition, path, _ = pdf
    outputs = sum(stored_figures(d) for d in toc_chapters())
    images = len(poppler("pdfimages", "-list", path).splitlines()[2:])
    assert images >= outputs, f"{edition}: {images} images for {outputs} figures"
    if not EDITIONS[edition].root:  # each figure drawn from its translated SVG
        latex = latex_dir(edition, pdf_build["output"])  # (figure_text.py)
        drawn = list(latex.glob(f"*.{EDITIONS[edition].language}.png"))
        assert len(drawn) == outputs, (
            f"{edition}: {len(drawn)} figures drawn from a translated SVG, "
            f"{outputs} stored")


def test_nothing_runs_off_the_page(pdf):
    """Long code lines and outputs wrap; so do table columns and long names."""
    edition, _, log = pdf
    assert "Missing character" not in log, f"{edition}: a glyph is missing"
    over = [(float(pt), line) for pt, line in re.findall(
        r"Overfull \\hbox \(([\d.]+)pt too wide\)(.*)", log)]
    wide = [f"{pt}pt{line}" for pt, line in over if pt > OVERFULL_PT]
    assert not wide, f"{edition}: lines wider than the page:\n" + "\n".join(wide)
