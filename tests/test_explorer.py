"""Chapter 3's kernel-free explorer shows what the chapter computes (issue 12), in
the page's language (issue 21).

The HTML book cannot run PyTorch, so chapter 3's explorer draws numbers that the
notebook stored, with the site's script (book/_ext/static/init-explorer.js). This
test opens the built chapter page of each edition in headless Chromium
(Debian's `chromium`, through Playwright, offline on 127.0.0.1), moves the
explorer's controls as a reader would, and compares what the page shows with
`layer_stats`, taken from the notebook itself (its cells tagged `stats-core` are
executed here):

- every scheme and activation at the named gains 1, sqrt(2), 5/3 and the scheme's
  recommended gain, within 2 %; 24 random settings of all five controls, within 5 %
  (on the Chinese page, which has the same numbers and script, one named gain per
  scheme and activation and four random settings);
  the saturated shares within half a percentage point;
- the plotted curves are the numbers the page states (their SVG coordinates, read
  against the page's own gridlines and their labels);
- the aria-live readout names the settings; on the English page it is the sentence
  that the notebook's `readout_text` writes for the page's numbers, on the Chinese
  page it states the same figures in the same order;
- the Chinese page's explorer shows no English word in its controls, legend, axis,
  saturation strip or readout (scheme and activation names and numbers are code);
- on a 390-px phone screen the explorer fits (no horizontal overflow).

Without /usr/bin/chromium or the playwright package the tests are SKIPPED, with the
reason in the `-ra` summary.
"""

import math
import random
import re

import pytest

from bookinfo import BOOK, EDITIONS, SCREENSHOTS, cell_source, load_notebook
from browsing import PHONE, Tab, browser_skip_reason, new_context
from readout_words import NUMBER, english_words

NOTEBOOK = BOOK / "03_initialization.ipynb"
PAGE = "book/03_initialization.html"
TAG = "stats-core"  # the cells that define layer_stats and readout_text
NAMED_TOLERANCE, ANY_TOLERANCE, SHARE_TOLERANCE = 0.02, 0.05, 0.005
RANDOM_SETTINGS = 24

LABELS = {"en": ("scheme", "activation", "depth", "width", "gain"),
          "zh": ("初始化方案", "激活函数", "深度", "宽度", "增益")}

if browser_skip_reason():
    pytest.skip(browser_skip_reason(), allow_module_level=True)
# Every test runs once per edition (conftest's `edition`): the script is the same,
# its words are not.


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


@pytest.fixture(scope="module")
def explorer(browser, server):
    """(page, explorer root) in a desktop-sized tab (browsing.Tab: other hosts are
    blocked); fails on JavaScript errors and failed requests."""
    context = new_context(browser)
    tab = Tab(context)
    page, recorder = tab.open(server, PAGE)
    root = page.locator(".mbm-init-explorer")
    assert root.count() == 1, "chapter 3 must show exactly one .mbm-init-explorer"
    yield page, root
    context.close()
    problems = recorder.problems()
    assert not problems, f"problems on the chapter page: {problems}"


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
    // the gridlines and their labels ("1e-2", "1", "1e2"): [decade, y]
    const ticks = [...root.querySelectorAll(".mbm-axes text[text-anchor=end]")].map(
        (t, i) => [t.textContent === "1" ? 0 : Number(t.textContent.slice(2)),
                   Number(root.querySelectorAll(".mbm-axes line")[i]
                          .getAttribute("y1"))]);
    return {state: root.mbmState, curve: d("mbm-curve"), grad: d("mbm-grad"), ticks,
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
    recommended = {"xavier_normal": 1.0, "kaiming_normal": math.sqrt(2),
                   "orthogonal": 1.0}
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


def layer_stats(chapter, *setting):
    """The notebook's layer_stats, computed once per setting: both editions' pages
    are checked at the same settings, against the same (unmodified) results."""
    computed = chapter.setdefault("_computed", {})
    if setting not in computed:
        computed[setting] = chapter["layer_stats"](*setting)
    return computed[setting]


def path_points(d):
    """The (x, y) vertices of an SVG path made of M and L commands."""
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(numbers[::2], numbers[1::2]))


def expected_y(value, ticks):
    """Where the log axis drawn on the page puts `value`: `ticks` are its gridlines,
    (decade, y), read from the page; values beyond them sit on the edge."""
    (lo, y_lo), (hi, y_hi) = min(ticks), max(ticks)
    e = min(hi, max(lo, math.log10(value)))
    return y_hi + (y_lo - y_hi) * (hi - e) / (hi - lo)



# --- tests


