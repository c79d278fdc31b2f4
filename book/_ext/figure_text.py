"""Sphinx extension: the words in the chapters' figures, in the page's language.

Every chapter shows its figures as a PNG and as an SVG whose words are ``<text>``
elements, not outlines (``use_svg_figures`` in tools/canonical_helpers.py). The
HTML builders show the SVG, LaTeX the PNG. Sphinx's gettext machinery never sees
a figure's words, so this extension carries them:

* the gettext builder (tools/translations.py extract/update) gets each figure's
  words as messages of the page's catalog. Numbers become placeholders, so that
  "layer 1" and "layer 30" are one message, ``layer {0}``, and a figure whose
  title states a measured 98% keeps its message when a re-run prints 97%;
* a translated edition's pages show a copy of each SVG (``<hash>.<language>.svg``)
  whose words come from that catalog, with the figure's own numbers put back,
  and whose texts ask for the edition's ``fonts`` (its row of the edition
  table) before the generic family: matplotlib names Latin fonts only, and a
  machine's fontconfig may fill in Chinese from a brush-script Kai font (Debian's
  TeX packages bring one) where a sans-serif one belongs.
  Its PDF (LaTeX takes the PNG) shows that copy rasterized by ``rsvg-convert``
  (Debian's librsvg2-bin, which the PDFs need besides TeX) at the stored PNG's
  width; without it the build warns and keeps the English PNG.

A text with no English word in it (tick labels, code names such as
``kaiming_normal``, ``conv1 #3``) is not a message. ``english_words`` says what
counts as English; tests/test_html.py uses it to fail on English left in the
Chinese pages' figures. Matplotlib draws a text with mathtext as one ``<tspan>``
per glyph; the chapters keep words out of mathtext, and the test joins the
glyphs, so a label that broke this rule would show up there.
"""

import html
import re
import shutil
import subprocess
from pathlib import Path

from docutils import nodes
from sphinx.locale import init as init_locale
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain

logger = logging.getLogger(__name__)

