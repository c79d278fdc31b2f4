"""Sphinx extension: the book's index of the PyTorch APIs it teaches.

While Sphinx reads a chapter, every inline code span in its prose that names a
PyTorch API (`nn.Conv2d`, `torch.nn.init.kaiming_normal_`, `F.relu`,
`model.register_forward_hook`, ...) is recorded with the section that mentions
it, and gets an index entry (an ``index`` node, so genindex.html lists it too).
The directive ``{mbm-api-index}`` in book/api_index.md renders the collected
entries as a table linking to those sections. Because it is computed from the
chapters at build time, the index cannot drift from them; tests/test_html.py
checks every link in the built page.

Only public Sphinx API: a transform that runs before Sphinx's domains collect a
document's index entries, data kept on the build environment with the
env-purge-doc / env-merge-info events, and a placeholder node resolved at
doctree-resolved.
"""

import re

from docutils import nodes
from sphinx import addnodes
from sphinx.locale import _
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective

CHAPTER = re.compile(r"^book/\d\d_")
# A dotted name, optionally called: `nn.Conv2d`, `nn.Conv2d(3, 6, 5)`, `F.relu(x)`.
DOTTED = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?:\(.*\))?$", re.S)
PREFIXES = [  # longest first: how the book writes a name -> its full name
    ("torch.", "torch."),
    ("nn.functional.", "torch.nn.functional."),
    ("nn.init.", "torch.nn.init."),
    ("nn.", "torch.nn."),
    ("F.", "torch.nn.functional."),
    ("init.", "torch.nn.init."),
    ("optim.", "torch.optim."),
]
# Methods of nn.Module that the book teaches, written on an instance
# (`model.state_dict()`, `layer.register_forward_hook(fn)`) or on its own.
METHODS = (r"register_\w+|named_\w+|parameters|buffers|children|modules|state_dict|"
           r"load_state_dict|zero_grad|requires_grad_|add_module|apply|eval|train")
MODULE_METHODS = re.compile(rf"^(?:[A-Za-z_]\w*\.)?({METHODS})(?:\(.*\))?$", re.S)


def api_name(text):
    """The full PyTorch name an inline code span refers to, or None."""
    text = text.strip()
    match = DOTTED.match(text)
    if match:
        name = match.group(1)
        for short, full in PREFIXES:
            if name.startswith(short):
                return full + name[len(short):]
    match = MODULE_METHODS.match(text)
    if match:
        return "torch.nn.Module." + match.group(1)
    return None


def _section_of(node):
    while node is not None and not isinstance(node, nodes.section):
        node = node.parent
    return node


# Where a name is used in a code cell: `nn.Conv2d(`, `torch.flatten(`, `.state_dict(`.
CODE_NAME = re.compile(r"(?<![\w.])((?:torch|nn|F|optim|init)\.[A-Za-z_][\w.]*)")
CODE_METHOD = re.compile(rf"\.({METHODS})\(")
# A teaching section is numbered: "2. Convolution", "2.1 What the layer stores".
TEACHING = re.compile(r"^\d+(\.\d+)*\.?\s")


def _in_code_cell(node):
    while node is not None:
        if "cell_input" in node.get("classes", []):
            return True
        node = node.parent
    return False


class CollectApis(SphinxTransform):
    """Record where a chapter names or uses PyTorch APIs, and index the names.

    Runs before sphinx.transforms.references.SphinxDomains (priority 850), so the
    index domain collects the entries added here like any other."""

    default_priority = 840

    def apply(self, **kwargs):
        env, doctree = self.env, self.document
        docname = env.docname
        if not CHAPTER.match(docname):
            return
        store = env.mbm_api_index = getattr(env, "mbm_api_index", {})
        sections = list(doctree.findall(nodes.section))
        chapter_title = sections[0][0].astext() if sections else docname
        order = {id(section): i for i, section in enumerate(sections)}
        entries, indexed = [], set()

        def record(name, node, how):
            section = _section_of(node)
            if name is None or section is None or not section["ids"]:
                return
            anchor, title = section["ids"][0], section[0].astext()
            entries.append({"api": name, "how": how, "anchor": anchor,
                            "section": title, "chapter": chapter_title,
                            "order": order[id(section)],
                            "teaching": bool(TEACHING.match(title))})
            if how == "prose" and (name, anchor) not in indexed:
                indexed.add((name, anchor))
                entry = ("single", f"{name}; {title}", anchor, "", None)
                section.insert(1, addnodes.index(entries=[entry]))

        for literal in list(doctree.findall(nodes.literal)):
            if not isinstance(literal.parent, nodes.FixedTextElement):
                record(api_name(literal.astext()), literal, "prose")
        for block in list(doctree.findall(nodes.literal_block)):
            if _in_code_cell(block):
                code = block.astext()
                for name in {api_name(m) for m in CODE_NAME.findall(code)}:
                    record(name, block, "code")
                for method in set(CODE_METHOD.findall(code)):
                    record("torch.nn.Module." + method, block, "code")
        store[docname] = entries


