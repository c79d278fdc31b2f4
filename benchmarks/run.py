"""Benchmarks: what readers and CI wait for, measured against budgets.

Run from the repository root (not part of the test suite):

    .venv/bin/python benchmarks/run.py            # everything (about 10 minutes)
    .venv/bin/python benchmarks/run.py --quick    # skip nbval runs and the build

It prints a table and saves it as JSON to benchmarks/results/latest.json:

- each notebook's execution time in a fresh kernel, and the floor (a notebook that
  only imports torch, matplotlib, ipywidgets and scikit-learn), with the time above
  the floor (budget: 30 s on 2 CPU cores);
- the strict nbval run over the whole book, serial and with -n 2 --dist loadfile
  (budget: 3 minutes with -n 2);
- the book build time (execution off);
- chapter 3's live explorer: the update latency (both passes through `run_mlp`, the
  redraw and the readout), median and 95th percentile, at the default and the
  largest settings (budget: 100 ms median at the default);
- chapter 3's kernel-free explorer: the time one update of the HTML book's explorer
  takes in headless Chromium, script plus style and layout (budget: one frame,
  16 ms, median);
- LeNet training throughput in images per second next to an upper bound from its
  FLOPs and the machine's measured matmul GFLOP/s, and the time to reach the
  chapter's accuracy.

Measurements that need a chapter's code run that notebook in a kernel first and
then time its own functions there, so the benchmark always measures the code the
book ships.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
RESULTS = ROOT / "benchmarks" / "results"
VENV_BIN = Path(sys.executable).parent

BUDGETS = {"notebook_above_floor_s": 30.0, "nbval_parallel_s": 180.0,
           "explorer_default_median_ms": 100.0, "explorer_html_median_ms": 16.0}

FLOOR_SOURCE = "import torch, matplotlib.pyplot, ipywidgets, sklearn"


def execute(nb, cwd):
    """Execute `nb` in a fresh kernel with working directory `cwd`; wall seconds."""
    start = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return time.perf_counter() - start


def last_json(nb):
    """The JSON object printed by the notebook's last cell."""
    for out in reversed(nb.cells[-1].get("outputs", [])):
        if out.get("output_type") == "stream":
            return json.loads(out["text"].strip().splitlines()[-1])
    raise RuntimeError("the measuring cell printed nothing")


def time_notebooks(repeats):
    """Fresh-kernel wall time of each chapter, and of the import-only floor."""
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        floor_nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(FLOOR_SOURCE)])
        floor_nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                           "display_name": "Python 3"}
        floor = min(execute(floor_nb, tmp) for _ in range(repeats))
        for path in sorted(BOOK.glob("[0-9][0-9]_*.ipynb")):
            times = [execute(nbformat.read(path, as_version=4), tmp)
                     for _ in range(repeats)]
            rows[path.name] = {"seconds": min(times),
                               "above_floor_s": min(times) - floor}
    return floor, rows


def time_command(cmd, cwd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    return {"seconds": seconds, "returncode": proc.returncode, "last_line": tail[0]}


def time_nbval():
    base = [str(VENV_BIN / "python"), "-m", "pytest", "-c", "tests/pytest.ini", "-q",
            "book"]
    return {"serial": time_command(base + ["-n", "0"], ROOT),
            "parallel": time_command(base + ["-n", "2", "--dist", "loadfile"], ROOT)}


def time_build():
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
            ".venv", "_build", ".git", "scratch", "__pycache__"))
        return time_command([str(VENV_BIN / "jupyter-book"), "build", ".", "-W", "-n",
                             "--keep-going"], src)


def run_with_probe(notebook, probe_source):
    """Run a chapter in a fresh kernel, then `probe_source` in the same kernel."""
    nb = nbformat.read(BOOK / notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(probe_source))
    with tempfile.TemporaryDirectory() as tmp:
        execute(nb, tmp)
    return last_json(nb)


