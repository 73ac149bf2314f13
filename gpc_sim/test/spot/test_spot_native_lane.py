"""The compiled lane loop's parts against their numpy originals, and its build and fallback.

Parts (the C functions behind ``spot_lane_rollout``, called one by one): the target ->
command mapping and the observation are double-precision ports, equal to numpy up to the
last bits of libm's cos/sin/atan2; the actuator targets are exact; the network differs by
float32 summation order and its polynomial expm1. Build: a failing compiler, a missing
one, or a library that does not load make the engine fall back to numpy with one warning,
never an exception; ``native=True`` then raises. No test here takes more than a second.
"""

from __future__ import annotations

import math
import stat
import warnings

import numpy as np
import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.spot import native_lane as native_lane_module
from gpc_sim.spot.action import (
    DEFAULT_ACTION_CONFIG,
    SAFE_ARM_POSE,
    SpotActionConfig,
    base_pose_from_qpos,
    targets_to_command,
)
from gpc_sim.spot.constants import ARM_JOINT_LIMITS, GRIPPER_OPEN
from gpc_sim.spot.native_build import NativeBuildError, build_library, find_compiler
from gpc_sim.spot.native_lane import native_lane, native_unavailable
from gpc_sim.spot.policy import LocomotionPolicy, default_policy
from gpc_sim.spot.rollout import SpotRolloutEngine

needs_native = pytest.mark.skipif(
    native_unavailable() is not None,
    reason=f"the compiled Spot lane loop is unavailable: {native_unavailable()}",
)
ARM_LOW = np.array([low for low, _ in ARM_JOINT_LIMITS])
ARM_HIGH = np.array([high for _, high in ARM_JOINT_LIMITS])
LOOSE = SpotActionConfig(tracking_time=0.5, max_vx=1.5, max_vy=0.4, max_yaw_rate=2.0,
                         gripper=GRIPPER_OPEN, torso=(0.1, -0.05, 0.45))  # fmt: skip


