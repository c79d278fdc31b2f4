"""Build the HTML book: every edition (English, and Chinese beside it).

    .venv/bin/python tools/build_book.py                 all, into _build/html/
    .venv/bin/python tools/build_book.py --pdf           all, and their PDFs
    .venv/bin/python tools/build_book.py --edition en    one of them
    .venv/bin/python tools/build_book.py --output DIR    into DIR/_build/html/

The editions are the rows of `book_editions` in _config.yml (bookinfo.EDITIONS).
Each is built the same way: Jupyter Book's own configuration (what
`jupyter-book build . -W -n --keep-going` builds) with the edition's language,
and its translations from locales/ (tools/translations.py); English at the
site's root, every other edition in its folder (zh/), so that every page can
link to its twins. Warnings are errors in all. Offline: nothing is fetched. The
builds share nothing but the site folder (each writes its own part), so the
editions build at once, each in its own process: on two cores the Chinese
edition adds less than an English build's time.

With both editions built, the whole site is packed into one zip at its root,
_build/html/module-by-module-html.zip: the offline bundle that the intro page
links to, which a reader downloads once and opens from disk. It holds both
editions and the PDFs that are there; `--pdf` builds them first
(tools/build_pdf.py: XeLaTeX, which needs TeX and takes four times the HTML's
time, so not by default). A single `--edition` makes no zip.
"""

import argparse
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import translations
from bookinfo import BUILD, BUNDLE, EDITIONS, ROOT, site_root

BUNDLE_FOLDER = "module-by-module"  # what the zip unpacks into


def build(name, output=None, strict=True):
    """Build the edition `name` in this process; returns the exit status. With
    strict=False, warnings are reported rather than fatal (translations.py check
    lists every problem)."""
    edition = EDITIONS[name]
    target = site_root(output) / edition.folder
    print(f"Building the {edition.label} edition ({name}) into {target}", flush=True)
    return translations.build_sphinx(
        "html", target, Path(output or ROOT) / BUILD / f".doctrees-{name}",
        {"language": edition.language}, strict=strict)


def all_at_once(script, build, output=None):
    """Build every edition at once: the first by `build(name, output)` here, each
    other one by `script --edition NAME` in a process of its own, its log printed
    after. Returns {edition: exit status}."""
    first, *others = EDITIONS
    procs = {}
    for name in others:
        cmd = [sys.executable, str(script), "--edition", name]
        if output:
            cmd += ["--output", str(output)]
        procs[name] = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
    status = {first: build(first, output)}
    for name, proc in procs.items():
        log, _ = proc.communicate()
        print(log, end="")
        status[name] = proc.returncode
    return status


def build_all(output=None):
    """Every edition at once. Returns {edition: exit status}."""
    return all_at_once(__file__, build, output)


def bundle(site):
    """Zip the site (every edition, the PDFs that are there) into site/BUNDLE,
    under one folder; returns the zip's path. Written aside, then moved in.
    Compression level 1: a second per build instead of three, for a zip 10 %
    larger (33 MB instead of 30; MathJax is most of it)."""
    site = Path(site)
    target = site / BUNDLE
    partial = target.with_name(f".{BUNDLE}.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED,
                         compresslevel=1) as archive:
        for path in sorted(site.rglob("*")):
            if path.is_file() and path not in (target, partial):
                name = path.relative_to(site).as_posix()
                archive.write(path, f"{BUNDLE_FOLDER}/{name}")
    os.replace(partial, target)
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edition", choices=["all", *EDITIONS], default="all")
    parser.add_argument("--output", help="folder to build into (default: the "
                        "repository, i.e. _build/html/)")
    parser.add_argument("--pdf", action="store_true", help="also build the PDF of "
                        "each edition (tools/build_pdf.py; needs XeLaTeX)")
    args = parser.parse_args(argv)
    if args.edition == "all":
        status = build_all(args.output)
    else:
        status = {args.edition: build(args.edition, args.output)}
    failed = {edition: code for edition, code in status.items() if code}
    for edition, code in failed.items():
        print(f"the {edition} edition failed to build (exit status {code})",
              file=sys.stderr)
    if failed:
        return 1
    if args.pdf:
        import build_pdf

        if build_pdf.main(["--edition", args.edition]
                          + (["--output", args.output] if args.output else [])):
            return 1
    if args.edition == "all":
        print(f"The offline bundle: {bundle(site_root(args.output))}")
    folder = EDITIONS.get(args.edition, EDITIONS["en"]).folder
    print(f"Open the book: {(site_root(args.output) / folder / 'index.html').as_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
