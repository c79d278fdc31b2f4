"""Build the HTML book: the English edition, and the Chinese edition beside it.

    .venv/bin/python tools/build_book.py                 both, into _build/html/
    .venv/bin/python tools/build_book.py --pdf           both, and their PDFs
    .venv/bin/python tools/build_book.py --edition en    one of them
    .venv/bin/python tools/build_book.py --output DIR    into DIR/_build/html/

English is `jupyter-book build . -W -n --keep-going`, as it always was; the
Chinese edition is the same project with `language=zh_CN` and the translations in
locales/ (tools/translations.py), written under zh/ of the English site so that
every page can link to its twin. Warnings are errors in both. Offline: nothing is
fetched. The two builds share nothing but the site folder (each writes its own
part), so both editions build at once, each in its own process: on two cores the
Chinese edition adds less than an English build's time.

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
from bookinfo import BOOK, BUILD, ROOT

sys.path.insert(0, str(BOOK / "_ext"))
# the names of the zip and of the PDFs, to which the pages link
from downloads import BUNDLE, PDFS  # noqa: E402, F401 (PDFS: for build_pdf.py)

BUNDLE_FOLDER = "module-by-module"  # what the zip unpacks into
EDITIONS = {"en": "", "zh": "zh/"}  # edition -> folder under the English site


def html_dir(output=None):
    """The site's root folder (the English edition) for an output folder."""
    return Path(output or ROOT) / BUILD / "html"


def build(edition, output=None):
    """Build one edition in this process; returns the exit status."""
    out = Path(output or ROOT)
    if edition == "en":
        jupyter_book = str(Path(sys.executable).with_name("jupyter-book"))
        cmd = [jupyter_book, "build", str(ROOT), "-W", "-n", "--keep-going"]
        if output:
            cmd += ["--path-output", str(out)]
        return subprocess.run(cmd, cwd=ROOT).returncode
    print(f"Building the Chinese edition into {html_dir(output) / EDITIONS['zh']}")
    return translations.build(html_dir(output) / EDITIONS["zh"],
                              doctrees=out / BUILD / ".doctrees-zh")


def both_at_once(script, build, output=None):
    """Build both editions at once: the Chinese one by `script --edition zh` in a
    second process, its log printed after the English one's; the English one
    by `build("en", output)` here. Returns {edition: exit status}."""
    cmd = [sys.executable, str(script), "--edition", "zh"]
    if output:
        cmd += ["--output", str(output)]
    chinese = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    status = {"en": build("en", output)}
    log, _ = chinese.communicate()
    print(log, end="")
    status["zh"] = chinese.returncode
    return status


def build_all(output=None):
    """Both editions at once. Returns {edition: exit status}."""
    return both_at_once(__file__, build, output)


def bundle(site):
    """Zip the site (both editions, the PDFs that are there) into site/BUNDLE,
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
        print(f"The offline bundle: {bundle(html_dir(args.output))}")
    if args.edition != "zh":
        print(f"Open the book: {(html_dir(args.output) / 'index.html').as_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
