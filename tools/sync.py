"""Rewrite every generated part of the book from its single source.

    .venv/bin/python tools/sync.py          # rewrite what drifted; say what changed
    .venv/bin/python tools/sync.py --check  # change nothing, print what differs,
                                            # exit 1 on drift (the tests run this)

Generated part                          Its single source
--------------------------------------  ---------------------------------------------
each chapter's `helpers` cell           tools/canonical_helpers.py: the helpers the
                                        chapter calls, and those they call, in file
                                        order; the chapter's own set-up lines after
                                        them (`device = get_device()`) are kept
the Colab badge under each title        _config.yml (repository, launch_buttons)
the "Verified with torch ..." line      benchmarks/results/matrix.json, written by
under the badge, and its Chinese        tools/matrix.py: the torch versions in which
translation in the chapter's catalog    the chapter ran clean, and the day
each chapter's last line                _toc.yml order and the next chapter's title:
                                        `Next: [2. Assembling LeNet](02_lenet.ipynb)`
chapter tables in README.md and         _toc.yml (order; each entry's `meta: summary:`)
book/intro.md                           and the chapters' titles
README's page-weight and performance    benchmarks/results/latest.json, rendered by
tables                                  tools/benchmark_tables.py
nbval markers (conversion)              old `# NBVAL_IGNORE_OUTPUT` / `# Why: ...`
                                        comment lines become the cell tag
                                        `nbval-ignore-output` and the cell metadata
                                        `nbval_reason`
exercise solutions (conversion)         a cell starting `# @title Solution` gets the tag
                                        `hide-cell` (not `hide-input`) and
                                        `jupyter.source_hidden` / `outputs_hidden`
execution times (removed)               executing a notebook stores when each cell ran
                                        in its metadata: noise in every diff
stored widget state (removed)           executing a notebook with a live widget stores
                                        its state in the notebook's metadata; the
                                        HTML book would then need a widget manager
                                        from a CDN (blank offline), so it goes

Only sources and metadata change, never outputs or execution counts. In Markdown
files a generated region lies between `<!-- begin generated: NAME ... -->` and
`<!-- end generated: NAME -->`. Problems the tool cannot repair (a chapter-specific
function in the helpers cell, an import the helpers need, a missing summary) are
printed and make it exit 1 in both modes.
"""

import argparse
import ast
import difflib
import functools
import hashlib
import json
import posixpath
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bookinfo import (
    ASSERT_RECORD,
    BENCHMARK_RESULTS,
    MATRIX_RESULTS,
    ROOT,
    assert_counts,
    cell_source,
    chapter_paths,
    chapter_summary,
    chapter_title,
    colab_url,
    dump_notebook,
    frame_text,
    load_notebook,
    set_source,
    tags,
    toc_chapters,
    toc_files,
)

REPAIR = ".venv/bin/python tools/sync.py"
BADGE = "[![Open in Colab](images/colab-badge.svg)]({url})"
STAMP = re.compile(r"Verified with torch .* \(\[how\]\(verified\.md\)\)\.")
NAV_LINE = re.compile(r"(Next: \[.*\]\(.*\)|Back to the \[start of the book\]\(.*\))")
SOLUTION_PREFIX = "# @title Solution"
# The first line of every helpers cell: what it is and where to edit it. (Not a
# repository path: the notebook also runs alone, in Colab.)
HELPERS_MARK = "# Generated from the book's canonical_helpers.py: edit them there."
# Old comment markers -> the nbval tag that replaces each.
OLD_MARKERS = {"NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
               "NBVAL_SKIP": "nbval-skip",
               "NBVAL_RAISES_EXCEPTION": "nbval-raises-exception"}
REASON_KEY = "nbval_reason"
# Markdown regions: file -> the generated regions it must hold.
REGIONS = {"README.md": ["chapters", "page-weight", "performance"],
           "book/intro.md": ["chapters"]}
REGION = re.compile(r"(<!-- begin generated: ([\w-]+)[^\n]*-->\n)(.*?)"
                    r"(<!-- end generated: \2 -->)", re.S)


@dataclass
class Report:
    changes: list = field(default_factory=list)  # (file, part, old text, new text)
    problems: list = field(default_factory=list)  # (file, message)

    def text(self, diffs=True, max_lines=40):
        lines = []
        for file, part, old, new in self.changes:
            lines.append(f"{file}: {part} is out of date")
            if diffs:
                diff = list(difflib.unified_diff(
                    old.splitlines(), new.splitlines(), "stored", "generated",
                    n=1, lineterm=""))
                more = len(diff) - max_lines
                lines += ["    " + d for d in diff[:max_lines]]
                if more > 0:
                    lines.append(f"    ... {more} more diff lines")
        lines += [f"{file}: PROBLEM: {message}" for file, message in self.problems]
        return "\n".join(lines)