TEXT = re.compile(r"(<text\b[^>]*>)([^<]*)(</text>)")  # one plain text element
GLYPHS = re.compile(r"<text\b[^>]*>(.*?)</text>", re.S)  # any text element
TSPAN = re.compile(r"<tspan\b[^>]*>([^<]*)</tspan>")
# A number: its digits follow no letter (conv1 is a name) but x (3x3 is two
# numbers); a sign belongs to it after a space or a bracket, not in 1-5.
NUMBER = re.compile(r"(?:(?<![\w)\].])[-+](?=\d)|(?<![A-Za-wyz_\d.]))"
                    r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", re.ASCII)
PLACEHOLDER = re.compile(r"\{(\d+)\}")
# Not English: snake_case names, names with a digit (conv1), the calls and the
# keyword the figures quote (normal(0, 0.01), 1/sqrt(n), std=0.02), derivatives
# such as dL/dz, and a scheme's name at the start of a legend label ("default",
# "orthogonal, depths 1, 10 and 50"). ASCII only, so a run of Chinese characters
# around a stray English word is never taken for a name.
CODE = re.compile(r"[A-Za-z0-9]*_[A-Za-z0-9_]*|\b[A-Za-z]+\d[A-Za-z0-9]*"
                  r"|\b(?:normal|sqrt|U)\(|\bstd=|\bd[A-Za-z]/d[A-Za-z]\b"
                  r"|^(?:default|orthogonal)(?=[,，]|$)", re.ASCII)
# Names that stay as they are in every edition: activations and optimizers as the
# code spells them, methods and people, and RMS, which the Chinese prose keeps too.
NAMES = frozenset({"ReLU", "Tanh", "Sigmoid", "SiLU", "tanh", "relu", "sigmoid",
                   "SGD", "Adam", "LSUV", "RMS", "Sobel", "Kaiming", "Xavier",
                   "kaiming", "xavier", "LeNet"})
SVG_ROOT = re.compile(r"<svg\b")
# A font-family list in a style attribute, up to its generic family if it has one.
FAMILIES = re.compile(r"font-family:([^;\"]*)")  # each list, whole
FAMILY = re.compile(r"(font-family:[^;\"]*?)(,?\s*\b(?:sans-serif|serif|monospace)\b)?"
                    r"(?=\s*[;\"])")


def english_words(text):
    """The words of `text` that a translation must replace: Latin words of two or
    more letters, once numbers, code and names are taken out."""
    words = re.findall(r"[A-Za-z]{2,}", NUMBER.sub(" ", CODE.sub(" ", text)))
    return [w for w in words if w not in NAMES]


def template(text):
    """(message, numbers): `text` with each number replaced by {0}, {1}, ..."""
    numbers = NUMBER.findall(text)
    if "{" in text or "}" in text:  # no placeholders where braces are text
        return text, []
    count = iter(range(len(numbers)))
    return NUMBER.sub(lambda _: f"{{{next(count)}}}", text), numbers


def texts(svg):
    """Every text element's words, glyphs joined (mathtext draws one per glyph)."""
    return [html.unescape("".join(TSPAN.findall(inner)) if "<tspan" in inner
                          else inner) for inner in GLYPHS.findall(svg)]


def messages(svg):
    """The figure's messages, in the order its texts are drawn."""
    found = []
    for _, words, _ in TEXT.findall(svg):
        text = html.unescape(words)
        message = template(text)[0]
        if english_words(text) and message not in found:
            found.append(message)
    return found


def translate(svg, gettext):
    """`svg` with every message's words from `gettext` and the numbers put back.
    A message without a translation keeps its English (the tests catch it)."""
    def one(match):
        text = html.unescape(match.group(2))
        if not english_words(text):
            return match.group(0)
        message, numbers = template(text)
        translated = gettext(message)
        if translated == message:
            return match.group(0)
        try:
            text = PLACEHOLDER.sub(lambda m: numbers[int(m.group(1))], translated)
        except IndexError:
            logger.warning(f"figure text {message!r}: its translation "
                           f"{translated!r} names a number the figure lacks")
            return match.group(0)
        return match.group(1) + html.escape(text, quote=False) + match.group(3)
    return TEXT.sub(one, svg)


def font_families(svg):
    """Every font-family list in `svg`'s style attributes, as written."""
    return FAMILIES.findall(svg)


def with_fonts(svg, fonts):
    """`svg` with the font families `fonts` asked for in every text's font list,
    before its generic family (sans-serif), so that they fill in what its Latin
    fonts lack."""
    if not fonts:
        return svg
    named = ", ".join(f"'{font}'" for font in fonts)
    return FAMILY.sub(lambda m: f"{m.group(1)}, {named}"
                      + (f", {m.group(2).lstrip(', ')}" if m.group(2) else ""), svg)


def _svg_images(app, doctree):
    """(image node, SVG file) for the notebook figures of the document."""
    for node in doctree.findall(nodes.image):
        uri = node.get("uri", "")
        if uri.endswith(".svg") and uri.startswith("/"):  # myst-nb's output files
            path = Path(app.srcdir, uri[1:])
            if path.is_file():
                yield node, path


def figure_messages(app, doctree):
    """gettext builder: each figure's messages, as paragraphs the catalog picks up
    (only this builder's doctrees get them)."""
    if app.builder.name != "gettext":
        return
    source = app.env.doc2path(app.env.docname)
    for node, path in list(_svg_images(app, doctree)):
        for message in messages(path.read_text(encoding="utf-8")):
            paragraph = nodes.paragraph(message, message)
            paragraph.source, paragraph.line = str(source), node.line or 1
            doctree.append(paragraph)


def translate_figures(app, doctree):
    """A translated edition: each figure shows its copy in the page's language."""
    from editions import locale_dirs, this_edition

    edition = this_edition(app.config)
    if app.builder.name == "gettext" or edition.root:  # the source edition
        return
    language, lang = edition.language, edition.html_lang
    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    catalog, found = init_locale(locale_dirs(app.srcdir, app.config), language,
                                 domain)
    if not found:
        return
    for node, path in list(_svg_images(app, doctree)):
        copy = path.with_suffix(f".{language}.svg")
        translated = with_fonts(translate(path.read_text(encoding="utf-8"),
                                          catalog.gettext), edition.fonts)
        # the language picks the fallback font of the words' script (Chromium,
        # rsvg): Simplified Chinese glyphs, not the first CJK font installed
        translated = SVG_ROOT.sub(f'<svg xml:lang="{lang}"', translated, count=1)
        if not copy.is_file() or copy.read_text(encoding="utf-8") != translated:
            copy.write_text(translated, encoding="utf-8")
        node["uri"] = node["uri"][:-len(".svg")] + f".{language}.svg"
        if app.builder.format == "latex":
            _rasterize_for_latex(app, node, copy)


def _png_twin(svg_node):
    """The image node of the PNG that myst-nb stored beside this SVG, if any."""
    bundle = svg_node.parent.parent if svg_node.parent else None
    for container in bundle.children if bundle is not None else []:
        if container.get("mime_type") == "image/png":
            return next(iter(container.findall(nodes.image)), None)
    return None


def _rasterize_for_latex(app, svg_node, copy):
    """Point the PNG that LaTeX will take at the translated SVG, rasterized."""
    twin = _png_twin(svg_node)
    if twin is None:
        return
    tool = shutil.which("rsvg-convert")
    if tool is None:
        logger.warning("rsvg-convert not found (Debian's librsvg2-bin): the figures "
                       "of this PDF keep their English words", once=True)
        return
    stored = Path(app.srcdir, twin["uri"][1:])
    width = int.from_bytes(stored.read_bytes()[16:20], "big")  # the PNG header
    raster = copy.with_suffix(".png")
    subprocess.run([tool, "-w", str(width), "-b", "white", "-o", str(raster),
                    str(copy)], check=True)
    twin["uri"] = twin["uri"][:-len(stored.name)] + raster.name  # beside the PNG


def setup(app):
    # before Sphinx's image collector (doctree-read, priority 500) records the file
    app.connect("doctree-read", figure_messages, priority=400)
    app.connect("doctree-read", translate_figures, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
