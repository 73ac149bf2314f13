"""The Spot chair-push task: batched engine, costs, success, starts, and a closed-loop smoke run.

The engine's numpy loop is checked against the obvious implementation (one MjData per world
stepped by ``policy.policy_step``; the compiled loop is held to the numpy one in
test_spot_native_engine.py); costs are checked term by term on hand-placed states. After the
module's task build (~1.5 s, mostly importing torch for the policy weights) each test runs in
well under a second: at most 0.5 s of simulated time for a handful of worlds.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace

import mujoco
import numpy as np
import pytest

from gpc_planner.episode import run_episode
from gpc_planner.evaluation import EvalSpec, evaluate
from gpc_planner.methods import build_planner
from gpc_planner.planner import task_spline
from gpc_sim.blas import single_blas_thread
from gpc_sim.rollout import get_state
from gpc_sim.spot.action import base_pose_from_qpos, targets_to_command
from gpc_sim.spot.constants import (
    ARM_JOINT_LIMITS,
    CHAIR_GOAL,
    CHAIR_QPOS_ADR,
    COMMAND_DT,
    GRIPPER_SITE,
    OBSTACLE_BOXES,
)
from gpc_sim.spot.policy import policy_step
from gpc_sim.spot.rollout import SpotRolloutEngine
from gpc_sim.spot.task import SpotChairConfig, SpotPlant
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import TASKS, make_task

WEIGHTS = tuple(f.name for f in fields(SpotChairConfig) if f.name.startswith("w_"))


@pytest.fixture(scope="module")
def numpy_engine(task):
    """The task's engine with the numpy lane loop (the reference the policy_step tests pin)."""
    engine = SpotRolloutEngine(task.model, nthread=2, policy=task.policy, native=False)
    yield engine
    engine.close()


def random_targets(task, state, n: int, steps: int, seed: int = 1) -> np.ndarray:
    """Targets (n, steps, 9) drifting from the hold target: walking, turning, arm moving."""
    rng = np.random.default_rng(seed)
    hold = task.nominal_action(state)
    drift = rng.normal(0.0, [0.6, 0.6, 0.6, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], (n, 1, 9))
    return hold + drift * np.linspace(0.0, 1.0, steps)[None, :, None]


def with_chair(task, state, x, y, yaw=0.0, tilt=0.0) -> np.ndarray:
    """A copy of ``state`` with the chair at (x, y), heading ``yaw``, leaning ``tilt`` about
    its own x axis."""
    s = state.copy()
    qpos = task.layout.qpos(s)
    qpos[CHAIR_QPOS_ADR : CHAIR_QPOS_ADR + 3] = (x, y, 0.0)
    yaw_q, roll_q = np.empty(4), np.empty(4)
    mujoco.mju_axisAngle2Quat(yaw_q, [0, 0, 1], yaw)
    mujoco.mju_axisAngle2Quat(roll_q, [1, 0, 0], tilt)
    mujoco.mju_mulQuat(qpos[CHAIR_QPOS_ADR + 3 : CHAIR_QPOS_ADR + 7], yaw_q, roll_q)
    return s


def term(task, weight: str, *states: np.ndarray) -> list[float]:
    """Running cost of each state with only ``weight`` on (at its default value)."""
    saved = task.config
    task.config = replace(saved, **{w: 0.0 for w in WEIGHTS} | {weight: getattr(saved, weight)})
    try:
        return [float(task.running_cost(s[None, None], np.zeros((1, 1, 9)))[0, 0])
                for s in states]
    finally:
        task.config = saved


# --- engine -----------------------------------------------------------------------------


