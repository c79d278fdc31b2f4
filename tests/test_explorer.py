"""Chapter 3's kernel-free explorer shows what the chapter computes (issue 12).

The HTML book cannot run PyTorch, so chapter 3's explorer draws numbers that the
notebook stored. This test opens the built chapter page in headless Chromium
(Debian's `chromium`, through Playwright, offline on 127.0.0.1), moves the
explorer's controls as a reader would, and compares what the page shows with
`layer_stats`, taken from the notebook itself (its cells tagged `stats-core` are
executed here):

- every scheme and activation at the named gains 1, sqrt(2), 5/3 and the scheme's
  recommended gain, within 2 %; 24 random settings of all five controls, within 5 %;
  the saturated shares within half a percentage point;
- the plotted curves are the numbers the page states (their SVG coordinates);
- the aria-live readout names the settings and is the sentence that the notebook's
  `readout_text` writes for the page's numbers;
- on a 390-px phone screen the explorer fits (no horizontal overflow).

Without /usr/bin/chromium or the playwright package the tests are SKIPPED, with the
reason in the `-ra` summary.
"""

import math
import random
import re

import pytest

from bookinfo import SCREENSHOTS
from conftest import BOOK, browser_skip_reason, cell_source, load_notebook

NOTEBOOK = BOOK / "03_initialization.ipynb"
PAGE = "book/03_initialization.html"
TAG = "stats-core"  # the cells that define layer_stats and readout_text
NAMED_TOLERANCE, ANY_TOLERANCE, SHARE_TOLERANCE = 0.02, 0.05, 0.005
RANDOM_SETTINGS = 24

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)
# The explorer is the same code in both editions' pages: check it once, on the
# English page (tests/test_browser.py opens every page of both editions).
pytestmark = pytest.mark.parametrize("edition", ["en"], indirect=True)


# --- fixtures: the chapter's own functions; the served book and the browser are
# tests/conftest.py's `server` and `browser`


@pytest.fixture(scope="module")
def chapter():
    """The namespace of the notebook's `stats-core` cells (layer_stats & co)."""
    cells = [c for c in load_notebook(NOTEBOOK)["cells"] if c["cell_type"] == "code"
             and TAG in c.get("metadata", {}).get("tags", [])]
    assert cells, f"no code cell of {NOTEBOOK.name} is tagged {TAG!r}"
    namespace = {"__name__": "chapter3"}
    for cell in cells:
        exec(compile(cell_source(cell), f"{NOTEBOOK.name}:{TAG}", "exec"), namespace)
    return namespace


def open_chapter(browser, server, width, errors):
    """The chapter page at a viewport `width`; other hosts are blocked."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith(server) else route.abort())
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server + PAGE, wait_until="load")
    return context, page


@pytest.fixture(scope="module")
def explorer(browser, server):
    """(page, explorer root) on a desktop-sized viewport; fails on JS errors."""
    errors = []
    context, page = open_chapter(browser, server, 1280, errors)
    root = page.locator(".mbm-init-explorer")
    assert root.count() == 1, "chapter 3 must show exactly one .mbm-init-explorer"
    yield page, root
    context.close()
    assert not errors, f"JavaScript errors on the chapter page: {errors}"


# --- driving the page


SHOW = """(root, s) => {
    for (const [cls, value] of [["mbm-scheme", s.scheme], ["mbm-activation", s.act],
                                ["mbm-depth", s.depth], ["mbm-width", s.width]]) {
        const select = root.querySelector("select." + cls);
        select.value = String(value);
        select.dispatchEvent(new Event("change", {bubbles: true}));
    }
    const slider = root.querySelector("input.mbm-gain");
    slider.value = String(s.gi);
    slider.dispatchEvent(new Event("input", {bubbles: true}));
    const d = (cls) => root.querySelector("path." + cls).getAttribute("d");
    return {state: root.mbmState, curve: d("mbm-curve"), grad: d("mbm-grad"),
            readout: root.querySelector(".mbm-readout").textContent,
            live: root.querySelector(".mbm-readout").getAttribute("aria-live"),
            valuetext: slider.getAttribute("aria-valuetext")};
}"""

OPTIONS = """(root) => {
    const values = (cls) => [...root.querySelectorAll("select." + cls + " option")]
        .map((o) => o.value);
    const slider = root.querySelector("input.mbm-gain");
    return {schemes: values("mbm-scheme"), activations: values("mbm-activation"),
            depths: values("mbm-depth").map(Number),
            widths: values("mbm-width").map(Number),
            positions: Number(slider.max) + 1};
}"""


def settings_to_check(chapter, options, gains):
    """(settings, tolerance) pairs: named gains for every scheme and activation,
    then random settings of all five controls."""
    rng = random.Random(12)
    named = {1.0, math.sqrt(2), 5 / 3}
    calculate_gain = chapter["nn"].init.calculate_gain
    recommended = {"xavier_normal": 1.0, "kaiming_normal": math.sqrt(2)}
    checks = []
    for scheme in options["schemes"]:
        for act in options["activations"]:
            wanted = set(named)
            if scheme in recommended:
                wanted.add(calculate_gain(act) / recommended[scheme])
            for gain in sorted(wanted):
                gi = min(range(len(gains)),
                         key=lambda i: abs(math.log(gains[i] / gain)))
                assert math.isclose(gains[gi], gain, rel_tol=1e-9), (
                    f"the named gain {gain:.6g} is not a slider position")
                checks.append(({"scheme": scheme, "act": act, "gi": gi,
                                "depth": rng.choice(options["depths"]),
                                "width": rng.choice(options["widths"])},
                               NAMED_TOLERANCE))
    for _ in range(RANDOM_SETTINGS):
        checks.append(({"scheme": rng.choice(options["schemes"]),
                        "act": rng.choice(options["activations"]),
                        "gi": rng.randrange(options["positions"]),
                        "depth": rng.choice(options["depths"]),
                        "width": rng.choice(options["widths"])}, ANY_TOLERANCE))
    return checks


def path_points(d):
    """The (x, y) vertices of an SVG path made of M and L commands."""
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(numbers[::2], numbers[1::2]))


def expected_y(value, axis):
    """Where the page's ypos() puts `value`: a log axis from Y0 = 24 to Y1 = 166."""
    e = min(axis["hi"], max(axis["lo"], math.log10(value)))
    return 24 + (166 - 24) * (axis["hi"] - e) / (axis["hi"] - axis["lo"])


