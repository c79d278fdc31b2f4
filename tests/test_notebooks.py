"""Every chapter notebook follows the template and was executed top to bottom; and
every rule that says so can fail.

The rules live in nbrules.py. A small synthetic notebook that follows every rule
is built here; each breaking case changes it in one way and must make exactly
its own rule fire, no other: a rule that cannot fail protects nothing, and one
that fires on unrelated changes hides what broke.
"""

import copy
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

import nbrules
from bookinfo import (
    ASSERT_RECORD,
    BOOK,
    ROOT,
    assert_counts,
    cell_source,
    chapter_paths,
    colab_url,
    load_notebook,
)
from nbrules import RULES, SOLUTION_TITLE
from sync import BADGE


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in chapter_paths()])
def test_notebook_follows_the_template(path):
    nb = load_notebook(path)
    problems = [f"{rule.__name__.removeprefix('rule_')}: {problem}"
                for rule in RULES for problem in rule(nb, path)]
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


# --- each rule fires on its breakage, and only it

PATH = Path("book/07_example.ipynb")


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text, count, outputs=(), **metadata):
    return {"cell_type": "code", "metadata": dict(metadata), "source": text,
            "execution_count": count, "outputs": list(outputs)}


def stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def figure():
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": "iVBORw0KGgo=\n",
                     "text/plain": "<Figure size 640x480 with 1 Axes>"}}


FIGURE_ALT = "Two ones in a bar chart, both bars of height 1."


def good_notebook():
    badge = BADGE.format(url=colab_url("book/07_example"))
    cells = [
        md(f"# 7. Example\n\n{badge}"),                                      # 0
        md("## Learning objectives\n\n- you will check the checks"),         # 1
        md("## Setup"),                                                      # 2
        code("import torch", 1),                                             # 3
        md("## 1. A fact"),                                                  # 4
        code("x = torch.ones(2)\nassert x.sum() == 2\nassert x.shape == (2,)\n"
             "assert x.dtype == torch.float32\nassert x.numel() == 2\n"
             "assert x.dim() == 1\nprint(x.shape)", 2,
             [stream("torch.Size([2])\n"), figure()],
             mystnb={"image": {"alt": FIGURE_ALT}},
             experiments=[{"name": "three ones", "replace": "torch.ones(2)",
                           "with": "torch.ones(3)"}]),                       # 5
        code("print(torch.rand(1).item())", 3, [stream("0.49\n")],
             tags=["nbval-ignore-output"],
             nbval_reason="the example prints an unseeded random number"),   # 6
        code("# @title Plumbing: a view\nview = None", 4,
             tags=["remove-cell"]),                                          # 7
        md("## Summary\n\n- checks run"),                                    # 8
        md("## Exercises"),                                                  # 9
        code("def check_answer(a):\n    assert a == 2, 'not 2'", 5,
             wrong_answers=[{"name": "three", "call": "check_answer(3)"}]),  # 10
        code(f"{SOLUTION_TITLE}\nanswer = 2\ncheck_answer(answer)", 6,
             tags=["hide-cell"],
             jupyter={"source_hidden": True, "outputs_hidden": True}),       # 11
        md("## Further reading\n\nNext: [8. More](08_more.ipynb)"),          # 12
    ]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def set_source(index, text):
    def mutate(nb):
        nb["cells"][index]["source"] = text
    return mutate


def set_metadata(index, **metadata):
    def mutate(nb):
        nb["cells"][index]["metadata"].update(metadata)
    return mutate


def add_output(index, text):
    def mutate(nb):
        nb["cells"][index]["outputs"].append(stream(text))
    return mutate


