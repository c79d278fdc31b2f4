"""_toc.yml and book/ agree: every chapter listed once, in order, none missing."""

import re

from conftest import BOOK, ROOT, chapter_paths, toc_files


def test_every_toc_entry_exists():
    missing = [f for f in toc_files()
               if not any((ROOT / f"{f}{ext}").exists() for ext in (".ipynb", ".md"))]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_no_entry_is_listed_twice():
    files = toc_files()
    assert len(files) == len(set(files)), f"duplicates in _toc.yml: {files}"


def test_every_chapter_is_listed():
    listed = set(toc_files())
    unlisted = [p.name for p in chapter_paths() if f"book/{p.stem}" not in listed]
    assert not unlisted, f"notebooks missing from _toc.yml: {unlisted}"


def test_chapters_are_in_numeric_order():
    chapters = [f for f in toc_files() if re.fullmatch(r"book/\d\d_\w+", f)]
    assert chapters == sorted(chapters)
    numbers = [int(f[5:7]) for f in chapters]
    assert numbers == list(range(1, len(numbers) + 1)), "chapter numbers have gaps"


def test_chapter_file_names_follow_the_convention():
    bad = [p.name for p in BOOK.glob("*.ipynb")
           if not re.fullmatch(r"\d\d_[a-z0-9]+(_[a-z0-9]+)*\.ipynb", p.name)]
    assert not bad, f"notebook names must be NN_snake_case.ipynb: {bad}"


def test_every_markdown_page_is_listed():
    listed = set(toc_files())
    pages = [p for p in BOOK.glob("*.md") if f"book/{p.stem}" not in listed]
    assert not pages, f"pages in book/ not in _toc.yml: {[p.name for p in pages]}"
