"""_toc.yml and book/ agree: every page listed once, chapters in order, none
missing. `toc_problems` holds the rules as a pure function of the toc entries and
the files in book/, so that the last test can prove each rule fails when broken."""

from bookinfo import BOOK, CHAPTER, toc_files


def toc_problems(entries, files):
    """Problems between toc `entries` ('book/01_layers', ...) and `files`, the
    names of the .ipynb and .md files in book/ ('01_layers.ipynb', ...)."""
    problems = []
    stems = {f.rsplit(".", 1)[0] for f in files}
    missing = [e for e in entries if e.removeprefix("book/") not in stems]
    if missing:
        problems.append(f"listed but missing: {missing}")
    if len(entries) != len(set(entries)):
        problems.append("an entry is listed twice")
    unlisted = [f for f in files if f"book/{f.rsplit('.', 1)[0]}" not in entries]
    if unlisted:
        problems.append(f"in book/ but not in _toc.yml: {unlisted}")
    bad_names = [f for f in files if f.endswith(".ipynb")
                 and not CHAPTER.fullmatch("book/" + f.removesuffix(".ipynb"))]
    if bad_names:
        problems.append(f"notebook names must be NN_snake_case.ipynb: {bad_names}")
    numbers = [int(m.group(1)) for e in entries if (m := CHAPTER.fullmatch(e))]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"chapters out of order or with gaps: {numbers}")
    return problems


def test_toc_and_book_agree():
    files = sorted(p.name for p in [*BOOK.glob("*.ipynb"),
                                    *BOOK.glob("*.md")])
    problems = toc_problems(toc_files(), files)
    assert not problems, "; ".join(problems)


def test_each_toc_rule_fails_when_broken():
    entries = ["book/intro", "book/01_layers", "book/02_lenet", "book/glossary"]
    files = ["01_layers.ipynb", "02_lenet.ipynb", "glossary.md", "intro.md"]
    assert toc_problems(entries, files) == []
    broken = {
        "missing file": (entries + ["book/03_init"], files),
        "listed twice": (entries + ["book/glossary"], files),
        "unlisted notebook": (entries, files + ["03_init.ipynb"]),
        "unlisted page": (entries, files + ["notes.md"]),
        "bad name": (entries + ["book/03-Init"], files + ["03-Init.ipynb"]),
        "out of order": (["book/intro", "book/02_lenet", "book/01_layers",
                          "book/glossary"], files),
        "gap": (entries + ["book/04_more"], files + ["04_more.ipynb"]),
    }
    for name, (e, f) in broken.items():
        assert len(toc_problems(e, f)) == 1, f"the toc rules missed: {name}"