SOLUTION, CHECKER = 11, 10
CASES = {
    "rule_title_and_badge": [
        set_source(0, "# Example\n\n" + BADGE.format(url=colab_url("book/07_example"))),
        set_source(0, "# 7. Example\n\n" + BADGE.format(url=colab_url("book/06_x"))),
    ],
    "rule_sections": [
        set_source(8, "## Recap"),
        lambda nb: nb["cells"].insert(1, md("## Exercises")),
        set_source(4, "## A fact"),
    ],
    "rule_kernelspec": [
        lambda nb: nb["metadata"].update(kernelspec={"name": "ir"}),
    ],
    "rule_executed_in_order": [
        lambda nb: nb["cells"][5].update(execution_count=7),
        lambda nb: nb["cells"][3].update(execution_count=None),
        lambda nb: nb["cells"][5]["outputs"].append(
            {"output_type": "error", "ename": "ValueError", "evalue": "",
             "traceback": []}),
    ],
    "rule_cell_length": [
        set_source(3, "\n".join(["import torch"] + [f"x{i} = {i}" for i in range(25)])),
    ],
    "rule_clean_outputs": [
        add_output(5, "saved to /tmp/tmpab12cd/model.pt\n"),
        add_output(5, "<function f at 0x7f3a2c1d0e50>\n"),
        add_output(5, "weight storage: 0x7f3a2c1d0e50\n"),
    ],
    "rule_plumbing_removed": [
        set_metadata(7, tags=[]),
        set_metadata(7, tags=["hide-input"]),
        set_metadata(5, tags=["remove-cell"]),
    ],
    "rule_standalone": [
        set_source(3, "import torch\nfrom canonical_helpers import set_seed"),
        set_source(3, "import torch\nfrom . import helpers"),
        set_source(3, "import torch\nconfig = open('../_config.yml').read()"),
        set_source(3, "import torch\nimport torchvision\n"
                      "torchvision.datasets.MNIST('data', download=True)"),
    ],
    "rule_nbval_markers": [
        set_source(6, "# NBVAL_IGNORE_OUTPUT\n# Why: it is random\n"
                      "print(torch.rand(1).item())"),
        set_metadata(6, nbval_reason=" "),
        set_metadata(5, tags=["nbval-skip"]),
        set_metadata(5, tags=["raises-exception"]),
        set_metadata(5, nbval_reason="stale: the tag is gone"),
    ],
    "rule_solutions_hidden": [
        set_metadata(SOLUTION, tags=["hide-input"]),
        set_metadata(SOLUTION, tags=["hide-cell", "hide-input"]),
        set_metadata(SOLUTION, jupyter={"source_hidden": True}),
        set_metadata(SOLUTION, jupyter={"outputs_hidden": True}),
        set_source(SOLUTION, "# @title Solution\nanswer = 2\nassert answer == 2"),
        lambda nb: nb["cells"].pop(SOLUTION),
    ],
    "rule_asserts": [
        set_source(5, "x = torch.ones(2)\nprint(x.shape)"),
    ],
    "rule_experiments": [
        set_metadata(5, experiments=[{"name": "stale", "replace": "torch.zeros(2)",
                                      "with": "torch.ones(3)"}]),
        set_metadata(5, experiments=[{"name": "twice", "replace": "assert",
                                      "with": "print"}]),
        set_metadata(5, experiments=[{"name": "no edit", "replace": "ones"}]),
        set_metadata(5, experiments=[{"name": "rerun what", "replace": "ones(2)",
                                      "with": "ones(3)", "rerun": "chapter"}]),
        set_metadata(8, experiments=[{"name": "prose", "replace": "checks",
                                      "with": "tests"}]),
        set_metadata(5, experiments=[
            {"name": "same", "replace": "ones(2)", "with": "ones(3)"},
            {"name": "same", "replace": "numel", "with": "nelement"}]),
    ],
    "rule_figure_alt": [
        lambda nb: nb["cells"][5]["metadata"].pop("mystnb"),
        set_metadata(5, mystnb={"image": {"alt": " "}}),
        set_metadata(5, mystnb={"image": {"alt": "_build/jupyter_execute/0ad5.png"}}),
        set_metadata(5, mystnb={"image": {"alt": "figure.png"}}),
        set_metadata(5, mystnb={"image": {"alt": "a plot"}}),
        set_metadata(5, mystnb={"image": {"width": "80%"}}),
        lambda nb: nb["cells"][3]["outputs"].append(figure()),
    ],
    "rule_wrong_answers": [
        set_metadata(CHECKER, wrong_answers=[]),
        set_metadata(CHECKER, wrong_answers=[{"name": "other",
                                              "call": "check_other(3)"}]),
        set_metadata(CHECKER, wrong_answers=[{"name": "no call"}]),
        set_metadata(CHECKER, wrong_answers=[
            {"name": "same", "call": "check_answer(3)"},
            {"name": "same", "call": "check_answer(4)"}]),
    ],
}


