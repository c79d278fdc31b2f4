"""Every chapter notebook follows the template and was executed top to bottom.

The rules live in nbrules.py; test_rules_catch_breakage.py proves that each rule
fails on a notebook that breaks it.
"""

import pytest

from conftest import chapter_paths, load_notebook, notebook_params
from nbrules import RULES


def test_there_are_chapters():
    assert chapter_paths(), "no chapter notebooks found in book/"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__.removeprefix("rule_"))
@pytest.mark.parametrize("path", notebook_params())
def test_rule(path, rule):
    problems = rule(load_notebook(path), path)
    assert not problems, f"{path.name}: " + "; ".join(problems)
