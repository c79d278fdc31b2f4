"""ruff (configured in pyproject.toml) is clean over the repository: the notebooks,
tests, tools, benchmarks and book/_ext. One ruff run; one test per chapter, so a
failure names the chapter, and one for the rest of the code."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bookinfo import ROOT, chapter_paths

RUFF = Path(sys.executable).with_name("ruff")


@pytest.fixture(scope="module")
def findings():
    """{file relative to the root: [ruff's findings]} for the whole repository."""
    proc = subprocess.run([str(RUFF), "check", "--output-format", "json", "."],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    found = {}
    for item in json.loads(proc.stdout):
        rel = Path(item["filename"]).resolve().relative_to(ROOT).as_posix()
        where = item["location"]
        cell = f"cell {item['cell']}:" if item.get("cell") else ""
        found.setdefault(rel, []).append(
            f"{rel}:{cell}{where['row']}:{where['column']}: {item['code']} "
            f"{item['message']}")
    return found


@pytest.mark.parametrize("path", ["code"] + [p.relative_to(ROOT).as_posix()
                                            for p in chapter_paths()],
                         ids=lambda p: p.split("/")[-1].removesuffix(".ipynb"))
def test_ruff_is_clean(findings, path):
    mine = (findings.get(path, []) if path != "code" else
            [f for file, fs in findings.items() if not file.endswith(".ipynb")
             for f in fs])
    target = "." if path == "code" else path
    assert not mine, ("\n".join(mine) + f"\n\nsee `.venv/bin/ruff check {target}` "
                      "(with --fix it repairs some)")
