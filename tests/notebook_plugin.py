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
  metadata, nbrules.experiments) is one more `slow` test that applies it and
  re-runs the notebook from the edited cell to the end, in nbval's kernel
  (ExperimentRun).
- Wrong answers: each exercise checker's declared wrong answer (cell metadata,
  nbrules.wrong_answers) is one more test, run in nbval's kernel after the last
  cell, that expects the checker to refuse it (WrongAnswer).
- Order and units, for `--dist loadfile` (see _unit): a notebook's cells and
  its experiments stay on one worker, in order, and so does each test file; a
  notebook's baseline run is a unit of its own, which the other worker may take.
  Units that use the built book alternate with notebook runs, longest first;
  short tests fill the gaps (pytest_collection_modifyitems).
- The test summary lists every nbval marker in the chapters, with its reason.
"""

import itertools
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


def _has_avx512():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return " avx512f" in handle.read()
    except OSError:
        return False


# PyTorch's own kernels, oneDNN's and MKL's each pick a code path from the CPU:
# move all three off this machine's. x86 readers' CPUs have AVX2 or AVX-512. On
# an AVX-512 machine (CI's), all three take their AVX2 kernels, what an Intel AVX2
# CPU runs (MKL_CBWR=AVX2: MKL's AVX2 branch in its reproducible mode, whose
# float64 products matched MKL_ENABLE_INSTRUCTIONS=AVX2's bit for bit here; on
# AMD CPUs MKL takes paths of its own); on an AVX2 machine, the x86-64 baseline
# (no AVX, no FMA) and MKL's vendor-neutral path (MKL_CBWR=COMPATIBLE), as an
# AVX-512 CPU cannot be emulated. Evidence for MKL's AVX2 branch on an AVX-512
# machine: chapter 3 as it stood before its fragile digits were fixed (commit
# 16c70cc^) printed another chaotic gradient under it (x1.1e18, where this
# machine's default run printed x9.4e17) and another training log, the same two
# cells that COMPATIBLE moved, at two thirds of COMPATIBLE's cost in chapter 3
# (30 s against 45 s for the run; float64 products run several times slower
# under COMPATIBLE).
BASELINE_ISA = ({"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
                 "MKL_CBWR": "AVX2"}
                if _has_avx512() else
                {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
                 "MKL_CBWR": "COMPATIBLE"})


BASELINE_NAME = "outputs on another CPU's code paths"  # test names (see _unit)
EXPERIMENT_PREFIX = "experiment: "
WRONG_PREFIX = "refuses: "


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
    proves it by re-running strict nbval over the notebook on other code paths
    (BASELINE_ISA): on CI's AVX-512 machine, PyTorch's and oneDNN's AVX2 kernels,
    and MKL's AVX2 path, which is what readers with Intel AVX2 CPUs run (on an
    AVX2 machine: the x86-64 baseline and MKL's vendor-neutral path).
    nbval's own run covers the machine's instruction set (AVX-512 on CI).

    One extra run, not one per instruction set: a second perturbed run would
    only catch outputs fragile enough to survive one perturbation by chance, for
    another run of the whole book. (The x86-64 baseline, SSE2, with oneDNN at
    its lowest, SSE4.1, is what an AVX2 machine takes instead; on an AVX-512
    machine it costs chapter 2 half its run time again, for a path no reader's
    CPU takes.)
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


class InKernelCheck(NotebookCheck):
    """A check that runs in nbval's kernel for its notebook, after nbval's last
    cell (it is collected after them, under nbval's own collector)."""

    def kernel_after_the_notebook(self):
        """nbval's kernel, in the state of a full run of the notebook. Where
        nbval's cells did not all run in this process (deselected with `-k`),
        the notebook is run here first, once per kernel."""
        import nbformat

        kernel = getattr(self.parent, "kernel", None)
        if kernel is None or not kernel.is_alive():
            raise AssertionError("nbval's kernel for this notebook is not running")
        cells = getattr(self.parent, "cells", None)
        if cells is None:  # parsed once per notebook, shared by its checks
            cells = self.parent.cells = nbformat.read(self.path, as_version=4).cells
        file_id = self.nodeid.split("::")[0]
        codes = sum(c.cell_type == "code" for c in cells)
        if not (getattr(self.parent, "ran_all", False)
                or all(f"{file_id}::Cell {n}" in RAN for n in range(codes))):
            for i, cell in enumerate(cells):
                if cell.cell_type == "code" and (error := _run(kernel, cell.source)):
                    raise AssertionError(f"the notebook fails at cell {i}:\n"
                                         f"{error[-3000:]}")
        self.parent.ran_all = True
        return kernel, cells


class WrongAnswer(InKernelCheck):
    """An exercise checker refuses a wrong answer: the call declared on the
    checker's cell (nbrules.wrong_answers) raises the checker's AssertionError."""

    def __init__(self, *, cell, answer, **kwargs):
        super().__init__(**kwargs)
        self.cell, self.answer = cell, answer

    def runtest(self):
        kernel, _ = self.kernel_after_the_notebook()
        content = _execute(kernel, self.answer["call"])
        call = f"{self.answer['call']} (cell {self.cell})"
        if content["status"] == "ok":
            raise AssertionError(f"the checker accepted a wrong answer: {call}")
        if content.get("ename") != "AssertionError":
            raise AssertionError(
                f"the checker crashed instead of refusing {call}: "
                f"{content.get('ename')}: {content.get('evalue')}")


class ExperimentRun(InKernelCheck):
    """An experiment the text invites ("set X and rerun") works: the edit declared
    in the cell's metadata (nbrules.experiments) is applied, and the notebook is
    re-run from that cell to the end (of the notebook, or of the section where the
    text says "rerun the section") without an error, its own asserts included,
    as a reader does who edits a cell and re-runs from there. It runs in nbval's
    kernel, after nbval's last cell, so the cells before the edit are not run
    again. Experiments run from the notebook's last edited cell to its first
    (the collector's order): the state an earlier one left is then that of cells
    after the edited cell, which every cell already sees after nbval's full run
    (a name a later cell rebinds), or is re-run where the range reaches it, so
    no experiment has to restore cells first. Outputs are not compared: the
    experiment is meant to change them."""

    def __init__(self, *, cell, experiment, **kwargs):
        super().__init__(**kwargs)
        self.cell, self.experiment = cell, experiment

    def runtest(self):
        kernel, cells = self.kernel_after_the_notebook()
        exp = self.experiment
        assert cells[self.cell].source.count(exp["replace"]) == 1, (
            f"cell {self.cell} no longer holds {exp['replace']!r} once")
        edited = {self.cell: cells[self.cell].source.replace(exp["replace"],
                                                             exp["with"])}
        from nbrules import rerun_end

        for i in range(self.cell, rerun_end({"cells": cells}, self.cell, exp)):
            if cells[i].cell_type != "code":
                continue
            error = _run(kernel, edited.get(i, cells[i].source))
            if error:
                raise AssertionError(
                    f"experiment {exp['name']!r} ({exp['replace']!r} -> "
                    f"{exp['with']!r} in cell {self.cell}) breaks the notebook "
                    f"at cell {i}:\n{error[-3000:]}")


RAN = set()  # nodeids of the tests that ran in this process


def pytest_runtest_logreport(report):
    if report.when == "call":
        RAN.add(report.nodeid)


def _execute(kernel, source, timeout=300):
    """Run `source` in nbval's kernel; return the reply's content (its status,
    and for an error its ename, evalue and traceback)."""
    return kernel.kc.execute_interactive(source, store_history=False,
                                         timeout=timeout,
                                         output_hook=lambda msg: None)["content"]


def _run(kernel, source, timeout=300):
    """Run `source` in nbval's kernel; return the error's traceback, or ''."""
    content = _execute(kernel, source, timeout)
    if content["status"] == "ok":
        return ""
    return re.sub(ANSI, "", "\n".join(content.get("traceback", []))
                  or f"{content.get('ename')}: {content.get('evalue')}")


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path, parent):
    """With nbval on, a notebook also gets its baseline run (BaselineFile), and
    nbval's collector yields the notebook's experiments after its cells, so that
    they run in its kernel (ExperimentRun)."""
    collectors = yield
    if file_path.suffix == ".ipynb" and parent.config.getoption("nbval", False):
        for collector in collectors:
            if type(collector).__name__ == "IPyNbFile":
                collector.collect = _with_experiments(collector)
        collectors.append(BaselineFile.from_parent(parent, path=file_path))
    return collectors


