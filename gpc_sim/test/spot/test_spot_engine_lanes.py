"""The Spot engine's multi-lane schedule gives the same states as the single-lane one.

Lanes split the batch into blocks stepped by separate Python threads; the policy then sees
smaller batches. That is exact where numpy's OpenBLAS rounds every row of a float32 product
the same way whatever the batch (``blas.float32_rows_independent_of_batch``, a property of
the GEMM kernel it picks for the CPU); elsewhere lanes differ from one lane by rounding
only. The first test pins down which holds here. These are the numpy loop's tests
(``native=False``); the compiled loop's lanes are tested in test_spot_native_engine.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from gpc_sim.blas import float32_rows_independent_of_batch, single_blas_thread
from gpc_sim.spot.rollout import LANE_MIN_WORLDS, SpotRolloutEngine


def targets_for(task, start, n: int, steps: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    drift = rng.normal(0.0, [0.6, 0.6, 0.6, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], (n, 1, 9))
    return task.nominal_action(start) + drift * np.linspace(0.0, 1.0, steps)[None, :, None]


def test_policy_rows_depend_on_the_batch_as_the_probe_says(task):
    obs = np.random.default_rng(0).normal(size=(40, 84)).astype(np.float32)
    with single_blas_thread():
        whole = task.policy.forward(obs)
        for lo, hi in ((0, LANE_MIN_WORLDS), (8, 24), (21, 40)):
            part = task.policy.forward(obs[lo:hi])
            if float32_rows_independent_of_batch():
                np.testing.assert_array_equal(part, whole[lo:hi])
            else:  # rounding only: a relative 1e-5, nothing like a different result
                np.testing.assert_allclose(part, whole[lo:hi], rtol=1e-4, atol=1e-4)


def same(got: np.ndarray, expected: np.ndarray) -> None:
    """Bit for bit where BLAS rounds rows alike in any batch; else equal up to rounding."""
    if float32_rows_independent_of_batch():
        np.testing.assert_array_equal(got, expected)
    else:  # 10 steps of 1e-5 rounding in the policy: micrometres and micro-radians
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


def test_lanes_give_the_single_lane_states(task, start):
    single = SpotRolloutEngine(task.model, nthread=2, policy=task.policy, lanes=1, native=False)
    laned = SpotRolloutEngine(task.model, nthread=2, policy=task.policy, lanes=2, native=False)
    try:
        targets = targets_for(task, start, 2 * LANE_MIN_WORLDS + 3, 10)  # blocks of 10 and 9
        expected = single.rollout_batch(start, targets).copy()
        got = laned.rollout_batch(start, targets)
        assert len(laned._lanes) == 2
        same(got, expected)
        assert np.ptp(task.layout.qpos(got)[:, -1, 0]) > 0.01  # the worlds did differ
        # Too few worlds for two lanes of 8: one lane, the same batch, the same states.
        small = targets[:LANE_MIN_WORLDS + 2, :4]
        expected = single.rollout_batch(start, small).copy()
        np.testing.assert_array_equal(laned.rollout_batch(start, small), expected)
        assert len(laned._lanes) == 1
    finally:
        single.close()
        laned.close()


class _FailingPolicy:
    """A policy that fails on its first call, as a lane thread would see it."""

    def act(self, *args):
        raise RuntimeError("policy failed")


def test_a_failing_lane_raises_in_the_caller(task, start):
    laned = SpotRolloutEngine(task.model, nthread=2, policy=task.policy, lanes=2, native=False)
    try:
        laned.policy = _FailingPolicy()  # type: ignore[assignment]
        with pytest.raises(RuntimeError, match="policy failed"):
            laned.rollout_batch(start, targets_for(task, start, 16, 2))
        assert len(laned._lanes) == 2  # the failure came from the lane threads
        with pytest.raises(ValueError, match="channels"):
            laned.rollout_batch(start, np.zeros((16, 2, 5)))
    finally:
        laned.close()


def test_default_is_one_lane_per_physics_thread(task):
    assert SpotRolloutEngine(task.model, nthread=2, policy=task.policy).lanes == 2
    assert SpotRolloutEngine(task.model, nthread=1, policy=task.policy).lanes == 1
    with pytest.raises(ValueError, match="lanes"):
        SpotRolloutEngine(task.model, nthread=2, policy=task.policy, lanes=0)