# --- the helpers cell


def parse_canonical(root):
    """{name: (source with decorators, canonical names it uses, import names it
    uses)} in file order, from tools/canonical_helpers.py."""
    source = (Path(root) / "tools" / "canonical_helpers.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported |= {(a.asname or a.name).split(".")[0] for a in node.names}
    defs = {node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    helpers = {}
    for name, node in defs.items():
        used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        helpers[name] = (segment(source, node), used & set(defs) - {name},
                         used & imported)
    return helpers


def segment(source, node):
    """Source of a top-level definition, decorators included."""
    lines = source.splitlines()
    return "\n".join(lines[first_line(node) - 1:node.end_lineno])


def first_line(node):
    return min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])


def python_of(cell):
    """A code cell's source without IPython magics and shell lines."""
    return "\n".join(ln for ln in cell_source(cell).splitlines()
                     if not ln.lstrip().startswith(("%", "!")))


def names_in(tree):
    """(names used, names defined at top level) in a parsed cell."""
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return used, defined


def sync_helpers(nb, canonical, problem):
    """Rewrite the helpers cell; return [(part, old, new)]."""
    cells = [c for c in nb["cells"] if "helpers" in tags(c)]
    if len(cells) != 1:
        problem(f"expected one code cell tagged 'helpers', found {len(cells)}")
        return []
    helpers_cell = cells[0]
    source = cell_source(helpers_cell)
    body = "\n".join(ln for ln in source.splitlines() if ln != HELPERS_MARK)
    try:
        tree = ast.parse(python_of({"source": body}))
    except SyntaxError as exc:
        problem(f"the helpers cell does not parse: {exc}")
        return []
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    foreign = [n.name for n in defs if n.name not in canonical]
    if foreign:
        problem(f"{foreign} in the helpers cell are not in tools/canonical_helpers.py;"
                " add them there or move them to the section that introduces them")
        return []
    lines = body.splitlines()
    head, tail = lines, []
    if defs:
        start, end = first_line(defs[0]), defs[-1].end_lineno
        inside = set()
        for node in defs:
            inside |= set(range(first_line(node), node.end_lineno + 1))
        stray = [lines[i - 1] for i in range(start, end + 1)
                 if i not in inside and lines[i - 1].strip()]
        if stray:
            problem(f"the helpers cell has lines between its helpers: {stray[:2]}; "
                    "put the chapter's own set-up after the helpers")
            return []
        head, tail = lines[:start - 1], lines[end:]
    # Which helpers the chapter calls: every name used in its code, apart from the
    # helper definitions themselves and names the chapter defines for itself.
    used, defined, imported_before = set(), set(), set()
    before_helpers = True
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        if cell is helpers_cell:
            before_helpers = False
            code = "\n".join(head + tail)
        else:
            code = python_of(cell)
        try:
            cell_used, cell_defined = names_in(ast.parse(code))
        except SyntaxError:
            continue  # the structure rules report it
        used |= cell_used
        if cell is not helpers_cell:
            defined |= cell_defined
            if before_helpers:
                imported_before |= cell_defined
    needed = (used - defined) & set(canonical)
    while True:
        more = set().union(*(canonical[n][1] for n in needed)) - needed
        if not more:
            break
        needed |= more
    missing = sorted(set().union(*(canonical[n][2] for n in needed)) - imported_before)
    if missing:
        problem(f"the helpers use {missing}: import them in the cells above the "
                "helpers cell")
    parts = ["\n".join(head).strip("\n"),
             "\n\n\n".join(canonical[n][0] for n in canonical if n in needed),
             "\n".join(tail).strip("\n")]
    new = HELPERS_MARK + "\n" + "\n\n\n".join(p for p in parts if p)
    if new == source:
        return []
    set_source(helpers_cell, new)
    return [("helpers cell", source, new)]


# --- badge, closing line


STAMP_TEXT = "Verified with torch {torches} on {day} ([how](verified.md))."


