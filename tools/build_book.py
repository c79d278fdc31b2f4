"""Build the HTML book: the English edition, and the Chinese edition beside it.

    .venv/bin/python tools/build_book.py                 both, into _build/html/
    .venv/bin/python tools/build_book.py --edition en    one of them
    .venv/bin/python tools/build_book.py --output DIR    into DIR/_build/html/

English is `jupyter-book build . -W -n --keep-going`, as it always was; the
Chinese edition is the same project with `language=zh_CN` and the translations in
locales/ (tools/translations.py), written under zh/ of the English site so that
every page can link to its twin. Warnings are errors in both. Offline: nothing is
fetched. The two builds share nothing but the site folder (each writes its own
part), so both editions build at once, each in its own process: on two cores the
Chinese edition adds less than an English build's time.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import translations

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = {"en": "", "zh": "zh/"}  # edition -> folder under the English site


def html_dir(output=None):
    """The site's root folder (the English edition) for an output folder."""
    return Path(output or ROOT) / "_build" / "html"


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
                              doctrees=out / "_build" / ".doctrees-zh")


def build_all(output=None):
    """Both editions at once: the Chinese one in a second process, its log
    printed after the English one's. Returns {edition: exit status}."""
    cmd = [sys.executable, __file__, "--edition", "zh"]
    if output:
        cmd += ["--output", str(output)]
    chinese = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    status = {"en": build("en", output)}
    log, _ = chinese.communicate()
    print(log, end="")
    status["zh"] = chinese.returncode
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edition", choices=["all", *EDITIONS], default="all")
    parser.add_argument("--output", help="folder to build into (default: the "
                        "repository, i.e. _build/html/)")
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
    if args.edition != "zh":
        print(f"Open the book: {(html_dir(args.output) / 'index.html').as_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
