"""The structure rules every chapter notebook must follow.

Each rule is a function ``rule(nb, path) -> list[str]`` that returns the problems
it finds (an empty list means the notebook passes). Keeping the rules pure lets
``test_notebooks.py`` apply them to the real notebooks and prove, on a small
synthetic notebook, that each rule fires on its breakage and no other rule does.

Line length and the rest of PEP 8 are ruff's job (pyproject.toml); whether the
generated parts (helpers cell, badge, closing line) match their sources is the
sync tool's (tools/sync.py --check). The badge and solution rules below name the
sync command because it repairs what they find.
"""

import ast
import re

from bookinfo import ROOT, cell_source, colab_url, tags
from sync import BADGE, REASON_KEY, REPAIR, SOLUTION_PREFIX, is_old_marker, python_of

MAX_CELL_LINES = 25
REQUIRED_SECTIONS = ["## Learning objectives", "## Setup", "## Summary",
                     "## Exercises", "## Further reading"]
# nbval's cell tags that change what it checks; each needs a reason.
NBVAL_TAGS = ("nbval-ignore-output", "nbval-skip", "nbval-raises-exception",
              "raises-exception")
MACHINE_PATH = re.compile(r"(?<![\w.])/(root|home|tmp|work|Users|var/folders)/")
# An object address, printed by a repr ("at 0x7f3a2c1d0e50") or by hex(id(x)).
ADDRESS = re.compile(r"(?<![\w])0x[0-9a-fA-F]{8,}")
REPO_PATH = re.compile(r"\.\./|(?<![\w/])(book|tests|tools)/|_config\.yml|_toc\.yml"
                       r"|references\.bib")
SOLUTION_TITLE = SOLUTION_PREFIX + ' { display-mode: "form" }'
PLUMBING_PREFIX = "# @title Plumbing"
# Modules of this repository: a notebook that imports one does not run alone.
REPO_MODULES = {p.stem for folder in ("tools", "tests", "book/_ext", "benchmarks")
                for p in (ROOT / folder).glob("*.py")}


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
    badge = BADGE.format(url=colab_url(f"book/{path.stem}"))
    if len(lines) < 2 or lines[1].strip() != badge:
        problems.append(f"second line must be the Colab badge {badge!r}; "
                        f"repair: {REPAIR}")
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
    """Short cells. The `helpers` cell is exempt: the sync tool writes whole
    canonical helpers into it."""
    problems = []
    for i, cell in enumerate(code_cells(nb)):
        if "helpers" in tags(cell):
            continue
        n = len(cell_source(cell).splitlines())
        if n > MAX_CELL_LINES:
            problems.append(f"code cell {i + 1} has {n} lines (max {MAX_CELL_LINES})")
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
    """No import of a repository file, no reading of repository files, no
    downloads: the notebook runs alone in Colab."""
    problems = []
    for i, cell in enumerate(code_cells(nb)):
        src = cell_source(cell)
        try:
            tree = ast.parse(python_of(cell))
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
            bad = [n for n in names if n in REPO_MODULES or n == "."]
            if bad:
                problems.append(f"code cell {i + 1} imports a repository file: {bad}")
        if REPO_PATH.search(src):
            problems.append(f"code cell {i + 1} refers to a repository path")
        if re.search(r"download=True|urlretrieve|requests\.get|urlopen|wget |curl ",
                     src):
            problems.append(f"code cell {i + 1} downloads something")
    return problems


def old_markers(cell):
    """The old `# NBVAL_...` comment markers in a cell's source."""
    return [ln.strip() for ln in cell_source(cell).splitlines() if is_old_marker(ln)]


def markers(nb):
    """(code cell number, tag, reason or None) for every nbval tag in `nb`."""
    return [(i + 1, tag, (cell.get("metadata", {}).get(REASON_KEY) or "").strip()
             or None)
            for i, cell in enumerate(code_cells(nb))
            for tag in tags(cell) if tag in NBVAL_TAGS]


def rule_nbval_markers(nb, path):
    """An nbval tag comes with a reason in the cell's `nbval_reason` metadata; the
    old comment markers (which readers see in the HTML book) are gone."""
    problems = [f"code cell {i}: tag {tag} without cell metadata {REASON_KEY!r} "
                "saying why no deterministic output is possible"
                for i, tag, why in markers(nb) if why is None]
    for i, cell in enumerate(code_cells(nb)):
        if old_markers(cell):
            problems.append(f"code cell {i + 1}: old comment marker "
                            f"{old_markers(cell)[0]!r}; convert it with {REPAIR}")
        if cell.get("metadata", {}).get(REASON_KEY) and not any(
                t in NBVAL_TAGS for t in tags(cell)):
            problems.append(f"code cell {i + 1}: {REASON_KEY} without an nbval tag")
    return problems