def _with_experiments(collector):
    from bookinfo import load_notebook
    from nbrules import experiments, wrong_answers

    cells = collector.collect

    def collect():
        yield from cells()
        nb = load_notebook(collector.path)
        for cell, answer in wrong_answers(nb):  # before the experiments' edits
            yield WrongAnswer.from_parent(collector, name=WRONG_PREFIX + answer["name"],
                                          cell=cell, answer=answer)
        # Last cell first: an experiment then never runs cells that an earlier
        # one left edited (ExperimentRun), so none re-runs cells to restore.
        for cell, exp in sorted(experiments(nb), key=lambda pair: -pair[0]):
            item = ExperimentRun.from_parent(
                collector, name=EXPERIMENT_PREFIX + exp["name"], cell=cell,
                experiment=exp)
            item.add_marker(pytest.mark.slow)
            yield item

    return collect


class BaselineFile(pytest.File):
    def collect(self):
        item = BaselineRun.from_parent(self, name=BASELINE_NAME)
        item.add_marker(pytest.mark.slow)
        yield item


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


def _unit(nodeid):
    """The work unit a test runs in: a notebook's nbval cells share one kernel and
    a test file its module fixtures, so each is one unit, as with `--dist
    loadfile`; but a notebook's baseline run and each of its experiments (a whole
    notebook run each) is a unit of its own, so that both workers share them."""
    path, _, name = nodeid.partition("::")
    return nodeid if path.endswith(".ipynb") and name == BASELINE_NAME else path


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook, called by the controller
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, with the work units of _unit."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class NotebookUnits(LoadFileScheduling):
        def _split_scope(self, nodeid):
            return _unit(nodeid)

    return NotebookUnits(config, log)


