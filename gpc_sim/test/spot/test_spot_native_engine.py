"""The Spot engine's compiled lane loop against its numpy loop, the reference.

What must be equal bit for bit: the physics (given the actuator targets the compiled loop
applied, ``mujoco.rollout`` retraces its every command step), the actuator targets (the
numpy ``LocomotionPolicy.targets`` of the recorded output), and the states across lane
splits and batch sizes (every row goes through the same instructions). What may differ is
float32 rounding in the policy (another summation order than OpenBLAS, a polynomial
expm1), which the closed loop carries into the states: the bounds below are measured
deviations over 0.5 s with ~7-10x room. The targets drive the mapping into its limits
(speed scaling, yaw-rate clip, arm clip, yaw wrap) and through non-finite values. A few
worlds for 0.5 s each: about a second after the task build.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
from mujoco import rollout as mj_rollout

from gpc_sim.spot.action import SAFE_ARM_POSE, base_pose_from_qpos, targets_to_command
from gpc_sim.spot.bench import applied_inputs
from gpc_sim.spot.constants import ARM_JOINT_LIMITS, SUBSTEPS
from gpc_sim.spot.native_lane import native_lane, native_unavailable
from gpc_sim.spot.rollout import SpotRolloutEngine
from gpc_sim.spot.world import build_chair_spec

pytestmark = pytest.mark.skipif(
    native_unavailable() is not None,
    reason=f"the compiled Spot lane loop is unavailable: {native_unavailable()}",
)

STEPS = 25  # 0.5 s
ARM_HIGH = np.array([high for _, high in ARM_JOINT_LIMITS])
ARM_LOW = np.array([low for low, _ in ARM_JOINT_LIMITS])


def hard_targets(task, start: np.ndarray) -> np.ndarray:
    """(8, STEPS, 9): 4 random walks, then a far torso target (speed and yaw-rate limits),
    arm targets beyond the joint limits, NaN then inf targets for a while, and a yaw target
    just short of half a turn away (the wrap)."""
    hold = task.nominal_action(start)
    ramp = np.linspace(0.0, 1.0, STEPS)[None, :, None]
    rng = np.random.default_rng(3)
    drift = rng.normal(0.0, [0.6, 0.6, 0.6, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], (4, 1, 9))
    targets = np.concatenate([hold + drift * ramp, np.broadcast_to(hold, (4, STEPS, 9))])
    targets[4, :, :3] += (3.0, -2.0, 2.5)  # 3.6 m and 2.5 rad away: all three limits
    targets[5, :, 3:] = np.where(np.arange(6) % 2, ARM_LOW - 1.0, ARM_HIGH + 1.0)  # clipped
    targets[5, :, 3:] = hold[3:] + (targets[5, :, 3:] - hold[3:]) * ramp[0]
    targets[6, 5:10, 0] = np.nan  # safe command for 0.1 s
    targets[6, 12:15, 4] = np.inf
    targets[7, :, 2] = hold[2] + math.pi - 0.01  # turn the short way round
    return targets


@pytest.fixture(scope="module")
def engines(task):
    numpy_engine = SpotRolloutEngine(task.model, nthread=2, policy=task.policy, native=False)
    native_engine = SpotRolloutEngine(task.model, nthread=2, policy=task.policy, native=True)
    yield numpy_engine, native_engine
    numpy_engine.close()
    native_engine.close()


@pytest.fixture(scope="module")
def run(task, start, engines):
    """Targets and both engines' states."""
    numpy_engine, native_engine = engines
    targets = hard_targets(task, start)
    return (targets, numpy_engine.rollout_batch(start, targets).copy(),
            native_engine.rollout_batch(start, targets).copy())  # fmt: skip


def test_default_engine_is_the_compiled_one(task):
    assert task.engine.native and task.engine.engine_name == "native"
    assert task.make_plant(task.sample_initial_state(np.random.default_rng(0))).engine.native


