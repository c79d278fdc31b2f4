"""The version matrix: strict nbval of every chapter where readers run it.

    .venv/bin/python tools/matrix.py                  all environments, all chapters
    .venv/bin/python tools/matrix.py --env latest     one environment
    .venv/bin/python tools/matrix.py --list           what each environment installs

Environments (ENVIRONMENTS below):
  colab   Google Colab's stack: Python 3.13, torch 2.11 and Colab's ipywidgets,
          matplotlib, numpy, scikit-learn and ipykernel
  pinned  requirements.lock, the versions the stored outputs were made with: the
          environment this tool runs in (the project's .venv)
  latest  the newest torch the package index offers, with the lock's other pins

Each lives in its own virtual environment under the cache folder
(~/.cache/module-by-module/matrix, or --cache), made on first use and reused while
its specification is unchanged. torch 2.11 and the newest release come from PyPI as
CUDA builds (about 6 GB per environment with their nvidia-* wheels); they run on
the CPU. The environments install exactly the versions named here: a constraint
file in pip's own configuration is set aside for these installs.

In each environment, strict nbval re-runs every chapter and compares every output
with the stored one, with the tests' sanitizers plus one that only this matrix
adds: the torch version a cell prints (`torch 2.13.0` reads `torch VERSION`).
Every other difference must be removed from the notebook or listed in KNOWN with
its reason; an error is never listed, it is a bug to fix. The result goes to
benchmarks/results/matrix.json; tools/sync.py renders it as the book's "Verified
with" page and the stamp under each chapter's title. Exit status 1 when a cell
errs or differs without a listed reason.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from bookinfo import MATRIX_RESULTS, ROOT, chapter_paths

CACHE = Path.home() / ".cache" / "module-by-module" / "matrix"
LOCK = ROOT / "requirements.lock"
SANITIZE = ROOT / "tests" / "sanitize.cfg"
# What nbval needs to run, beyond the notebooks' own imports (versions of the lock).
RUNNER = ["pytest", "pytest-xdist", "nbval"]
# Versions reported for each environment.
REPORTED = ["torch", "numpy", "matplotlib", "ipywidgets", "scikit-learn", "ipykernel"]
ENVIRONMENTS = {
    "colab": {
        "python": "3.13",
        "describe": "Google Colab's stack",
        "packages": ["torch==2.11.0", "ipywidgets==7.7.1", "matplotlib==3.10.0",
                     "numpy==2.1.3", "scikit-learn==1.6.1", "ipykernel==6.17.1"],
    },
    "pinned": {
        "python": None,  # this interpreter: the project's .venv
        "describe": "requirements.lock",
        "packages": ["-r", "requirements.lock"],
    },
    "latest": {
        "python": "3.11",
        "describe": "the newest torch, the lock's other pins",
        "packages": ["-r", "requirements.lock", "torch==NEWEST"],
    },
}
# The one sanitizer this matrix adds to the tests' own.
VERSION_SANITIZER = {"regex": r"torch \d+\.\d+\.\d+(\+[\w.]+)?",
                     "replace": "torch VERSION"}
# Differences that remain, with their reasons: {(env, notebook stem, cell): reason}.
KNOWN = {}


def lock_pins():
    """{'torch': '2.13.0', ...} from requirements.lock."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        if sep:
            pins[name.lower()] = version.split(";")[0].strip()
    return pins


def find_python(version):
    """An interpreter of `version` ('3.13'): this one, PATH, or pyenv's."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found and subprocess.run([found, "-c", "pass"],
                                capture_output=True).returncode == 0:
        return found
    pyenv = sorted(Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}"))
    if pyenv:
        return str(pyenv[-1])
    sys.exit(f"matrix: no Python {version} found (PATH or pyenv); install it, "
             f"e.g. `pyenv install {version}` or `uv python install {version}`")


def newest_torch(python):
    """The newest torch release the package index offers."""
    out = subprocess.run([python, "-m", "pip", "index", "versions", "torch"],
                         capture_output=True, text=True, env=pip_env()).stdout
    for line in out.splitlines():
        if line.startswith("torch ("):
            return line.split("(")[1].rstrip(")").strip()
    sys.exit("matrix: `pip index versions torch` gave no version")


def pip_env():
    return {**os.environ, "PIP_CONSTRAINT": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def requirements(name):
    """The pip arguments for environment `name`, every version resolved."""
    spec = ENVIRONMENTS[name]
    args = list(spec["packages"])
    if "torch==NEWEST" in args:
        args[args.index("torch==NEWEST")] = f"torch=={newest_torch(sys.executable)}"
    if "-r" in args:  # the lock, with the torch pin replaced where one is named
        lock = [ln for ln in LOCK.read_text().splitlines()
                if not (any(a.startswith("torch==") for a in args)
                        and ln.startswith("torch=="))]
        args.remove("-r")
        args.remove("requirements.lock")
        args = lock + args
    else:
        pins = lock_pins()
        args += [f"{p}=={pins[p]}" for p in RUNNER]
    return sorted(a for a in args if a.strip() and not a.startswith("#"))


def ensure_env(name, cache):
    """The environment's python, made or refreshed when its spec changed."""
    spec = ENVIRONMENTS[name]
    if spec["python"] is None:
        return Path(sys.executable)
    folder = cache / name
    python = folder / "bin" / "python"
    wanted = requirements(name)
    stamp = folder / "matrix-spec.json"
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return python
    print(f"[{name}] creating {folder} ({spec['describe']}); this downloads "
          "several GB the first time", flush=True)
    if not python.exists():
        subprocess.run([find_python(spec["python"]), "-m", "venv", str(folder)],
                       check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(wanted) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", handle.name],
                   check=True, env=pip_env())
    os.unlink(handle.name)
    stamp.write_text(json.dumps(wanted, indent=1))
    return python


