"""Benchmarks: what readers and CI wait for, measured against budgets.

Run from the repository root (not part of the test suite):

    .venv/bin/python benchmarks/run.py               # everything (about 15 minutes)
    .venv/bin/python benchmarks/run.py --quick       # skip nbval, build and tests
    .venv/bin/python benchmarks/run.py --only build  # some measurements; the others
                                                     # stay as they are in the file

It saves the results as JSON to benchmarks/results/latest.json and prints the
README's tables (rendered by tools/benchmark_tables.py, against the budgets in
tools/bookinfo.py), which `tools/sync.py` copies into README.md:

- each notebook's execution time in a fresh kernel, and the floor (a notebook that
  only imports torch, matplotlib, ipywidgets and scikit-learn), with the time above
  the floor (budget: 30 s on 2 CPU cores);
- the strict nbval run over the whole book, serial and with -n 2 --dist loadfile
  (budget: 3 minutes with -n 2);
- the book build time (execution off), wall-clock and CPU: each edition alone
  (budget: the Chinese edition costs no more CPU time than the English one), and
  every edition at once as the README's build command builds them; and each
  chapter page's weight (its HTML plus its images; the limit is checked by
  tests/test_html.py);
- the README's test commands: the full one (budget: 3 minutes on 2 cores) and the
  fast tier for editing (budget: 1 minute), wall-clock and CPU seconds;
- chapter 3's live explorer: the update latency (both passes through `explorer_run`, the
  redraw and the readout), median and 95th percentile, at the default and the
  largest settings, for the gain and the depth sliders, and a menu change
  (budget: 100 ms median for every slider move);
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
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from benchmark_tables import readme_tables  # noqa: E402
from bookinfo import (  # noqa: E402
    BENCHMARK_RESULTS,
    BOOK,
    BUDGETS,
    CHROMIUM,
    ROOT,
    chapter_paths,
    page_weight,
    readme_test_commands,
    site_root,
    toc_chapters,
)

VENV_BIN = Path(sys.executable).parent
# The README's test commands (run from the repository root), as readers type them
# but without .venv/bin/; the fast tier's example notebook is swapped for the
# slowest chapter.
FULL_TESTS, FAST_TESTS = ([Path(cmd[0]).name, *cmd[1:]]
                          for cmd in readme_test_commands())
FAST_TESTS = FAST_TESTS[:-1]  # + the notebook being edited


def shown(cmd):
    """A command as a reader types it."""
    return " ".join(f'"{a}"' if " " in a else a for a in cmd)

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
        for path in chapter_paths():
            times = [execute(nbformat.read(path, as_version=4), tmp)
                     for _ in range(repeats)]
            rows[path.name] = {"seconds": min(times),
                               "above_floor_s": min(times) - floor}
    return floor, rows


def time_command(cmd, cwd, env=None):
    """Wall-clock and CPU seconds (user + system, of every process it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    return {"seconds": seconds, "cpu_seconds": cpu, "returncode": proc.returncode,
            "last_line": tail[0]}


def time_nbval():
    # Strict nbval only: "not slow" leaves out each notebook's baseline-ISA re-run.
    base = [str(VENV_BIN / "pytest"), "-q", "-m", "not slow", "book"]
    return {"serial": time_command(base + ["-n", "0"], ROOT),
            "parallel": time_command(base + ["-n", "2"], ROOT)}


def time_build():
    """Each edition alone, then all of them as the README's build command builds
    them (at once), each from scratch, wall-clock and CPU time; and the weight of
    each English chapter page."""
    tool = [sys.executable, str(ROOT / "tools" / "build_book.py")]
    result = {}
    for name, options in [("zh", ["--edition", "zh"]), ("both", []),
                          ("en", ["--edition", "en"])]:
        with tempfile.TemporaryDirectory() as tmp:
            result[name] = time_command([*tool, *options, "--output", tmp], ROOT)
            html = site_root(tmp)
            if name == "en":
                result["page_weight"] = {
                    page.stem: {"html_bytes": w, "images": len(images),
                                "image_bytes": sum(images.values())}
                    for page in (html / f"{name}.html" for name in toc_chapters())
                    for w, images, _ in [page_weight(html, page)]}
    return result


def time_tests(notebook):
    """The README's full test command, and the fast tier with `notebook`."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    full = [str(VENV_BIN / FULL_TESTS[0]), *FULL_TESTS[1:]]
    fast = [str(VENV_BIN / FAST_TESTS[0]), *FAST_TESTS[1:], f"book/{notebook}"]
    return {"full": {"command": shown(FULL_TESTS), **time_command(full, ROOT, env)},
            "fast": {"command": shown([*FAST_TESTS, f"book/{notebook}"]),
                     **time_command(fast, ROOT, env)}}


def run_with_probe(notebook, probe_source):
    """Run a chapter in a fresh kernel, then `probe_source` in the same kernel."""
    nb = nbformat.read(BOOK / notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(probe_source))
    with tempfile.TemporaryDirectory() as tmp:
        execute(nb, tmp)
    return last_json(nb)


# Chapter 3 defines `explorer_update(init, gain, activation, depth, width)`: it runs
# both passes (explorer_run: run_mlp's, on a cached gain-1 draw), moves the figure's
# artists, renders the PNG that the widget shows and writes the readout. The two
# sliders are the gain and the depth: gain positions near 0.5, 0.8, 1, 1.3 and 2
# cycle at the default and the largest settings, depths 50 to 46 at the largest
# width, so that no two consecutive calls are alike. A menu change (scheme, width)
# first draws the new network's 50 layers (explorer_network): "menu" times it at
# the largest settings with the cache emptied, for xavier_normal (one normal draw
# a layer) and orthogonal (a QR decomposition a layer, the slowest scheme).
EXPLORER_PROBE = r'''
import json, math, statistics, time
EXPLORER_DEFAULT = dict(init="xavier_normal", activation="tanh", depth=10, width=128)
EXPLORER_LARGEST = dict(init="xavier_normal", activation="tanh", depth=LIVE_DEPTH,
                        width=LIVE_WIDTH)  # the live controls' largest values
def _measure(settings, n, moves, before=lambda: None, **label):
    times = []
    explorer_update(**{**settings, **moves(-1)})  # warm-up
    for i in range(n):
        before()
        start = time.perf_counter()
        explorer_update(**{**settings, **moves(i)})
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"settings": {**settings, **label}, "median_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))], "n": n}
SLIDER = [min(WIDGET_GAINS, key=lambda g: abs(math.log(g / t)))
          for t in (0.5, 0.8, 1.0, 1.3, 2.0)]  # positions of the gain slider
gains = lambda i: {"gain": SLIDER[i % 5]}
depths = lambda i: {"gain": SLIDER[3], "depth": LIVE_DEPTH - i % 5}
print(json.dumps({"default": _measure(EXPLORER_DEFAULT, 40, gains),
                  "largest": _measure(EXPLORER_LARGEST, 10, gains),
                  "largest_depth": _measure(EXPLORER_LARGEST, 10, depths,
                                            depth="46-50"),
                  "menu": _measure(EXPLORER_LARGEST, 5, gains,
                                   explorer_network.cache_clear),
                  "menu_orthogonal": _measure({**EXPLORER_LARGEST,
                                               "init": "orthogonal"}, 5, gains,
                                              explorer_network.cache_clear)}))
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
    stored explorer output and the site's script (what the HTML book shows)."""
    import random
    import statistics

    from playwright.sync_api import sync_playwright

    nb = nbformat.read(BOOK / "03_initialization.ipynb", as_version=4)
    snippet = next(out["data"]["text/html"] for cell in nb.cells
                   for out in cell.get("outputs", [])
                   if "mbm-init-explorer" in out.get("data", {}).get("text/html", ""))
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "explorer.html"
        script = BOOK / "_ext" / "static" / "init-explorer.js"
        (Path(tmp) / script.name).write_bytes(script.read_bytes())
        page_path.write_text("<!doctype html><meta charset=utf-8><body>" + snippet
                             + f'<script src="{script.name}"></script>',
                             encoding="utf-8")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox"])
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
    import torch

    flags = ""
    if Path("/proc/cpuinfo").exists():
        flags = re.search(r"^flags\s*:(.*)$", Path("/proc/cpuinfo").read_text(),
                          re.M).group(1).split()
    isa = next((name for flag, name in [("avx512f", "AVX-512"), ("avx2", "AVX2")]
                if flag in flags), platform.machine())
    memory = None
    if Path("/proc/meminfo").exists():
        kib = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
        memory = round(int(kib.group(1)) / 2**20)
    return {"platform": platform.platform(), "processor": platform.machine(),
            "isa": isa, "memory_gib": memory, "cpus": os.cpu_count(),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


MEASUREMENTS = ["notebooks", "explorer", "lenet", "nbval", "build", "tests"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="skip the nbval runs, the build and the test commands")
    parser.add_argument("--only", default="",
                        help="comma-separated measurements to run and replace in "
                        f"latest.json, from: {', '.join(MEASUREMENTS)}")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per notebook; the minimum is reported")
    args = parser.parse_args()
    only = [m for m in args.only.split(",") if m]
    unknown = sorted(set(only) - set(MEASUREMENTS))
    if unknown:
        parser.error(f"unknown measurements {unknown}; choose from {MEASUREMENTS}")
    wanted = only or [m for m in MEASUREMENTS
                      if not (args.quick and m in ("nbval", "build", "tests"))]
    latest = BENCHMARK_RESULTS
    results = json.loads(latest.read_text()) if only and latest.exists() else {}
    results["machine"] = machine()
    if "notebooks" in wanted:
        floor, rows = time_notebooks(args.repeats)
        results["notebooks"] = {"floor_s": floor, "rows": rows}
        results["repeats"] = args.repeats
    if "explorer" in wanted:
        results["explorer"] = explorer_latency()
        results["explorer_html"] = html_explorer_latency()
    if "lenet" in wanted:
        results["lenet"] = lenet_throughput()
    if "nbval" in wanted:
        results["nbval"] = time_nbval()
    if "build" in wanted:
        results["build"] = time_build()
    if "tests" in wanted:
        # The fast tier validates the notebook being edited: time the slowest one.
        rows = (results.get("notebooks") or {}).get("rows") or {"02_lenet.ipynb": {}}
        slowest = max(rows, key=lambda n: rows[n].get("seconds", 0))
        results["tests"] = time_tests(slowest)
    results["budgets"] = BUDGETS
    latest.parent.mkdir(parents=True, exist_ok=True)
    latest.write_text(json.dumps(results, indent=2) + "\n")
    tables = readme_tables(results, ROOT)
    print(tables["performance"], "", tables["page-weight"], sep="\n")
    print(f"\nsaved {latest.relative_to(ROOT)}; copy the tables into README.md "
          "with: .venv/bin/python tools/sync.py")


if __name__ == "__main__":
    main()