def test_batched_engine_equals_each_world_stepped_alone(task, start, numpy_engine):
    n, steps = 4, 25  # 0.5 s
    targets = random_targets(task, start, n, steps)
    ours = numpy_engine.rollout_batch(start, targets).copy()
    assert ours.shape == (n, steps, task.layout.size)
    # Reference: one MjData per world, the policy evaluated on the same batch of 4 (its
    # float32 matmul rounds differently for a batch of 1, ~1e-5 of its output, so a batch is
    # compared with a batch and a single world with a single world, below).
    model = task.model
    datas = [mujoco.MjData(model) for _ in range(n)]
    for data in datas:
        data.qpos[:] = task.layout.qpos(start)
        mujoco.mj_forward(model, data)
    prev = np.zeros((n, 12), dtype=np.float32)
    worst = 0.0
    # One BLAS thread, as the engine runs its policy: with some OpenBLAS kernels (Haswell)
    # a threaded product rounds differently, ~1e-5 of the policy's output.
    with single_blas_thread():
        for k in range(steps):
            qpos = np.stack([d.qpos for d in datas])
            command = targets_to_command(targets[:, k], base_pose_from_qpos(qpos))
            prev = policy_step(model, datas, command, prev, task.policy)
            for i, data in enumerate(datas):
                expected = task.layout.pack(get_state(model, data), prev[i])
                worst = max(worst, np.abs(ours[i, k] - expected).max())
    # Measured 1.5e-13: the reference keeps MuJoCo's solver warm start, the engine starts
    # each command step cold (mujoco.rollout), and the Newton solver converges either way.
    assert worst < 1e-9
    assert np.ptp(task.layout.qpos(ours)[:, -1, 0]) > 0.05  # the worlds did differ
    np.testing.assert_allclose(task.layout.qpos(ours)[:, :, 2], 0.5, atol=0.1)  # standing


def test_plant_steps_like_one_world_with_policy_step(task, start, numpy_engine):
    steps = 25
    targets = random_targets(task, start, 1, steps, seed=2)[0]
    plant = SpotPlant(task.model, start, task.policy, native=False)
    data = mujoco.MjData(task.model)
    data.qpos[:] = task.layout.qpos(start)
    mujoco.mj_forward(task.model, data)
    prev = np.zeros(12, dtype=np.float32)
    for k in range(steps):
        plant.step(targets[k])
        command = targets_to_command(targets[k], base_pose_from_qpos(data.qpos))
        prev = policy_step(task.model, data, command, prev, task.policy)
        expected = task.layout.pack(get_state(task.model, data), prev)
        np.testing.assert_allclose(plant.state(), expected, rtol=0, atol=1e-9)
    assert plant.state()[0] == pytest.approx(steps * COMMAND_DT)  # time advanced 0.02 s/step
    # The plant is the engine on one world: a rollout from its start replays it exactly.
    replay = numpy_engine.rollout_batch(start, targets[None])[0, -1]
    np.testing.assert_array_equal(replay, plant.state())


def test_engine_reuses_buffers_and_takes_per_world_starts(task, start):
    targets = random_targets(task, start, 3, 10)
    first = task.rollout(start, targets).copy()
    task.rollout(start, targets[:2, :4])  # another shape in between
    starts = np.stack([start] * 3)
    np.testing.assert_array_equal(task.rollout(starts, targets), first)
    # Continuing from a returned state = one longer rollout (the state is Markov).
    half = task.rollout(start, targets[:, :5])[:, -1].copy()
    np.testing.assert_array_equal(task.rollout(half, targets[:, 5:]), first[:, 5:])
    with pytest.raises(ValueError, match="channels"):
        task.rollout(start, np.zeros((2, 3, 19)))


def test_gripper_kinematics_match_mujoco(task, start):
    model = task.model
    data = mujoco.MjData(model)
    site = model.site(GRIPPER_SITE).id
    rng = np.random.default_rng(3)
    for _ in range(5):
        data.qpos[:] = task.layout.qpos(start)
        data.qpos[0:3] += rng.normal(size=3)
        data.qpos[3:7] = rng.normal(size=4)  # unnormalised on purpose
        data.qpos[7:26] += rng.normal(0.0, 0.8, 19)
        mujoco.mj_kinematics(model, data)
        np.testing.assert_allclose(task.gripper(data.qpos), data.site_xpos[site], atol=1e-12)
    batch = np.tile(task.layout.qpos(start), (2, 3, 1))
    assert task.gripper(batch).shape == (2, 3, 3)


