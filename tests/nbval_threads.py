"""pytest plugin (loaded by `-p tests.nbval_threads` in tests/pytest.ini, so it also
applies when only notebooks are collected and tests/conftest.py is not loaded).

nbval runs two notebooks at once (-n 2) on CI's 2 cores. With PyTorch's default of
one math thread per core, two kernels oversubscribe the machine and run several
times slower; one thread per kernel avoids that. Kernels inherit this process's
environment. The stored outputs do not depend on it (tests/test_portable_outputs.py
and the main run validate them under different settings). A reader can override
it by setting OMP_NUM_THREADS.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
