"""The Chinese edition: extract the English messages, update the catalogs, check.

The book's prose is written in English in the notebooks and pages under book/.
Sphinx's gettext builder cuts it into messages (one per paragraph, heading, list
item, table cell, caption); their translations live in one catalog per page,
locales/<language>/LC_MESSAGES/book/<page>.po (zh_CN; every translated edition
of _config.yml's `book_editions` has its own). Code and outputs are not messages: both
editions show the same cells. Two more catalogs hold the words of the page frame,
written by hand: sphinx.po (template strings, the search box, the API index
table) and booktheme.po (sphinx-book-theme's header buttons); see
book/_ext/editions.py.

    python tools/translations.py extract   English messages -> _build/gettext/
    python tools/translations.py update    bring the page catalogs in step
                                           (each command: every translated
                                           edition, or --language zh_CN)
    python tools/translations.py status    per page: messages, untranslated, fuzzy
    python tools/translations.py check [book/01_layers ...]
                                           build the Chinese edition, then list
                                           what is untranslated, fuzzy or
                                           outdated, and English text that still
                                           shows on the Chinese pages

`update` keeps every existing translation. A message whose English changed keeps
its old translation, marked fuzzy (babel's fuzzy matching); a new message is
empty; a message that disappeared is dropped. tests/test_translations.py fails
until each is translated and its fuzzy mark removed. tools/build_book.py builds
both editions.
"""

import argparse
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bookinfo import BUILD, EDITIONS, ROOT, SOURCE_LANGUAGE, site_root

LOCALES = ROOT / "locales"
GETTEXT = ROOT / BUILD / "gettext"
PAGES = "book"          # page catalogs: catalogs(language)/book/<page>.po
# The translated editions' languages, from the edition table: ['zh_CN']
LANGUAGES = [edition.language for edition in EDITIONS.values() if not edition.root]
FRAME = ["sphinx", "booktheme"]  # the page frame's catalogs, kept by hand


def compile_catalogs(language, folder):
    """Compile the language's catalogs (locales/<language>/**.po) into
    folder/<language>/LC_MESSAGES/**.mo; returns `folder`. A build reads them
    from there, so nothing is written into the source tree."""
    from babel.messages.mofile import write_mo

    source = catalogs(language)
    if not source.is_dir():
        raise FileNotFoundError(f"no catalogs for {language}: {source} is missing")
    for po_path in sorted(source.rglob("*.po")):
        mo_path = (Path(folder) / language / "LC_MESSAGES"
                   / po_path.relative_to(source).with_suffix(".mo"))
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        with mo_path.open("wb") as mo:
            write_mo(mo, catalog)
    return Path(folder)


def build_sphinx(builder, outdir, doctrees, overrides, strict=True):
    """Build the book with Jupyter Book's own configuration pipeline.

    What `jupyter-book build .` does (same _config.yml, same toc), plus Sphinx
    configuration overrides such as the language. A translated edition reads
    its catalogs compiled into the doctrees folder (compile_catalogs), not
    Sphinx's .mo files beside the .po. Returns the exit status.
    """
    from jupyter_book.sphinx import build_sphinx as jb_build_sphinx

    language = overrides.get("language", SOURCE_LANGUAGE)
    if language != SOURCE_LANGUAGE and builder != "gettext":
        compiled = compile_catalogs(language, Path(doctrees) / "locales")
        overrides = {"locale_dirs": [str(compiled)], "gettext_auto_build": False,
                     **overrides}

    result = jb_build_sphinx(
        ROOT, Path(outdir), noconfig=True, path_config=str(ROOT / "_config.yml"),
        doctreedir=Path(doctrees), builder=builder,
        # One catalog per page (book/01_layers.po, not one book.po for the whole
        # folder), for extraction and translation alike. The CLI always passes
        # latex_individualpages, and get_final_config needs it.
        confoverrides={"latex_individualpages": False, "gettext_compact": False,
                       "nitpicky": True, **overrides},
        warningiserror=strict, keep_going=strict, quiet=True)
    return 1 if isinstance(result, Exception) else int(result or 0)


def extract(outdir=GETTEXT):
    """Write the .pot templates into `outdir`; returns the exit status."""
    outdir = Path(outdir)
    return build_sphinx("gettext", outdir, outdir.parent / ".doctrees-gettext", {})


def templates(potdir=GETTEXT):
    """{page: template catalog} for every page's .pot ('book/01_layers': ...)."""
    potdir = Path(potdir)
    found = {}
    for path in sorted((potdir / PAGES).rglob("*.pot")):
        with path.open("rb") as handle:
            found[path.relative_to(potdir).with_suffix("").as_posix()] = read_po(handle)
    return found