def purge_apis(app, env, docname):
    getattr(env, "mbm_api_index", {}).pop(docname, None)


def merge_apis(app, env, docnames, other):
    store = env.mbm_api_index = getattr(env, "mbm_api_index", {})
    for docname in docnames:
        if docname in getattr(other, "mbm_api_index", {}):
            store[docname] = other.mbm_api_index[docname]


class api_index_placeholder(nodes.General, nodes.Element):
    """Replaced by the API table once every chapter has been read."""


class ApiIndexDirective(SphinxDirective):
    has_content = False

    def run(self):
        pages = self.env.mbm_api_pages = getattr(self.env, "mbm_api_pages", set())
        pages.add(self.env.docname)
        return [api_index_placeholder()]


def outdated_index(app, env, added, changed, removed):
    """env-get-outdated: re-render the index page when any chapter changed."""
    if any(CHAPTER.match(d) for d in added | changed | removed):
        return sorted(getattr(env, "mbm_api_pages", set()) & env.found_docs)
    return []


def _table(header, rows, widths):
    table = nodes.table(classes=["mbm-api-index"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for text in header:
        row += nodes.entry("", nodes.paragraph(text=text))
    head += row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            row += nodes.entry("", *(cell if isinstance(cell, list) else [cell]))
        body += row
    return table


def api_locations(store):
    """{api: {chapter: [(anchor, section title)]}} for the APIs the prose names.

    An API is in the index when some chapter names it in prose. In each chapter
    it links to the numbered (teaching) sections whose prose names it; failing
    those, to the numbered sections whose code uses it; failing those, to any
    section whose prose names it."""
    taught = {e["api"] for entries in store.values() for e in entries
              if e["how"] == "prose"}
    where = {}
    for chapter in sorted(store):
        for api in sorted(taught):
            mine = [e for e in store[chapter] if e["api"] == api]
            chosen = ([e for e in mine if e["teaching"] and e["how"] == "prose"]
                      or [e for e in mine if e["teaching"]]
                      or [e for e in mine if e["how"] == "prose"])
            chosen.sort(key=lambda e: e["order"])
            links = []
            for e in chosen:
                if (e["anchor"], e["section"]) not in links:
                    links.append((e["anchor"], e["section"]))
            if links:
                where.setdefault(api, {})[chapter] = (mine[0]["chapter"], links)
    return where


def render_api_index(app, doctree, docname):
    """doctree-resolved: fill the placeholder with a table of APIs and links."""
    placeholders = list(doctree.findall(api_index_placeholder))
    if not placeholders:
        return
    where = api_locations(getattr(app.env, "mbm_api_index", {}))
    rows = []
    for api in sorted(where, key=str.lower):
        name = nodes.paragraph("", "", nodes.literal(text=api))
        cell = []
        for chapter, (chapter_title, links) in where[api].items():
            label = _("{chapter}: ").format(chapter=chapter_title)
            para = nodes.paragraph("", "", nodes.strong(text=label))
            for i, (anchor, title) in enumerate(links):
                if i:
                    para += nodes.Text(_(", "))
                uri = app.builder.get_relative_uri(docname, chapter) + "#" + anchor
                para += nodes.reference("", title, refuri=uri, internal=True)
            cell.append(para)
        rows.append([name, cell])
    if rows:
        # the words go through Sphinx's catalog: the Chinese edition's
        # locales/zh_CN/LC_MESSAGES/sphinx.po translates them
        content = _table([_("API"), _("Taught in")], rows, [35, 65])
    else:
        content = nodes.paragraph(text=_("No chapter names a PyTorch API yet."))
    for placeholder in placeholders:
        placeholder.replace_self(content.deepcopy())


def setup(app):
    app.add_node(api_index_placeholder)
    app.add_directive("mbm-api-index", ApiIndexDirective)
    app.add_transform(CollectApis)
    app.connect("env-purge-doc", purge_apis)
    app.connect("env-merge-info", merge_apis)
    app.connect("env-get-outdated", outdated_index)
    app.connect("doctree-resolved", render_api_index)
    return {"version": "1.0", "parallel_read_safe": True,
            "parallel_write_safe": True, "env_version": 6}