def versions(python):
    code = ("import importlib.metadata as m, json, platform, sys\n"
            "found = {p: m.version(p) for p in sys.argv[1:]}\n"
            "print(json.dumps({'python': platform.python_version(), **found}))")
    out = subprocess.run([str(python), "-c", code, *REPORTED], capture_output=True,
                         text=True,
                         check=True).stdout
    return json.loads(out)


def sanitize_file(folder):
    """The tests' sanitizers plus the matrix's version sanitizer (nbval reads
    `regex: ...` / `replace: ...` line pairs)."""
    path = folder / "sanitize.cfg"
    path.write_text(SANITIZE.read_text() + "\n[matrix_torch_version]\n"
                    f"regex: {VERSION_SANITIZER['regex']}\n"
                    f"replace: {VERSION_SANITIZER['replace']}\n")
    return path


def run_nbval(python, notebooks, folder):
    """{notebook stem: {'cells': n, 'failures': {cell: message}}} under `python`."""
    (folder / "pytest.ini").write_text("[pytest]\n")
    junit = folder / "junit.xml"
    cmd = [str(python), "-m", "pytest", "-c", str(folder / "pytest.ini"),
           "--rootdir", str(ROOT), "-p", "no:cacheprovider", "-q", "--nbval",
           "--nbval-current-env", f"--nbval-sanitize-with={sanitize_file(folder)}",
           "--nbval-cell-timeout=300", "-n", str(min(2, os.cpu_count() or 1)),
           "--dist", "loadfile", f"--junitxml={junit}",
           *[str(p.relative_to(ROOT)) for p in notebooks]]
    # One math thread per kernel, as in the tests; ipykernel 6 on Python 3.13
    # warns about frozen modules in every kernel unless told not to.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    results = {p.stem: {"cells": 0, "failures": {}} for p in notebooks}
    for case in ET.parse(junit).getroot().iter("testcase"):
        stem = Path(case.get("classname", "").replace(".", "/")).name
        stem = next((s for s in results if s in case.get("classname", "")), stem)
        cell = int(case.get("name", "Cell -1").split()[-1])
        results[stem]["cells"] += 1
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            results[stem]["failures"][cell] = problem.get("message", "") + "\n" + (
                problem.text or "")
    return results


def classify(env, stem, cell, message):
    message = re.sub(r"\x1b\[[0-9;]*m", "", message)
    kind = "output" if "Cell outputs differ" in message else "error"
    reason = KNOWN.get((env, stem, cell)) if kind == "output" else None
    first = next((ln.strip() for ln in message.splitlines()
                  if ln.strip().startswith(("+", "-")) and len(ln.strip()) > 1), "")
    return {"cell": cell, "kind": kind, "reason": reason, "example": first[:160]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", action="append", choices=list(ENVIRONMENTS),
                        help="environment(s) to run (default: all)")
    parser.add_argument("--cache", type=Path, default=CACHE,
                        help=f"where the environments live (default: {CACHE})")
    parser.add_argument("--list", action="store_true",
                        help="print each environment's requirements and stop")
    args = parser.parse_args(argv)
    names = args.env or list(ENVIRONMENTS)
    if args.list:
        for name in names:
            print(f"{name} (Python {ENVIRONMENTS[name]['python']}): "
                  + " ".join(requirements(name)))
        return 0
    notebooks = chapter_paths()
    record = (json.loads(MATRIX_RESULTS.read_text()) if MATRIX_RESULTS.exists()
              else {"environments": {}})
    bad = 0
    for name in names:
        python = ensure_env(name, args.cache)
        print(f"[{name}] strict nbval over {len(notebooks)} chapters", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            results = run_nbval(python, notebooks, Path(tmp))
        chapters = {}
        for stem, result in results.items():
            diffs = [classify(name, stem, cell, message)
                     for cell, message in sorted(result["failures"].items())]
            bad += sum(d["reason"] is None for d in diffs)
            chapters[stem] = {"cells": result["cells"],
                              "identical": result["cells"] - len(diffs),
                              "differences": diffs}
            print(f"  {stem}: {result['cells'] - len(diffs)}/{result['cells']} "
                  "cells identical" + "".join(
                      f"\n    cell {d['cell']}: {d['kind']}: "
                      f"{d['reason'] or 'NO REASON: ' + d['example']}" for d in diffs))
        record["environments"][name] = {
            "describe": ENVIRONMENTS[name]["describe"],
            "date": datetime.date.today().isoformat(),
            "versions": versions(python), "chapters": chapters}
    MATRIX_RESULTS.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"wrote {MATRIX_RESULTS.relative_to(ROOT)}; render it with "
          ".venv/bin/python tools/sync.py")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