def catalogs(language):
    """The folder of a language's catalogs: locales/<language>/LC_MESSAGES."""
    return Path(LOCALES) / language / "LC_MESSAGES"


def page_catalogs(language):
    """The pages that have a catalog ('book/01_layers', ...)."""
    folder = catalogs(language)
    return sorted(p.relative_to(folder).with_suffix("").as_posix()
                  for p in (folder / PAGES).rglob("*.po"))


def catalog_path(language, name):
    return catalogs(language) / f"{name}.po"


def read_catalog(language, name):
    with catalog_path(language, name).open("rb") as handle:
        return read_po(handle, locale=language)


def write_catalog(language, name, catalog, path=None):
    path = path or catalog_path(language, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        # No line numbers: they are cell offsets in a notebook and would change
        # with every edit elsewhere in the page.
        write_po(handle, catalog, width=79, include_lineno=False,
                 ignore_obsolete=True)


def update(language, potdir=GETTEXT):
    """Merge the templates into the language's page catalogs (a new page gets a
    new one)."""
    pages = templates(potdir)
    for page, template in pages.items():
        if catalog_path(language, page).exists():
            catalog = read_catalog(language, page)
            catalog.update(template, update_header_comment=False,
                           update_creation_date=False)
        else:
            catalog = Catalog(locale=language, project="Module by Module",
                              copyright_holder="The Module by Module authors",
                              fuzzy=False)
            for message in template:
                if message.id:
                    catalog.add(message.id, locations=message.locations)
        write_catalog(language, page, catalog)
    folder = catalogs(language)
    for path in sorted((folder / PAGES).rglob("*.po")):
        if path.relative_to(folder).with_suffix("").as_posix() not in pages:
            print(f"no such page any more: {path.relative_to(ROOT)} (delete it)")


def _open_problems(catalog, name):
    found = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            found.append((name, "fuzzy", message.id))
        elif not message.string:
            found.append((name, "untranslated", message.id))
    return found


def problems(language, potdir=GETTEXT):
    """Everything that keeps a language's catalogs from matching the English
    source.

    Returns (catalog, kind, msgid) triples; kind is 'missing catalog',
    'untranslated', 'fuzzy', 'not in catalog' (English text with no translation
    entry) or 'obsolete' (a translation of text that is gone). The page frame's
    catalogs must translate every template string Sphinx extracted (sphinx.pot).
    """
    found = []
    for page, template in templates(potdir).items():
        if not catalog_path(language, page).exists():
            found.append((page, "missing catalog", ""))
            continue
        catalog = read_catalog(language, page)
        english = {m.id for m in template if m.id}
        translated = {m.id for m in catalog if m.id}
        found += _open_problems(catalog, page)
        found += [(page, "not in catalog", m) for m in sorted(english - translated)]
        found += [(page, "obsolete", m) for m in sorted(translated - english)]
    for name in FRAME:
        if not catalog_path(language, name).exists():
            found.append((name, "missing catalog", ""))
            continue
        found += _open_problems(read_catalog(language, name), name)
    with (Path(potdir) / "sphinx.pot").open("rb") as handle:
        strings = {m.id for m in read_po(handle) if m.id}
    if catalog_path(language, "sphinx").exists():
        kept = {m.id for m in read_catalog(language, "sphinx")}
        found += [("sphinx", "not in catalog", m) for m in sorted(strings - kept)]
    return found


# What a translation must carry over from its English message unchanged.
CODE = re.compile(r"``?[^`]+``?")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
ROLE = re.compile(r"\{[a-z:-]+\}")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Four or more Latin words in a row: an English phrase left in a translation.
ENGLISH_RUN = re.compile(r"(?:[A-Za-z][A-Za-z'’-]*[\s,;:]+){3,}[A-Za-z][A-Za-z'’-]*")
# Titles and names that stay English in the Chinese edition, with the reason.
ENGLISH_KEPT = {
    "Restart and Run All": "the menu item's name in Jupyter, which is English",
}


def _spans(text):
    """Inline code, with a role's displayed words set aside: {ref}`通用索引
    <genindex>` keeps the target, not the words."""
    for span in CODE.findall(text):
        target = re.search(r"<([^<>`]+)>`+$", span)
        yield f"<{target.group(1)}>" if target else span


def _prose(text):
    """The words of a message: code, math, links' targets, roles and addresses
    removed."""
    for pattern in (MATH, CODE, ROLE):
        text = pattern.sub(" ", text)
    return re.sub(r"https?://\S+", " ", LINK_TARGET.sub("]", text))


def content_problems(msgid, msgstr):
    """What a translation lost or left in English: the English message's inline
    code, math, link targets and numbers must all appear in it, and it holds no
    run of English words but titles quoted from the English (*Title*, [Title])
    and ENGLISH_KEPT."""
    found = [f"{kind} {token!r} missing" for kind, tokens in [
        ("code", _spans(msgid)), ("math", MATH.findall(msgid)),
        ("link target", (f"]({t})" for t in LINK_TARGET.findall(msgid)))]
        for token in tokens if token not in msgstr]
    numbers = [n.replace(",", "") for n in NUMBER.findall(_prose(msgstr))]
    for number in NUMBER.findall(_prose(msgid)):
        if number.replace(",", "") in numbers:
            numbers.remove(number.replace(",", ""))
        else:
            found.append(f"number {number} missing")
    quoted = " ".join(a or b for a, b in re.findall(r"\*([^*]+)\*|\[([^\]]+)\]",
                                                 msgid))
    for run in ENGLISH_RUN.findall(_prose(msgstr)):
        run = run.strip(" ,;:")
        if run not in quoted and not any(kept in run or run in kept
                                         for kept in ENGLISH_KEPT):
            found.append(f"English left: {run[:60]!r}")
    return found


def status(language, potdir=GETTEXT):
    rows = {page: {"messages": sum(1 for m in t if m.id)}
            for page, t in templates(potdir).items()}
    for name, kind, _ in problems(language, potdir):
        rows.setdefault(name, {"messages": "-"})
        rows[name][kind] = rows[name].get(kind, 0) + 1
    for name, counts in rows.items():
        extra = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "messages")
        print(f"{name:32} {counts['messages']:>4} messages  "
              f"{extra or 'all translated'}")


