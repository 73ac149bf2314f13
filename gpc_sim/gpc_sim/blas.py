"""One BLAS thread for small matrix products, set at run time.

The batched policy (Spot rollouts) and the proposal model's sampler multiply
matrices of a few tens of rows. OpenBLAS splits even those over its threads,
and on a busy 2-core machine the hand-offs cost far more than the arithmetic
(200 policy passes at N = 32: 11.2 s threaded against 89 ms on one thread).
``OPENBLAS_NUM_THREADS`` only works before numpy is imported and
``threadpoolctl`` is not a dependency, so the already-loaded library is found
and set directly.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

# --- BLAS threads --------------------------------------------------------------------------

# (setter, getter) symbol names of the OpenBLAS builds numpy and scipy wheels ship.
_OPENBLAS_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)


@cache
def _openblas_controls() -> tuple[tuple[Callable[[int], None], Callable[[], int]], ...]:
    """(set, get) of every OpenBLAS library already loaded in this process.

    Found in /proc/self/maps and opened with RTLD_NOLOAD, so nothing new is loaded. Empty
    where that is not possible (non-Linux, another BLAS): the guard then does nothing.
    """
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return ()
    controls = []
    for path in sorted(p for p in paths if p.startswith("/")):
        try:
            lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
        except OSError:
            continue
        for set_name, get_name in _OPENBLAS_SYMBOLS:
            if hasattr(lib, set_name) and hasattr(lib, get_name):
                setter, getter = getattr(lib, set_name), getattr(lib, get_name)
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                controls.append((setter, getter))
                break
    return tuple(controls)


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run the body with OpenBLAS limited to one thread; restore the previous count after.

    The setting is process-wide: another Python thread doing BLAS work meanwhile runs
    single-threaded too (slower, still correct). Nested use is fine.
    """
    previous = []
    for setter, getter in _openblas_controls():
        count = getter()
        previous.append((setter, count))
        if count > 1:
            setter(1)
    try:
        yield
    finally:
        for setter, count in previous:
            if count > 1:
                setter(count)


# --- Rounding of float32 products ---------------------------------------------------------

@cache
def float32_rows_independent_of_batch() -> bool:
    """Whether this OpenBLAS gives each row of a float32 product the same bits in any batch.

    The numpy Spot engine's multi-lane schedule is bit-for-bit the single-lane one only
    where this holds. It depends on the GEMM kernel OpenBLAS picks for the CPU: measured
    true on the machine the lanes were written on (batches of 8 rows or more), false with
    the Haswell kernel on an AVX2 AMD EPYC (2026-12-01), where rows of a batch differ from
    the same rows alone by ~1e-5 relative, a rounding difference. Probed once, on a product
    the shape of the policy's first layer.
    """
    import numpy as np

    rng = np.random.default_rng(12345)
    x = rng.normal(size=(48, 84)).astype(np.float32)
    w = rng.normal(size=(84, 512)).astype(np.float32)
    with single_blas_thread():
        whole = x @ w
        return all(np.array_equal(x[lo:hi] @ w, whole[lo:hi])
                   for lo, hi in ((0, 8), (8, 24), (21, 48), (5, 17)))
