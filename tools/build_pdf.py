"""Build the PDF of each edition: Sphinx's LaTeX builder, then XeLaTeX.

    .venv/bin/python tools/build_pdf.py                 all, into the site
    .venv/bin/python tools/build_pdf.py --edition zh    one of them
    .venv/bin/python tools/build_pdf.py --output DIR    into DIR/_build/...

Each edition is the same project as its HTML edition (_config.yml, _toc.yml,
its language and its catalogs in locales/; bookinfo.EDITIONS), written as
LaTeX into _build/latex/<edition>/ with warnings as errors, then typeset by
latexmk with XeLaTeX and copied into the site next to the edition's pages:
_build/html/module-by-module.pdf and _build/html/zh/module-by-module-zh.pdf,
where every page's download menu links to it (book/_ext/downloads.py). The LaTeX
settings (fonts, wrapping of long code lines) are in _config.yml. The
editions build at once, each in its own process.

Needs texlive-xetex, latexmk, texlive-lang-chinese, fonts-wqy-microhei and
librsvg2-bin (whose rsvg-convert rasterizes the translated figures) from apt
(README.md). Fails when XeLaTeX fails or reports a missing glyph.
"""

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import translations
from bookinfo import BUILD, EDITIONS, ROOT, frame_text, latex_dir, load_yaml
from build_book import all_at_once, site_root

AUTHOR = "The Module by Module authors"  # sphinx.po translates it
TOOLS = ["xelatex", "latexmk", "rsvg-convert"]  # rsvg-convert: translated figures


def missing_tools():
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def pdf_path(edition, output=None):
    """Where the edition's PDF goes: next to its pages in the site."""
    return site_root(output) / EDITIONS[edition].folder / EDITIONS[edition].pdf


def latex(edition, output=None):
    """Write the edition's LaTeX; returns (exit status, its folder, .tex name)."""
    out = Path(output or ROOT) / BUILD
    folder = latex_dir(edition, output)
    language = EDITIONS[edition].language
    tex = Path(EDITIONS[edition].pdf).with_suffix(".tex").name
    title = load_yaml(ROOT / "_config.yml")["title"]  # the book's name, in all
    overrides = {"language": language,
                 "latex_documents": [("book/intro", tex, title,
                                      frame_text(language, AUTHOR), "manual", False)]}
    status = translations.build_sphinx(
        "latex", folder, out / f".doctrees-latex-{edition}", overrides)
    return status, folder, tex


def typeset(folder, tex):
    """latexmk with XeLaTeX in the LaTeX folder (its latexmkrc, which Sphinx
    wrote); returns (exit status, log text)."""
    proc = subprocess.run(
        ["latexmk", "-pdfxe", "-dvi-", "-ps-", "-interaction=nonstopmode",
         "-halt-on-error", tex], cwd=folder, capture_output=True, text=True,
        errors="replace")
    log = folder / Path(tex).with_suffix(".log")
    text = log.read_text(errors="replace") if log.exists() else ""
    if proc.returncode:
        print(proc.stdout[-3000:], proc.stderr[-2000:], sep="\n", file=sys.stderr)
    return proc.returncode, text


def build(edition, output=None):
    """LaTeX, then the PDF, copied into the site; returns the exit status."""
    start = time.monotonic()
    status, folder, tex = latex(edition, output)
    if status:
        print(f"{edition}: the LaTeX build failed", file=sys.stderr)
        return status
    status, log = typeset(folder, tex)
    if status:
        print(f"{edition}: XeLaTeX failed (see {folder / tex[:-4]}.log)",
              file=sys.stderr)
        return status
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?) in font",
                                    log)))
    if missing:
        print(f"{edition}: glyphs missing from the fonts: {missing}", file=sys.stderr)
        return 1
    target = pdf_path(edition, output)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / Path(tex).with_suffix(".pdf"), target)
    print(f"{edition}: {target} ({time.monotonic() - start:.0f} s)")
    return 0


def build_all(output=None):
    """Every edition at once, each but the first in a process of its own."""
    return all_at_once(__file__, build, output)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edition", choices=["all", *EDITIONS], default="all")
    parser.add_argument("--output", help="folder to build into (default: the "
                        "repository, i.e. _build/)")
    args = parser.parse_args(argv)
    if missing_tools():
        print(f"not found: {', '.join(missing_tools())}; install Debian's "
              "texlive-xetex, latexmk, texlive-lang-chinese, fonts-wqy-microhei and "
              "librsvg2-bin (README.md)", file=sys.stderr)
        return 1
    if args.edition == "all":
        status = build_all(args.output)
    else:
        status = {args.edition: build(args.edition, args.output)}
    failed = {edition: code for edition, code in status.items() if code}
    for edition, code in failed.items():
        print(f"the {edition} PDF failed to build (exit status {code})",
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