def stamp(docname, root, language="en"):
    """The chapter's "Verified with torch ..." line in `language` (its words from
    the edition's frame catalog, sphinx.po), from the version matrix's record
    (tools/matrix.py), or None without a record.

    It names the torch of every environment in which the chapter ran without an
    error and with no difference left unexplained, and the day of the oldest of
    those runs."""
    path = Path(root) / MATRIX_RESULTS.relative_to(ROOT)
    if not path.exists():
        return None
    envs = json.loads(path.read_text(encoding="utf-8"))["environments"].values()
    stem = docname.rsplit("/", 1)[-1]
    passed = [env for env in envs if (chapter := env["chapters"].get(stem))
              and all(d["reason"] for d in chapter["differences"])]
    if not passed:
        return None
    torches = sorted({".".join(env["versions"]["torch"].split(".")[:2])
                      for env in passed}, key=lambda v: tuple(map(int, v.split("."))))
    day = min(env["date"] for env in passed)
    say = functools.partial(frame_text, language, root=root)
    listed = say(", ").join(torches[:-1]) + (say(" and ") if len(torches) > 1 else "")
    return say(STAMP_TEXT).format(torches=listed + torches[-1], day=day)


def sync_badge(nb, docname, root, problem):
    cells = nb["cells"]
    if not cells or cells[0]["cell_type"] != "markdown":
        problem("the first cell must be a markdown cell with '# N. Title'")
        return []
    source = cell_source(cells[0])
    lines = source.strip("\n").split("\n")
    if not lines[0].startswith("# "):
        problem("the first line must be the title '# N. Title'")
        return []
    rest = [ln for ln in lines[1:] if not ln.startswith("[![Open in Colab]")
            and not STAMP.fullmatch(ln)]
    while rest and not rest[0].strip():
        rest.pop(0)
    badge = BADGE.format(url=colab_url(docname, root))
    line = stamp(docname, root)
    head = [lines[0], "", badge] + (["", line] if line else [])
    new = "\n".join(head + ([""] + rest if rest else []))
    if new == source:
        return []
    set_source(cells[0], new)
    return [("Colab badge and verified stamp", source, new)]


def sync_stamp_translation(docname, root, write):
    """Each chapter catalog translates the stamp line it shows, and no older one."""
    from babel.messages.pofile import read_po

    import translations

    changes = []
    line = stamp(docname, root)
    for language in translations.LANGUAGES:
        path = translations.catalog_path(language, docname).relative_to(ROOT)
        path = Path(root) / path
        if not path.exists():
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        old = {m.id: m.string for m in catalog if isinstance(m.id, str)
               and STAMP.fullmatch(m.id)}
        new = {line: stamp(docname, root, language)} if line else {}
        if old == new:
            continue
        for msgid in old:
            del catalog[msgid]
        for msgid, msgstr in new.items():
            catalog.add(msgid, msgstr, locations=[(f"../../{docname}.ipynb", None)])
        if write:
            translations.write_catalog(language, docname, catalog, path=path)
        changes.append((f"{language} stamp", "\n".join(old.values()),
                        "\n".join(new.values())))
    return changes


def closing_line(docname, root, problem):
    chapters = toc_chapters(root)
    index = chapters.index(docname)
    if index + 1 == len(chapters):
        start = toc_files(root)[0]
        rel = posixpath.relpath(f"{start}.md", posixpath.dirname(docname))
        return f"Back to the [start of the book]({rel})"
    following = chapters[index + 1]
    path = Path(root) / f"{following}.ipynb"
    title = chapter_title(load_notebook(path)) if path.exists() else None
    if not title:
        problem(f"cannot link the next chapter: {following}.ipynb is missing or has "
                "no '# N. Title' line")
        title = following
    rel = posixpath.relpath(f"{following}.ipynb", posixpath.dirname(docname))
    return f"Next: [{title}]({rel})"


def sync_closing_line(nb, docname, root, problem):
    line = closing_line(docname, root, problem)
    last = nb["cells"][-1] if nb["cells"] else None
    if last is None or last["cell_type"] != "markdown":
        cell_id = hashlib.sha1(docname.encode()).hexdigest()[:8]
        nb["cells"].append({"cell_type": "markdown", "id": cell_id, "metadata": {},
                            "source": []})
        set_source(nb["cells"][-1], line)
        return [("closing line", "", line)]
    source = cell_source(last)
    lines = source.rstrip().split("\n")
    if NAV_LINE.fullmatch(lines[-1].strip()):
        lines[-1] = line
    else:
        lines += ["", line]
    new = "\n".join(lines)
    if new == source:
        return []
    set_source(last, new)
    return [("closing line", source, new)]


