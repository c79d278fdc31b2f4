"""Sphinx extension: the whole book as a download, in PDF and as an offline zip.

tools/build_pdf.py builds each edition's PDF with Sphinx's LaTeX builder and
XeLaTeX (the LaTeX settings are in _config.yml); tools/build_book.py packs the
built site, both editions and their PDFs, into one zip. This extension holds
what the pages need for them, with public Sphinx APIs only:

* the download menu of every HTML page gets an entry for its edition's PDF
  (a relative link: it works offline and inside the zip); pages without the
  menu (the index and the search page) get a menu with that entry alone;
* the role ``{mbm-download}`text <target>``` links to the whole book as a
  download, target ``bundle`` (the zip, one for both editions, at the site's
  root) or ``pdf`` (this edition's PDF), from wherever the page is, in either
  edition; book/intro.md uses it;
* in LaTeX, what a PDF cannot show: images in formats the LaTeX builder does not
  take (the Colab badge is an SVG; converting it would need ImageMagick) are left
  out, and an output that only a browser can show (chapter 3's explorer is HTML
  and JavaScript; its plain-text form is Python's ``<... HTML object>``) becomes a
  sentence that says where to see it;
* in LaTeX, the book's shape: the intro page becomes the chapter "About this
  book", the bibliography page gives way to the bibliography at the end, long
  tables get columns that wrap, and the English edition takes quotes and dashes
  from its own font, not the Chinese one.
"""

import re

from docutils import nodes
from edition_table import BUNDLE
from editions import this_edition
from sphinx import addnodes
from sphinx.locale import _
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.images import guess_mimetype
from sphinx.util.nodes import split_explicit_title

# The few words these features add to a page, in English; each edition's
# locales/<language>/LC_MESSAGES/sphinx.po translates them (Sphinx's own catalog).
WORDS = {"about": "About this book",
         "book_pdf": "Book (.pdf)",
         "book_pdf_tip": "Download the whole book as a PDF",
         "html_only": "This output is interactive (HTML and JavaScript): it shows "
                      "on this page of the HTML book."}
CJK = re.compile("[\u2e80-\u9fff\uff00-\uffef]")
BROWSER_ONLY = re.compile(r"<IPython\.core\.display\.(HTML|Javascript) object>")


def words(config):
    """WORDS in the edition's language."""
    return {key: _(text) for key, text in WORDS.items()}


def url(config, target, docname=None):
    """The relative URL of 'bundle' or 'pdf' from a page (without a page: from
    the PDF, which sits in its edition's folder of the site)."""
    up = "../" * (docname.count("/") if docname is not None else 0)
    if target == "pdf":
        return up + this_edition(config).pdf
    return up + "../" * this_edition(config).folder.count("/") + BUNDLE


