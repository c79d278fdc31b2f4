"""The README's measured tables, rendered from benchmarks/results/latest.json.

benchmarks/run.py measures and saves the results; tools/sync.py writes these
tables into README.md (its `--check` needs no benchmark code, only this file).
Each row of the performance table is one entry of ROWS: where its value lives in
the results, how it reads, and the budget it is held to (BUDGETS, in
tools/bookinfo.py). A budget changes only in a commit of its own that says why;
the verdict under the table names every budget that is missed.
"""

from pathlib import Path

from bookinfo import BUDGETS, ROOT, chapter_title, load_notebook


def _title(stem, root):
    path = Path(root) / "book" / f"{stem.removesuffix('.ipynb')}.ipynb"
    return (chapter_title(load_notebook(path)) if path.exists() else None) or stem


def _s(value):
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"


def _wall_cpu(run):
    failed = "" if run["returncode"] == 0 else f" (failed: {run['last_line']})"
    return f"{_s(run['seconds'])} / {_s(run['cpu_seconds'])}{failed}"


def _ms(run, digits=0):
    return f"{run['median_ms']:.{digits}f} / {run['p95_ms']:.{digits}f} ms"


def _images(value):
    return f"{round(value, -2):,.0f} images/s"


def _wall_within(limit):
    return lambda run, results: run["returncode"] == 0 and run["seconds"] <= limit


LIVE = "live explorer update (`explorer_update`: both passes, redraw, readout), "
_SLIDER_BUDGET = f"median < {BUDGETS['explorer_slider_median_ms']:.0f} ms"


def _slider_met(ex, results):
    return ex["median_ms"] < BUDGETS["explorer_slider_median_ms"]


# (where in the results, label, value as text, budget text, budget met?)
ROWS = [
    ("notebooks.floor_s", "fresh kernel that only imports torch, matplotlib, "
     "ipywidgets, sklearn (the floor)", _s, "", None),
    ("tests.full", "the full test command (`pytest`): wall-clock / CPU time",
     _wall_cpu, f"wall ≤ {BUDGETS['tests_full_s']:.0f} s, passing",
     _wall_within(BUDGETS["tests_full_s"])),
    ("tests.fast", "the fast tier (`pytest -m \"not slow\" tests` + one notebook): "
     "wall-clock / CPU time", _wall_cpu,
     f"wall ≤ {BUDGETS['tests_fast_s']:.0f} s, passing",
     _wall_within(BUDGETS["tests_fast_s"])),
    ("nbval.serial", "strict nbval over the whole book, serial: wall-clock / CPU "
     "time", _wall_cpu, "", None),
    ("nbval.parallel", "strict nbval over the whole book, 2 workers: wall-clock / "
     "CPU time", _wall_cpu, "", None),
    ("build.en", "book build, English edition alone: wall-clock / CPU time",
     _wall_cpu, "", None),
    ("build.zh", "book build, Chinese edition alone: wall-clock / CPU time",
     _wall_cpu, "CPU ≤ the English build's",
     lambda run, results: run["cpu_seconds"] <= results["build"]["en"][
         "cpu_seconds"]),
    ("build.both", "book build, both editions at once (the README's build "
     "command): wall-clock / CPU time", _wall_cpu, "", None),
    ("explorer.default", LIVE + "default settings (xavier_normal, tanh, 10, 128), "
     "gain slider: median / p95", _ms, _SLIDER_BUDGET, _slider_met),
    ("explorer.largest", LIVE + "largest settings (xavier_normal, tanh, 50, 512), "
     "gain slider: median / p95", _ms, _SLIDER_BUDGET, _slider_met),
    ("explorer.largest_depth", LIVE + "width 512, depth slider (46-50): median / "
     "p95", _ms, _SLIDER_BUDGET, _slider_met),
    ("explorer.menu", LIVE + "a menu change (scheme or width) to xavier_normal at "
     "depth 50, width 512, which first draws the network's 50 layers: median / p95",
     _ms, "", None),
    ("explorer.menu_orthogonal", LIVE + "the same, to orthogonal (a QR "
     "decomposition per layer): median / p95", _ms, "", None),
    ("explorer_html", "kernel-free explorer update in Chromium (script, style, "
     "layout): median / p95", lambda ex: _ms(ex, 1),
     f"median < {BUDGETS['explorer_html_median_ms']:.0f} ms",
     lambda ex, results: ex["median_ms"] < BUDGETS["explorer_html_median_ms"]),
    ("lenet.images_per_s", "LeNet training throughput (chapter 2's kernel: one "
     "thread)", _images, "", None),
    ("lenet.bound_images_per_s", "upper bound: the machine's matmul GFLOP/s ÷ "
     "LeNet's FLOPs per image (forward + backward)", _images, "", None),
    ("lenet.reached_97.train_seconds", "training time until test accuracy ≥ 97 %",
     _s, "", None),
]


def _at(results, path):
    for key in path.split("."):
        if not isinstance(results, dict) or key not in results:
            return None
        results = results[key]
    return results


def performance_rows(results, root=ROOT):
    """[(measurement, value, budget, met or None)] for what the results hold."""
    rows = []
    for path, label, show, budget, met in ROWS:
        value = _at(results, path)
        if value is None:
            continue
        rows.append((label, show(value), budget, met(value, results) if met else None))
        if path == "notebooks.floor_s":  # each chapter, right under the floor
            limit = BUDGETS["notebook_above_floor_s"]
            rows += [(f"{_title(name, root)}, above the floor",
                      _s(row["above_floor_s"]), f"≤ {limit:.0f} s",
                      row["above_floor_s"] <= limit)
                     for name, row in results["notebooks"]["rows"].items()]
    return rows


def machine_line(m, repeats):
    parts = [f"{m['cpus']} CPU cores ({m['processor']} with {m['isa']})",
             f"{m['memory_gib']} GiB", m["platform"].split("-")[0],
             f"Python {m['python']}", f"torch {m['torch']}", m["gpu"] or "no GPU"]
    if repeats:
        parts.append(f"best of {repeats} runs")
    return "Measured on: " + ", ".join(parts) + "."


def page_weight_table(weights, root=ROOT):
    def kb(n):
        return f"{n / 1000:,.0f} KB"

    lines = ["| page | HTML | images | total |", "|---|---|---|---|"]
    lines += [f"| {_title(stem, root)} | {kb(w['html_bytes'])} | "
              f"{w['images']}, {kb(w['image_bytes'])} | "
              f"{kb(w['html_bytes'] + w['image_bytes'])} |"
              for stem, w in weights.items()]
    return "\n".join(lines)


def readme_tables(results, root=ROOT):
    """{'performance': markdown, 'page-weight': markdown} for the README."""
    rows = performance_rows(results, root)
    table = ["| measurement | value | budget |", "|---|---|---|"]
    table += [f"| {name} | {value} | {budget} |".replace("|  |", "| |")
              for name, value, budget, _ in rows]
    missed = [name.split(":")[0] for name, _, _, ok in rows if ok is False]
    verdict = ("Every budget above is met." if not missed else
               "Budgets missed: " + "; ".join(missed) + ".")
    performance = "\n".join([machine_line(results["machine"], results.get("repeats")),
                             "", *table, "", verdict])
    weights = _at(results, "build.page_weight")
    return {"performance": performance,
            "page-weight": page_weight_table(weights, root) if weights else
            "(not measured yet: run `benchmarks/run.py --only build`)"}
