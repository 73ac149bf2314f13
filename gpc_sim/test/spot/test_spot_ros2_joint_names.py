"""The estimator takes joint states as the spot_ros2 driver publishes them.

Recorded spot_ros2-style messages (data/spot_ros2_joint_states.yaml: its joint names after
a '<spot_name>/' prefix, stamps in nanoseconds) must give the same state as the sim's own
names; a name that is neither is reported, not silently dropped (with a driver that named
joints differently the planner used to wait for the arm joints forever)."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from gpc_sim.spot.constants import JOINT_NAMES
from gpc_sim.spot.estimation import SPOT_ROS2_JOINT_NAMES, SpotStateEstimator, joint_index
from gpc_sim.spot.simulation import TORSO_BODY, ChairPushSimulation
from gpc_sim.spot.world import CHAIR_BODY

RECORDED = Path(__file__).with_name("data") / "spot_ros2_joint_states.yaml"


@pytest.fixture(scope="module")
def recorded():
    return yaml.safe_load(RECORDED.read_text())["messages"]


def stamp(msg) -> float:
    return msg["header"]["stamp"]["sec"] + msg["header"]["stamp"]["nanosec"] / 1e9


def estimator_fed(task, messages, names_of=lambda m: m["name"]):
    """An estimator fed the sim's mocap and the given joint messages at their stamps."""
    sim = ChairPushSimulation(task, 0, 0)
    est = SpotStateEstimator(task)
    problems = []
    for msg in messages:
        t = stamp(msg)
        poses = sim.body_poses()
        est.update_bodies(t, poses[TORSO_BODY], poses[CHAIR_BODY], now=t)
        problems.append(est.update_joints(t, names_of(msg), np.array(msg["position"]),
                                          np.array(msg["velocity"]), now=t))
    return est, problems, stamp(messages[-1])


def test_every_spot_joint_has_one_spot_ros2_name():
    assert list(SPOT_ROS2_JOINT_NAMES) == list(JOINT_NAMES)
    assert len(set(SPOT_ROS2_JOINT_NAMES.values())) == len(JOINT_NAMES)
    for i, name in enumerate(JOINT_NAMES):
        ros2 = SPOT_ROS2_JOINT_NAMES[name]
        assert joint_index(name) == joint_index(ros2) == joint_index(f"robot_1/{ros2}") == i
    assert SPOT_ROS2_JOINT_NAMES["hr_kn"] == "rear_right_knee"
    assert joint_index("front_left_hip") is None


def test_recorded_spot_ros2_joint_states_give_the_sims_state(task, recorded):
    est, problems, t = estimator_fed(task, recorded)
    assert problems == [None] * len(recorded)
    estimate = est.estimate(t)
    assert estimate.problem is None  # the arm joints were seen: the planner can plan
    renamed = {v: k for k, v in SPOT_ROS2_JOINT_NAMES.items()}
    plain, plain_problems, _ = estimator_fed(
        task, recorded, lambda m: [renamed[n.split("/")[-1]] for n in m["name"]])
    assert plain_problems == problems
    np.testing.assert_array_equal(plain.estimate(t).state, estimate.state)


def test_unknown_joint_names_are_reported_and_the_known_ones_taken(task, recorded):
    msg = dict(recorded[0], name=[n.replace("Spot/arm_", "Spot/manip_") for n in
                                  recorded[0]["name"]])
    est, problems, t = estimator_fed(task, [msg])
    assert "unknown joint names ignored: Spot/manip_sh0" in problems[0]
    assert est.estimate(t).problem == "no joint_states with the arm joints yet"
