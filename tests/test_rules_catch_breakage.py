"""Each structure rule must fail when its rule is broken.

A small synthetic notebook that follows every rule is built here; each case
breaks it in one way and checks that the matching rule (and only a rule that is
meant to) reports a problem. A rule that cannot fail protects nothing.
"""

import copy
from pathlib import Path

import pytest

import nbrules
from conftest import colab_url
from nbrules import RULES, SOLUTION_TITLE

PATH = Path("book/07_example.ipynb")


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text, count, outputs=(), **metadata):
    return {"cell_type": "code", "metadata": dict(metadata), "source": text,
            "execution_count": count, "outputs": list(outputs)}


def stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def good_notebook():
    cells = [
        md(f"# 7. Example\n\n[![Open in Colab](images/colab-badge.svg)]"
           f"({colab_url('book/07_example')})"),
        md("## Learning objectives\n\n- you will check the checks"),
        md("## Setup"),
        code("import torch", 1),
        md("## 1. A fact"),
        code("x = torch.ones(2)\nassert x.sum() == 2\nassert x.shape == (2,)\n"
             "assert x.dtype == torch.float32\nassert x.numel() == 2\n"
             "assert x.dim() == 1\nprint(x.shape)", 2,
             [stream("torch.Size([2])\n")]),
        code("# NBVAL_IGNORE_OUTPUT\n# Why: the example says so\nprint(1)", 3,
             [stream("1\n")]),
        md("## Summary\n\n- checks run"),
        md("## Exercises"),
        code(f"{SOLUTION_TITLE}\nanswer = 2\nassert answer == 2", 4,
             tags=["hide-input"], jupyter={"source_hidden": True}),
        md("## Further reading\n\nNext: [8. More](08_more.ipynb)"),
    ]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def breaks(mutate):
    nb = good_notebook()
    mutate(nb)
    return nb


def set_source(index, text):
    def mutate(nb):
        nb["cells"][index]["source"] = text
    return mutate


def append_output(index, text):
    def mutate(nb):
        nb["cells"][index]["outputs"].append(stream(text))
    return mutate


CASES = {
    "rule_title_and_badge": [
        set_source(0, "# Example\n\n[![Open in Colab](images/colab-badge.svg)](x)"),
        set_source(0, "# 7. Example\n\n[![Open in Colab](images/colab-badge.svg)]"
                      "(https://colab.research.google.com/github/a/b/blob/main/"
                      "book/06_other.ipynb)"),
    ],
    "rule_sections": [
        set_source(7, "## Recap"),
        lambda nb: nb["cells"].insert(1, md("## Exercises")),
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
        set_source(3, "\n".join(f"x{i} = {i}" for i in range(26))),
    ],
    "rule_line_length": [
        set_source(3, "import torch  # " + "x" * 80),
    ],
    "rule_clean_outputs": [
        append_output(5, "saved to /tmp/tmpab12cd/model.pt\n"),
        append_output(5, "<function f at 0x7f3a2c1d0e50>\n"),
    ],
    "rule_standalone": [
        set_source(3, "import torch\nfrom canonical_helpers import set_seed"),
        set_source(3, "import torch\nfrom . import helpers"),
        set_source(3, "import json\nconfig = open('../_config.yml').read()"),
        set_source(3, "import torchvision\n"
                      "torchvision.datasets.MNIST('data', download=True)"),
    ],
    "rule_markers_have_reasons": [
        set_source(6, "# NBVAL_IGNORE_OUTPUT\nprint(1)"),
        lambda nb: nb["cells"][5]["metadata"].update(tags=["nbval-skip"]),
    ],
    "rule_solutions_hidden": [
        lambda nb: nb["cells"][9]["metadata"].update(tags=[]),
        lambda nb: nb["cells"][9]["metadata"].pop("jupyter"),
        lambda nb: nb["cells"][9].update(execution_count=None),
        set_source(9, "# @title Solution\nanswer = 2"),
        set_source(9, "answer = 2"),
    ],
    "rule_asserts": [
        set_source(5, "x = torch.ones(2)\nprint(x.shape)"),
    ],
}


def test_the_good_notebook_passes_every_rule():
    nb = good_notebook()
    for rule in RULES:
        assert rule(nb, PATH) == [], rule.__name__


def test_every_rule_has_breaking_cases():
    assert sorted(CASES) == sorted(rule.__name__ for rule in RULES)


@pytest.mark.parametrize(
    "name, mutate",
    [(name, m) for name, ms in CASES.items() for m in ms],
    ids=[f"{name.removeprefix('rule_')}-{i}" for name, ms in CASES.items()
         for i in range(len(ms))])
def test_rule_fails_when_broken(name, mutate):
    nb = breaks(mutate)
    problems = getattr(nbrules, name)(copy.deepcopy(nb), PATH)
    assert problems, f"{name} did not notice the breakage"
