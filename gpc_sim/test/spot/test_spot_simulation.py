"""The sim node's plant: gpc eval's starts, commands that expire, NaN, blow-ups."""

import math

import mujoco
import numpy as np
import pytest

from gpc_sim.spot.simulation import TORSO_BODY, ChairPushSimulation
from gpc_sim.spot.world import CHAIR_BODY
from gpc_sim.task import initial_state_rng


@pytest.fixture
def sim(task):
    return ChairPushSimulation(task, seed=0, trial=0)


def walk(sim, steps):
    for _ in range(steps):
        sim.step()


def test_reset_starts_from_gpc_evals_initial_state(task, sim):
    sim.reset(2, 5, time=7.0)
    expected = task.sample_initial_state(initial_state_rng(2, 5))
    state = sim.state()
    assert task.layout.time(state) == pytest.approx(7.0)
    np.testing.assert_array_equal(task.layout.qpos(state), task.layout.qpos(expected))
    assert sim.start_time == 7.0 and sim.steps == 0


def test_a_command_walks_until_it_expires_then_the_robot_stops(task, sim):
    x0 = task.torso_pose(sim.state())[0]
    sim.command(np.array([0.5, 0.0, 0.0]), sim.truth_arm(), expires_at=2.0)
    walk(sim, 100)  # 2 s
    moved = task.torso_pose(sim.state())[0] - x0
    assert 0.6 < moved < 1.1
    walk(sim, 75)  # expired: zero velocity
    speed = np.linalg.norm(task.layout.qvel(sim.state())[0:2])
    assert speed < 0.1
    assert np.all(sim.active_command()[0:3] == 0.0)


def test_out_of_range_velocity_is_limited_and_nan_stops(task, sim):
    sim.command(np.array([5.0, 0.0, 9.0]), sim.truth_arm(), expires_at=10.0)
    np.testing.assert_allclose(sim.active_command()[0:3], [0.7, 0.0, 0.7])
    arm = sim.truth_arm()
    sim.command(np.array([math.nan, 0.0, 0.0]), np.full(6, math.nan), expires_at=10.0)
    assert np.all(sim.active_command()[0:3] == 0.0)
    np.testing.assert_array_equal(sim.active_command()[3:9], arm)  # NaN arm: kept


def test_body_poses_are_the_current_state_not_the_lagging_xpos(task, sim):
    sim.command(np.array([0.5, 0.2, 0.3]), sim.truth_arm(), expires_at=10.0)
    walk(sim, 20)
    poses = sim.body_poses()
    data = mujoco.MjData(task.model)
    data.qpos[:] = task.layout.qpos(sim.state())
    mujoco.mj_kinematics(task.model, data)
    for name in (TORSO_BODY, CHAIR_BODY):
        body = task.model.body(name).id
        np.testing.assert_allclose(poses[name][0], data.xpos[body], atol=1e-12)
        np.testing.assert_allclose(poses[name][1], data.xquat[body], atol=1e-12)


def test_a_blow_up_freezes_the_last_good_state(task, sim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MuJoCo writes MUJOCO_LOG.TXT into the cwd
    walk(sim, 5)
    good = sim.state()
    sim.data.qvel[:] = 1e30  # what a solver blow-up leaves
    sim.step()
    assert sim.diverged and sim.truth().diverged
    np.testing.assert_array_equal(sim.state(), good)
    walk(sim, 3)
    np.testing.assert_array_equal(sim.state(), good)
    sim.reset(0, 0)
    assert not sim.diverged


def test_success_time_is_recorded_once(task, sim):
    state = sim.state()
    qpos = task.layout.qpos(state)
    qpos[26:28] = task.goal[:2]  # the chair on the goal, facing +x
    qpos[29:33] = (1.0, 0.0, 0.0, 0.0)
    sim.load(state)
    walk(sim, 3)
    assert sim.truth().success
    assert sim.success_time == pytest.approx(0.02)
