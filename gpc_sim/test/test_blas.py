"""The one-BLAS-thread guard used by the policy rollouts and the proposal sampler."""

import numpy as np
import pytest

from gpc_sim.blas import _openblas_controls, single_blas_thread


def test_one_blas_thread_inside_and_the_count_is_restored():
    controls = _openblas_controls()
    if not controls:
        pytest.skip("no OpenBLAS loaded: nothing to limit")
    for setter, _ in controls:
        setter(2)
    before = [get() for _, get in controls]
    with single_blas_thread():
        assert all(get() == 1 for _, get in controls)
        with single_blas_thread():  # nested use keeps one thread
            assert all(get() == 1 for _, get in controls)
        a = np.ones((64, 64)) @ np.ones((64, 64))
        assert a[0, 0] == 64.0
    assert [get() for _, get in controls] == before
