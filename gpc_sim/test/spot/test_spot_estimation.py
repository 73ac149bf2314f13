"""The planner's state estimate from mocap frames and joint states."""

import math

import numpy as np
import pytest

from gpc_sim.spot.estimation import EstimatorConfig, SpotStateEstimator, body_angular_velocity
from gpc_sim.spot.simulation import TORSO_BODY, ChairPushSimulation
from gpc_sim.spot.world import CHAIR_BODY


def feed(est, sim, steps, every=1):
    for k in range(steps):
        sim.step()
        if k % every == 0:
            poses = sim.body_poses()
            assert est.update_bodies(sim.time, poses[TORSO_BODY], poses[CHAIR_BODY],
                                     now=sim.time) is None
            names, q, v = sim.joints()
            est.update_joints(sim.time, names, q, v, now=sim.time)


@pytest.fixture
def walking(task):
    """A robot walking forward, sideways and turning for 2 s, the estimator fed at 50 Hz."""
    sim = ChairPushSimulation(task, 0, 3)
    sim.command(np.array([0.5, 0.2, 0.3]), sim.truth_arm(), expires_at=100.0)
    est = SpotStateEstimator(task)
    feed(est, sim, 100)
    return sim, est


def test_pose_and_joints_are_exact_and_velocities_close(task, walking):
    sim, est = walking
    estimate = est.estimate(sim.time)
    assert estimate.problem is None and estimate.age == 0.0
    true, ours = sim.state(), estimate.state
    layout = task.layout
    assert layout.time(ours) == layout.time(true)
    np.testing.assert_allclose(layout.qpos(ours)[:33], layout.qpos(true)[:33], atol=1e-9)
    qv_true, qv = layout.qvel(true), layout.qvel(ours)
    np.testing.assert_array_equal(qv[6:25], qv_true[6:25])  # joint velocities as reported
    # Filtered finite differences lag the gait's oscillation: a few cm/s, a few 0.01 rad/s.
    assert np.linalg.norm(qv[0:2] - qv_true[0:2]) < 0.1
    assert abs(qv[5] - qv_true[5]) < 0.15  # yaw rate (body frame)


def test_a_single_frame_gives_a_state_at_rest(task):
    sim = ChairPushSimulation(task, 0, 0)
    est = SpotStateEstimator(task)
    poses = sim.body_poses()
    est.update_bodies(0.0, poses[TORSO_BODY], poses[CHAIR_BODY], now=0.0)
    assert est.estimate(0.0).problem == "no joint_states with the arm joints yet"
    names, q, v = sim.joints()
    est.update_joints(0.0, names, q, v, now=0.0)
    estimate = est.estimate(0.01)
    assert estimate.problem is None
    assert np.all(task.layout.qvel(estimate.state)[0:6] == 0.0)


def test_stale_nan_and_jumps_are_problems_not_states(task, walking):
    sim, est = walking
    config = est.config
    assert "stale mocap" in est.estimate(sim.time + config.timeout + 0.01).problem
    poses = sim.body_poses()
    bad = (np.array([math.nan, 0.0, 0.5]), poses[TORSO_BODY][1])
    assert "NaN" in est.update_bodies(sim.time + 0.02, bad, poses[CHAIR_BODY],
                                     now=sim.time + 0.02)
    assert est.estimate(sim.time).problem is None  # the NaN frame changed nothing
    far = (poses[TORSO_BODY][0] + [2.0, 0.0, 0.0], poses[TORSO_BODY][1])
    problem = est.update_bodies(sim.time + 0.02, far, poses[CHAIR_BODY], now=sim.time + 0.02)
    assert "jump of 2.00 m" in problem
    assert "jump" in est.estimate(sim.time + 0.02).problem
    later = (far[0] + [0.01, 0.0, 0.0], far[1])
    assert est.update_bodies(sim.time + 0.04, later, poses[CHAIR_BODY],
                             now=sim.time + 0.04) is None
    assert est.estimate(sim.time + 0.04).problem is None  # re-initialised from the new place