# --- conversions from the old conventions


def is_old_marker(line):
    """`# NBVAL_IGNORE_OUTPUT` and its kin: a comment line naming an old marker."""
    line = line.strip()
    return line.startswith("#") and line.lstrip("#").strip() in OLD_MARKERS


def convert_markers(nb, problem):
    changes = []
    for number, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        lines = cell_source(cell).split("\n")
        keep, found = [], []
        i = 0
        while i < len(lines):
            if is_old_marker(lines[i]):
                marker = lines[i].strip().lstrip("#").strip()
                why = None
                if i + 1 < len(lines):
                    match = re.fullmatch(r"\s*#\s*Why:\s*(\S.*)", lines[i + 1])
                    if match:
                        why = match.group(1).strip()
                        i += 1
                found.append((OLD_MARKERS[marker], why))
                i += 1
                continue
            keep.append(lines[i])
            i += 1
        if not found:
            continue
        old = cell_source(cell)
        while keep and not keep[0].strip():
            keep.pop(0)
        set_source(cell, "\n".join(keep))
        metadata = cell.setdefault("metadata", {})
        for tag, why in found:
            if tag not in metadata.setdefault("tags", []):
                metadata["tags"].append(tag)
            if why:
                metadata[REASON_KEY] = why
            elif not metadata.get(REASON_KEY):
                problem(f"code cell {number + 1}: {tag} has no '# Why:' line; set the "
                        f"cell metadata '{REASON_KEY}' to say why")
        changes.append((f"code cell {number + 1}: nbval marker -> cell metadata", old,
                        cell_source(cell) + "\n# metadata: "
                        + json.dumps(metadata, sort_keys=True)))
    return changes


def convert_solutions(nb):
    changes = []
    for number, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        if not cell_source(cell).startswith(SOLUTION_PREFIX):
            continue
        metadata = cell.setdefault("metadata", {})
        old = json.dumps(metadata, indent=1, sort_keys=True)
        cell_tags = [t for t in metadata.get("tags", []) if t != "hide-input"]
        if "hide-cell" not in cell_tags:
            cell_tags.append("hide-cell")
        metadata["tags"] = cell_tags
        metadata["jupyter"] = {**metadata.get("jupyter", {}), "source_hidden": True,
                               "outputs_hidden": True}
        new = json.dumps(metadata, indent=1, sort_keys=True)
        if new != old:
            changes.append((f"code cell {number + 1} (solution) metadata", old, new))
    return changes


def drop_execution_times(nb):
    """Executing a notebook stores when each cell ran (metadata.execution):
    noise in every diff, and nothing a reader needs."""
    times = [cell["metadata"].pop("execution") for cell in nb["cells"]
             if "execution" in cell.get("metadata", {})]
    return [(f"execution times of {len(times)} cell(s) (removed)",
             json.dumps(times)[:200], "")] if times else []


def drop_widget_state(nb):
    state = nb.get("metadata", {}).pop("widgets", None)
    if state is None:
        return []
    return [("notebook metadata 'widgets' (stored widget state)",
             json.dumps(state)[:200], "")]


# --- Markdown regions


def chapter_rows(root, problem):
    """(docname, 'N. Title', summary) for each chapter in _toc.yml order."""
    rows = []
    for docname in toc_chapters(root):
        path = Path(root) / f"{docname}.ipynb"
        title = chapter_title(load_notebook(path)) if path.exists() else None
        summary = chapter_summary(docname, root)
        if not title:
            problem(f"{docname}.ipynb is missing or has no '# N. Title' line")
            title = docname
        if not summary:
            problem(f"_toc.yml: give {docname} a one-line `meta: summary:`")
        rows.append((docname, title, summary))
    return rows


def readme_chapters(rows):
    out = ["| # | Notebook | What you learn |", "|---|---|---|"]
    for docname, title, summary in rows:
        number, _, name = title.partition(". ")
        out.append(f"| {number} | [{name}]({docname}.ipynb) | {summary} |")
    return "\n".join(out)


def intro_chapters(rows, intro):
    folder = posixpath.dirname(intro)
    out = ["| Chapter | What you learn |", "|---|---|"]
    links = [f"[{title}]({posixpath.relpath(docname + '.ipynb', folder)})"
             for docname, title, _ in rows]
    out += [f"| {link} | {summary} |" for link, (_, _, summary) in zip(links, rows)]
    if links:
        out += ["", f"Start with {links[0]}."]
    return "\n".join(out)


