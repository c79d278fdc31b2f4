"""Shared paths and fixtures for the test suite.

Run everything from the repository root with the README's test command; the
pytest configuration lives in tests/pytest.ini.
"""

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
TOC = ROOT / "_toc.yml"
CONFIG = ROOT / "_config.yml"


def load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def toc_files():
    """Every `file:` entry of _toc.yml, in order (root first), as repo-relative
    paths without suffix, e.g. 'book/01_layers'."""
    toc = load_yaml(TOC)
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def toc_chapters():
    """The chapter entries of _toc.yml, in order, e.g. 'book/01_layers'."""
    return [name for name in toc_files() if re.match(r"book/\d\d_", name)]


def colab_url(docname):
    """The Colab URL of a notebook page ('book/01_layers'), from _config.yml.

    The launch button Jupyter Book builds and the badge in each notebook must both
    equal it."""
    config = load_yaml(CONFIG)
    repo = config["repository"]
    slug = urlparse(repo["url"]).path.strip("/")
    path = "/".join(p for p in [(repo.get("path_to_book") or "").strip("/"),
                                f"{docname}.ipynb"] if p)
    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    return f"{colab}/github/{slug}/blob/{repo.get('branch', 'main')}/{path}"


def built_pages(html_dir):
    """Every HTML page of a built book: the top level and book/."""
    return sorted([*html_dir.glob("*.html"), *html_dir.glob("book/*.html")])


def chapter_paths():
    """The chapter notebooks in book/, sorted by name."""
    return sorted(p for p in BOOK.glob("*.ipynb") if p.name[:2].isdigit())


def load_notebook(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def cell_source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def notebook_params():
    return [pytest.param(p, id=p.stem) for p in chapter_paths()]


@pytest.fixture(scope="session")
def repo_root():
    return ROOT


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """Build the HTML book once per test session (shared by xdist workers).

    The book is built from a copy of the sources into a temporary folder, with
    warnings as errors. Returns the path of the built `html` folder; the build log
    is next to it as `build.log`.
    """
    # Under xdist each worker's basetemp is pytest-N/popen-gwK, so its parent is
    # this session's folder, shared by the workers. Without xdist the parent would
    # be pytest-of-USER, shared by every session: a stale build would be reused.
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    target = shared / "book-build"
    lock = shared / "book-build.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        done = target / "result.json"
        if not done.exists():
            if target.exists():
                shutil.rmtree(target)
            src = target / "src"
            shutil.copytree(
                ROOT, src,
                ignore=shutil.ignore_patterns(".venv", "_build", ".git", "scratch",
                                              ".ipynb_checkpoints", "__pycache__"))
            cmd = [str(Path(sys.executable).with_name("jupyter-book")), "build", ".",
                   "-W", "-n", "--keep-going"]
            proc = subprocess.run(cmd, cwd=src, capture_output=True, text=True,
                                  env={**os.environ, "PYTHONWARNINGS": ""})
            (target / "build.log").write_text(proc.stdout + proc.stderr)
            done.write_text(json.dumps({"returncode": proc.returncode}))
        result = json.loads(done.read_text())
    html = target / "src" / "_build" / "html"
    return {"returncode": result["returncode"], "html": html,
            "log": (target / "build.log").read_text()}


def pytest_terminal_summary(terminalreporter):
    """Say how many nbval markers the notebooks carry, each with its reason."""
    from nbrules import markers

    rows = [(p.name, cell, marker, why) for p in chapter_paths()
            for cell, marker, why in markers(load_notebook(p))]
    terminalreporter.section("nbval markers")
    terminalreporter.write_line(f"{len(rows)} nbval marker(s) in "
                                f"{len(chapter_paths())} notebook(s)")
    for name, cell, marker, why in rows:
        terminalreporter.write_line(f"  {name} code cell {cell}: {marker}: "
                                    f"{why or 'NO REASON GIVEN'}")
