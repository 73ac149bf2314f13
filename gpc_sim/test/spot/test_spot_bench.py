"""The Spot benchmark's baselines: recovered inputs, bare physics, judo's compiled rollout.

Each baseline must do the engine's physical work, or its timing compares nothing: bare
physics replaying the recovered actuator targets must retrace the engine's trajectory, and
judo's rollout fed the recovered commands must retrace it up to its float32 ONNX policy.
A few worlds for 0.2 s each: well under a second after the task build.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.spot.bench import JudoRollout, PhysicsOnly, applied_inputs, judo_unavailable
from gpc_sim.spot.constants import SUBSTEPS


@pytest.fixture(scope="module")
def run(task, start):
    """Targets (3, 10, 9) walking away from the hold target, and the engine's states."""
    rng = np.random.default_rng(5)
    drift = rng.normal(0.0, [0.6, 0.6, 0.6, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], (3, 1, 9))
    targets = task.nominal_action(start) + drift * np.linspace(0.0, 1.0, 10)[None, :, None]
    return targets, task.rollout(start, targets).copy()


def test_bare_physics_of_the_recovered_targets_retraces_the_engine(task, start, run):
    targets, states = run
    commands, ctrl = applied_inputs(task.engine, start, targets, states)
    assert commands.shape == (3, 10, 25) and ctrl.shape == (3, 10, 19)
    physics = PhysicsOnly(task.model, nthread=2)
    try:
        physics.prepare(start, ctrl)
        replay = physics.run()
    finally:
        physics.close()
    assert replay.shape == (3, 10 * SUBSTEPS, task.layout.physics_size)
    # Every second physics state is a command step's end. Only the solver's warm start
    # differs (one call here, a cold start per command step in the engine): ~1e-13.
    np.testing.assert_allclose(replay[:, SUBSTEPS - 1 :: SUBSTEPS],
                               task.layout.physics(states), rtol=0, atol=1e-9)
    assert np.ptp(task.layout.qpos(states)[:, -1, 0]) > 0.01  # the worlds did differ


@pytest.mark.skipif(judo_unavailable() is not None, reason=str(judo_unavailable()))
def test_judo_compiled_rollout_agrees_with_the_engine(task, start, run):
    targets, states = run
    commands, _ = applied_inputs(task.engine, start, targets, states)
    judo = JudoRollout(task.model, n=3)
    x0 = np.concatenate([task.layout.qpos(start), task.layout.qvel(start)])
    judo_states, judo_out = judo.rollout(x0, commands, task.layout.prev_out(start))
    nq = task.model.nq
    assert judo_states.shape == (3, 10, nq + task.model.nv) and judo_out.shape == (3, 12)
    ours_qpos, ours_qvel = task.layout.qpos(states), task.layout.qvel(states)
    # Same physics, same policy weights; judo's policy runs in float32 ONNX, ours in numpy
    # float32 with another summation order. Measured over these 0.2 s: qpos 2e-7, qvel
    # 4e-6, raw output 2e-6 apart; the bounds leave 10-50x room.
    np.testing.assert_allclose(judo_states[..., :nq], ours_qpos, rtol=0, atol=1e-5)
    np.testing.assert_allclose(judo_states[..., nq:], ours_qvel, rtol=0, atol=1e-4)
    np.testing.assert_allclose(judo_out, task.layout.prev_out(states)[:, -1], rtol=0, atol=1e-4)


def test_judo_missing_gives_a_one_line_reason(task, monkeypatch):
    monkeypatch.setitem(sys.modules, "mujoco_extensions.policy_rollout", None)
    reason = judo_unavailable()
    assert reason is not None and "mujoco_extensions" in reason and "\n" not in reason
    with pytest.raises(ConfigError, match="mujoco_extensions"):
        JudoRollout(task.model, n=1)
