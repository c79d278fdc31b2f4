"""Sphinx extension: the book's own layout fixes, in book/_ext/static/layout.css.

- Phones: no page is wider than the screen. Long inline code (a dotted API name)
  and long table rows made pages scroll sideways at 390 px; inline code now
  breaks anywhere, and a wide table scrolls inside its own box.
- One header: pydata-sphinx-theme draws a header row that holds only a second
  search button above sphinx-book-theme's article header, which already has the
  sidebar toggle and a search button (the primary sidebar has the search field).

tests/test_browser.py checks every page's width at 390 px in both editions.

Also: the book's static files are copied at the end of every build. Sphinx copies
static files only when some page is rewritten, so an edit to a file in static/
alone left the old copy in the built site.
"""

import filecmp
import shutil
from pathlib import Path

HERE = Path(__file__).parent


def add_static(app, config):
    if str(HERE / "static") not in config.html_static_path:  # editions.py too
        config.html_static_path.append(str(HERE / "static"))


def refresh_static(app, exception):
    if exception or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static"
    for source in (HERE / "static").iterdir():
        copy = target / source.name
        if source.is_file() and not (copy.exists() and filecmp.cmp(
                source, copy, shallow=False)):
            shutil.copyfile(source, copy)


def setup(app):
    app.connect("config-inited", add_static)
    app.connect("build-finished", refresh_static)
    app.add_css_file("layout.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
