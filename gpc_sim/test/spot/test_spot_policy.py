"""Spot model loading and the locomotion policy: mappings, and measured closed-loop behaviour.

The behaviour figures are those of notes/spot_locomotion_policy.md (measured with judo's
compiled rollout, which this implementation matches to ~1e-6 per step). Each simulated
run is a few seconds of sim time (~0.1 s of wall time).
"""

from __future__ import annotations

import importlib.util

import mujoco
import numpy as np
import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.spot import assets
from gpc_sim.spot.assets import load_spot_spec, policy_weights_path, spot_model
from gpc_sim.spot.constants import (
    ACTION_SCALE,
    COMMAND_DT,
    DEFAULT_ARM_POSE,
    DEFAULT_LEG_POSE,
    HEIGHT,
    ISAAC_FROM_MUJOCO,
    JOINT_NAMES,
    LEG_ACTION_FROM_MUJOCO,
    OBS_ANG_VEL,
    OBS_COMMAND,
    OBS_GRAVITY,
    OBS_JOINT_POS,
    OBS_JOINT_VEL,
    OBS_LIN_VEL,
    OBS_PREV_ACTION,
    SUBSTEPS,
    TIMESTEP,
    UNSTOWED_ARM_POSE,
    VX,
    VY,
    YAW_RATE,
)
from gpc_sim.spot.policy import (
    LocomotionPolicy,
    default_policy,
    gravity_in_body,
    policy_step,
    standing_command,
    standing_qpos,
    world_to_body,
)

# The note's tables, written out independently of the constants module.
ISAAC_NAMES = (
    "arm_sh0", "fl_hx", "fr_hx", "hl_hx", "hr_hx",
    "arm_sh1", "fl_hy", "fr_hy", "hl_hy", "hr_hy",
    "arm_el0", "fl_kn", "fr_kn", "hl_kn", "hr_kn",
    "arm_el1", "arm_wr0", "arm_wr1", "arm_f1x",
)  # fmt: skip
ISAAC_LEG_NAMES = tuple(n for n in ISAAC_NAMES if not n.startswith("arm_"))
UPRIGHT_Z = 0.35  # m: a torso below this has fallen (standing height ~0.48 m)


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return spot_model()


@pytest.fixture(scope="module")
def policy() -> LocomotionPolicy:
    return default_policy()


def simulate(
    model: mujoco.MjModel, commands: np.ndarray, seconds: float, arm: tuple[float, ...]
) -> np.ndarray:
    """Run N worlds (one per command row) from the standing start: qpos (steps, N, nq)."""
    commands = np.atleast_2d(commands)
    datas = [mujoco.MjData(model) for _ in commands]
    for data in datas:
        data.qpos[:] = standing_qpos(model, arm=arm)
        mujoco.mj_forward(model, data)
    prev = np.zeros((len(datas), 12), dtype=np.float32)
    history = []
    for _ in range(round(seconds / COMMAND_DT)):
        prev = policy_step(model, datas, commands, prev)
        history.append(np.stack([d.qpos.copy() for d in datas]))
    return np.array(history)


def yaw_of(quat: np.ndarray) -> np.ndarray:
    w, x, y, z = np.moveaxis(quat, -1, 0)
    return np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def rate_last_2s(values: np.ndarray) -> np.ndarray:
    """Mean rate of change over the last 2 s of a (steps, ...) history."""
    steps = round(2.0 / COMMAND_DT)
    return (values[-1] - values[-1 - steps]) / 2.0


def tilt_cos(quat: np.ndarray) -> np.ndarray:
    """Cosine of the torso's tilt from vertical (1 = upright)."""
    flat = quat.reshape(-1, 4)
    return -world_to_body(flat, np.array([0.0, 0.0, -1.0]))[:, 2].reshape(quat.shape[:-1])


# --- model ------------------------------------------------------------------------------


