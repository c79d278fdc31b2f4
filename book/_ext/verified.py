"""Sphinx extension: the "Verified with" tables, read from the version matrix.

``tools/matrix.py`` runs strict nbval over every chapter in several environments
(Colab's torch, the pinned one, the newest) and records the result in
benchmarks/results/matrix.json. The directive ``{mbm-verified}`` in
book/verified.md renders that record as two tables (the environments; each
chapter's identical cells per environment) and the list of remaining
differences with their reasons, at build time, so the page cannot drift from
the record. The tables hold data, not prose: their paragraphs are marked not
translatable, so the gettext builder does not extract them, and their few
header words come from WORDS, translated by the edition's sphinx.po. Chapter names are
``doc`` references, which Sphinx fills with each edition's own chapter titles.
"""

import json
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.locale import _
from sphinx.util.docutils import SphinxDirective

RECORD = Path("benchmarks") / "results" / "matrix.json"
PACKAGES = ["python", "torch", "numpy", "matplotlib", "ipywidgets", "scikit-learn"]
ORDER = ["colab", "pinned", "latest"]  # oldest torch first
# In English; each edition's locales/<language>/LC_MESSAGES/sphinx.po translates
# them (Sphinx's own catalog; ", " is 、 in Chinese).
WORDS = {"environment": "environment", "what": "what it is", "date": "run on",
         "versions": "versions", "sep": ", ",
         "chapter": "chapter", "identical": "cells identical: {env}",
         "none": "No other differences: every cell printed what the book shows.",
         "colab": "Google Colab's stack", "pinned": "requirements.lock",
         "latest": "the newest torch, the lock's other pins",
         "difference": "{chapter}, cell {cell}, under {env}: {reason}",
         "missing": "The record benchmarks/results/matrix.json is missing: run "
                    "tools/matrix.py."}


def words(config):
    """WORDS in the edition's language."""
    return {key: _(text) for key, text in WORDS.items()}


def para(content):
    """A paragraph the gettext builder leaves alone (its words are WORDS')."""
    node = nodes.paragraph("", "", content if isinstance(content, nodes.Node)
                           else nodes.Text(str(content)))
    node["translatable"] = False
    return node


def table(header, rows):
    """A docutils table; each cell is a node or a string."""
    group = nodes.tgroup(cols=len(header))
    group += [nodes.colspec(colwidth=1) for _ in header]
    head, body = nodes.thead(), nodes.tbody()
    group += [head, body]
    for parent, cells in [(head, header), *((body, row) for row in rows)]:
        row = nodes.row()
        for cell in cells:
            row += nodes.entry("", para(cell))
        parent += row
    return nodes.table("", group, classes=["mbm-verified"])


def versions(found, sep=", "):
    """'Python 3.13.0, torch 2.11.0, ...' (a wheel's +cpu/+cu tag left out);
    the Chinese table cell lists them with '、'."""
    return sep.join(f"{'Python' if p == 'python' else p} "
                    f"{found[p].split('+')[0]}" for p in PACKAGES if p in found)


def chapter_link(stem):
    ref = addnodes.pending_xref("", refdomain="std", reftype="doc",
                                reftarget=f"/book/{stem}", refexplicit=False)
    ref += nodes.inline("", stem)
    return ref


class VerifiedDirective(SphinxDirective):
    def run(self):
        say = words(self.config)
        path = Path(self.env.srcdir) / RECORD
        self.env.note_dependency(str(path))
        if not path.exists():
            return [para(say["missing"])]
        envs = json.loads(path.read_text(encoding="utf-8"))["environments"]
        names = sorted(envs, key=lambda n: ORDER.index(n) if n in ORDER else 99)
        first = table([say["environment"], say["what"], say["versions"],
                       say["date"]],
                      [[name, say.get(name, envs[name]["describe"]),
                        versions(envs[name]["versions"], say["sep"]),
                        envs[name]["date"]]
                       for name in names])
        stems = sorted({s for env in envs.values() for s in env["chapters"]})
        second = table(
            [say["chapter"], *(say["identical"].format(env=n) for n in names)],
            [[chapter_link(stem),
              *(f"{c['identical']}/{c['cells']}" if (c := envs[n]["chapters"].get(
                  stem)) else "" for n in names)] for stem in stems])
        differences = [say["difference"].format(chapter=stem, cell=d["cell"],
                                                env=name,
                                                reason=d["reason"] or d["example"])
                       for name in names for stem in stems
                       for d in envs[name]["chapters"].get(stem, {}).get(
                           "differences", [])]
        notes = nodes.bullet_list()
        for text in differences:
            notes += nodes.list_item("", para(text))
        return [first, second, notes if differences else para(say["none"])]


def setup(app):
    app.add_directive("mbm-verified", VerifiedDirective)
    return {"version": "1.0", "parallel_read_safe": True,
            "parallel_write_safe": True}