def _expected_seconds(item, seconds):
    """A unit's expected run time, from its notebook's last measured time: the
    baseline instruction set runs about twice as long."""
    scale = 2.0 if isinstance(item, BaselineRun) else 1.0
    return scale * seconds.get(_notebook_of(item), 0.0)


def pytest_collection_modifyitems(config, items):
    """Order the work units (see _unit): those that use the built book (mostly
    waiting on a browser or a build) alternate with notebook runs (one core
    each), longest first, so that a worker waiting on Chromium leaves its core
    to a notebook; short test files fill the gaps at the end."""
    seconds = _notebook_seconds()
    units = {}
    for item in items:  # a unit's items keep their order (a notebook's cells)
        units.setdefault(_unit(item.nodeid), []).append(item)
    book, notebooks, rest = [], [], []
    for unit, members in units.items():
        if any({"built_book", "site"} & set(getattr(i, "fixturenames", ()))
               for i in members):
            for i in members:
                i.add_marker(pytest.mark.slow)
            book.append(unit)
        elif _notebook_of(members[0]):
            notebooks.append(unit)
        else:
            rest.append(unit)
    notebooks.sort(key=lambda unit: -_expected_seconds(units[unit][0], seconds))
    order = [unit for pair in itertools.zip_longest(book, notebooks)
             for unit in pair if unit is not None] + rest
    items[:] = [item for unit in order for item in units[unit]]


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