def test_model_layout_and_rates(model):
    assert model.opt.timestep == TIMESTEP
    assert SUBSTEPS * TIMESTEP == pytest.approx(COMMAND_DT)
    assert (model.nq, model.nv, model.nu) == (26, 25, 19)
    assert tuple(model.joint(i).name for i in range(1, 20)) == JOINT_NAMES
    actuated = tuple(model.joint(int(model.actuator_trnid[i, 0])).name for i in range(19))
    assert actuated == JOINT_NAMES
    # Gains from the note: legs kp 60 kv 1.5, arm kp 120 kv 2, gripper kp 16 kv 0.32.
    kp = model.actuator_gainprm[:, 0]
    kv = -model.actuator_biasprm[:, 2]
    np.testing.assert_allclose(kp, [60] * 12 + [120] * 6 + [16])
    np.testing.assert_allclose(kv, [1.5] * 12 + [2] * 6 + [0.32])
    np.testing.assert_allclose(model.actuator_forcerange[:12, 1], [45, 45, 115] * 4)


def test_box_variant_compiles_with_spot_first():
    box = spot_model("spot_box")
    assert box.nq == 26 + 7 and box.joint(20).name == "box_joint"


def test_visual_meshes_are_stripped():
    spec = load_spot_spec()
    assert not list(spec.meshes)
    assert all(not tex.file for tex in spec.textures)


def test_unknown_variant_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown Spot model"):
        load_spot_spec("spot_tire")


def test_missing_judo_is_a_one_line_config_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "judo" else real(name, *a)
    )
    for call in (assets.judo_dir, policy_weights_path, load_spot_spec):
        with pytest.raises(ConfigError, match="judo-rai is not installed") as err:
            call()
        assert "bash scripts/setup.sh" in str(err.value) and "\n" not in str(err.value)


# --- index maps and the observation -----------------------------------------------------


def test_isaac_maps_are_permutations_matching_the_note():
    assert sorted(ISAAC_FROM_MUJOCO) == list(range(19))
    assert sorted(LEG_ACTION_FROM_MUJOCO) == list(range(12))
    assert tuple(JOINT_NAMES[i] for i in ISAAC_FROM_MUJOCO) == ISAAC_NAMES
    # Leg target k (MuJoCo order) reads the output slot of the same joint in Isaac leg order.
    for k, slot in enumerate(LEG_ACTION_FROM_MUJOCO):
        assert ISAAC_LEG_NAMES[slot] == JOINT_NAMES[k]


def test_gravity_in_body_frame():
    identity = np.array([[1.0, 0.0, 0.0, 0.0]])
    down = np.array([0.0, 0.0, -1.0])
    np.testing.assert_allclose(world_to_body(identity, down), [[0, 0, -1]])
    # Yaw 0.7 rad then pitch 0.3 rad nose-down: gravity leans forward in the body frame,
    # (sin 0.3, 0, -cos 0.3), whatever the yaw.
    yaw, pitch = np.empty(4), np.empty(4)
    mujoco.mju_axisAngle2Quat(yaw, [0, 0, 1], 0.7)
    mujoco.mju_axisAngle2Quat(pitch, [0, 1, 0], 0.3)
    quat = np.empty(4)
    mujoco.mju_mulQuat(quat, yaw, pitch)
    np.testing.assert_allclose(
        world_to_body(quat[None], down), [[np.sin(0.3), 0, -np.cos(0.3)]], atol=1e-12
    )
    # Any orientation: R^T v with MuJoCo's own rotation matrix.
    rng = np.random.default_rng(0)
    quats = rng.normal(size=(5, 4))
    quats /= np.linalg.norm(quats, axis=1, keepdims=True)
    vecs = rng.normal(size=(5, 3))
    for q, v, got in zip(quats, vecs, world_to_body(quats, vecs), strict=True):
        rot = np.empty(9)
        mujoco.mju_quat2Mat(rot, q)
        np.testing.assert_allclose(got, rot.reshape(3, 3).T @ v, atol=1e-12)
    # The closed form the policy uses for gravity is the same rotation.
    np.testing.assert_allclose(gravity_in_body(quats), world_to_body(quats, down), atol=1e-15)
    np.testing.assert_allclose(gravity_in_body(quat[None]), [[np.sin(0.3), 0, -np.cos(0.3)]],
                               atol=1e-12)


