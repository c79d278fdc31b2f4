"""The figures' words in the catalogs and back (book/_ext/figure_text.py), on SVG
as matplotlib writes it with use_svg_figures (tools/canonical_helpers.py)."""

import io

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from figure_text import (  # noqa: E402
    english_words,
    font_families,
    messages,
    template,
    texts,
    translate,
    with_fonts,
)

import canonical_helpers  # noqa: E402


@pytest.fixture(scope="module")
def svg():
    """A figure as the chapters draw one: a sentence title with a number, axis
    words, tick labels, a code name in the legend and a mathtext label."""
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "test"}):
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], label="kaiming_normal")
        ax.plot([3, 2, 1], label="layer 12 of 30")
        ax.set(xlabel="epoch", ylabel=r"$\sigma_w$",
               title="Validation accuracy ends at 98% & more")
        ax.legend()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
        plt.close(fig)
    return buffer.getvalue().decode()


def test_words_are_text_and_numbers_become_placeholders(svg):
    assert sorted(messages(svg)) == ["Validation accuracy ends at {0}% & more",
                                     "epoch", "layer {0} of {1}"]
    assert "kaiming_normal" in texts(svg) and "σw" in texts(svg)  # glyphs joined


def test_translation_puts_the_numbers_back_in_their_new_order(svg):
    zh = {"layer {0} of {1}": "{1} 层中的第 {0} 层", "epoch": "轮次",
          "Validation accuracy ends at {0}% & more": "验证准确率最终为 {0}% 以上"}
    out = translate(svg, lambda message: zh.get(message, message))
    shown = texts(out)
    assert {"30 层中的第 12 层", "轮次", "验证准确率最终为 98% 以上"} <= set(shown)
    assert not [w for text in shown for w in english_words(text)]


def test_an_untranslated_word_stays_english_and_is_found(svg):
    out = translate(svg, lambda message: "轮次" if message == "epoch" else message)
    left = {w for text in texts(out) for w in english_words(text)}
    assert left == {"layer", "of", "Validation", "accuracy", "ends", "at", "more"}


def test_a_translation_naming_a_missing_number_is_not_used(svg):
    out = translate(svg, lambda message: "第 {5} 轮" if message == "epoch" else message)
    assert "epoch" in texts(out)


def test_translated_words_ask_for_the_editions_fonts_first(svg):
    fonts = ("Noto Sans CJK SC", "WenQuanYi Micro Hei")
    out = with_fonts(svg, fonts)
    families = font_families(out)
    assert families and len(families) == svg.count("font-family")
    for family in families:  # before the generic family, where there is one
        names = [name.strip(" '") for name in family.split(",")]
        generic = names[-1:] if names[-1] == "sans-serif" else []
        assert names[-2 - len(generic):] == [*fonts, *generic], family
    assert with_fonts(svg, ()) == svg


def test_what_counts_as_english():
    assert english_words("conv1 #3, trunc_normal(std=0.02), dL/dW, ReLU, 1e-3") == []
    assert english_words("xavier_normal + tanh, gain 1.67") == ["gain"]
    assert english_words("default") == []  # a scheme's name, as a legend label
    assert english_words("orthogonal, depth 3") == ["depth"]
    # English glued to Chinese, a digit or a bracket is still English
    assert english_words("12个epoch后，最终loss为0.05") == ["epoch", "loss"]
    assert english_words("the 2nd run, accuracy(%)") == ["the", "nd", "run",
                                                          "accuracy"]
    assert english_words("default and tiny stall") == ["default", "and", "tiny",
                                                        "stall"]
    assert template("3x3 kernels, slope -0.5") == ("{0}x{1} kernels, slope {2}",
                                                   ["3", "3", "-0.5"])
    assert template("layers 1-5 of U(-1/sqrt(n))") == (
        "layers {0}-{1} of U({2}/sqrt(n))", ["1", "5", "-1"])


def test_use_svg_figures_stores_svg_with_text_and_no_date():
    from IPython.core.interactiveshell import InteractiveShell

    canonical_helpers.use_svg_figures()
    formatter = InteractiveShell.instance().display_formatter.formatters
    fig, ax = plt.subplots()
    ax.set_title("words as text")
    first, second = (formatter["image/svg+xml"](fig) for _ in range(2))
    assert formatter["image/png"](fig)
    plt.close(fig)
    assert first == second and "words as text" in texts(first)
    assert "<dc:date>" not in first
