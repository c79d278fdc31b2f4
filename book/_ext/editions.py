"""The book's editions from one source: English, and Chinese (zh_CN) so far.

The editions are the rows of ``book_editions`` in _config.yml (edition_table.py).
Each translated edition is the same Sphinx project built with its ``language``
(tools/build_book.py); its prose comes from the gettext catalogs in
``locales/<language>/LC_MESSAGES/book/``. This extension adds what the theme
stack lacks for a second language, with public Sphinx APIs except for one
backport (the search index below):

* an edition switch in every page's header that links to the same page in the
  other editions (English at the site root, the others in their folders);
* the theme's own words in Chinese. ``locales/zh_CN/LC_MESSAGES/sphinx.po``
  translates template strings and the search box (Jupyter Book writes that text
  into the theme options in English); ``booktheme.po`` adds the header-button
  words that sphinx-book-theme's catalog lacks, and replaces those it words
  unidiomatically for Chinese (compiled with the other catalogs into the build
  folder by tools/translations.py; a translated edition without it gets a
  warning, an error under -W); the two
  sidebar toggles get templates whose tooltips go through translation;
* a faster Chinese search index: Sphinx's indexer remembers every Latin word it
  has seen in a list and scans that list for every word it stems, which made
  indexing this book quadratic (a third of the Chinese build's time); the same
  indexer with a set gives the same index;
* the folds of hidden cells in Chinese: myst-nb fills the ``{type}`` of
  "Show code cell {type}" with an English word ("content", "source",
  "output(s)"); ``sphinx.po`` translates those words in the context
  ``code cell fold``, and a post-transform puts them into the folds;
* "Launch on" + " Colab" in Chinese word order ("在 Colab 中启动"): a header-button
  word of ``booktheme.po`` may hold ``{name}``, where the platform's name goes;
* figure alt texts in the catalogs: a code cell's figure takes its alt text from
  the cell's metadata (``mystnb.image.alt``), and Sphinx translates an image's
  alt like a paragraph; but for the gettext builder myst-nb picks an output's
  text/plain over its image/png, which would leave the figures, and their alt
  texts, out of the templates, so this extension tells it to prefer the image;
* translated toctree captions ("Chapters", "Reference"): sphinx-external-toc
  inserts the toctrees from _toc.yml after Sphinx has translated the page, so
  their captions are looked up in the page's catalog once they are there;
* the edition's fonts (``fonts`` in its row of the table): the theme asks for
  ``system-ui, sans-serif``, and where the system font lacks the script, the
  generic family is whatever fontconfig picks for it (on Debian with the TeX
  packages, a brush-script Kai font for Chinese); the pages ask for the
  edition's families first;
* a front door in the page's language: sphinx-external-toc writes each
  edition's index.html as one bare ``<meta>`` redirect to the intro; this
  extension writes it first, as a page with its ``lang``, charset, title and a
  link for readers whose browser does not follow the redirect. Every page has
  an icon (the redirect an empty one, as it is left at once), so that no
  browser asks the server's root for a favicon.ico that a book cannot own.
"""

from pathlib import Path

from edition_table import CONFIG, by_language, edition_table
from sphinx import addnodes
from sphinx.locale import get_translation
from sphinx.locale import init as init_locale
from sphinx.search.zh import SearchChinese
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain

HERE = Path(__file__).parent
BOOKTHEME = "booktheme"
logger = logging.getLogger(__name__)
FOLD_TYPES = ("content", "source", "output", "outputs")  # myst-nb's {type} words
FOLD_CONTEXT = "code cell fold"  # their msgctxt in sphinx.po
FAVICON = "favicon.svg"
FRONT_DOOR = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="data:,">
<meta http-equiv="Refresh" content="0; url={target}">
</head>
<body><p><a href="{target}">{title}</a></p></body>
</html>
"""


def editions(config):
    """Every edition (edition_table.Edition), from the config's table."""
    return edition_table(getattr(config, CONFIG))


def this_edition(config):
    """The edition this build makes."""
    return by_language(editions(config), config.language)