def rule_solutions_hidden(nb, path):
    """Exercise solutions fold (input and output together) in the HTML book,
    JupyterLab and Colab. (That they ran is rule_executed_in_order's job.)"""
    solutions = [(i + 1, c) for i, c in enumerate(code_cells(nb))
                 if cell_source(c).startswith(SOLUTION_PREFIX)]
    if not solutions:
        return [f"no exercise solution cell ({SOLUTION_TITLE!r})"]
    problems = []
    for number, cell in solutions:
        where = f"solution in code cell {number}"
        if cell_source(cell).splitlines()[0] != SOLUTION_TITLE:
            problems.append(f"{where}: first line must be {SOLUTION_TITLE!r}")
        if "hide-cell" not in tags(cell) or "hide-input" in tags(cell):
            problems.append(f"{where}: tag 'hide-cell' (not 'hide-input'); "
                            f"repair: {REPAIR}")
        hidden = cell.get("metadata", {}).get("jupyter", {})
        if not (hidden.get("source_hidden") and hidden.get("outputs_hidden")):
            problems.append(f"{where}: metadata jupyter.source_hidden and "
                            f"outputs_hidden must be true; repair: {REPAIR}")
    return problems


EXPERIMENTS = "experiments"  # cell metadata: the edits the text invites
KEYS = ("name", "replace", "with", "rerun")
RERUN = ("notebook", "section", "subsection")  # what the text asks to rerun


def rerun_end(nb, i, exp):
    """The index after the last cell an experiment on cell `i` re-runs: the
    notebook's end, with `"rerun": "section"` the next heading of level 1 or 2
    (a section of the chapter, `## 6. ...`), with `"rerun": "subsection"` the
    next heading of level 1 to 3 (`### ...`)."""
    heading = {"section": r"##? ", "subsection": r"#{1,3} "}.get(
        exp.get("rerun", "notebook"))
    if heading:
        for j in range(i + 1, len(nb["cells"])):
            cell = nb["cells"][j]
            if cell["cell_type"] == "markdown" and re.match(heading, cell_source(cell)):
                return j
    return len(nb["cells"])


def experiments(nb):
    """(cell index, {'name', 'replace', 'with'[, 'rerun']}) for every declared
    experiment.

    An invitation in the prose ("set `label_smoothing=0.0` and rerun") is declared
    on the code cell it edits, in the cell metadata `experiments`: a list of
    {"name": ..., "replace": <text in the cell>, "with": <its replacement>}, and
    "rerun": "section" (or "subsection") where the text asks to rerun only the
    cells up to the end of the section (or of the subsection).
    notebook_plugin.py applies each edit and re-runs from there."""
    return [(i, exp) for i, cell in enumerate(nb["cells"])
            for exp in cell.get("metadata", {}).get(EXPERIMENTS, [])]


def rule_experiments(nb, path):
    """Each declared experiment is well formed and still matches its cell: its
    `replace` text occurs exactly once in the source of the code cell it sits on."""
    problems, names = [], set()
    for i, exp in experiments(nb):
        cell = nb["cells"][i]
        where = f"cell {i}: experiment {exp.get('name')!r}"
        if (not isinstance(exp, dict)
                or not {"name", "replace", "with"} <= set(exp) <= {*KEYS}
                or not all(isinstance(v, str) and v for v in exp.values())
                or exp.get("rerun", "notebook") not in RERUN):
            problems.append(f"{where}: must be {{'name', 'replace', 'with'}}, "
                            "non-empty strings, and optionally 'rerun': "
                            f"one of {RERUN}")
            continue
        if cell["cell_type"] != "code":
            problems.append(f"{where}: sits on a {cell['cell_type']} cell")
        elif cell_source(cell).count(exp["replace"]) != 1:
            problems.append(f"{where}: {exp['replace']!r} occurs "
                            f"{cell_source(cell).count(exp['replace'])} times "
                            "in the cell, not once")
        if exp["name"] in names:
            problems.append(f"{where}: the name is used twice")
        names.add(exp["name"])
    return problems


WRONG_ANSWERS = "wrong_answers"  # cell metadata: what an exercise checker refuses
CHECKER_DEF = re.compile(r"^def (check_\w+)\(", re.M)


def wrong_answers(nb):
    """(cell index, {'name', 'call'}) for every declared wrong answer.

    An exercise checker (a `check_...` function that a solution cell calls) must
    refuse a wrong answer, not only accept the right one: a loosened tolerance
    would let every answer through. The cell that defines it declares, in the
    cell metadata `wrong_answers`, calls with a plausible mistake, e.g.
    {"name": "forgot the bias", "call": "check_exercise_2(lambda i, o, k, "
    "bias=True: i * o * k * k)"}. notebook_plugin.py runs each after the
    notebook's last cell and expects the checker's AssertionError."""
    return [(i, answer) for i, cell in enumerate(nb["cells"])
            for answer in cell.get("metadata", {}).get(WRONG_ANSWERS, [])]