def test_the_good_notebook_passes_every_rule():
    nb = good_notebook()
    assert {rule.__name__: rule(nb, PATH) for rule in RULES} == {
        rule.__name__: [] for rule in RULES}


def test_every_rule_has_breaking_cases():
    assert sorted(CASES) == sorted(rule.__name__ for rule in RULES)


@pytest.mark.parametrize(
    "name, mutate",
    [(name, m) for name, ms in CASES.items() for m in ms],
    ids=[f"{name.removeprefix('rule_')}-{i}" for name, ms in CASES.items()
         for i in range(len(ms))])
def test_only_the_broken_rule_fires(name, mutate):
    nb = good_notebook()
    mutate(nb)
    fired = {rule.__name__: problems for rule in RULES
             if (problems := rule(copy.deepcopy(nb), PATH))}
    assert list(fired) == [name], f"expected only {name} to fire, got {fired}"
    assert getattr(nbrules, name) in RULES


@pytest.mark.slow  # runs three kernels
def test_in_kernel_checks_can_fail(tmp_path):
    """The plugin's runs in nbval's kernel (tests/notebook_plugin.py) can fail:
    in a tiny executed notebook, of two edits the one that breaks an assert
    fails, with its name and the error; of two "wrong" answers, the one its
    checker accepts fails. The others pass, and so do nbval's cells. With the
    cells deselected (`-k`), the notebook is run first."""
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("n = 2", metadata={nbrules.EXPERIMENTS: [
            {"name": "still fine", "replace": "n = 2", "with": "n = 5"},
            {"name": "too small", "replace": "n = 2", "with": "n = 0"},
            # fails as "too small" does, but only after its section's end
            {"name": "section only", "replace": "n = 2", "with": "n = 0",
             "rerun": "section"}]}),
        nbformat.v4.new_code_cell("total = n + 1\nprint(total)"),
        nbformat.v4.new_markdown_cell("## The next section"),
        nbformat.v4.new_code_cell("assert total > 2"),
        nbformat.v4.new_code_cell(
            "def check_total(t):\n    assert t == total, 'not the total'",
            metadata={nbrules.WRONG_ANSWERS: [
                {"name": "off by one", "call": "check_total(4)"},
                {"name": "the answer itself", "call": "check_total(3)"}]})])
    nbclient.NotebookClient(nb, kernel_name="python3").execute()
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    # (the -k words avoid the test's own name, which the tmp folder carries)
    for select, passed in (("not another", 7),  # not the other-CPU run
                           ("small or fine or one or itself or section", 3)):
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-n", "0", "-q",
             "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
             str(path), "-k", select],
            cwd=ROOT, capture_output=True, text=True)
        out = proc.stdout
        assert proc.returncode == 1, out[-2000:]
        assert "experiment 'too small' ('n = 2' -> 'n = 0' in cell 0)" in out, out
        assert "AssertionError" in out, out[-2000:]
        assert ("the checker accepted a wrong answer: check_total(3) (cell 4)"
                in out), out[-2000:]
        assert f"2 failed, {passed} passed" in out, out[-2000:]


# --- what nbval-ignore-output hides still agrees with what the chapter claims

