"""The Chinese edition: extract the English messages, update the catalogs, build.

The book's prose is written in English in the notebooks and pages under book/.
Sphinx's gettext builder cuts it into messages (one per paragraph, heading, list
item, table cell, caption); the translations live in one catalog per page,
locales/zh_CN/LC_MESSAGES/book/<page>.po. Code and outputs are not messages: both
editions show the same cells.

    python tools/translations.py extract   English messages -> _build/gettext/
    python tools/translations.py update    bring every catalog in step with them
    python tools/translations.py status    per page: messages, untranslated, fuzzy
    python tools/translations.py build     the Chinese edition -> _build/html/zh/
    python tools/translations.py check [book/01_layers ...]
                                           build, then list untranslated, fuzzy,
                                           outdated messages and English text that
                                           still shows on the Chinese pages

`update` keeps every existing translation. A message whose English changed is kept
with its old translation and marked fuzzy (babel's fuzzy matching), and
tests/test_translations.py fails until someone re-translates it and removes the
mark; a message that disappeared is dropped.
"""

import argparse
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "zh_CN"
LOCALES = ROOT / "locales"
CATALOGS = LOCALES / LANGUAGE / "LC_MESSAGES"
GETTEXT = ROOT / "_build" / "gettext"
ZH_HTML = ROOT / "_build" / "html" / "zh"


def build_sphinx(builder, outdir, doctrees, overrides, strict=True):
    """Build the book with Jupyter Book's own configuration pipeline.

    Exactly what `jupyter-book build .` does (same _config.yml, same toc), plus
    Sphinx configuration overrides such as the language. Returns the exit status.
    """
    from jupyter_book.sphinx import build_sphinx as jb_build_sphinx

    result = jb_build_sphinx(
        ROOT, Path(outdir), noconfig=True, path_config=str(ROOT / "_config.yml"),
        doctreedir=Path(doctrees), builder=builder,
        # One catalog per page (book/01_layers.po, not one book.po for the whole
        # folder), for extraction and translation alike. The CLI always passes
        # latex_individualpages, and get_final_config needs it.
        confoverrides={"latex_individualpages": False, "gettext_compact": False,
                       **overrides},
        warningiserror=strict, keep_going=strict, quiet=True)
    return 1 if isinstance(result, Exception) else int(result or 0)


def extract(outdir=GETTEXT):
    """Write one .pot template per page into `outdir`; returns the exit status."""
    return build_sphinx("gettext", outdir, ROOT / "_build" / ".doctrees-gettext",
                        {"nitpicky": True})


def templates(potdir=GETTEXT):
    """{page: template catalog} for every .pot under `potdir` ('book/01_layers')."""
    return {str(p.relative_to(potdir).with_suffix("")): read_po(p.open("rb"))
            for p in sorted(potdir.rglob("*.pot"))}


def catalog_path(page):
    return CATALOGS / f"{page}.po"


def read_catalog(page):
    with catalog_path(page).open("rb") as handle:
        return read_po(handle, locale=LANGUAGE)