def benchmark_tables(root, problem):
    """The README tables, rendered by tools/benchmark_tables.py from the latest
    benchmark results."""
    from benchmark_tables import readme_tables

    results_path = Path(root) / BENCHMARK_RESULTS.relative_to(ROOT)
    if not results_path.exists():
        problem("benchmarks/results/latest.json is missing: run benchmarks/run.py")
        return {}
    return readme_tables(json.loads(results_path.read_text(encoding="utf-8")), root)


def sync_regions(text, wanted, problem):
    """Replace each generated region's body; return (new text, changes)."""
    changes = []
    found = set()

    def replace(match):
        name = match.group(2)
        found.add(name)
        if name not in wanted:
            problem(f"unknown generated region {name!r}")
            return match.group(0)
        body = wanted[name].strip("\n") + "\n"
        if body != match.group(3):
            changes.append((f"generated region '{name}'", match.group(3), body))
        return match.group(1) + body + match.group(4)

    new = REGION.sub(replace, text)
    for name in sorted(set(wanted) - found):
        problem(f"no region '<!-- begin generated: {name} -->' ... "
                f"'<!-- end generated: {name} -->' to fill")
    return new, changes


# --- the whole book


def run(root=ROOT, write=False):
    """Compare (and with write=True, rewrite) every generated part under `root`."""
    root = Path(root)
    report = Report()
    canonical = parse_canonical(root)
    for docname in toc_chapters(root):
        path = root / f"{docname}.ipynb"
        rel = path.relative_to(root).as_posix()

        def problem(message, rel=rel):
            report.problems.append((rel, message))

        if not path.exists():
            problem("listed in _toc.yml but missing")
            continue
        nb = load_notebook(path)
        changes = (convert_markers(nb, problem) + convert_solutions(nb)
                   + drop_widget_state(nb) + drop_execution_times(nb)
                   + sync_helpers(nb, canonical, problem)
                   + sync_badge(nb, docname, root, problem)
                   + sync_closing_line(nb, docname, root, problem))
        report.changes += [(rel, *change) for change in changes]
        if changes and write:
            path.write_text(dump_notebook(nb), encoding="utf-8")
        report.changes += [(f"locales/.../{docname}.po", *change) for change
                           in sync_stamp_translation(docname, root, write)]

    rows = chapter_rows(root, lambda m: report.problems.append(("_toc.yml", m)))
    intro = toc_files(root)[0]
    tables = benchmark_tables(
        root, lambda m: report.problems.append(("benchmarks/results", m)))
    wanted = {"README.md": {"chapters": readme_chapters(rows), **tables},
              f"{intro}.md": {"chapters": intro_chapters(rows, intro)}}
    for rel, regions in wanted.items():
        path = root / rel

        def problem(message, rel=rel):
            report.problems.append((rel, message))

        text = path.read_text(encoding="utf-8")
        new, changes = sync_regions(text, regions, problem)
        report.changes += [(rel, *change) for change in changes]
        if changes and write:
            path.write_text(new, encoding="utf-8")
    return report


def record_asserts(root=ROOT):
    record = {path.name: assert_counts(load_notebook(path))
              for path in chapter_paths(root)}
    target = Path(root) / ASSERT_RECORD.relative_to(ROOT)
    target.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    total = sum(sum(cells.values()) for cells in record.values())
    print(f"recorded {total} asserts in {len(record)} chapters: {target}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Rewrite the book's generated parts from their single sources.")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; print what differs; exit 1 on drift")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="repository root (default: this checkout)")
    parser.add_argument("--record-asserts", action="store_true",
                        help="only record how many asserts each chapter cell "
                        f"holds, in {ASSERT_RECORD.relative_to(ROOT)} (after an "
                        "assert was removed on purpose; say why in the commit)")
    args = parser.parse_args(argv)
    if args.record_asserts:
        return record_asserts(args.root)
    report = run(args.root, write=not args.check)
    if report.changes or report.problems:
        print(report.text(diffs=args.check))
    if args.check:
        if report.changes or report.problems:
            print(f"\n{len(report.changes)} generated part(s) out of date, "
                  f"{len(report.problems)} problem(s). Repair with: {REPAIR}")
            return 1
        print("in sync: every generated part matches its source")
        return 0
    print(f"\nrewrote {len(report.changes)} generated part(s)"
          if report.changes else "nothing to rewrite")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