def random_states(model: mujoco.MjModel, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    qpos = np.tile(standing_qpos(model), (n, 1))
    qpos[:, 3:7] += rng.normal(scale=0.2, size=(n, 4))
    qpos[:, 3:7] /= np.linalg.norm(qpos[:, 3:7], axis=1, keepdims=True)
    qpos[:, 7:] += rng.normal(scale=0.3, size=(n, 19))
    qvel = rng.normal(size=(n, model.nv))
    command = rng.normal(size=(n, 25))
    prev = rng.normal(size=(n, 12)).astype(np.float32)
    return qpos, qvel, command, prev


def test_observation_layout(model):
    qpos, qvel, command, prev = random_states(model, 1)
    obs = LocomotionPolicy.observe(qpos, qvel, command, prev)[0]
    assert obs.shape == (84,) and obs.dtype == np.float32
    quat = qpos[:, 3:7]
    np.testing.assert_allclose(obs[OBS_LIN_VEL], world_to_body(quat, qvel[:, :3])[0], rtol=1e-6)
    np.testing.assert_allclose(obs[OBS_ANG_VEL], qvel[0, 3:6], rtol=1e-6)
    np.testing.assert_allclose(obs[OBS_GRAVITY], world_to_body(quat, [0, 0, -1])[0], rtol=1e-6)
    np.testing.assert_allclose(obs[OBS_COMMAND], command[0], rtol=1e-6)
    np.testing.assert_array_equal(obs[OBS_PREV_ACTION], prev[0])
    default = dict(zip(JOINT_NAMES, DEFAULT_LEG_POSE + DEFAULT_ARM_POSE, strict=True))
    for j, name in enumerate(ISAAC_NAMES):
        joint = model.joint(name)
        pos = qpos[0, joint.qposadr[0]] - default[name]
        assert obs[OBS_JOINT_POS][j] == pytest.approx(pos, rel=1e-6, abs=1e-6), name
        assert obs[OBS_JOINT_VEL][j] == pytest.approx(qvel[0, joint.dofadr[0]], rel=1e-6), name


def test_batched_observation_equals_single_worlds(model):
    qpos, qvel, command, prev = random_states(model, 6, seed=1)
    batch = LocomotionPolicy.observe(qpos, qvel, command, prev)
    for i in range(6):
        single = LocomotionPolicy.observe(qpos[i : i + 1], qvel[i : i + 1], command[i : i + 1],
                                          prev[i : i + 1])  # fmt: skip
        np.testing.assert_array_equal(batch[i], single[0])


def test_forward_matches_the_torch_network(policy):
    import torch

    state = torch.load(policy_weights_path(), map_location="cpu", weights_only=True)
    net = torch.nn.Sequential(
        torch.nn.Linear(84, 512), torch.nn.ELU(), torch.nn.Linear(512, 256), torch.nn.ELU(),
        torch.nn.Linear(256, 128), torch.nn.ELU(), torch.nn.Linear(128, 12),
    )  # fmt: skip
    net.load_state_dict(state)
    obs = np.random.default_rng(2).normal(size=(5, 84)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(obs)).numpy()
    got = policy.forward(obs)
    assert got.shape == (5, 12) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)  # float32 rounding


def test_targets_map_output_legs_overrides_and_arm():
    command = standing_command()[None]
    zero = LocomotionPolicy.targets(command, np.zeros((1, 12), dtype=np.float32))[0]
    np.testing.assert_allclose(zero, DEFAULT_LEG_POSE + DEFAULT_ARM_POSE)
    for slot, name in enumerate(ISAAC_LEG_NAMES):
        out = np.zeros((1, 12), dtype=np.float32)
        out[0, slot] = 1.0
        moved = LocomotionPolicy.targets(command, out)[0] - zero
        k = JOINT_NAMES.index(name)
        assert moved[k] == pytest.approx(ACTION_SCALE)
        assert np.count_nonzero(moved) == 1
    # A leg whose override triple is non-zero takes it; the others keep the policy's.
    override = command.copy()
    override[0, 13:16] = (-0.1, 0.9, -1.6)  # FR
    out = np.full((1, 12), 0.5, dtype=np.float32)
    targets = LocomotionPolicy.targets(override, out)[0]
    np.testing.assert_allclose(targets[3:6], (-0.1, 0.9, -1.6))
    np.testing.assert_allclose(targets[:3], np.array(DEFAULT_LEG_POSE[:3]) + 0.1)
    np.testing.assert_allclose(targets[6:12], np.array(DEFAULT_LEG_POSE[6:]) + 0.1)
    np.testing.assert_allclose(targets[12:], DEFAULT_ARM_POSE)


