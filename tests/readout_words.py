"""What counts as English in the explorer's text: the Latin-letter words left
once its code words and its numbers are taken out (tests/test_explorer.py checks
the page, tests/test_explorer_js.py the script)."""

import re

# The readout's words that are code: scheme names, activation names but "linear"
# (which has a translation), calculate_gain, inf. Numbers: 1.2, 3.4e-5, 40%, √2.
CODE_WORDS = re.compile(r"\b(?:xavier_normal|kaiming_normal|orthogonal|default|tanh|"
                        r"sigmoid|relu|calculate_gain|inf)\b")
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e-?\d+)?|inf")


def english_words(text):
    """The Latin-letter words left once code words and numbers are taken out."""
    return re.findall(r"[A-Za-z]+", NUMBER.sub(" ", CODE_WORDS.sub(" ", text)))