# --- costs --------------------------------------------------------------------------------


def test_chair_nearer_the_goal_is_cheaper(task, start):
    gx, gy, _ = CHAIR_GOAL
    far, near = with_chair(task, start, gx + 1.0, gy), with_chair(task, start, gx + 0.4, gy)
    assert np.subtract(*term(task, "w_position", far, near)) == pytest.approx(60.0 * 0.6)
    turned, straight = with_chair(task, start, gx, gy, 1.0), with_chair(task, start, gx, gy, 0.2)
    assert np.subtract(*term(task, "w_yaw", turned, straight)) == pytest.approx(15.0 * 0.8)
    finals = np.stack([far, near])
    terminal = task.terminal_cost(finals)
    assert terminal[1] < terminal[0]
    both = np.stack([far, near])[:, None]
    total = task.cost(np.repeat(both, 3, axis=1), np.zeros((2, 3, 9)))
    assert total[1] < total[0]


def test_robot_nearer_the_chair_is_cheaper(task, start):
    chair = task.chair_pose(start)
    close = start.copy()
    task.layout.qpos(close)[0] = chair[0] - 1.2  # torso 1.2 m behind the chair, facing it
    task.layout.qpos(close)[1] = chair[1]
    torso_far, torso_close = term(task, "w_torso_proximity", start, close)
    grip_far, grip_close = term(task, "w_gripper_proximity", start, close)
    assert torso_close < torso_far and grip_close < grip_far
    assert torso_close == pytest.approx(2.0 * 1.2)
    # The gripper term pulls the gripper, not the torso: reaching forward and down, nearer
    # the seat point, is cheaper for the same torso.
    arm_down = close.copy()
    task.layout.qpos(arm_down)[19:25] = (0.0, -0.5, 1.0, 0.0, 0.3, 0.0)  # reach forward, low
    (reach,) = term(task, "w_gripper_proximity", arm_down)
    gripper = task.gripper_position(arm_down)
    seat = np.array([chair[0], chair[1], 0.48])
    assert reach == pytest.approx(4.0 * np.linalg.norm(gripper - seat))
    assert np.linalg.norm(gripper - seat) < np.linalg.norm(task.gripper_position(close) - seat)


def test_fallen_robot_and_tipped_chair_are_expensive(task, start):
    (base,) = term(task, "w_fall", start)
    fallen = start.copy()
    task.layout.qpos(fallen)[2] = 0.2
    (fall,) = term(task, "w_fall", fallen)
    assert base == 0.0 and fall == pytest.approx(2000.0)
    x, y, yaw = task.chair_pose(start)
    leaning, tipped = with_chair(task, start, x, y, yaw, math.radians(10)), with_chair(
        task, start, x, y, yaw, math.radians(35)
    )
    assert term(task, "w_tip", start, leaning, tipped) == [0.0, 0.0, pytest.approx(2000.0)]
    # Against the whole running cost, both dwarf the rest.
    total = task.running_cost(np.stack([start, fallen, tipped])[:, None], np.zeros((3, 1, 9)))
    assert total[1, 0] > total[0, 0] + 1500 and total[2, 0] > total[0, 0] + 1500


def test_arm_beyond_its_soft_limits_costs_more(task, start):
    (inside,) = term(task, "w_joint_limit", start)
    assert inside == 0.0  # the start arm (unstowed) is well inside
    low, high = ARM_JOINT_LIMITS[2]  # el0: 0 .. pi
    near_limit, at_limit = start.copy(), start.copy()
    task.layout.qpos(near_limit)[21] = high - 0.05 * (high - low)
    task.layout.qpos(at_limit)[21] = high
    near, at = term(task, "w_joint_limit", near_limit, at_limit)
    assert 0.0 < near < at
    assert at == pytest.approx(50.0 * 0.1 * (high - low))  # 10 % of the range beyond the soft limit