def test_batched_step_equals_single_steps(model):
    commands = np.stack([standing_command(), standing_command()])
    commands[1, VX] = 0.5
    batch = [mujoco.MjData(model) for _ in range(2)]
    singles = [mujoco.MjData(model) for _ in range(2)]
    for data in batch + singles:
        data.qpos[:] = standing_qpos(model)
        mujoco.mj_forward(model, data)
    prev_batch = np.zeros((2, 12), dtype=np.float32)
    prev_single = [np.zeros(12, dtype=np.float32) for _ in range(2)]
    for _ in range(10):
        prev_batch = policy_step(model, batch, commands, prev_batch)
        prev_single = [policy_step(model, d, c, p)
                       for d, c, p in zip(singles, commands, prev_single, strict=True)]  # fmt: skip
    assert batch[0].time == pytest.approx(10 * COMMAND_DT)
    for i in range(2):
        np.testing.assert_allclose(prev_batch[i], prev_single[i], atol=1e-5)
        np.testing.assert_allclose(batch[i].qpos, singles[i].qpos, atol=1e-6)


# --- measured behaviour -----------------------------------------------------------------


def test_standing_for_10_s_never_falls_and_settles_at_048(model):
    qpos = simulate(model, standing_command(), 10.0, DEFAULT_ARM_POSE)[:, 0]
    z = qpos[:, 2]
    assert z.min() > UPRIGHT_Z
    assert tilt_cos(qpos[:, 3:7]).min() > np.cos(0.2)
    settled = z[len(z) // 2 :]  # the last 5 s
    assert settled.mean() == pytest.approx(0.48, abs=0.03)
    assert np.ptp(settled) < 0.04  # small stepping motions, no sag
    assert np.linalg.norm(qpos[-1, :2]) < 0.15  # stands in place (drifts a few cm)


def test_walking_forward_at_half_a_metre_per_second(model):
    command = standing_command()
    command[VX] = 0.5
    qpos = simulate(model, command, 4.0, DEFAULT_ARM_POSE)[:, 0]
    vx, vy = rate_last_2s(qpos[:, :2])
    assert vx == pytest.approx(0.47, abs=0.05)
    assert abs(vy) < 0.05
    assert qpos[:, 2].min() > UPRIGHT_Z
    assert tilt_cos(qpos[:, 3:7]).min() > np.cos(0.2)


def test_the_notes_table_with_the_gripper_closed(model):
    """All of the note's 4 s figures at once, as one batch of worlds (its arm pose)."""
    cases = [  # (command index, value, measured: x speed, y speed, yaw rate or height)
        (VX, 0.5, 0.475),
        (VX, 0.7, 0.665),
        (VY, 0.5, 0.44),
        (YAW_RATE, 0.5, 0.47),
        (HEIGHT, 0.40, 0.41),
        (HEIGHT, 0.60, 0.53),
        (HEIGHT, 0.52, 0.48),
    ]
    commands = np.tile(standing_command(UNSTOWED_ARM_POSE), (len(cases), 1))
    for row, (index, value, _) in zip(commands, cases, strict=True):
        row[index] = value
    qpos = simulate(model, commands, 4.0, UNSTOWED_ARM_POSE)
    assert qpos[:, :, 2].min() > UPRIGHT_Z
    xy_rate = rate_last_2s(qpos[:, :, :2])
    yaw_rate = rate_last_2s(np.unwrap(yaw_of(qpos[:, :, 3:7]), axis=0))
    height = qpos[-50:, :, 2].mean(axis=0)  # last second
    for i, (index, value, expected) in enumerate(cases):
        measured = {VX: xy_rate[i, 0], VY: xy_rate[i, 1], YAW_RATE: yaw_rate[i]}.get(
            index, height[i]
        )
        assert measured == pytest.approx(expected, abs=0.03), (index, value)
