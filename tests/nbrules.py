"""The structure rules every chapter notebook must follow.

Each rule is a function ``rule(nb, path) -> list[str]`` that returns the problems
it finds (an empty list means the notebook passes). Keeping the rules pure lets
``test_notebook_structure.py`` apply them to the real notebooks and
``test_rules_catch_breakage.py`` prove that each one fails on a broken copy.
"""

import ast
import re

from conftest import cell_source, colab_url

MAX_CELL_LINES = 25
MAX_LINE_CHARS = 88
REQUIRED_SECTIONS = ["## Learning objectives", "## Setup", "## Summary",
                     "## Exercises", "## Further reading"]
NBVAL_MARKERS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION",
                 "NBVAL_CHECK_OUTPUT")
NBVAL_TAGS = ("nbval-ignore-output", "nbval-skip", "nbval-raises-exception",
              "raises-exception", "nbval-check-output")
MACHINE_PATH = re.compile(r"(?<![\w.])/(root|home|tmp|work|Users|var/folders)/")
ADDRESS = re.compile(r"at 0x[0-9a-fA-F]{6,}")
REPO_PATH = re.compile(r"\.\./|(?<![\w/])(book|tests)/|_config\.yml|_toc\.yml"
                       r"|references\.bib")
SOLUTION_TITLE = '# @title Solution { display-mode: "form" }'


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def rule_title_and_badge(nb, path):
    """First cell: '# N. Title', then the Colab badge for this very path."""
    cells = nb["cells"]
    if not cells or cells[0]["cell_type"] != "markdown":
        return ["the first cell must be a markdown title cell"]
    lines = [ln for ln in cell_source(cells[0]).splitlines() if ln.strip()]
    problems = []
    number = int(path.name[:2])
    if not lines or not re.fullmatch(rf"# {number}\. \S.*", lines[0]):
        problems.append(f"first line must be '# {number}. Title', got {lines[:1]}")
    url = colab_url(f"book/{path.stem}")
    badge = f"[![Open in Colab](images/colab-badge.svg)]({url})"
    if len(lines) < 2 or lines[1].strip() != badge:
        problems.append(f"second line must be the Colab badge {badge!r}")
    return problems


def rule_sections(nb, path):
    """The template's sections are present, in order, plus numbered sections."""
    headings = [ln.strip() for c in nb["cells"] if c["cell_type"] == "markdown"
                for ln in cell_source(c).splitlines() if ln.startswith("## ")]
    positions = []
    for section in REQUIRED_SECTIONS:
        if section not in headings:
            return [f"missing section {section!r}"]
        positions.append(headings.index(section))
    problems = []
    if positions != sorted(positions):
        problems.append(f"sections out of order: {REQUIRED_SECTIONS}")
    if not any(re.match(r"## 1\. ", h) for h in headings):
        problems.append("no numbered section '## 1. ...'")
    return problems


def rule_kernelspec(nb, path):
    name = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    return [] if name == "python3" else [f"kernelspec name is {name!r}, not 'python3'"]


def rule_executed_in_order(nb, path):
    """Every code cell ran, top to bottom, in one fresh kernel, without errors."""
    counts = [c.get("execution_count") for c in code_cells(nb)]
    problems = []
    if counts != list(range(1, len(counts) + 1)):
        problems.append(f"execution counts must be 1..{len(counts)}, got {counts}")
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i} stores an error ({out.get('ename')})")
    return problems


def rule_cell_length(nb, path):
    """Short cells. The `helpers` cell is exempt: it holds whole canonical helpers,
    verbatim (test_helpers_sync.py checks it)."""
    problems = []
    for i, cell in enumerate(code_cells(nb)):
        if "helpers" in cell.get("metadata", {}).get("tags", []):
            continue
        n = len(cell_source(cell).splitlines())
        if n > MAX_CELL_LINES:
            problems.append(f"code cell {i + 1} has {n} lines (max {MAX_CELL_LINES})")
    return problems


def rule_line_length(nb, path):
    """PEP 8 with black's limit: code lines of at most MAX_LINE_CHARS characters."""
    problems = []
    for i, cell in enumerate(code_cells(nb)):
        for line in cell_source(cell).splitlines():
            if len(line) > MAX_LINE_CHARS:
                problems.append(f"code cell {i + 1} has a {len(line)}-character line")
    return problems