def test_joint_velocity_is_penalised(task, start):
    moving = start.copy()
    task.layout.qvel(moving)[6:25] = 2.0
    still, fast = term(task, "w_velocity", start, moving)
    assert still == 0.0 and fast == pytest.approx(0.02 * 2.0 * math.sqrt(19))


def test_obstacle_term_is_off_by_default_and_on_in_the_avoid_variant(task, start):
    assert task.config.w_obstacle == 0.0 and task.name == "spot_chair"
    _, (cx, cy, _), (hx, hy, _) = OBSTACLE_BOXES[0]  # the back wall
    at_wall = with_chair(task, start, cx - hx - 0.36, cy)  # chair footprint 1 cm off the wall
    assert task.obstacle_intrusion(task.layout.qpos(start)) == 0.0
    assert task.obstacle_intrusion(task.layout.qpos(at_wall)) == pytest.approx(0.09)
    avoid = make_task("spot_chair_avoid", nthread=1)
    assert avoid.name == "spot_chair_avoid" and avoid.family == task.family
    assert avoid.config.w_obstacle > 0.0
    states = np.stack([start, at_wall])[:, None]
    plain, extra = task.running_cost(states, np.zeros((2, 1, 9))), avoid.running_cost(
        states, np.zeros((2, 1, 9))
    )
    assert extra[0, 0] == pytest.approx(plain[0, 0])  # away from the wall: no difference
    assert extra[1, 0] - plain[1, 0] == pytest.approx(avoid.config.w_obstacle * 0.09)
    # The robot's footprint counts too: torso beside the left arm of the C, facing +x, 0.2 m
    # from its outer face: both footprint circles (r 0.25) are 0.15 m inside the margin.
    beside = start.copy()
    _, (_, ay, _), (_, ahy, _) = OBSTACLE_BOXES[1]
    task.layout.qpos(beside)[0:7] = (-0.65, ay + ahy + 0.2, 0.5, 1.0, 0.0, 0.0, 0.0)
    assert avoid.obstacle_intrusion(task.layout.qpos(beside)) == pytest.approx(0.30)


# --- success, metrics, starts, observation ----------------------------------------------


def test_success_needs_position_yaw_and_an_upright_chair(task, start, monkeypatch):
    gx, gy, _ = CHAIR_GOAL
    assert task.success(with_chair(task, start, gx + 0.1, gy - 0.05, math.radians(45)))
    assert not task.success(with_chair(task, start, gx + 0.16, gy))
    assert not task.success(with_chair(task, start, gx, gy, math.radians(55)))
    assert not task.success(with_chair(task, start, gx, gy, 0.0, math.radians(60)))  # tipped
    metrics = task.metrics(with_chair(task, start, gx + 0.3, gy + 0.4, -0.5, 0.2))
    assert metrics["position_error"] == pytest.approx(0.5)
    assert metrics["yaw_error"] == pytest.approx(0.5)
    assert metrics["tilt"] == pytest.approx(0.2)
    assert metrics["torso_height"] == pytest.approx(task.layout.qpos(start)[2])
    # Yaw wraps: a goal heading of pi - 0.2 is 0.4 rad from a chair at -pi + 0.2.
    monkeypatch.setattr(task, "goal", np.array([gx, gy, math.pi - 0.2]))
    wrapped = with_chair(task, start, gx, gy, -math.pi + 0.2)
    assert task.success(wrapped)
    assert task.metrics(wrapped)["yaw_error"] == pytest.approx(0.4)


