"""_config.yml, requirements.txt and the bibliography say what the book needs."""

import re

from conftest import BOOK, CONFIG, ROOT, load_yaml

CITED = ["lecun1998gradient", "glorot2010understanding", "he2015delving",
         "he2016deep"]


def config():
    return load_yaml(CONFIG)


def test_book_identity():
    cfg = config()
    assert cfg["title"] == "Module by Module"
    assert cfg["author"]


def test_build_never_executes_and_only_builds_the_toc():
    cfg = config()
    assert cfg["execute"]["execute_notebooks"] == "off"
    assert cfg["only_build_toc_files"] is True
    assert "allow_errors" not in CONFIG.read_text()
    assert "TODO" not in CONFIG.read_text()


def test_repository_and_launch_buttons():
    cfg = config()
    repo = cfg["repository"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repo["url"])
    assert repo["branch"] == "main"
    assert cfg["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_bibliography_has_the_core_papers():
    cfg = config()
    bib_paths = [ROOT / p for p in cfg["bibtex_bibfiles"]]
    assert all(p.exists() for p in bib_paths)
    text = "".join(p.read_text() for p in bib_paths)
    keys = re.findall(r"@\w+\{([^,]+),", text)
    assert set(CITED) <= set(keys)
    assert len(keys) == len(set(keys)), "duplicate bibtex keys"
    assert "{bibliography}" in (BOOK / "bibliography.md").read_text()


def requirements():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [ln.split("#")[0].strip() for ln in lines if ln.split("#")[0].strip()]


def test_requirements_are_bounded():
    reqs = requirements()
    assert "torch==2.13.0" in reqs
    assert "jupyter-book>=1.0.4,<2" in reqs
    unbounded = [r for r in reqs if "==" not in r and "<" not in r]
    assert not unbounded, f"requirements without an upper bound: {unbounded}"
    names = {re.split(r"[=<>!~]", r)[0].lower() for r in reqs}
    needed = {"jupyter-book", "torch", "matplotlib", "ipywidgets", "ipykernel",
              "nbval", "scikit-learn", "pytest", "pytest-xdist"}
    assert needed <= names, f"missing: {needed - names}"