def rule_wrong_answers(nb, path):
    """Every checker that a solution calls declares a wrong answer on the cell
    that defines it; each declared call is well formed and calls a checker
    defined in that cell."""
    problems, names, refused = [], set(), set()
    for i, answer in wrong_answers(nb):
        where = f"cell {i}: wrong answer {answer.get('name')!r}"
        if (not isinstance(answer, dict) or set(answer) != {"name", "call"}
                or not all(isinstance(v, str) and v for v in answer.values())):
            problems.append(f"{where}: must be {{'name', 'call'}}, non-empty strings")
            continue
        defined = CHECKER_DEF.findall(cell_source(nb["cells"][i]))
        called = re.match(r"(check_\w+)\(", answer["call"])
        if not called or called.group(1) not in defined:
            problems.append(f"{where}: calls none of the checkers defined in the "
                            f"cell ({', '.join(defined) or 'none'})")
        else:
            refused.add(called.group(1))
        if answer["name"] in names:
            problems.append(f"{where}: the name is used twice")
        names.add(answer["name"])
    used = {name for cell in code_cells(nb)
            if cell_source(cell).startswith(SOLUTION_PREFIX)
            for name in re.findall(r"\b(check_\w+)\(", cell_source(cell))}
    defined = {name for cell in code_cells(nb)
               for name in CHECKER_DEF.findall(cell_source(cell))}
    problems += [f"{name}: a solution calls it, but no wrong answer is declared "
                 f"on the cell that defines it ({WRONG_ANSWERS!r} metadata)"
                 for name in sorted((used & defined) - refused)]
    return problems


def rule_plumbing_removed(nb, path):
    """Plumbing (code that only builds a widget, a web view or a figure's layout,
    titled `# @title Plumbing: ...`) stays out of the HTML book's reading flow:
    the cell carries `remove-cell`. And only plumbing does: a removed cell says
    what it is, so that a dropped tag is noticed too."""
    problems = []
    for i, cell in enumerate(code_cells(nb)):
        plumbing = cell_source(cell).startswith(PLUMBING_PREFIX)
        if plumbing and "remove-cell" not in tags(cell):
            problems.append(f"code cell {i + 1}: plumbing without the tag "
                            "'remove-cell'")
        elif "remove-cell" in tags(cell) and not plumbing:
            problems.append(f"code cell {i + 1}: 'remove-cell' on a cell not titled "
                            f"{PLUMBING_PREFIX!r}")
    return problems


def rule_asserts(nb, path):
    """Key facts are pinned: the notebook checks itself with asserts."""
    n = sum(len(re.findall(r"^\s*assert\b", cell_source(c), re.M))
            for c in code_cells(nb))
    return [] if n >= 5 else [f"only {n} assert statements; pin the facts taught"]


# An alt text that is only a file name or path, as Sphinx writes when none is given.
PATH_LIKE = re.compile(r"^\S*[/\\]\S*$|\.(png|jpe?g|svg|gif)$", re.IGNORECASE)
MIN_ALT_WORDS = 5


def rule_figure_alt(nb, path):
    """Every figure a code cell stores has an alt text that says what it shows,
    in the cell's metadata (`"mystnb": {"image": {"alt": "..."}}`, which myst-nb
    gives the <img> and Sphinx translates through the page's catalog): not
    missing, not empty, not a path, a sentence of at least a few words."""
    problems = []
    for i, cell in enumerate(code_cells(nb)):
        if not any(key.startswith("image/") for output in cell.get("outputs", [])
                   for key in output.get("data", {})):
            continue
        alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt")
        where = f"code cell {i + 1} stores a figure"
        if not isinstance(alt, str) or not alt.strip():
            problems.append(f"{where} without an alt text (cell metadata "
                            "mystnb.image.alt: what the reader should see)")
        elif PATH_LIKE.search(alt.strip()):
            problems.append(f"{where} whose alt text is a path: {alt!r}")
        elif len(alt.split()) < MIN_ALT_WORDS:
            problems.append(f"{where} whose alt text is too short to describe "
                            f"it: {alt!r}")
    return problems


RULES = [rule_title_and_badge, rule_sections, rule_kernelspec,
         rule_executed_in_order, rule_cell_length, rule_clean_outputs,
         rule_standalone, rule_nbval_markers, rule_solutions_hidden,
         rule_plumbing_removed, rule_asserts, rule_experiments, rule_wrong_answers,
         rule_figure_alt]