def test_duplicate_frames_are_ignored_and_older_ones_refused(task, walking):
    sim, est = walking
    poses = sim.body_poses()
    assert est.update_bodies(sim.time, poses[TORSO_BODY], poses[CHAIR_BODY],
                             now=sim.time) is None
    assert "older" in est.update_bodies(sim.time - 0.1, poses[TORSO_BODY], poses[CHAIR_BODY],
                                       now=sim.time)


def test_joint_states_are_checked(task, walking):
    sim, est = walking
    names, q, v = sim.joints()
    assert "NaN" in est.update_joints(sim.time, names, np.full(19, math.nan), v, now=sim.time)
    assert "names" in est.update_joints(sim.time, names, q[:5], None, now=sim.time)
    later = sim.time + EstimatorConfig().joint_timeout + 0.05
    poses = sim.body_poses()
    assert est.update_bodies(later, poses[TORSO_BODY], poses[CHAIR_BODY], now=later) is None
    assert "stale joint_states" in est.estimate(later).problem


def test_stamps_from_the_future_are_refused_and_cannot_latch(task, walking):
    sim, est = walking
    poses = sim.body_poses()
    tolerance = est.config.future_tolerance
    ahead = sim.time + tolerance + 1.0
    problem = est.update_bodies(ahead, poses[TORSO_BODY], poses[CHAIR_BODY], now=sim.time)
    assert "in the future" in problem
    # Refused: the next correctly stamped frame is taken (not "older than the last one").
    sim.step()
    poses = sim.body_poses()
    assert est.update_bodies(sim.time, poses[TORSO_BODY], poses[CHAIR_BODY],
                             now=sim.time) is None
    names, q, v = sim.joints()
    assert "in the future" in est.update_joints(ahead, names, q, v, now=sim.time)
    assert est.update_joints(sim.time, names, q, v, now=sim.time) is None
    # Within the tolerance a stamp is taken, and the age it reports is never negative.
    early = sim.time + tolerance / 2
    assert est.update_bodies(early, poses[TORSO_BODY], poses[CHAIR_BODY], now=sim.time) is None
    estimate = est.estimate(sim.time)
    assert estimate.problem is None and estimate.age == 0.0


def test_a_zero_quaternion_is_a_lost_body_not_yaw_zero(task, walking):
    sim, est = walking
    poses = sim.body_poses()
    lost = (poses[TORSO_BODY][0], np.zeros(4))
    problem = est.update_bodies(sim.time + 0.02, lost, poses[CHAIR_BODY], now=sim.time + 0.02)
    assert "degenerate orientation" in problem


def test_body_angular_velocity_of_a_known_turn():
    yaw = 0.2
    q0 = np.array([1.0, 0.0, 0.0, 0.0])
    q1 = np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])
    np.testing.assert_allclose(body_angular_velocity(q0, q1, 0.1), [0.0, 0.0, 2.0])
    np.testing.assert_allclose(body_angular_velocity(q0, -q1, 0.1), [0.0, 0.0, 2.0])
    # A body pitched by 90 degrees turning about its own z: body-frame z, not world z.
    pitch = np.array([math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0])
    turn = np.array([math.cos(0.05), 0.0, 0.0, math.sin(0.05)])
    q2 = np.array([
        pitch[0] * turn[0] - pitch[2] * turn[2] * 0 - pitch[3] * turn[3],
        pitch[0] * turn[1] + pitch[1] * turn[0] + pitch[2] * turn[3] - pitch[3] * turn[2],
        pitch[0] * turn[2] - pitch[1] * turn[3] + pitch[2] * turn[0] + pitch[3] * turn[1],
        pitch[0] * turn[3] + pitch[1] * turn[2] - pitch[2] * turn[1] + pitch[3] * turn[0],
    ])
    np.testing.assert_allclose(body_angular_velocity(pitch, q2, 0.1), [0.0, 0.0, 1.0],
                               atol=1e-12)
