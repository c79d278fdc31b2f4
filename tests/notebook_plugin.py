"""pytest plugin for every run in this repository, loaded by `-p notebook_plugin`
in pyproject.toml (pytest 9 puts `pythonpath` on sys.path before it imports `-p`
plugins), so that it also applies when only notebooks are collected and
tests/conftest.py is never loaded.

- One math thread per nbval kernel. xdist runs one kernel per worker and one
  worker per core; PyTorch's default of one thread per core would oversubscribe
  the cores several times (measured: 168 s instead of 26 s for the book on 2
  cores). Kernels inherit this environment; a reader may override it by setting
  OMP_NUM_THREADS. Stored outputs do not depend on it.
- Portable outputs: next to nbval's cells, each notebook gets one more test that
  re-runs strict nbval over it on the x86-64 baseline instruction set (see
  BaselineRun). It is marked `slow`, like every test that uses the built book
  (`built_book` or `site`, tests/conftest.py); the fast tier deselects them with
  `-m "not slow"`.
- Experiments: each edit the text invites a reader to make (declared in cell
  metadata, nbrules.experiments) is one more `slow` test that applies it and runs
  the notebook to the end (ExperimentRun).
- Order, for `--dist loadfile` (a notebook's cells and its baseline run stay on
  one worker, in order; each test file is one unit): the longest chains first
  (the built book, then notebooks by their last measured time), short tests fill
  the gaps.
- The test summary lists every nbval marker in the chapters, with its reason.
"""

import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bookinfo import BENCHMARK_RESULTS as LAST_TIMES

os.environ.setdefault("OMP_NUM_THREADS", "1")


# PyTorch's own kernels, oneDNN's and MKL's each pick a code path from the CPU:
# restrict all three. MKL_CBWR=COMPATIBLE is MKL's vendor-neutral path (what a
# non-Intel or older CPU may get); it overrides MKL_ENABLE_INSTRUCTIONS.
BASELINE_ISA = {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
                "MKL_CBWR": "COMPATIBLE"}


class NotebookCheck(pytest.Item):
    """A test of a whole notebook; its failure reads as the message it raised."""

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, AssertionError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: {self.name}"


class BaselineRun(NotebookCheck):
    """Stored outputs validate on other CPUs too, not only on the one that made them.

    Float results change in their last bits with the CPU's instruction set, and
    training amplifies such differences. The notebooks print coarse or checked
    values so that readers and other CI machines get the same text; this test
    proves it by re-running strict nbval over the notebook with PyTorch and oneDNN
    restricted to the x86-64 baseline (SSE4.1: no AVX, no FMA, 4-wide vectors).
    nbval's own run covers the machine's instruction set (AVX-512 on CI).

    One baseline run, not one per instruction set: the baseline differs from
    AVX-512 in vector width, FMA and kernel choice at once, so it perturbs every
    result an AVX2 run would; a second perturbed run would only catch outputs
    fragile enough to survive one perturbation by chance, for another run of the
    whole book.
    """

    def runtest(self):
        if platform.machine() not in ("x86_64", "AMD64"):
            pytest.skip("instruction-set emulation is an x86-64 feature")
        env = {**os.environ, **BASELINE_ISA, "OMP_NUM_THREADS": "1"}
        cmd = [sys.executable, "-m", "pytest", "-n", "0", "-q", "--no-header",
               "-m", "not slow", str(self.path)]
        proc = subprocess.run(cmd, cwd=self.config.rootpath, env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            setting = " ".join(f"{k}={v}" for k, v in BASELINE_ISA.items())
            raise AssertionError(f"strict nbval fails for {self.path.name} with "
                                 f"{setting}:\n{proc.stdout[-4000:]}")


ANSI = r"\x1b\[[0-9;]*m"  # colours in a kernel's traceback


class ExperimentRun(NotebookCheck):
    """An experiment the text invites ("set X and rerun") works: the edit declared
    in the cell's metadata (nbrules.experiments) is applied, and the whole
    notebook runs to the end in a fresh kernel without an error, its own asserts
    included. Outputs are not compared: the experiment is meant to change them."""

    def __init__(self, *, cell, experiment, **kwargs):
        super().__init__(**kwargs)
        self.cell, self.experiment = cell, experiment

    def runtest(self):
        import tempfile

        import nbclient
        import nbformat

        nb = nbformat.read(self.path, as_version=4)  # sources as strings
        cell, exp = nb.cells[self.cell], self.experiment
        assert cell.source.count(exp["replace"]) == 1, (
            f"cell {self.cell} no longer holds {exp['replace']!r} once")
        cell.source = cell.source.replace(exp["replace"], exp["with"])
        with tempfile.TemporaryDirectory() as folder:
            client = nbclient.NotebookClient(
                nb, timeout=300, kernel_name="python3",
                resources={"metadata": {"path": folder}})
            try:
                client.execute()
            except nbclient.exceptions.CellExecutionError as exc:
                raise AssertionError(
                    f"experiment {exp['name']!r} ({exp['replace']!r} -> "
                    f"{exp['with']!r} in cell {self.cell}) breaks the notebook:\n"
                    f"{re.sub(ANSI, '', str(exc))[-3000:]}") from None



class BaselineFile(pytest.File):
    def collect(self):
        from bookinfo import load_notebook
        from nbrules import experiments

        item = BaselineRun.from_parent(self, name="outputs on the baseline x86-64 ISA")
        item.add_marker(pytest.mark.slow)
        yield item
        for cell, exp in experiments(load_notebook(self.path)):
            item = ExperimentRun.from_parent(self, name=f"experiment: {exp['name']}",
                                             cell=cell, experiment=exp)
            item.add_marker(pytest.mark.slow)
            yield item


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".ipynb" and parent.config.getoption("nbval", False):
        return BaselineFile.from_parent(parent, path=file_path)
    return None


def _notebook_of(item):
    """The notebook an item runs ('01_layers'), or None."""
    path = item.nodeid.split("::")[0]
    return Path(path).stem if path.endswith(".ipynb") else None


def _notebook_seconds():
    """{'01_layers': seconds} from the last benchmark, to start long ones first."""
    try:
        rows = json.loads(LAST_TIMES.read_text())["notebooks"]["rows"]
    except (OSError, KeyError, ValueError):
        return {}
    return {name.removesuffix(".ipynb"): row["seconds"] for name, row in rows.items()}


def pytest_collection_modifyitems(config, items):
    seconds = _notebook_seconds()
    ranks = {}
    for item in items:
        notebook = _notebook_of(item)
        if {"built_book", "site"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
            ranks[item] = (0, 0.0)
        elif notebook:
            ranks[item] = (1, -seconds.get(notebook, 0.0))
        else:
            ranks[item] = (2, 0.0)
    # Stable: collection order within a rank, so a notebook's cells stay in order
    # and its baseline run follows them.
    items.sort(key=ranks.__getitem__)


def pytest_terminal_summary(terminalreporter):
    """Every nbval marker in the chapters, with its reason (from cell metadata)."""
    from bookinfo import chapter_paths, load_notebook
    from nbrules import markers

    paths = chapter_paths()
    rows = [(p.name, cell, tag, why) for p in paths
            for cell, tag, why in markers(load_notebook(p))]
    terminalreporter.section("nbval markers")
    terminalreporter.write_line(f"{len(rows)} nbval marker(s) in {len(paths)} "
                                "notebook(s)")
    for name, cell, tag, why in rows:
        terminalreporter.write_line(f"  {name} code cell {cell}: {tag}: "
                                    f"{why or 'NO REASON GIVEN'}")
