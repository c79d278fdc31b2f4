"""The site's JavaScript is code: it parses, and chapter 3's explorer script says what
the notebook says, in both editions' languages (fast: node only, no browser).

- every .js file in book/_ext/static passes `node --check`;
- init-explorer.js's string table has the same entries for every language, and its
  Chinese shows no English word (scheme and activation names, `calculate_gain` and
  numbers are code);
- its English readout is, character for character, the sentence that the
  notebook's `readout_text` writes (the notebook's cells that define `fmt`,
  `trend`, `percent`, `gain_label` and `readout_text`, executed here), and its
  Chinese readout states the same figures in the same order.

Without node (Node.js) on PATH the tests are SKIPPED, with the reason in the -ra
summary. tests/test_explorer.py drives the same script in Chromium.
"""

import json
import math
import shutil
import subprocess

import pytest

from bookinfo import BOOK, ROOT, cell_source, load_notebook
from readout_words import NUMBER, english_words

STATIC = BOOK / "_ext" / "static"
SCRIPT = STATIC / "init-explorer.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="site JavaScript tests skipped: "
                                "node not found; install Node.js (apt-get install "
                                "nodejs)")


def node(program, stdin=""):
    proc = subprocess.run([NODE, "-e", program], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout



@pytest.mark.parametrize("path", sorted(STATIC.glob("*.js")), ids=lambda p: p.name)
def test_site_javascript_parses(path):
    proc = subprocess.run([NODE, "--check", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, f"node --check {path.name}:\n{proc.stderr}"


@pytest.fixture(scope="module")
def table():
    """init-explorer.js's STRINGS: functions called on sample arguments."""
    return json.loads(node(f"""
        const m = require({json.dumps(str(SCRIPT))});
        const r = {{scheme: "xavier_normal", activation: "tanh", gain: "1.67 (5/3)",
                    depth: 20, width: 128, a1: "0.62", aD: "0.55", gD: "0.011",
                    g1: "2.3e-4", s1: "3%", sD: "40%", forward: "×2.5",
                    backward: "×0.4"}};
        const out = {{}};
        for (const [lang, T] of Object.entries(m.STRINGS)) {{
            out[lang] = {{}};
            for (const [k, v] of Object.entries(T)) {{
                out[lang][k] = typeof v === "function" ? v(k === "readout" ? r : "2.5")
                    : typeof v === "object" ? Object.values(v).join(" ") : v;
            }}
            out[lang].readoutNoSaturation = T.readout({{...r, s1: null, sD: null}});
        }}
        out.picked = ["en", "en-US", "zh-CN", "zh_CN", "zh", "fr", ""].map(
            (lang) => Object.keys(m.STRINGS).find((k) => m.STRINGS[k] ===
                                                 m.strings(lang)));
        console.log(JSON.stringify(out));"""))


def test_string_table_covers_both_languages(table):
    assert table.pop("picked") == ["en", "en", "zh", "zh", "zh", "en", "en"]
    assert set(table) == {"en", "zh"}
    assert table["en"].keys() == table["zh"].keys()
    for key, text in table["zh"].items():
        assert not english_words(text), f"STRINGS.zh.{key} has English: {text!r}"
        assert text != table["en"][key] or key == "recommended", key


@pytest.fixture(scope="module")
def chapter():
    """The notebook's own fmt, trend, percent, gain_label and readout_text."""
    wanted = ("def fmt(", "def readout_text(")
    cells = [cell_source(c) for c in load_notebook(BOOK / "03_initialization.ipynb")
             ["cells"] if c["cell_type"] == "code"
             and any(w in cell_source(c) for w in wanted)]
    assert len(cells) == 2, "chapter 3 must define fmt and readout_text"
    namespace = {"math": math}
    for source in cells:
        exec(compile(source, "03_initialization.ipynb", "exec"), namespace)
    return namespace


CASES = [  # (scheme, activation, gain, depth, width, activation RMS, gradient RMS,
    # saturated shares): first and last layers, each case a branch of fmt or trend
    ("xavier_normal", "tanh", 5 / 3, 10, 128, [0.62, 0.551], [0.0113, 0.0042],
     [0.031, 0.404]),
    ("kaiming_normal", "relu", math.sqrt(2), 30, 32, [1.4, 3.1e-5], [7.1e-3, 1.0],
     None),
    ("default", "linear", 1 / math.sqrt(2), 5, 64, [0.0, 0.0], [0.0, 0.0], None),
    ("default", "sigmoid", 10.0, 20, 128, [0.5, 0.61], [123456.0, 0.0],
     [0.0, 0.996]),
    ("xavier_normal", "linear", 0.1, 20, 32, [1e-2, math.inf], [12.4, 99.96], None),
    ("xavier_normal", "tanh", 5 / (3 * math.sqrt(2)), 5, 64, [0.93, 2.0],
     [4.5e-13, 9.0e-13], [0.0, 0.0]),
]


@pytest.fixture(scope="module")
def readouts():
    """init-explorer.js's readout, in each language, for CASES."""
    data = {"gains": [case[2] for case in CASES],
            "named": {"1/√2": 1 / math.sqrt(2), "5/(3√2)": 5 / (3 * math.sqrt(2)),
                      "√2": math.sqrt(2), "5/3": 5 / 3}}
    cases = [{"s": {"scheme": c[0], "act": c[1], "gi": i, "depth": c[3],
                    "width": c[4]},
              "st": {"activation": [c[5][0]] * (c[3] - 1) + [c[5][1]],
                     "gradient": [c[6][0]] + [c[6][1]] * (c[3] - 1),
                     "saturated": None if c[7] is None else
                     [c[7][0]] * (c[3] - 1) + [c[7][1]]}}
             for i, c in enumerate(CASES)]
    # JSON has no Infinity; JSON.parse reads 1e999 as one
    stdin = json.dumps({"data": data, "cases": cases}).replace("Infinity", "1e999")
    out = node(f"""
        const m = require({json.dumps(str(SCRIPT))});
        const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
        console.log(JSON.stringify(Object.fromEntries(["en", "zh"].map((lang) =>
            [lang, input.cases.map((c) => m.readout(m.STRINGS[lang], input.data,
                                                     c.s, c.st))]))));""", stdin)
    return data, cases, json.loads(out)


def test_english_readout_is_the_notebooks(chapter, readouts):
    data, cases, shown = readouts
    for case, on_page in zip(cases, shown["en"]):
        s = case["s"]
        sentence = chapter["readout_text"](s["scheme"], data["gains"][s["gi"]],
                                           s["act"], s["depth"], s["width"],
                                           case["st"])
        assert on_page == sentence


def test_chinese_readout_states_the_same_figures(readouts):
    data, cases, shown = readouts
    for english, chinese in zip(shown["en"], shown["zh"]):
        assert NUMBER.findall(chinese) == NUMBER.findall(english), (english, chinese)
        assert not english_words(chinese), f"English in the Chinese readout: {chinese}"
        assert english_words(english), english