def test_native_agrees_with_numpy_over_half_a_second(task, start, run):
    targets, ref, ours = run
    layout = task.layout
    np.testing.assert_array_equal(layout.time(ours), layout.time(ref))  # no resets either
    # Measured on the dev machine (this start and two others): qpos 1.4e-6, qvel 5.3e-5,
    # raw output 2.5e-5 at most; numpy against itself at another batch size differs at
    # ~1e-5 of the raw output too (module docstring of spot.rollout).
    np.testing.assert_allclose(layout.qpos(ours), layout.qpos(ref), rtol=0, atol=1e-5)
    np.testing.assert_allclose(layout.qvel(ours), layout.qvel(ref), rtol=0, atol=5e-4)
    np.testing.assert_allclose(layout.prev_out(ours), layout.prev_out(ref), rtol=0, atol=2.5e-4)
    # The targets did reach the mapping's limits and its non-finite branch.
    before = np.concatenate([np.broadcast_to(start, (8, 1, layout.size)), ours[:, :-1]], 1)
    commands = targets_to_command(targets, base_pose_from_qpos(layout.qpos(before)))
    assert np.isclose(np.abs(commands[4, :, :2]).max(), 0.7)  # speed scaled to its limit
    assert np.isclose(np.abs(commands[4, :, 2]).max(), 0.7)  # yaw rate clipped
    assert np.isin(commands[5, -1, 3:9], np.r_[ARM_LOW, ARM_HIGH]).all()  # arm clipped
    np.testing.assert_array_equal(commands[6, 5:10, :3], 0.0)  # NaN: safe command
    np.testing.assert_array_equal(commands[6, 5:10, 3:9], np.broadcast_to(SAFE_ARM_POSE, (5, 6)))
    assert np.all(np.isfinite(ours))


def test_physics_is_mujoco_rollout_bit_for_bit(task, start, run):
    """Each command step of the compiled loop, replayed by mujoco.rollout from the state
    before it with the actuator targets the numpy policy mapping gives for the recorded
    output: the same states, exactly (the C port of targets and physics is exact)."""
    targets, _, ours = run
    layout = task.layout
    engine = SpotRolloutEngine(task.model, nthread=1, policy=task.policy, native=True)
    _, ctrl = applied_inputs(engine, start, targets, ours)
    n = targets.shape[0]
    before = np.concatenate([np.broadcast_to(start, (n, 1, layout.size)), ours[:, :-1]], 1)
    init = np.ascontiguousarray(layout.physics(before).reshape(n * STEPS, -1))
    held = np.ascontiguousarray(np.repeat(ctrl.reshape(n * STEPS, 1, -1), SUBSTEPS, axis=1))
    with mj_rollout.Rollout(nthread=0) as pool:
        replay, _ = pool.rollout(task.model, mujoco.MjData(task.model), init, held)
    np.testing.assert_array_equal(replay[:, -1].reshape(n, STEPS, -1), layout.physics(ours))


def test_states_do_not_depend_on_lanes_or_batch(task, start, run):
    targets, _, ours = run
    one_lane = SpotRolloutEngine(task.model, nthread=2, policy=task.policy, lanes=1, native=True)
    three = SpotRolloutEngine(task.model, nthread=2, policy=task.policy, lanes=3, native=True)
    try:
        np.testing.assert_array_equal(one_lane.rollout_batch(start, targets), ours)
        np.testing.assert_array_equal(three.rollout_batch(start, targets), ours)
        assert len(three._lanes) == 3  # blocks of 3, 2 and 3 worlds: no minimum
        for i in (0, 6):  # a world alone = the same world in the batch
            np.testing.assert_array_equal(three.rollout_batch(start, targets[i : i + 1]),
                                          ours[i : i + 1])  # fmt: skip
        assert len(three._lanes) == 1
    finally:
        one_lane.close()
        three.close()


