"""Every generated part matches its single source (tools/sync.py --check), and the
sync tool really repairs drift: on a copy of the sources, each kind of drift is
detected, then rewritten, and outputs and execution counts are left alone."""

import json
import shutil
import subprocess
import sys

import pytest

import sync
from bookinfo import (
    MATRIX_RESULTS,
    ROOT,
    cell_source,
    load_notebook,
    tags,
    toc_chapters,
)

SOURCES = ["_config.yml", "_toc.yml", "README.md", "book", "tools", "locales",
           "benchmarks/run.py", "benchmarks/results/latest.json",
           "benchmarks/results/matrix.json"]
MATRIX = MATRIX_RESULTS.relative_to(ROOT)


def test_generated_parts_are_in_sync():
    report = sync.run(ROOT)
    assert not (report.changes or report.problems), (
        f"{report.text()}\n\nRepair with: {sync.REPAIR}")


@pytest.fixture
def copy(tmp_path):
    for name in SOURCES:
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(
                "__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy(source, target)
    return tmp_path


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def outputs_and_counts(root):
    return {d: [(c.get("outputs"), c.get("execution_count"))
                for c in load_notebook(root / f"{d}.ipynb")["cells"]
                if c["cell_type"] == "code"] for d in toc_chapters(root)}


def test_the_tool_repairs_every_kind_of_drift(copy):
    first, second = toc_chapters(copy)[:2]
    nb_path = copy / f"{first}.ipynb"
    nb = load_notebook(nb_path)
    helpers = next(c for c in nb["cells"] if "helpers" in tags(c))
    helpers["source"] = ["def set_seed(seed=0):\n", "    pass\n"]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    code[-1]["source"] = ["# NBVAL_IGNORE_OUTPUT\n", "# Why: a test says so\n",
                          *code[-1]["source"]]
    solution = next(c for c in code if cell_source(c).startswith("# @title Solution"))
    solution["metadata"] = {"tags": ["hide-input"]}
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    code[0]["metadata"]["execution"] = {"iopub.status.busy": "2026-12-05T10:00:00Z"}
    nb_path.write_text(json.dumps(nb, indent=1), encoding="utf-8")  # not nbformat's
    edit(copy / "_config.yml", "url: https://github.com/", "url: https://github.com/fork-")
    edit(copy / f"{second}.ipynb", '"# 2. ', '"# 2. Renamed ')
    edit(copy / "README.md", "| 1 | [", "| one | [")
    record = json.loads((copy / MATRIX).read_text())
    for env in record["environments"].values():
        env["date"] = "2031-01-02"
    (copy / MATRIX).write_text(json.dumps(record))
    before = outputs_and_counts(copy)

    found = sync.run(copy)
    parts = {(file, part) for file, part, _, _ in found.changes}
    expected = [(f"{first}.ipynb", what) for what in
                ["helpers cell", "closing", "nbval marker", "(solution)", "widget",
                 "execution times"]]
    expected += [(f"{second}.ipynb", "Colab"), ("README.md", "generated"),
                 ("book/intro.md", "generated"), (f"{second}.ipynb", "stamp"),
                 (f"locales/.../{second}.po", "zh_CN stamp")]
    for file, what in expected:
        assert any(f == file and what in p for f, p in parts), (
            f"drift not found: {file}: {what}; found {sorted(parts)}")

    repaired = sync.run(copy, write=True)
    assert repaired.changes and not repaired.problems, repaired.text()
    assert not sync.run(copy).changes, "a second run still finds drift"
    assert outputs_and_counts(copy) == before, "outputs or execution counts changed"
    nb = load_notebook(nb_path)
    text = "".join(cell_source(c) for c in nb["cells"])
    assert "github/fork-" in text and "NBVAL" not in text
    assert "widgets" not in nb["metadata"]
    assert not any("execution" in c["metadata"] for c in nb["cells"])
    assert "2. Renamed" in (copy / "README.md").read_text()
    assert (copy / "book" / "intro.md").read_text().count("2. Renamed") == 1
    helpers = next(c for c in nb["cells"] if "helpers" in tags(c))
    assert "random.seed(seed)" in cell_source(helpers)
    assert cell_source(helpers).startswith(sync.HELPERS_MARK + "\n")
    title = cell_source(load_notebook(copy / f"{second}.ipynb")["cells"][0])
    assert "on 2031-01-02 ([how](verified.md))" in title
    catalog = (copy / f"locales/zh_CN/LC_MESSAGES/{second}.po").read_text()
    assert catalog.count("2031-01-02") == 2, "msgid and msgstr both updated"


def test_check_exits_nonzero_and_names_the_repair(copy):
    edit(copy / "_toc.yml", "summary: \"", "summary: \"Changed: ")
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "sync.py"), "--check",
                           "--root", str(copy)], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Changed: " in proc.stdout and sync.REPAIR in proc.stdout
