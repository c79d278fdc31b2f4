"""Two editions of the book from one source: English and Chinese (zh_CN).

The Chinese edition is the same Sphinx project built with ``language=zh_CN``;
its prose comes from the gettext catalogs in ``locales/``. This extension adds
what the theme lacks for that:

* a language switch in every page's header, linking to the same page in the
  other edition (English at the site root, Chinese under ``zh/``);
* Chinese theme strings: Jupyter Book hard-codes the English search-box text,
  so it is dropped for other languages and the theme's translated default used.
"""

from pathlib import Path

EDITIONS = {"en": ("English", ""), "zh_CN": ("中文", "zh/")}


def _language(config):
    return config.language or "en"


def setup_theme(app, config):
    language = _language(config)
    options = config.html_theme_options
    if language != "en":
        options.pop("search_bar_text", None)
    end = list(options.get("article_header_end") or ["article-header-buttons.html"])
    options["article_header_end"] = ["edition-switch.html", *end]
    config.templates_path.append(str(Path(__file__).parent / "templates"))


def add_switch(app, pagename, templatename, context, doctree):
    language = _language(app.config)
    here_prefix = EDITIONS.get(language, EDITIONS["en"])[1]
    links = []
    for code, (label, prefix) in EDITIONS.items():
        if code == language:
            continue
        # from this page up to the site root, then down into the other edition
        depth = pagename.count("/") + here_prefix.count("/")
        url = "../" * depth + prefix + pagename + ".html"
        links.append({"code": code.replace("_", "-"), "label": label, "url": url})
    context["edition_links"] = links


def setup(app):
    app.connect("config-inited", setup_theme)
    app.connect("html-page-context", add_switch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