def output_texts(nb):
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            texts = [out.get("text", "")]
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    texts.append(value if isinstance(value, str) else str(value))
            yield i, "".join("".join(t) if isinstance(t, list) else t for t in texts)


def rule_clean_outputs(nb, path):
    """No machine paths and no memory addresses in stored outputs."""
    problems = []
    for i, text in output_texts(nb):
        if MACHINE_PATH.search(text):
            problems.append(f"cell {i} output shows a machine path")
        if ADDRESS.search(text):
            problems.append(f"cell {i} output shows a memory address")
    return problems


def rule_standalone(nb, path):
    """No import of a sibling file, no reading of repository files, no downloads."""
    siblings = {p.stem for p in path.parent.glob("*.py")} | {"canonical_helpers",
                                                             "conftest", "nbrules"}
    problems = []
    for i, cell in enumerate(code_cells(nb)):
        src = cell_source(cell)
        py = "\n".join(ln for ln in src.splitlines()
                       if not ln.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(py)
        except SyntaxError as exc:
            problems.append(f"code cell {i + 1} does not parse: {exc}")
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = (["."] if node.level else
                         [(node.module or "").split(".")[0]])
            bad = [n for n in names if n in siblings or n == "."]
            if bad:
                problems.append(f"code cell {i + 1} imports a sibling file: {bad}")
        if REPO_PATH.search(src):
            problems.append(f"code cell {i + 1} refers to a repository path")
        if re.search(r"download=True|urlretrieve|requests\.get|urlopen|wget |curl ",
                     src):
            problems.append(f"code cell {i + 1} downloads something")
    return problems


def markers(nb):
    """(cell index, marker, reason or None) for every nbval marker in `nb`."""
    found = []
    for i, cell in enumerate(code_cells(nb)):
        lines = cell_source(cell).splitlines()
        for j, line in enumerate(lines):
            comment = line.strip().lstrip("#").strip()
            if line.strip().startswith("#") and comment in NBVAL_MARKERS:
                nxt = lines[j + 1].strip() if j + 1 < len(lines) else ""
                reason = re.match(r"#\s*Why:\s*(\S.*)", nxt)
                found.append((i + 1, comment, reason.group(1) if reason else None))
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag in NBVAL_TAGS:
                why = re.search(r"#\s*Why:\s*(\S.*)", cell_source(cell))
                found.append((i + 1, tag, why.group(1) if why else None))
    return found


def rule_markers_have_reasons(nb, path):
    return [f"code cell {i}: {m} without a '# Why: ...' line after it"
            for i, m, why in markers(nb) if why is None]


def rule_solutions_hidden(nb, path):
    """Exercise solutions are hidden in HTML, JupyterLab and Colab, and they run."""
    problems = []
    solutions = [c for c in code_cells(nb)
                 if cell_source(c).startswith("# @title Solution")]
    if not solutions:
        problems.append("no exercise solution cell ('# @title Solution ...')")
    for cell in solutions:
        first = cell_source(cell).splitlines()[0]
        if first != SOLUTION_TITLE:
            problems.append(f"solution title line must be {SOLUTION_TITLE!r}")
        if "hide-input" not in cell.get("metadata", {}).get("tags", []):
            problems.append("a solution cell lacks the 'hide-input' tag")
        if not cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            problems.append("a solution cell lacks metadata jupyter.source_hidden")
        if cell.get("execution_count") is None:
            problems.append("a solution cell was not executed")
    return problems


def rule_asserts(nb, path):
    """Key facts are pinned: the notebook checks itself with asserts."""
    n = sum(len(re.findall(r"^\s*assert\b", cell_source(c), re.M))
            for c in code_cells(nb))
    return [] if n >= 5 else [f"only {n} assert statements; pin the facts taught"]


RULES = [rule_title_and_badge, rule_sections, rule_kernelspec,
         rule_executed_in_order, rule_cell_length, rule_line_length,
         rule_clean_outputs, rule_standalone, rule_markers_have_reasons,
         rule_solutions_hidden, rule_asserts]