def random_worlds(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """qpos (n, 26) with unit quaternions, qvel (n, 25), targets (n, 9) around the poses:
    near and far (speed limits), any yaw (the wrap), arms up to 2 rad beyond their limits."""
    rng = np.random.default_rng(seed)
    qpos = rng.normal(0.0, 1.0, (n, 26))
    qpos[:, 3:7] /= np.linalg.norm(qpos[:, 3:7], axis=1, keepdims=True)
    qvel = rng.normal(0.0, 1.0, (n, 25))
    targets = np.empty((n, 9))
    targets[:, :2] = qpos[:, :2] + rng.normal(0.0, 1.0, (n, 1)) * rng.normal(0.0, 0.5, (n, 2))
    targets[:, 2] = rng.uniform(-4 * math.pi, 4 * math.pi, n)
    targets[:, 3:] = rng.uniform(ARM_LOW - 2.0, ARM_HIGH + 2.0, (n, 6))
    return qpos, qvel, targets


@pytest.fixture(scope="module")
def lane():
    return native_lane()


@pytest.fixture(scope="module")
def config(lane):
    return lane.config(default_policy(), DEFAULT_ACTION_CONFIG)


# --- parts -------------------------------------------------------------------------------


@needs_native
@pytest.mark.parametrize("action_config", [DEFAULT_ACTION_CONFIG, LOOSE])
def test_command_is_targets_to_command(lane, action_config):
    qpos, _, targets = random_worlds(2000)
    targets[3, 0] = np.nan
    targets[4, 8] = np.inf
    targets[5, 2] = -np.inf
    qpos[6, 0] = np.nan  # a non-finite pose: the safe command too
    targets[7, :3] = np.r_[qpos[7, :2], base_pose_from_qpos(qpos[7])[2] + math.pi]  # the wrap
    config = lane.config(default_policy(), action_config)
    ours = lane.command(config, qpos, targets)
    ref = targets_to_command(targets, base_pose_from_qpos(qpos), action_config)
    # cos, sin, atan2 of libm against numpy's: a few ulps of ~1 m/s (measured 1.8e-15).
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(ours[:, 3:], ref[:, 3:])  # clip, gripper, legs, torso
    np.testing.assert_array_equal(ours[3:7, 3:9], np.broadcast_to(SAFE_ARM_POSE, (4, 6)))
    np.testing.assert_array_equal(ours[3:7, :3], 0.0)
    # The set reaches every limit.
    assert np.isclose(np.abs(ours[:, :2] / [action_config.max_vx, action_config.max_vy])
                      .max(axis=1), 1.0).sum() > 100  # fmt: skip
    assert (np.abs(ours[:, 2]) == action_config.max_yaw_rate).sum() > 100
    assert np.isin(ours[:, 3:9], np.r_[ARM_LOW, ARM_HIGH]).sum() > 1000


@needs_native
def test_observation_is_observe_exactly(lane, config):
    qpos, qvel, targets = random_worlds(500, seed=1)
    command = targets_to_command(targets, base_pose_from_qpos(qpos))
    prev = np.random.default_rng(2).normal(size=(500, 12)).astype(np.float32)
    ours = lane.observe(config, qpos, qvel, command, prev)
    np.testing.assert_array_equal(ours, LocomotionPolicy.observe(qpos, qvel, command, prev))


@needs_native
def test_forward_matches_numpy_to_float32_rounding(lane, config):
    policy = default_policy()
    qpos, qvel, targets = random_worlds(64, seed=3)
    command = targets_to_command(targets, base_pose_from_qpos(qpos))
    obs = LocomotionPolicy.observe(qpos, qvel, command, np.zeros((64, 12), np.float32))
    ref = policy.forward(obs)
    ours = lane.forward(config, obs)
    assert ours.dtype == np.float32
    # Summation order and expm1 differ: measured 2e-5 at outputs up to ~40 (these inputs
    # are far outside what the policy sees; in rollouts the raw outputs are ~1).
    np.testing.assert_allclose(ours, ref, rtol=2e-6, atol=2e-5)


@needs_native
def test_forward_rows_do_not_depend_on_the_batch(lane, config):
    obs = np.random.default_rng(4).normal(size=(21, 84)).astype(np.float32)
    whole = lane.forward(config, obs)
    for lo, hi in ((0, 1), (3, 10), (5, 21), (20, 21)):
        np.testing.assert_array_equal(lane.forward(config, obs[lo:hi]), whole[lo:hi])


@needs_native
def test_elu_is_within_two_ulp_and_keeps_nan(lane):
    x = np.concatenate([np.linspace(-30.0, 2.0, 400_001), [-0.0, 1e-30, -1e-30, -1e-8]])
    x = x.astype(np.float32)
    ours = lane.elu(x)
    exact = np.where(x > 0, x.astype(np.float64), np.expm1(x.astype(np.float64)))
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(ours - exact) / ulp) <= 2.0  # measured 0.83
    np.testing.assert_array_equal(ours[x > 0], x[x > 0])
    assert np.isnan(lane.elu(np.array([np.nan], np.float32)))[0]


@needs_native
def test_actuator_targets_are_targets_exactly_with_leg_overrides(lane, config):
    """The rollouts' commands never override legs (targets_to_command writes zeros there),
    so the override rule is checked here: a leg with any non-zero (or NaN) entry."""
    rng = np.random.default_rng(5)
    command = rng.normal(size=(300, 25))
    command[:, 10:22] *= rng.random((300, 12)) < 0.3  # sparse: legs on and off
    command[7, 13:16] = (0.0, np.nan, 0.0)
    out = rng.normal(size=(300, 12)).astype(np.float32)
    ours = lane.targets(config, command, out)
    ref = LocomotionPolicy.targets(command, out)
    np.testing.assert_array_equal(ours, ref)
    overridden = np.any(command[:, 10:22].reshape(300, 4, 3) != 0, axis=2)
    assert 0 < overridden.mean() < 1


# --- build and fallback --------------------------------------------------------------------


@pytest.fixture
def fresh_loader(monkeypatch):
    """Forget the loaded library around a test that simulates another build outcome (with
    the compiled loop not turned off: these tests load, or fail to, on purpose)."""
    monkeypatch.delenv("GPC_SPOT_NATIVE", raising=False)
    native_lane_module.reset_for_tests()
    yield
    native_lane_module.reset_for_tests()