def plain(text):
    """The words of a MyST message, without markup, code, math or link targets."""
    text = re.sub(r"`[^`]*`", " ", text)              # inline code and roles
    text = re.sub(r"\$[^$]*\$", " ", text)            # inline math
    text = re.sub(r"\]\([^)]*\)", " ", text)          # link targets
    text = re.sub(r"[*_\[\]{}()!#>|\\]", " ", text)
    return " ".join(text.split())


def fallbacks(language, page, html_dir):
    """Translated messages whose English still shows on the built page of the
    language's edition, in the edition's folder `html_dir`.

    Sphinx silently keeps the English text when a translation does not parse to
    the same kind of node: a heading "1. Layers" translated as "1. 层" parses as a
    list item in Markdown (write "1\\. 层"). Returns the msgids concerned.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((Path(html_dir) / f"{page}.html").read_text(
        encoding="utf-8"), "html.parser")
    article = soup.find("article") or soup
    for code in article.select("pre, code"):  # code and outputs: the same in every
        code.decompose()                      # edition (figure titles are in code)
    shown = " ".join(article.get_text(" ").split())
    found = []
    for message in read_catalog(language, page):
        if not message.id or not message.string or message.string == message.id:
            continue
        words = plain(message.id)
        if len(words) >= 24 and re.search("[A-Za-z]{3}", words) and words in shown:
            found.append(message.id)
    return found


def edition_of(language):
    return next(e for e in EDITIONS.values() if e.language == language)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["extract", "update", "status", "check"])
    parser.add_argument("pages", nargs="*",
                        help="for check: pages such as book/01_layers (default: all)")
    parser.add_argument("--language", choices=LANGUAGES, action="append",
                        help="a translated edition's language (default: all of them)")
    args = parser.parse_args(argv)
    if extract():
        return 1
    bad = []
    for language in args.language or LANGUAGES:
        if args.command == "update":
            update(language)
        elif args.command == "status":
            status(language)
        elif args.command == "check":
            # the edition, built as tools/build_book.py builds it, but with
            # warnings reported rather than fatal, to list every problem
            from build_book import build

            edition = edition_of(language)
            html = site_root() / edition.folder
            if build(edition.name, strict=False):
                return 1
            pages = args.pages or list(templates())
            found = [p for p in problems(language) if p[0] in pages or not args.pages]
            for page in pages:
                found += [(page, "English still shown", m)
                          for m in fallbacks(language, page, html)]
            bad += [(language, *p) for p in found]
    if args.command == "check":
        for language, name, kind, msgid in bad:
            print(f"{language} {name}: {kind}: {msgid[:100]!r}")
        print(f"{len(bad)} problem(s)")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