def setup_theme(app, config):
    options = config.html_theme_options
    _ = app.translator.gettext
    options["search_bar_text"] = _("Search this book...")
    # the fold of hidden cells (myst-nb): "Show code cell {type}" and its twin
    config.nb_code_prompt_show = _(config.nb_code_prompt_show)
    config.nb_code_prompt_hide = _(config.nb_code_prompt_hide)
    # the gettext builder sees a figure (and extracts its alt text), not its repr
    config.nb_mime_priority_overrides = [*config.nb_mime_priority_overrides,
                                         ("gettext", "image/png", 5)]
    config.templates_path.insert(0, str(HERE / "templates"))
    config.html_favicon = config.html_favicon or str(HERE / "static" / FAVICON)
    config.html_static_path.append(str(HERE / "static"))


def locale_dirs(srcdir, config):
    """The folders Sphinx reads this build's compiled catalogs from, absolute
    (tools/translations.py compiles every catalog there, booktheme.po too)."""
    return [str(Path(srcdir, d)) for d in config.locale_dirs]


def register_booktheme(app):
    """The edition's header-button words (booktheme.po): its compiled catalog is
    added after the theme's own, so that ours fills the words it lacks;
    fix_header_buttons replaces the ones it has where ours differs. A translated
    edition without a booktheme.po gets a warning."""
    from babel.messages.pofile import read_po

    _FIXES.clear()
    edition = this_edition(app.config)
    if edition.root:
        return
    po_path = Path(app.srcdir, "locales", edition.language, "LC_MESSAGES",
                   f"{BOOKTHEME}.po")
    if not po_path.exists():
        logger.warning(f"{po_path} is missing: the header buttons of the "
                       f"{edition.language} edition stay in the theme's words")
        return
    for folder in locale_dirs(app.srcdir, app.config):
        app.add_message_catalog(BOOKTHEME, folder)
    theirs = get_translation(BOOKTHEME)
    with po_path.open("rb") as handle:
        _FIXES.update({theirs(m.id): m.string for m in read_po(handle)
                       if m.id and m.string})


def add_switch(app, pagename, templatename, context, doctree):
    """The links to this page in the other editions, first in the header's end.

    Runs before the theme drops header templates that render empty (at the
    default priority, 500), so the links must be in the context by then."""
    this = this_edition(app.config)
    depth = pagename.count("/") + this.folder.count("/")
    context["edition_links"] = [
        {"code": other.html_lang, "label": other.label,
         # up to the site root, then down into the other edition
         "url": "../" * depth + other.folder + pagename + ".html"}
        for other in editions(app.config) if other != this]
    end = context.get("theme_article_header_end") or []
    if isinstance(end, str):
        end = [item.strip() for item in end.split(",") if item.strip()]
    context["theme_article_header_end"] = ["edition-switch.html", *end]


_FIXES = {}  # {the theme's word: ours}, read once per build (builder-inited)


def fix_header_buttons(app, pagename, templatename, context, doctree):
    """Our words for the header buttons, after sphinx-book-theme made them (501)."""
    fixes = _FIXES

    def fixed(text):
        if text in fixes:
            return fixes[text]
        # "Launch on" + " Colab": ours may place the name ("在 {name} 中启动")
        for theirs, ours in fixes.items():
            if "{name}" in ours and text.startswith(theirs + " "):
                return ours.replace("{name}", text[len(theirs) + 1:])
        return text

    def fix(buttons):
        for button in buttons:
            for key in ("tooltip", "label", "text"):
                if isinstance(button.get(key), str):
                    button[key] = fixed(button[key])
            fix(button.get("buttons", []))

    fix(context.get("header_buttons", []))


class TranslateTocCaptions(SphinxTransform):
    """Translate the captions of the toctrees that sphinx-external-toc inserts
    (at priority 100, after Sphinx's own translation at 20), from the catalog of
    the page that holds them, where gettext extracted them."""

    default_priority = 110

    def apply(self, **kwargs):
        if this_edition(self.config).root:
            return
        toctrees = [t for t in self.document.findall(addnodes.toctree)
                    if t.get("caption")]
        if not toctrees:
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        catalog, found = init_locale(locale_dirs(self.env.srcdir, self.config),
                                     self.config.language, domain)
        if found:
            for toctree in toctrees:
                toctree["caption"] = catalog.gettext(toctree["caption"])


