"""The HTML book builds with warnings as errors, and every page is there.

The build itself is the `built_book` fixture (tests/conftest.py): it runs
`jupyter-book build . -W -n --keep-going` on a copy of the repository.
"""

import re

import pytest

from conftest import chapter_paths, colab_url, toc_files


def test_build_succeeds_without_warnings(built_book):
    log = built_book["log"]
    warnings = [ln for ln in log.splitlines() if re.search(r"WARNING|ERROR", ln)]
    assert built_book["returncode"] == 0, log[-3000:]
    assert not warnings, "\n".join(warnings[:20])


def test_every_toc_page_is_built(built_book):
    missing = [f for f in toc_files()
               if not (built_book["html"] / f"{f}.html").exists()]
    assert not missing, f"pages not built: {missing}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in chapter_paths()])
def test_colab_launch_button_points_at_the_notebook(built_book, path):
    html = (built_book["html"] / "book" / f"{path.stem}.html").read_text()
    colab = r'https://colab\.research\.google\.com/github/[^"\']+'
    links = set(re.findall(colab, html))
    assert links == {colab_url(f"book/{path.stem}")}, links