def write_catalog(page, catalog):
    path = catalog_path(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        # No line numbers: they are cell offsets in a notebook and would change
        # with every edit elsewhere in the page.
        write_po(handle, catalog, width=79, include_lineno=False,
                 ignore_obsolete=True)


def update(potdir=GETTEXT):
    """Merge the templates into the catalogs (new pages get a new catalog)."""
    for page, template in templates(potdir).items():
        if catalog_path(page).exists():
            catalog = read_catalog(page)
            catalog.update(template, update_header_comment=False,
                           update_creation_date=False)
        else:
            from babel.messages.catalog import Catalog

            catalog = Catalog(locale=LANGUAGE, project="Module by Module",
                              copyright_holder="The Module by Module authors",
                              fuzzy=False)
            for message in template:
                if message.id:
                    catalog.add(message.id, locations=message.locations,
                                flags=message.flags - {"fuzzy"})
        write_catalog(page, catalog)
    stale = {p.relative_to(CATALOGS).with_suffix("").as_posix()
             for p in CATALOGS.rglob("*.po")} - set(templates(potdir))
    for page in sorted(stale):
        print(f"no such page any more: {catalog_path(page)} (delete it)")


def problems(potdir=GETTEXT):
    """Everything that keeps the catalogs from matching the English source.

    Returns a list of (page, kind, msgid) where kind is one of 'missing catalog',
    'untranslated', 'fuzzy', 'not in catalog' (new English text) and 'obsolete'
    (a translation of text that is gone).
    """
    found = []
    for page, template in templates(potdir).items():
        if not catalog_path(page).exists():
            found.append((page, "missing catalog", ""))
            continue
        catalog = read_catalog(page)
        english = {m.id for m in template if m.id}
        translated = {m.id for m in catalog if m.id}
        for message in catalog:
            if not message.id:
                continue
            if message.fuzzy:
                found.append((page, "fuzzy", message.id))
            elif not message.string:
                found.append((page, "untranslated", message.id))
        found += [(page, "not in catalog", m) for m in sorted(english - translated)]
        found += [(page, "obsolete", m) for m in sorted(translated - english)]
    return found


def status(potdir=GETTEXT):
    rows = {}
    for page, template in templates(potdir).items():
        rows[page] = {"messages": sum(1 for m in template if m.id)}
    for page, kind, _ in problems(potdir):
        rows[page][kind] = rows[page].get(kind, 0) + 1
    for page, counts in rows.items():
        extra = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "messages")
        print(f"{page:32} {counts['messages']:4} messages  {extra or 'all translated'}")


def build(outdir=ZH_HTML, strict=True):
    """The Chinese edition: the same project with language zh_CN."""
    return build_sphinx("html", outdir, ROOT / "_build" / ".doctrees-zh",
                        {"language": LANGUAGE, "nitpicky": True}, strict=strict)


def plain(text):
    """The words of a MyST message, without markup, code, math or link targets."""
    text = re.sub(r"`[^`]*`", " ", text)              # inline code and roles
    text = re.sub(r"\$[^$]*\$", " ", text)            # inline math
    text = re.sub(r"\]\([^)]*\)", " ", text)          # link targets
    text = re.sub(r"[*_\[\]{}()!#>|\\]", " ", text)
    return " ".join(text.split())


def fallbacks(page, html_dir=ZH_HTML):
    """Translated messages whose English still shows on the built Chinese page.

    Sphinx silently keeps the English text when a translation does not parse to
    the same kind of node (a heading "1. Layers" translated as "1. 层" parses as a
    list item in Markdown; write "1\\. 层"). Returns the msgids concerned.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((html_dir / f"{page}.html").read_text(encoding="utf-8"),
                         "html.parser")
    article = soup.find("article") or soup
    shown = " ".join(article.get_text(" ").split())
    found = []
    for message in read_catalog(page):
        if not message.id or not message.string or message.string == message.id:
            continue
        words = plain(message.id)
        if len(words) >= 24 and re.search("[A-Za-z]{3}", words) and words in shown:
            found.append(message.id)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command",
                        choices=["extract", "update", "status", "build", "check"])
    parser.add_argument("pages", nargs="*", help="for check: pages such as "
                        "book/01_layers (default: all)")
    args = parser.parse_args(argv)
    if args.command in ("extract", "update", "status", "check"):
        if extract():
            return 1
    if args.command == "update":
        update()
    if args.command == "status":
        status()
    if args.command == "build":
        return build()
    if args.command == "check":
        # build the Chinese edition, then list what is not translated or did not
        # take effect on the page
        if build(strict=False):
            return 1
        pages = args.pages or list(templates())
        bad = [p for p in problems() if p[0] in pages]
        for page in pages:
            bad += [(page, "English still shown", m) for m in fallbacks(page)]
        for page, kind, msgid in bad:
            print(f"{page}: {kind}: {msgid[:100]!r}")
        print(f"{len(bad)} problem(s) in {len(pages)} page(s)")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