def stored_text(path, marker):
    """The stored text output of the ignored cell whose source holds `marker`."""
    cells = [c for c in load_notebook(path)["cells"]
             if c["cell_type"] == "code" and marker in cell_source(c)
             and "nbval-ignore-output" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{path.name}: {len(cells)} ignored cells hold {marker!r}"
    return "".join("".join(o.get("text", "")) for o in cells[0]["outputs"])


def test_stored_training_log_meets_the_claims():
    """Chapter 2's training log is not compared (it differs between CPUs), but the
    stored one must show what the chapter says of it: every epoch of the
    chapter's num_epochs, at least 97% validation accuracy at the end, and the
    training loss more than halved."""
    path = BOOK / "02_lenet.ipynb"
    log = re.findall(r"epoch\s+(\d+)\s+train loss ([\d.]+)\s+val acc (\d+)%",
                     stored_text(path, "history = fit("))
    epochs = re.findall(r"^num_epochs = (\d+)$", "\n".join(
        cell_source(c) for c in load_notebook(path)["cells"]), re.M)
    assert len(epochs) == 1, "chapter 2 sets num_epochs once"
    assert [int(e) for e, _, _ in log] == list(range(1, int(epochs[0]) + 1)), log
    assert int(log[-1][2]) >= 97 and float(log[-1][1]) < 0.5 * float(log[0][1]), log


def test_stored_seed_table_meets_the_claims():
    """Chapter 3's per-seed table (ignored: eight epochs amplify last-bit
    differences) shows what the next cell claims: median final loss kaiming <
    xavier < default, default and N(0, 0.01^2) at chance, kaiming's median
    accuracy above 80% and 20 points above xavier's, its loss below xavier's in
    every seed."""
    rows = {}
    for line in stored_text(BOOK / "03_initialization.ipynb",
                            "curves = {").splitlines():
        if match := re.match(r"(\S+(?: \S+)?)\s+loss((?:\s+[\d.]+)+)\s+accuracy"
                             r"((?:\s+\d+%)+)", line):
            rows[match[1]] = ([float(v) for v in match[2].split()],
                              [int(v) / 100 for v in match[3].replace("%", "").split()])
    assert set(rows) == {"default", "xavier_normal", "kaiming_normal",
                         "normal(0, 0.01)"}, rows
    loss = {name: statistics.median(r[0]) for name, r in rows.items()}
    acc = {name: statistics.median(r[1]) for name, r in rows.items()}
    assert loss["kaiming_normal"] < loss["xavier_normal"] < loss["default"]
    assert min(rows["default"][0] + rows["normal(0, 0.01)"][0]) > 2.2
    assert acc["kaiming_normal"] > max(0.8, acc["xavier_normal"] + 0.2)
    assert all(k < x for k, x in zip(rows["kaiming_normal"][0],
                                     rows["xavier_normal"][0]))


def test_no_assert_went_missing():
    """Every chapter cell holds as many asserts as tests/asserts.json records: a
    deleted (or added) check is noticed. After removing one on purpose, record
    the counts again and say why in the commit."""
    record = json.loads(ASSERT_RECORD.read_text())
    problems = []
    for path in chapter_paths():
        nb = load_notebook(path)
        first_line = {c["id"]: cell_source(c).splitlines()[0] for c in nb["cells"]
                      if c["cell_type"] == "code" and cell_source(c)}
        now, then = assert_counts(nb), record.get(path.name, {})
        for cell in sorted(set(now) | set(then)):
            if now.get(cell, 0) != then.get(cell, 0):
                problems.append(f"{path.name}, cell {cell} "
                                f"({first_line.get(cell, 'deleted')!r}): "
                                f"{then.get(cell, 0)} asserts recorded, "
                                f"{now.get(cell, 0)} now")
    assert not problems, "\n".join(problems) + (
        "\nIf this was on purpose: .venv/bin/python tools/sync.py --record-asserts"
        " (and say why in the commit)")


def test_an_experiment_reruns_what_the_text_asks():
    """rerun_end: to the notebook's end by default, to the next `##` heading with
    "section", to the next `###` (or higher) heading with "subsection"."""
    cells = [{"cell_type": "code", "source": "x = 1"},
             {"cell_type": "markdown", "source": "### A subsection"},
             {"cell_type": "code", "source": "y = x"},
             {"cell_type": "markdown", "source": "## 2. A section"},
             {"cell_type": "code", "source": "z = y"}]
    ends = {rerun: nbrules.rerun_end({"cells": cells}, 0, {"rerun": rerun})
            for rerun in nbrules.RERUN}
    assert ends == {"notebook": 5, "section": 3, "subsection": 1}