def download_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """{mbm-download}`the whole book <bundle>`: a link to the zip or the PDF."""
    has_title, title, target = split_explicit_title(text)
    if target not in ("bundle", "pdf"):
        message = inliner.reporter.error(
            f"mbm-download: target must be 'bundle' or 'pdf', not {target!r}",
            line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    node = nodes.reference(rawtext, title if has_title else target,
                           refuri=target, classes=["mbm-download"])
    node["mbm_download"] = target
    return [node], []


class ResolveDownloads(SphinxPostTransform):
    """Point each {mbm-download} link at its file, relative to this page (in
    LaTeX, to the PDF, which sits in its edition's folder of the site)."""

    default_priority = 5

    def run(self, **kwargs):
        docname = None if self.app.builder.format == "latex" else self.env.docname
        for node in self.document.findall(nodes.reference):
            if node.get("mbm_download"):
                node["refuri"] = url(self.config, node["mbm_download"], docname)


class LatexOmissions(SphinxPostTransform):
    """What the LaTeX builder cannot show: unsupported images, browser-only outputs."""

    builders = ("latex",)
    default_priority = 5

    def run(self, **kwargs):
        supported = set(self.app.builder.supported_image_types)
        for image in list(self.document.findall(nodes.image)):
            # {mimetype: path}, or {"*": path} for an image given by its full name
            candidates = {guess_mimetype(path) if kind == "*" else kind
                          for kind, path in image.get("candidates", {}).items()}
            if candidates and not candidates & supported:
                self._remove(image)
        for block in list(self.document.findall(nodes.literal_block)):
            if ("output" in block["classes"]
                    and BROWSER_ONLY.fullmatch(block.astext().strip())):
                note = nodes.paragraph("", "", nodes.emphasis(
                    "", words(self.config)["html_only"]))
                block.replace_self(note)

    @staticmethod
    def _remove(node):
        """Remove `node`, and each parent that it leaves empty."""
        parent = node.parent
        parent.remove(node)
        while (parent is not None and parent.parent is not None
               and not parent.astext().strip()
               and isinstance(parent, (nodes.reference, nodes.paragraph,
                                       nodes.figure, nodes.container))):
            grand = parent.parent
            grand.remove(parent)
            parent = grand


class LatexBookStructure(SphinxPostTransform):
    """The book's shape in LaTeX, on the whole book in one tree.

    Sphinx takes the root page's title as the book's title and turns its
    sections into chapters before the first real chapter; here the root page's
    prose becomes one chapter, "About this book", with its sections inside. The
    bibliography page (a sentence and the {bibliography} directive) is left out:
    Sphinx moves every citation into the Bibliography at the end of the book.
    """

    builders = ("latex",)
    default_priority = 800  # after Sphinx's BibliographyTransform (750)

    def run(self, **kwargs):
        top = next(iter(self.document.findall(nodes.section)), None)
        if top is None:
            return
        own = [child for child in top.children
               if not isinstance(child, (nodes.title, nodes.compound))
               and not child.next_node(addnodes.start_of_file)]
        if own:
            about = nodes.section("", nodes.title("", words(self.config)["about"]),
                                  ids=["mbm-about-this-book"])
            for child in own:
                top.remove(child)
                about += child
            top.insert(1, about)
        cite = self.env.domains.get("cite")
        pages = {key.docname for key in getattr(cite, "bibliographies", {})}
        for page in list(self.document.findall(addnodes.start_of_file)):
            if page["docname"] in pages and len(list(page.findall(nodes.section))) == 1:
                page.parent.remove(page)


def latex_table_widths(app, doctree, docname):
    """Columns that wrap in long tables. Sphinx typesets a table of more than 30
    rows as a longtable whose columns never wrap (the glossary ran 50 cm off the
    page); given widths, each column wraps at its share of the line. The share
    follows the column's mean cell, at least its longest word and at most 60
    characters (a Chinese character counts two). At doctree-resolved, after
    book/_ext/api_index.py made its table."""
    if app.builder.format != "latex":
        return
    for table in doctree.findall(nodes.table):
        if "colwidths-given" in table["classes"]:
            continue
        group = table.next_node(nodes.tgroup)
        rows = list(group.findall(nodes.row)) if group else []
        if len(rows) <= 30:  # tabulary, which sizes its columns itself
            continue
        specs = [c for c in group.children if isinstance(c, nodes.colspec)]
        cells = [[] for _ in specs]
        for row in rows:
            for i, entry in enumerate(row.children[:len(specs)]):
                text = entry.astext()
                words_ = re.findall(r"[A-Za-z0-9]+", text)  # break at _ . and spaces
                cells[i].append((len(text) + len(CJK.findall(text)),
                                 max(map(len, words_), default=0)))
        # a column's share: its mean cell, at least its longest word, at most 60
        widths = [round(min(60, max(8, sum(w for w, _ in c) / len(c),
                                    *(u for _, u in c)))) for c in cells]
        for spec, width in zip(specs, widths, strict=True):
            spec["colwidth"] = width
        table["classes"].append("colwidths-given")


def add_pdf_button(app, pagename, templatename, context, doctree):
    """An entry for the book's PDF in the page's download menu (after
    sphinx-book-theme made the menu at priority 501)."""
    buttons = context.get("header_buttons")
    if buttons is None:
        return
    say = words(app.config)
    entry = {"type": "link",
             "url": url(app.config, "pdf", pagename),
             "text": say["book_pdf"], "tooltip": say["book_pdf_tip"],
             "icon": "fas fa-book", "label": "download-book-pdf-button"}
    for button in buttons:
        if button.get("label") == "download-buttons":
            button["buttons"].append(entry)
            return
    buttons.insert(0, {"type": "group", "tooltip": say["book_pdf_tip"],
                       "icon": "fas fa-download", "buttons": [entry],
                       "label": "download-buttons"})


# xeCJK sets these in the Chinese font, full width, as Chinese text wants them;
# English text wants them from its own font ("PyTorch’s", not "PyTorch’ s").
LATIN_PUNCTUATION = (r'\xeCJKDeclareCharClass{Default}{"00B7, "00D7, "2013, "2014, '
                     r'"2018, "2019, "201C, "201D, "2026}')


def latex_punctuation(app, config):
    preamble = config.latex_elements.get("preamble", "")
    cjk = (config.language or "en").split("_")[0] in ("zh", "ja", "ko")
    if not cjk and LATIN_PUNCTUATION not in preamble:
        config.latex_elements["preamble"] = preamble + "\n" + LATIN_PUNCTUATION


def setup(app):
    app.add_role("mbm-download", download_role)
    app.connect("config-inited", latex_punctuation)
    app.add_post_transform(ResolveDownloads)
    app.add_post_transform(LatexOmissions)
    app.add_post_transform(LatexBookStructure)
    app.connect("doctree-resolved", latex_table_widths, priority=600)
    app.connect("html-page-context", add_pdf_button, priority=502)
    return {"version": "1.0", "parallel_read_safe": True,
            "parallel_write_safe": True}