# Chapter 3 defines `explorer_update(init, gain, activation, depth, width)`: it runs
# both passes (run_mlp), moves the figure's artists, renders the PNG that the widget
# shows and writes the readout. Gains cycle so that no two calls are alike.
EXPLORER_PROBE = r'''
import json, statistics, time
EXPLORER_DEFAULT = dict(init="xavier_normal", activation="tanh", depth=10, width=128)
EXPLORER_LARGEST = dict(init="xavier_normal", activation="tanh", depth=50, width=512)
def _measure(settings, n):
    times = []
    explorer_update(gain=0.7, **settings)  # warm-up
    for i in range(n):
        start = time.perf_counter()
        explorer_update(gain=(0.5, 0.8, 1.0, 1.3, 2.0)[i % 5], **settings)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"settings": settings, "median_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))], "n": n}
print(json.dumps({"default": _measure(EXPLORER_DEFAULT, 40),
                  "largest": _measure(EXPLORER_LARGEST, 10)}))
'''

LENET_PROBE = r'''
import json, time
import torch
from torch import nn

def _matmul_gflops(n=512, repeats=20):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e9

def _lenet_flops_per_image():
    from torch.utils.flop_counter import FlopCounterMode
    model = LeNet()
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 32, 32)).sum().backward()
    return counter.get_total_flops()  # forward + backward, one image

set_seed(0)
_train, _test = digits_loaders(batch_size=64)
_model = LeNet()
_opt = torch.optim.Adam(_model.parameters(), lr=1e-3)
_loss = nn.CrossEntropyLoss()
_images, _seconds, _reached = 0, 0.0, None
for _epoch in range(1, 31):
    start = time.perf_counter()
    train_epoch(_model, _train, _loss, _opt, "cpu")
    _seconds += time.perf_counter() - start
    _images += len(_train.dataset)
    if _reached is None and evaluate(_model, _test, _loss, "cpu")[1] >= 0.97:
        _reached = {"epochs": _epoch, "train_seconds": _seconds}
        break
_gflops = _matmul_gflops()
_flops = _lenet_flops_per_image()
print(json.dumps({"images_per_s": _images / _seconds,
                  "train_flops_per_image": _flops,
                  "matmul_gflops": _gflops,
                  "bound_images_per_s": _gflops * 1e9 / _flops,
                  "reached_97": _reached}))
'''


def explorer_latency():
    return run_with_probe("03_initialization.ipynb", EXPLORER_PROBE)


# One update of the HTML explorer, timed inside the page: set the five controls,
# fire the events a reader's input fires, then force style and layout so that the
# time covers everything before paint.
HTML_UPDATE = """([root, settings]) => settings.map((s) => {
    const start = performance.now();
    for (const [cls, value] of [["mbm-scheme", s.scheme], ["mbm-activation", s.act],
                                ["mbm-depth", s.depth], ["mbm-width", s.width]]) {
        root.querySelector("select." + cls).value = String(value);
    }
    const slider = root.querySelector("input.mbm-gain");
    slider.value = String(s.gi);
    slider.dispatchEvent(new Event("input", {bubbles: true}));
    root.querySelector("path.mbm-grad").getBBox();
    root.getBoundingClientRect();
    return performance.now() - start;
})"""


def html_explorer_latency(updates=300):
    """Median and p95 of one HTML-explorer update in Chromium, from the notebook's
    stored explorer output (what the HTML book shows)."""
    import random
    import statistics

    from playwright.sync_api import sync_playwright

    nb = nbformat.read(BOOK / "03_initialization.ipynb", as_version=4)
    snippet = next(out["data"]["text/html"] for cell in nb.cells
                   for out in cell.get("outputs", [])
                   if "mbm-init-explorer" in out.get("data", {}).get("text/html", ""))
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "explorer.html"
        page_path.write_text("<!doctype html><meta charset=utf-8><body>" + snippet,
                             encoding="utf-8")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(page_path.as_uri())
            root = page.locator(".mbm-init-explorer")
            options = root.evaluate("""r => ({
                values: Object.fromEntries(["mbm-scheme", "mbm-activation",
                    "mbm-depth", "mbm-width"].map((c) => [c, [...r.querySelectorAll(
                    "select." + c + " option")].map((o) => o.value)])),
                positions: Number(r.querySelector("input.mbm-gain").max) + 1})""")
            rng = random.Random(0)
            settings = [{"scheme": rng.choice(options["values"]["mbm-scheme"]),
                         "act": rng.choice(options["values"]["mbm-activation"]),
                         "depth": rng.choice(options["values"]["mbm-depth"]),
                         "width": rng.choice(options["values"]["mbm-width"]),
                         "gi": rng.randrange(options["positions"])}
                        for _ in range(updates)]
            times = page.evaluate(HTML_UPDATE, [root.element_handle(), settings])
            times = sorted(times[10:])  # the first updates warm the page up
            browser.close()
    return {"median_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))], "n": len(times),
            "page_kb": len(snippet) / 1000}


