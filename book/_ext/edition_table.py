"""The book's editions: one table, `book_editions` in _config.yml's Sphinx config.

Each row names an edition (`name`: what the tools, the tests and the site's
folders call it), its Sphinx `language` and the `label` of the edition switch;
optionally its `fonts`, the font families that its pages and its figures'
translated words ask for before the generic sans-serif (editions.py,
figure_text.py).
Everything else is derived here, once: the first row is the source language
(English) at the site's root; every other edition lives in a folder named after
it, with its PDF named after it too, and its catalogs in locales/<language>/.
Adding a language is one row plus its catalogs (tests/test_editions.py shows it).

No Sphinx import: tools/bookinfo.py reads the same table from _config.yml.
"""

import re
from dataclasses import dataclass

CONFIG = "book_editions"
PDF_STEM = "module-by-module"
BUNDLE = "module-by-module-html.zip"  # the offline zip, at the site root
FIELDS = ("name", "language", "label", "fonts")  # a row's keys


@dataclass(frozen=True)
class Edition:
    name: str      # "en", "zh": the CLI's --edition, the folder, the PDF's suffix
    language: str  # Sphinx's language code: "en", "zh_CN"
    label: str     # the edition switch's link text: "English", "中文"
    root: bool     # the first edition: the site's root folder
    fonts: tuple = ()  # font families for its script, before sans-serif

    @property
    def folder(self):
        """The edition's folder under the site's root: '' or 'zh/'."""
        return "" if self.root else f"{self.name}/"

    @property
    def html_lang(self):
        """The pages' <html lang>: 'en', 'zh-CN'."""
        return self.language.replace("_", "-")

    @property
    def pdf(self):
        """The PDF's file name, in the edition's folder."""
        return f"{PDF_STEM}.pdf" if self.root else f"{PDF_STEM}-{self.name}.pdf"


def edition_table(rows):
    """The `book_editions` rows as Editions, checked: a clear message, not a
    KeyError, for a row that lacks a field or repeats a name or language."""
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{CONFIG} must be a non-empty list of editions, got {rows!r}")
    editions = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not (
                {"name", "language", "label"} <= set(row) <= {*FIELDS}):
            raise ValueError(f"{CONFIG}[{i}] must have exactly name, language and "
                             f"label (and may have fonts), got {row!r}")
        fonts = row.get("fonts", [])
        if not (isinstance(fonts, list) and all(
                isinstance(f, str) and re.fullmatch(r"[\w .-]+", f) for f in fonts)):
            raise ValueError(f"{CONFIG}[{i}]: fonts must be a list of font "
                             f"family names, got {fonts!r}")
        if not re.fullmatch(r"[a-z]{2,3}(_[A-Za-z0-9]+)?", str(row["language"])):
            raise ValueError(f"{CONFIG}[{i}]: {row['language']!r} is not a language "
                             "code such as en or zh_CN")
        if not re.fullmatch(r"[a-z][a-z0-9-]*", str(row["name"])):
            raise ValueError(f"{CONFIG}[{i}]: name {row['name']!r} must be lower-case "
                             "letters, digits and dashes (it names a folder)")
        editions.append(Edition(row["name"], row["language"], str(row["label"]),
                                root=i == 0, fonts=tuple(fonts)))
    if editions[0].language != "en":
        raise ValueError(f"{CONFIG}: the first edition is the source, English, "
                         f"not {editions[0].language!r}")
    for field in ("name", "language"):
        values = [getattr(e, field) for e in editions]
        if len(set(values)) != len(values):
            raise ValueError(f"{CONFIG}: an edition {field} is used twice: {values}")
    return editions


def by_language(editions, language):
    """The edition built with Sphinx's `language` (None: English)."""
    language = language or "en"
    for edition in editions:
        if edition.language == language:
            return edition
    raise ValueError(f"no edition in {CONFIG} has the language {language!r}")
