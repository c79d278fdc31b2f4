"""Stored outputs validate on other CPUs too, not only on the machine that made them.

Float results change in their last bits with the CPU's instruction set (AVX-512,
AVX2, plain SSE), and training amplifies such differences. The notebooks print
coarse or checked values so that readers and other CI machines get the same text;
this test proves it by re-running strict nbval over every notebook with PyTorch
and oneDNN restricted to an older instruction set. (The main nbval run covers the
machine's own instruction set.)
"""

import os
import platform
import subprocess
import sys

import pytest

from conftest import ROOT, chapter_paths

ISAS = {"avx2": "AVX2", "default": "SSE41"}  # ATEN_CPU_CAPABILITY -> oneDNN's cap


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                    reason="instruction-set emulation is an x86-64 feature")
@pytest.mark.parametrize("isa", sorted(ISAS))
def test_outputs_validate_with_an_older_instruction_set(isa):
    env = {**os.environ, "ATEN_CPU_CAPABILITY": isa, "ONEDNN_MAX_CPU_ISA": ISAS[isa],
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "pytest", "-c", "tests/pytest.ini", "-n", "0", "-q",
           "--no-header",
           *[str(p.relative_to(ROOT)) for p in chapter_paths()]]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, (f"strict nbval fails with ATEN_CPU_CAPABILITY={isa}:"
                                  f"\n{proc.stdout[-4000:]}")
