"""Regenerate requirements.lock, the pinned whole environment, from
requirements.txt (the short human-readable list).

    .venv/bin/pip install -q pip-tools && .venv/bin/python tools/lock.py

pip-compile resolves requirements.txt for this platform (Linux x86-64, Python
3.11) and pins every package it pulls in. Two adjustments make one lock serve
every reader:

- torch is resolved against PyTorch's CPU index as well as PyPI, so the lock
  holds the CPU build's dependencies and none of the CUDA build's nvidia-*
  packages (on Linux, PyPI's torch wheel is the CUDA build; that wheel pins its
  nvidia-* packages exactly itself, so an install from PyPI stays reproducible);
- local version labels are dropped (``torch==2.13.0+cpu`` -> ``torch==2.13.0``):
  ``==2.13.0`` matches PyPI's wheel and the CPU index's ``2.13.0+cpu`` alike.

Packages that only another platform needs (appnope on macOS) are not in the
lock; pip installs them unpinned there. tests/test_config.py checks that the lock
satisfies requirements.txt and is closed under dependencies.
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from bookinfo import ROOT

LOCK = ROOT / "requirements.lock"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
COMMAND = ".venv/bin/pip install -q pip-tools && .venv/bin/python tools/lock.py"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-index", default=CPU_INDEX,
                        help="where pip finds the CPU build of torch (default: "
                        "%(default)s); '' where pip's own configuration already "
                        "provides it, e.g. a local wheel")
    args = parser.parse_args()
    pip_compile = Path(sys.executable).with_name("pip-compile")
    if not pip_compile.exists():
        sys.exit(f"pip-compile not found; run: {COMMAND}")
    index = ["--extra-index-url", args.cpu_index] if args.cpu_index else []
    cmd = [str(pip_compile), "--quiet", "--no-header", "--strip-extras",
           "--allow-unsafe", "--no-emit-index-url", "--no-emit-find-links",
           *index, "--rebuild",
           "--output-file", str(LOCK), str(ROOT / "requirements.txt")]
    subprocess.run(cmd, check=True, cwd=ROOT, env={**os.environ})
    pins = re.sub(r"^([A-Za-z0-9_.-]+==[^+\s]+)\+[A-Za-z0-9.]+", r"\1",
                  LOCK.read_text(encoding="utf-8"), flags=re.M)
    header = ("# The whole resolved environment, every package pinned (Linux x86-64,\n"
              "# Python 3.11). Install with: pip install -r requirements.lock\n"
              "# CPU-only Linux: add --extra-index-url https://download.pytorch.org/"
              "whl/cpu\n"
              f"# Generated from requirements.txt by: {COMMAND}\n")
    LOCK.write_text(header + pins, encoding="utf-8")
    print(f"wrote {LOCK.relative_to(ROOT)}: "
          f"{len(re.findall(r'^[A-Za-z0-9_.-]+==', pins, flags=re.M))} packages")


if __name__ == "__main__":
    main()