def test_one_mjdata_per_world_gives_the_shared_mjdata_states(task, start, run, engines):
    """Every command step sets the whole state and starts the solver cold, so which MjData
    a world is stepped on leaves no trace."""
    targets, _, ours = run
    lane = native_lane()
    engine = engines[1]
    config = lane.config(task.policy, engine.action_config)
    n = targets.shape[0]
    states = np.empty_like(ours)
    datas = [mujoco.MjData(task.model) for _ in range(n)]
    starts = np.ascontiguousarray(np.broadcast_to(start, (n, task.layout.size)))
    lane.rollout(task.model, datas, config, starts, targets, states, SUBSTEPS)
    np.testing.assert_array_equal(states, ours)


def test_plant_replays_as_a_rollout(task, start, run):
    targets, _, ours = run
    plant = task.make_plant(start)
    for k in range(10):
        plant.step(targets[4, k])
    np.testing.assert_array_equal(plant.state(), ours[4, 9])


def test_continuing_from_a_returned_state_is_one_longer_rollout(task, start, run, engines):
    targets, _, ours = run
    engine = engines[1]
    half = engine.rollout_batch(start, targets[:, :10])[:, -1].copy()
    np.testing.assert_array_equal(engine.rollout_batch(half, targets[:, 10:]), ours[:, 10:])


def test_bad_arguments_are_value_errors(task, start, engines):
    lane = native_lane()
    config = lane.config(task.policy, engines[1].action_config)
    size = task.layout.size
    data = [mujoco.MjData(task.model)]
    with pytest.raises(ValueError, match="C-contiguous float64"):
        lane.rollout(task.model, data, config, np.zeros((2, size), np.float32),
                     np.zeros((2, 3, 9)), np.zeros((2, 3, size)), SUBSTEPS)  # fmt: skip
    with pytest.raises(ValueError, match="do not fit"):
        lane.rollout(task.model, data, config, np.zeros((2, size)), np.zeros((2, 3, 9)),
                     np.zeros((2, 4, size)), SUBSTEPS)  # fmt: skip
    with pytest.raises(ValueError, match="bad arguments"):  # 3 datas for 2 worlds
        lane.rollout(task.model, data * 3, config, np.zeros((2, size)), np.zeros((2, 3, 9)),
                     np.zeros((2, 3, size)), SUBSTEPS)  # fmt: skip


def test_a_mujoco_error_raises_and_the_engine_recovers(start, tmp_path, monkeypatch):
    """A world whose memory is too small for its contacts: mju_error inside mj_step becomes
    mujoco.FatalError (not the end of the process), and the engine's next call starts on
    fresh MjData. Which sizes overflow MuJoCo's stack (others only fill its constraint
    arena, a warning) depends on the contacts and the MuJoCo version: sizes are tried from
    small up (70 kB did it on the dev machine)."""
    monkeypatch.chdir(tmp_path)  # MuJoCo writes its warnings to MUJOCO_LOG.TXT in the cwd
    if not native_lane().catches_errors():
        pytest.skip("this libmujoco has no thread-local error hook: an error would exit")
    targets = np.broadcast_to(np.r_[start[1:3], 0.0, SAFE_ARM_POSE], (2, 5, 9))
    for memory in range(60_000, 200_000, 5_000):
        spec = build_chair_spec()
        spec.memory = memory
        try:
            model = spec.compile()
        except ValueError:
            continue  # too small even for the compiler's forward pass
        engine = SpotRolloutEngine(model, nthread=1, native=True)
        try:
            engine.rollout_batch(start, targets)
        except mujoco.FatalError as err:
            assert "mj_stackAlloc" in str(err)
            assert engine._batch[0] == -1  # lanes dropped: their MjData are spent
            with pytest.raises(mujoco.FatalError):  # same world, fresh MjData, same error
                engine.rollout_batch(start, targets)
            return
        finally:
            engine.close()
    pytest.skip("no memory size made this MuJoCo's stack overflow")
