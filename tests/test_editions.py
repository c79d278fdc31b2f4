"""A language is one row of the edition table plus its catalogs.

The editions are the rows of `book_editions` in _config.yml; everything else (the
folder, the PDF's name, <html lang>, the edition switch, the CLI's --edition, the
catalogs' folder) is derived from it (book/_ext/edition_table.py). This test adds
a fake third edition, French, to a temporary copy of the book: one row, and
catalogs copied from the Chinese ones (their words do not matter here). Then it
builds that edition with the README's build tool and checks what a reader gets.
"""

import re
import shutil
import subprocess
import sys

import pytest

from bookinfo import EDITIONS, ROOT, edition_table, editions, site_root

FRENCH = {"name": "fr", "language": "fr", "label": "Français"}
COPIED = ["book", "locales", "tools", "benchmarks/results", "_config.yml", "_toc.yml"]


def test_everything_else_is_derived():
    assert [e.folder for e in EDITIONS.values()] == ["", "zh/"]
    assert [e.pdf for e in EDITIONS.values()] == ["module-by-module.pdf",
                                                  "module-by-module-zh.pdf"]
    assert EDITIONS["zh"].html_lang == "zh-CN"


@pytest.mark.parametrize("rows, message", [
    ([], "non-empty list"),
    ([{"name": "zh", "language": "zh_CN", "label": "中文"}], "the source, English"),
    ([{"name": "en", "language": "en"}], "exactly name, language and label"),
    ([{"name": "en", "language": "en", "label": "English"},
      {"name": "en", "language": "fr", "label": "Français"}], "name is used twice"),
    ([{"name": "en", "language": "english", "label": "English"}], "not a language"),
    ([{"name": "en", "language": "en", "label": "English"},
      {"name": "zh", "language": "zh_CN", "label": "中文", "fonts": "Noto"}],
     "fonts must be a list"),
])
def test_a_bad_table_says_what_is_wrong(rows, message):
    with pytest.raises(ValueError, match=message):
        edition_table(rows)


@pytest.fixture(scope="module")
def french_copy(tmp_path_factory):
    copy = tmp_path_factory.mktemp("three-editions")
    for name in COPIED:
        source, target = ROOT / name, copy / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(
                "*.mo", "__pycache__", "_build"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    # the one change to the book's sources: a row in the table ...
    config_text = (copy / "_config.yml").read_text(encoding="utf-8")
    last = ("      - {name: zh, language: zh_CN, label: 中文, fonts: [Noto Sans "
            "CJK SC,\n         Source Han Sans SC, PingFang SC, Microsoft YaHei, "
            "WenQuanYi Micro Hei]}\n")
    assert last in config_text, "the table's last row moved; update this test"
    config_text = config_text.replace(last, last + "      - {name: fr, language: fr, "
                                      "label: Français}\n")
    (copy / "_config.yml").write_text(config_text, encoding="utf-8")
    # ... plus its catalogs
    shutil.copytree(copy / "locales" / "zh_CN", copy / "locales" / "fr")
    # Test scaffolding, not part of adding a language: one page (the glossary,
    # which links to no chapter) instead of the whole book, for speed.
    (copy / "_toc.yml").write_text("format: jb-book\nroot: book/glossary\n",
                                   encoding="utf-8")
    proc = subprocess.run([sys.executable, str(copy / "tools" / "build_book.py"),
                           "--edition", "fr"], cwd=copy, capture_output=True,
                          text=True)
    return copy, proc


@pytest.mark.slow
def test_a_third_language_is_one_row_plus_its_catalogs(french_copy):
    copy, proc = french_copy
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    french = {e.name: e for e in editions(copy)}["fr"]
    assert (french.folder, french.pdf, french.html_lang) == (
        "fr/", "module-by-module-fr.pdf", "fr")
    page = (site_root(copy) / french.folder / "book" / "glossary.html").read_text(
        encoding="utf-8")
    assert re.search(r'<html[^>]* lang="fr"', page), "the page's language"
    switches = re.findall(r'<a[^>]*class="[^"]*edition-switch[^"]*"[^>]*>', page)
    hrefs = sorted(re.search(r'href="([^"]+)"', a).group(1) for a in switches)
    assert hrefs == ["../../book/glossary.html", "../../zh/book/glossary.html"], hrefs
    assert (site_root(copy) / "fr" / "index.html").exists(), "the redirect to the root"
    assert "module-by-module-fr.pdf" in page, "the download menu's PDF"
    assert not (copy / "locales" / "fr" / "LC_MESSAGES" / "booktheme.mo").exists(), (
        "the header words' catalog is compiled into the build folder, not locales/")
