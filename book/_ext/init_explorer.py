"""Sphinx extension: chapter 3's kernel-free explorer runs from the site's own script.

The notebook (book/03_initialization.ipynb) emits only the explorer's numbers, as
JSON inside an empty ``<div class="mbm-init-explorer">``; book/_ext/static/
init-explorer.js builds the controls, the chart and the readout in the page's
language and redraws them. This extension adds that script, deferred, to the pages
whose body holds such a div, and to no other page (tests/test_explorer.py drives it
in both editions; tests/test_lint.py checks the file with node).
"""

from pathlib import Path

HERE = Path(__file__).parent
SCRIPT = "init-explorer.js"
MARKER = 'class="mbm-init-explorer"'


def add_static(app, config):
    if str(HERE / "static") not in config.html_static_path:  # layout.py too
        config.html_static_path.append(str(HERE / "static"))


def add_script(app, pagename, templatename, context, doctree):
    if MARKER in context.get("body", ""):
        app.add_js_file(SCRIPT, loading_method="defer")


def setup(app):
    app.connect("config-inited", add_static)
    app.connect("html-page-context", add_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