def test_initial_states_are_seeded_standing_and_unsolved(task):
    a = task.sample_initial_state(initial_state_rng(4, 2))
    b = task.sample_initial_state(initial_state_rng(4, 2))
    c = task.sample_initial_state(initial_state_rng(4, 3))
    d = task.sample_initial_state(initial_state_rng(5, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, d)
    assert a.shape == (task.layout.size,) and a[0] == 0.0
    np.testing.assert_array_equal(task.layout.prev_out(a), 0.0)
    np.testing.assert_array_equal(task.layout.qvel(a), 0.0)
    assert not task.success(a) and task.metrics(a)["position_error"] > 2.0


def test_observation_nominal_action_and_bounds(task, start):
    obs = task.observation(start)
    assert obs.shape == (len(task.observation_names),) == (14,)
    qpos = task.layout.qpos(start)
    torso, chair = task.torso_pose(start), task.chair_pose(start)
    np.testing.assert_allclose(obs[:4], [*qpos[:2], math.sin(torso[2]), math.cos(torso[2])])
    np.testing.assert_allclose(obs[4:8], [*chair[:2], math.sin(chair[2]), math.cos(chair[2])])
    np.testing.assert_array_equal(obs[8:], qpos[19:25])
    hold = task.nominal_action(start)
    assert hold.shape == (task.action_dim,) == (9,)
    assert np.all(hold >= task.action_low) and np.all(hold <= task.action_high)
    command = targets_to_command(hold, torso)
    np.testing.assert_allclose(command[:3], 0.0, atol=1e-12)  # holding: no velocity
    assert task.action_high[2] > math.pi and task.action_low[2] < -math.pi  # room to wrap
    spline = task_spline(task)
    assert (spline.num_steps, spline.num_knots, spline.kind) == (200, 4, "linear")
    assert task.dt == COMMAND_DT and task.config.replan_hz == 5.0
    assert {"spot_chair", "spot_chair_avoid"} <= set(TASKS)


# --- closed loop --------------------------------------------------------------------------


def test_short_closed_loop_cem_runs_and_the_robot_stays_up(task, start):
    planner = build_planner(task, "cem", np.random.default_rng(0), horizon=0.4, num_rollouts=4)
    result = run_episode(planner, start, max_steps=50, record=True)  # 5 planning steps
    assert result.steps == 50 and len(result.plan_times) == 5 and not result.success
    heights = task.layout.qpos(result.states)[:, 2]
    assert heights.min() > 0.35
    assert np.all(np.isfinite(result.states))
    assert set(result.final_metrics) == {"position_error", "yaw_error", "tilt", "torso_height"}


def test_gpc_eval_contract_runs_on_spot_chair():
    summary = evaluate(EvalSpec(task="spot_chair", method="cem", trials=1, rollouts=2,
                                horizon=0.2, max_steps=10), workers=1, progress=False)
    assert summary["task"] == "spot_chair" and summary["trials"] == 1
    assert summary["per_trial"][0]["steps"] == 10
    assert summary["per_trial"][0]["final_error"] > 2.0


def test_chair_start_y_narrows_the_starts_to_the_front_of_the_cup_in_the_same_stream():
    from gpc_sim.errors import ConfigError
    from gpc_sim.spot.world import chair_pose_from_qpos

    wide = make_task("spot_chair", nthread=1)
    front = make_task("spot_chair", nthread=1, chair_start_y=1.0)
    for i in range(20):
        a = wide.sample_initial_state(initial_state_rng(3, i))
        b = front.sample_initial_state(initial_state_rng(3, i))
        ya = chair_pose_from_qpos(wide.layout.qpos(a))[1]
        yb = chair_pose_from_qpos(front.layout.qpos(b))[1]
        assert abs(yb) <= 1.0 and yb == pytest.approx(ya / 1.6)  # the same draw, scaled
        np.testing.assert_allclose(front.object_position(b),
                                   chair_pose_from_qpos(front.layout.qpos(b))[:2])
    for bad in (-0.1, 2.0, float("nan"), "1"):
        with pytest.raises(ConfigError, match="chair_start_y"):
            make_task("spot_chair", nthread=1, chair_start_y=bad)