def fake_compiler(folder, message: str = "spot_lane.c:1: error: simulated failure") -> str:
    """A 'compiler' that answers --version and fails every build with ``message``."""
    path = folder / "fake-cc"
    path.write_text(f'#!/bin/sh\n[ "$1" = --version ] && {{ echo fake 1.0; exit 0; }}\n'
                    f'echo "{message}" >&2\nexit 1\n')  # fmt: skip
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_failing_build_is_one_line_and_leaves_nothing(tmp_path):
    with pytest.raises(NativeBuildError, match="simulated failure") as err:
        build_library(fake_compiler(tmp_path), cache=tmp_path / "cache")
    assert "\n" not in str(err.value)
    assert list((tmp_path / "cache").iterdir()) == []  # the temporary file is gone


def test_no_compiler_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    assert find_compiler() is None
    with pytest.raises(NativeBuildError, match="no C compiler"):
        build_library(cache=tmp_path)


@pytest.mark.skipif(find_compiler() is None, reason="no C compiler here")
def test_build_is_cached_and_atomic(tmp_path, capfd):
    path = build_library(cache=tmp_path)
    assert "compiling the Spot lane loop" in capfd.readouterr().err
    assert path.parent == tmp_path and path.stat().st_mode & stat.S_IXUSR
    assert build_library(cache=tmp_path) == path  # second call: from the cache
    assert "compiling" not in capfd.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left


def test_engine_falls_back_to_numpy_with_one_warning(task, start, fresh_loader, monkeypatch,
                                                     tmp_path):  # fmt: skip
    def failing_build() -> None:
        build_library(fake_compiler(tmp_path), cache=tmp_path)

    monkeypatch.setattr(native_lane_module, "build_library", failing_build)
    with pytest.warns(RuntimeWarning, match="numpy engine.*simulated failure"):
        engine = SpotRolloutEngine(task.model, nthread=2, policy=task.policy)
    assert not engine.native and engine.engine_name == "numpy"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per process, not per engine
        SpotRolloutEngine(task.model, nthread=2, policy=task.policy).close()
    with pytest.raises(ConfigError, match="simulated failure"):
        SpotRolloutEngine(task.model, nthread=2, policy=task.policy, native=True)
    reference = SpotRolloutEngine(task.model, nthread=2, policy=task.policy, native=False)
    targets = np.broadcast_to(task.nominal_action(start), (2, 3, 9))
    try:
        np.testing.assert_array_equal(engine.rollout_batch(start, targets),
                                      reference.rollout_batch(start, targets))  # fmt: skip
    finally:
        engine.close()
        reference.close()


def test_an_unloadable_library_falls_back(task, fresh_loader, monkeypatch, tmp_path):
    junk = tmp_path / "spot_lane-junk.so"
    junk.write_bytes(b"not an ELF file")
    monkeypatch.setattr(native_lane_module, "build_library", lambda: junk)
    reason = native_unavailable()
    assert reason is not None and "cannot load" in reason and "\n" not in reason
    assert native_lane() is None


def test_turned_off_by_the_environment_without_a_warning(task, fresh_loader, monkeypatch):
    monkeypatch.setenv("GPC_SPOT_NATIVE", "0")
    assert "GPC_SPOT_NATIVE=0" in (native_unavailable() or "")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine = SpotRolloutEngine(task.model, nthread=1, policy=task.policy)
    assert not engine.native


@needs_native
def test_a_library_built_for_other_constants_is_refused(fresh_loader, monkeypatch):
    """The loader compares the compiled sizes and offsets with constants.py: a mismatch
    (a stale cache entry the key missed, an edited constant) falls back, never runs."""
    assert native_lane() is not None and native_lane().mismatch() is None
    native_lane_module.reset_for_tests()
    real = native_lane_module.NativeLane.layout
    monkeypatch.setattr(native_lane_module.NativeLane, "layout",
                        lambda self: (*real(self)[:-1], 73))  # fmt: skip
    assert "compiled layout" in (native_unavailable() or "")
    assert native_lane() is None