class TranslateFoldTypes(SphinxPostTransform):
    """The word that myst-nb put into a fold's {type} ("content"), translated.

    myst-nb's HideInputCells (priority 199) replaces "{type}" in the fold's
    prompts with an English word; this runs after it and swaps each prompt
    made from the configured (translated) template for the same template with
    the word from sphinx.po (context FOLD_CONTEXT). In English it changes
    nothing; a cell that sets its own prompt keeps it."""

    default_priority = 200
    formats = ("html",)

    def run(self, **kwargs):
        from myst_nb.sphinx_ import HideCodeCellNode

        translator = self.app.translator
        swaps = {}
        for template in (self.config.nb_code_prompt_show,
                         self.config.nb_code_prompt_hide):
            for word in FOLD_TYPES:
                ours = translator.pgettext(FOLD_CONTEXT, word)
                swaps[template.replace("{type}", word)] = template.replace(
                    "{type}", ours)
        for node in self.document.findall(HideCodeCellNode):
            for key in ("prompt_show", "prompt_hide"):
                node[key] = swaps.get(node[key], node[key])


class _Terms(set):
    """A set that SearchChinese.split can extend like its list."""

    extend = set.update


class SearchChineseIndexedTerms(SearchChinese):
    """Sphinx's Chinese search, with its memory of Latin words in a set.

    A BACKPORT: it replaces SearchChinese's `latin_terms` attribute, which is
    not public API. Sphinx 8.1 made that attribute a set itself; Jupyter Book
    1.x builds with Sphinx 7 (7.4.7 in requirements.lock). Delete this class,
    and its add_search_language, once the book builds with Sphinx >= 8.1."""

    def init(self, options):
        super().init(options)
        self.latin_terms = _Terms()


def check_editions(app, config):
    """The table is read (and checked) once, before anything uses it, and this
    build's language must be one of its editions."""
    this_edition(config)


def ask_for_fonts(app, pagename, templatename, context, doctree):
    """The edition's font families, before the theme's system font stack (the
    `metatags` go into every page's <head>, before the theme's stylesheet, which
    sets these variables on `html`; `html:root` outranks it)."""
    fonts = this_edition(app.config).fonts
    if fonts:
        stack = ", ".join(f'"{font}"' for font in fonts)
        context["metatags"] = context.get("metatags", "") + (
            "<style>html:root { --pst-font-family-base: system-ui, " + stack + ", "
            "var(--pst-font-family-base-system); "
            "--pst-font-family-heading: var(--pst-font-family-base); }</style>")


def write_front_door(app, exception):
    """index.html: the redirect to the book's first page, as a page of this
    edition (written before sphinx-external-toc's bare one, which then leaves
    it alone)."""
    from html import escape

    root = app.config.root_doc
    if exception is not None or app.builder.format != "html" or root == "index":
        return
    Path(app.outdir, "index.html").write_text(FRONT_DOOR.format(
        lang=this_edition(app.config).html_lang, title=escape(app.config.html_title),
        target=f"{root}.html"),
        encoding="utf-8")


def setup(app):
    app.add_config_value(CONFIG, [], "html", types=[list])
    app.connect("config-inited", check_editions, priority=100)
    app.connect("config-inited", setup_theme)
    app.add_transform(TranslateTocCaptions)
    app.add_post_transform(TranslateFoldTypes)
    app.add_search_language(SearchChineseIndexedTerms)
    app.add_css_file("editions.css")
    app.connect("html-page-context", add_switch, priority=400)
    app.connect("html-page-context", ask_for_fonts)
    app.connect("builder-inited", register_booktheme)
    app.connect("html-page-context", fix_header_buttons, priority=900)
    app.connect("build-finished", write_front_door, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