def test_explorer_shows_what_layer_stats_computes(explorer, chapter, edition):
    page, root = explorer
    options = root.evaluate(OPTIONS)
    gains = root.evaluate("r => r.mbmState.gains")
    assert len(gains) == options["positions"]
    checks = settings_to_check(chapter, options, gains)
    assert len(checks) >= 20 + 3 * len(options["schemes"]) * len(options["activations"])
    if edition != next(iter(EDITIONS)):
        # The same stored numbers and the same script as the first edition's page,
        # which checks every setting; here, in other words, one named gain for
        # each scheme and activation and four random settings.
        first = {(c["scheme"], c["act"]): (c, t) for c, t in reversed(checks)
                 if t == NAMED_TOLERANCE}
        checks = list(first.values()) + [c for c in checks if c[1] == ANY_TOLERANCE][:4]
    failures = []
    for setting, tolerance in checks:
        shown = root.evaluate(SHOW, setting)
        state = shown["state"]
        assert state["settings"]["key"] == (f"{setting['scheme']}|{setting['act']}|"
                                            f"{setting['width']}"), "controls not read"
        gain = gains[setting["gi"]]
        fresh = layer_stats(chapter, setting["scheme"], gain, setting["act"],
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
        # The curves are drawn where the numbers say, on the axis the page labels.
        ticks = shown["ticks"]
        assert len(ticks) >= 3 and [e for e, _ in ticks] == list(range(
            state["axis"]["lo"], state["axis"]["hi"] + 1, state["axis"]["step"])), (
            f"{label}: the gridlines' labels {ticks}")
        for cls, key in (("curve", "activation"), ("grad", "gradient")):
            points = path_points(shown[cls])
            assert len(points) == setting["depth"], f"{label}: {cls} path"
            for (_, y), value in zip(points, state["stats"][key]):
                assert abs(y - expected_y(value, ticks)) < 0.06, (
                    f"{label}: the {key} curve is not drawn at its values")
        # The readout: the notebook's sentence for the page's numbers (in Chinese:
        # its figures, in its order).
        stats = {k: state["stats"][k] for k in ("activation", "gradient", "saturated")}
        sentence = chapter["readout_text"](setting["scheme"], gain, setting["act"],
                                           setting["depth"], setting["width"], stats)
        if edition == "en":
            assert shown["readout"] == sentence, f"{label}: readout differs"
        else:
            assert NUMBER.findall(shown["readout"]) == NUMBER.findall(sentence), (
                f"{label}: the readout's figures differ: {shown['readout']}")
            assert not english_words(shown["readout"]), shown["readout"]
        assert shown["live"] == "polite"
        assert shown["valuetext"].startswith(chapter["gain_label"](gain)), label
    assert not failures, (f"{len(failures)} figures off (of {len(checks)} settings):\n"
                          + "\n".join(failures[:20]))


READOUT_PARTS = {
    "en": ("xavier_normal", "tanh", "gain 10", "depth 20", "width 128",
           "Activation RMS: layer 1", "layer 20", "Gradient RMS", "Saturated units",
           "Forward", "Backward"),
    "zh": ("xavier_normal", "tanh", "增益 10", "深度 20", "宽度 128",
           "激活值均方根：第 1 层", "第 20 层", "梯度均方根", "饱和单元", "前向传播",
           "反向传播")}


def test_readout_names_the_settings(explorer, edition):
    page, root = explorer
    shown = root.evaluate(SHOW, {"scheme": "xavier_normal", "act": "tanh",
                                 "gi": root.evaluate(OPTIONS)["positions"] - 1,
                                 "depth": 20, "width": 128})
    readout = shown["readout"]
    for part in READOUT_PARTS[edition]:
        assert part in readout, f"the readout lacks {part!r}: {readout}"
    for label in LABELS[edition]:
        control = root.get_by_label(re.compile(rf"^{label}(\s|$)"))
        assert control.count() == 1, f"no control labelled {label!r}"


# Every word the explorer shows: labels, option texts, the chart's text and its
# accessible name, the gain's value text and the readout.
WORDS = """(root) => [
    ...[...root.querySelectorAll("label")].map((l) => l.firstChild.textContent),
    ...[...root.querySelectorAll("option")].map((o) => o.textContent),
    ...[...root.querySelectorAll("svg text")].map((t) => t.textContent),
    root.querySelector("svg").getAttribute("aria-label"),
    root.querySelector(".mbm-gain-value").textContent,
    root.querySelector("input.mbm-gain").getAttribute("aria-valuetext"),
    root.querySelector(".mbm-readout").textContent]"""


def test_chinese_explorer_shows_no_english(explorer, edition):
    if edition != "zh":
        pytest.skip("the Chinese page's words: checked on the Chinese edition")
    page, root = explorer
    assert page.evaluate("document.documentElement.lang").lower().startswith("zh")
    options = root.evaluate(OPTIONS)
    seen = set()
    for scheme in options["schemes"]:
        for act in options["activations"]:  # saturating or not, each strip text
            for gi in (0, options["positions"] // 2, options["positions"] - 1):
                root.evaluate(SHOW, {"scheme": scheme, "act": act, "gi": gi,
                                     "depth": 20, "width": 64})
                seen.update(root.evaluate(WORDS))
    english = {text: english_words(text) for text in seen if english_words(text)}
    assert not english, f"English on the Chinese page's explorer: {english}"


def test_explorer_fits_a_phone(explorer):
    """The chapter page, laid out on a phone's screen, in the explorer's tab
    (which gets its desktop size back afterwards). No reload: nothing in the
    explorer's script reads the window's size (its SVG has a viewBox and 100 %
    width), so resizing the window lays it out as loading it on a phone does."""
    page, root = explorer
    desktop = dict(page.viewport_size)
    page.set_viewport_size(PHONE)  # the layout follows the window, no reload
    try:
        root.scroll_into_view_if_needed()
        box = root.bounding_box()
        svg = root.locator("svg").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert svg["x"] + svg["width"] <= box["x"] + box["width"] + 0.5, svg
        assert root.evaluate("r => r.scrollWidth <= r.clientWidth"), (
            "the explorer overflows its box on a 390-px screen")
        ticks = root.locator("svg .mbm-axes text").count()
        assert ticks >= 5, "axis labels missing"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        root.screenshot(path=str(SCREENSHOTS / "book_03_initialization_explorer_390px"
                                 ".png"))
    finally:
        page.set_viewport_size(desktop)