# --- tests


def test_explorer_shows_what_layer_stats_computes(explorer, chapter):
    page, root = explorer
    options = root.evaluate(OPTIONS)
    gains = root.evaluate("r => r.mbmState.gains")
    assert len(gains) == options["positions"]
    checks = settings_to_check(chapter, options, gains)
    assert len(checks) >= 20 + 3 * len(options["schemes"]) * len(options["activations"])
    failures = []
    for setting, tolerance in checks:
        shown = root.evaluate(SHOW, setting)
        state = shown["state"]
        assert state["settings"]["key"] == (f"{setting['scheme']}|{setting['act']}|"
                                            f"{setting['width']}"), "controls not read"
        gain = gains[setting["gi"]]
        fresh = chapter["layer_stats"](setting["scheme"], gain, setting["act"],
                                       setting["depth"], setting["width"])
        label = (f"{setting['scheme']}, {setting['act']}, gain {gain:.4g}, depth "
                 f"{setting['depth']}, width {setting['width']}")
        for key in ("activation", "gradient"):
            assert len(state["stats"][key]) == setting["depth"], label
            for k, (on_page, true) in enumerate(zip(state["stats"][key], fresh[key])):
                if abs(on_page / true - 1) > tolerance:
                    failures.append(f"{label}: layer {k + 1} {key} RMS {on_page:.4g} "
                                    f"on the page, {true:.4g} from layer_stats")
        if fresh["saturated"] is None:
            assert state["stats"]["saturated"] is None, label
        else:
            worst = max(abs(p - f) for p, f in zip(state["stats"]["saturated"],
                                                     fresh["saturated"]))
            if worst > SHARE_TOLERANCE:
                failures.append(f"{label}: saturated share off by {worst:.3f}")
        # The curves are drawn where the numbers say.
        for cls, key in (("curve", "activation"), ("grad", "gradient")):
            points = path_points(shown[cls])
            assert len(points) == setting["depth"], f"{label}: {cls} path"
            for (_, y), value in zip(points, state["stats"][key]):
                assert abs(y - expected_y(value, state["axis"])) < 0.06, (
                    f"{label}: the {key} curve is not drawn at its values")
        # The readout: the notebook's sentence for the page's numbers.
        stats = {k: state["stats"][k] for k in ("activation", "gradient", "saturated")}
        sentence = chapter["readout_text"](setting["scheme"], gain, setting["act"],
                                           setting["depth"], setting["width"], stats)
        assert shown["readout"] == sentence, f"{label}: readout differs"
        assert shown["live"] == "polite"
        assert shown["valuetext"].startswith(chapter["gain_label"](gain)), label
    assert not failures, (f"{len(failures)} figures off (of {len(checks)} settings):\n"
                          + "\n".join(failures[:20]))


def test_readout_names_the_settings(explorer):
    page, root = explorer
    shown = root.evaluate(SHOW, {"scheme": "xavier_normal", "act": "tanh",
                                 "gi": root.evaluate(OPTIONS)["positions"] - 1,
                                 "depth": 20, "width": 128})
    readout = shown["readout"]
    for part in ("xavier_normal", "tanh", "gain 10", "depth 20", "width 128",
                 "Activation RMS: layer 1", "layer 20", "Gradient RMS",
                 "Saturated units", "Forward", "Backward"):
        assert part in readout, f"the readout lacks {part!r}: {readout}"
    for label in ("scheme", "activation", "depth", "width", "gain"):
        control = root.get_by_label(re.compile(rf"^{label}\b"))
        assert control.count() == 1, f"no control labelled {label!r}"


def test_explorer_fits_a_phone(browser, server):
    errors = []
    context, page = open_chapter(browser, server, 390, errors)
    try:
        root = page.locator(".mbm-init-explorer")
        root.scroll_into_view_if_needed()
        box = root.bounding_box()
        svg = root.locator("svg").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert svg["x"] + svg["width"] <= box["x"] + box["width"] + 0.5, svg
        assert root.evaluate("r => r.scrollWidth <= r.clientWidth"), (
            "the explorer overflows its box on a 390-px screen")
        ticks = root.locator("svg .mbm-axes text").count()
        assert ticks >= 5, "axis labels missing"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        root.screenshot(path=str(SCREENSHOTS / "book_03_initialization_explorer_390px"
                                 ".png"))
    finally:
        context.close()
    assert not errors, f"JavaScript errors on a phone-sized page: {errors}"
