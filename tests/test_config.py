"""What the book's configuration and dependency files promise.

- The build never executes notebooks: readers see the stored outputs, which
  strict nbval proves current (executing at build time would show unchecked
  outputs, and slowly).
- requirements.txt, the short human-readable list, bounds every dependency.
- requirements.lock pins every package of the resolved environment, satisfies
  requirements.txt, and serves both torch wheels (no local version label such as
  +cpu, so PyPI's CUDA wheel and PyTorch's CPU wheel both match).
"""

import re
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import lock
from bookinfo import ROOT, load_yaml

REGENERATE = lock.COMMAND


def requirement_lines(path):
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    return [ln.split("#")[0].strip() for ln in lines
            if ln.split("#")[0].strip() and not ln.lstrip().startswith("-")]


def locked():
    """{canonical name: Version} from requirements.lock."""
    pins = {}
    for line in requirement_lines("requirements.lock"):
        req = Requirement(line)
        spec = list(req.specifier)
        assert len(spec) == 1 and spec[0].operator == "==", f"not a pin: {line}"
        pins[canonicalize_name(req.name)] = Version(spec[0].version)
    return pins


def test_the_build_never_executes_notebooks():
    config = load_yaml(ROOT / "_config.yml")
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True


def test_requirements_are_bounded():
    unbounded = [r for r in requirement_lines("requirements.txt")
                 if "==" not in r and "<" not in r]
    assert not unbounded, f"requirements without an upper bound: {unbounded}"


def test_lock_satisfies_the_requirements():
    pins = locked()
    problems = []
    for line in requirement_lines("requirements.txt"):
        req = Requirement(line)
        version = pins.get(canonicalize_name(req.name))
        if version is None or version not in req.specifier:
            problems.append(f"{line}: locked {version}")
    local = [f"{name}=={v}" for name, v in pins.items() if v.local]
    if local:
        problems.append(f"local version labels in the lock: {local}")
    assert not problems, "\n".join(problems) + f"\nregenerate the lock: {REGENERATE}"


def test_lock_is_complete():
    """Every dependency of a locked package (as installed here, for this platform)
    is locked too."""
    pins = locked()
    missing = set()
    for name in pins:
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here; pip check covers a fresh install
        for text in requires:
            req = Requirement(text)
            if req.marker and not req.marker.evaluate({"extra": ""}):
                continue
            if canonicalize_name(req.name) not in pins:
                missing.add(f"{req.name} (needed by {name})")
    assert not missing, (f"not in requirements.lock: {sorted(missing)}\n"
                         f"regenerate the lock: {REGENERATE}")


def test_readme_and_ci_install_from_the_lock():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for name, text in [("README.md", readme), (".ci/run", ci)]:
        installs = re.findall(r"pip install[^\n`]*", text)
        assert installs and all("requirements.txt" not in i for i in installs), (
            f"{name} installs without the lock: {installs}")


def test_the_search_backport_is_still_needed():
    """book/_ext/editions.py backports Sphinx 8.1's set of Latin search terms
    (SearchChineseIndexedTerms). Under Sphinx >= 8.1 it only overrides a private
    attribute for nothing: this test then asks to delete it."""
    version = Version(metadata.version("sphinx"))
    assert version < Version("8.1"), (
        f"Sphinx {version} keeps its Latin search terms in a set: delete "
        "SearchChineseIndexedTerms from book/_ext/editions.py, and this test")