def lenet_throughput():
    return run_with_probe("02_lenet.ipynb", LENET_PROBE)


def machine():
    return {"platform": platform.platform(), "processor": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "torch": __import__("torch").__version__,
            "torch_threads": __import__("torch").get_num_threads()}


def report(results):
    lines = [f"Machine: {results['machine']}", "",
             f"{'measurement':<44}{'value':>12}  budget"]

    def row(name, value, unit, budget=""):
        lines.append(f"{name:<44}{value:>10.1f} {unit:<2} {budget}")

    nbs = results.get("notebooks")
    if nbs:
        row("floor (imports only)", nbs["floor_s"], "s")
        for name, r in nbs["rows"].items():
            ok = r["above_floor_s"] <= BUDGETS["notebook_above_floor_s"]
            row(f"{name} above floor", r["above_floor_s"], "s",
                f"<= 30 s {'ok' if ok else 'MISSED'}")
    if results.get("nbval"):
        row("strict nbval, serial", results["nbval"]["serial"]["seconds"], "s")
        par = results["nbval"]["parallel"]["seconds"]
        row("strict nbval, -n 2 --dist loadfile", par, "s",
            f"<= 180 s {'ok' if par <= 180 else 'MISSED'}")
    if results.get("build"):
        row("book build (execution off)", results["build"]["seconds"], "s")
    ex = results.get("explorer")
    if ex:
        med = ex["default"]["median_ms"]
        row("explorer update, default, median", med, "ms",
            f"< 100 ms {'ok' if med < 100 else 'MISSED'}")
        row("explorer update, default, p95", ex["default"]["p95_ms"], "ms")
        row("explorer update, largest, median", ex["largest"]["median_ms"], "ms")
        row("explorer update, largest, p95", ex["largest"]["p95_ms"], "ms")
    hx = results.get("explorer_html")
    if hx:
        med = hx["median_ms"]
        row("HTML explorer update, median", med, "ms",
            f"< 16 ms {'ok' if med < 16 else 'MISSED'}")
        row("HTML explorer update, p95", hx["p95_ms"], "ms")
    le = results.get("lenet")
    if le:
        row("LeNet training throughput", le["images_per_s"], "/s")
        row("  bound from FLOPs and matmul GFLOP/s", le["bound_images_per_s"], "/s")
        row("  measured matmul GFLOP/s", le["matmul_gflops"], "")
        if le["reached_97"]:
            row("  training time to 97% test accuracy",
                le["reached_97"]["train_seconds"], "s")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="skip the nbval runs and the book build")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per notebook; the minimum is reported")
    args = parser.parse_args()
    results = {"machine": machine()}
    floor, rows = time_notebooks(args.repeats)
    results["notebooks"] = {"floor_s": floor, "rows": rows}
    results["explorer"] = explorer_latency()
    results["explorer_html"] = html_explorer_latency()
    results["lenet"] = lenet_throughput()
    if not args.quick:
        results["nbval"] = time_nbval()
        results["build"] = time_build()
    results["budgets"] = BUDGETS
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(report(results))
    print(f"\nsaved {RESULTS.relative_to(ROOT) / 'latest.json'}")


if __name__ == "__main__":
    main()
