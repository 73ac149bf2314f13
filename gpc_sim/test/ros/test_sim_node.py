"""The sim node over DDS: what it publishes, its services, its mocap model and lock-step, the
goal it measures against (the goal topic's), and its end at the end of a duration."""

import math
import signal
import time

import numpy as np
import pytest
from geometry_msgs.msg import PoseStamped
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from std_srvs.srv import SetBool

from gpc_msgs.msg import LocomotionCommand, SimStatus
from gpc_msgs.srv import ResetSim
from gpc_sim.ros import qos, topics
from gpc_sim.ros.convert import to_seconds
from gpc_sim.ros.goal import goal_message
from gpc_sim.ros.sim_params import SIM_PARAMETERS
from gpc_sim.ros.testing import NodeProcess, ProbeNode, domain_id
from gpc_sim.spot.constants import JOINT_NAMES
from gpc_sim.spot.simulation import ChairPushSimulation
from gpc_sim.tasks import make_task
from mocap4r2_msgs.msg import RigidBodies


class Listener:
    def __init__(self, probe: ProbeNode) -> None:
        self.status: list[SimStatus] = []
        self.frames: list[RigidBodies] = []
        self.joints: list[JointState] = []
        self.clock: list[float] = []
        n = probe.node
        # The clock first: rclpy's executor serves ready subscriptions in the order they were
        # made, and the sim publishes a step's clock just before its frame; when both wait
        # (a loaded machine), the frame must not be read against the previous step's clock.
        n.create_subscription(Clock, topics.CLOCK, lambda m: self.clock.append(
            to_seconds(m.clock)), qos.STREAM)
        n.create_subscription(SimStatus, topics.SIM_STATUS, self.status.append, qos.RELIABLE)
        n.create_subscription(RigidBodies, topics.RIGID_BODIES, self._on_frame, qos.STREAM)
        n.create_subscription(JointState, topics.JOINT_STATES, self.joints.append, qos.STREAM)
        self.lags: list[float] = []  # newest clock seen - stamp, at each frame's arrival

    def _on_frame(self, msg: RigidBodies) -> None:
        self.frames.append(msg)
        if self.clock:
            self.lags.append(max(self.clock) - to_seconds(msg.header.stamp))



@pytest.fixture
def realtime(tmp_path):
    domain = domain_id()
    params = {"mocap_latency": 0.1, "torso_body": "spot_1", "chair_body": "chair_1"}
    with ProbeNode(domain) as probe, NodeProcess("gpc_sim", "sim_node", "gpc_sim", params,
                                                 tmp_path, domain) as sim:
        yield probe, Listener(probe), sim


def test_publishes_mocap_joints_clock_and_truth_in_real_time(realtime):
    probe, seen, sim = realtime
    probe.spin_until(lambda: len(seen.frames) > 20 and seen.status and seen.joints, 30.0,
                     "frames, joint states and status")
    frame = seen.frames[-1]
    assert frame.header.frame_id == "map"
    assert [b.rigid_body_name for b in frame.rigidbodies] == ["spot_1", "chair_1"]
    assert list(seen.joints[-1].name) == list(JOINT_NAMES)
    # Latency: a frame is published 0.1 s after its capture and keeps the capture stamp.
    # (The clock is published just before the frame but on another topic, best effort: the
    # newest clock seen may be a step, 0.02 s, behind.)
    assert min(seen.lags) >= 0.1 - 0.02 - 1e-6
    assert 0.1 - 1e-6 <= float(np.median(seen.lags)) < 0.15
    status = seen.status[-1]
    assert status.start_position_error > 2.0 and math.isnan(status.success_time)
    assert not status.paused and not status.finished


def test_reset_and_pause_services(realtime):
    probe, seen, _ = realtime
    probe.spin_until(lambda: len(seen.status) > 2, 30.0, "status")
    res = probe.call(ResetSim, topics.RESET_SIM, ResetSim.Request(seed=1, trial=2))
    assert res.success and "trial 2 of seed 1" in res.message
    before = seen.clock[-1]
    probe.spin_until(lambda: seen.status[-1].trial == 2 and seen.status[-1].seed == 1, 10.0,
                     "the new trial")
    assert seen.clock[-1] >= before  # the clock runs on through a reset
    assert probe.call(SetBool, topics.PAUSE_SIM, SetBool.Request(data=True)).success
    probe.spin_for(0.5)
    step = seen.status[-1].step
    probe.spin_for(1.0)
    assert seen.status[-1].step == step and seen.status[-1].paused
    probe.call(SetBool, topics.PAUSE_SIM, SetBool.Request(data=False))
    probe.spin_until(lambda: seen.status[-1].step > step, 10.0, "running again")


def test_lockstep_steps_once_per_answered_frame_and_times_out_without(tmp_path):
    domain = domain_id()
    record = tmp_path / "episode.npz"
    # The wait per frame is long enough that a loaded machine (CI: 2 cores, this process
    # answering from Python) never runs it out while the test answers: 0.3 s did once.
    params = {"lockstep": True, "lockstep_timeout": 2.0, "lockstep_start_timeout": 30.0,
              "status_rate": 50.0, "record": str(record)}
    with ProbeNode(domain) as probe, NodeProcess("gpc_sim", "sim_node", "gpc_sim", params,
                                                 tmp_path, domain) as sim:
        seen = Listener(probe)
        answers = probe.node.create_publisher(LocomotionCommand, topics.LOCOMOTION_COMMAND,
                                              qos.STREAM)
        answered = []

        def answer():  # play the bridge: answer each new frame once
            if seen.frames and (not answered or answered[-1] != seen.frames[-1].header.stamp):
                msg = LocomotionCommand(plan_id=1, valid_for=0.3, vx=0.3)
                msg.header.stamp = seen.frames[-1].header.stamp
                msg.arm_joints = [math.nan] * 6  # no arm target: keep the arm
                answers.publish(msg)
                answered.append(msg.header.stamp)

        probe.spin_until(lambda: len(answered) >= 30, 60.0, "30 answered frames", every=answer,
                         period=0.005)
        probe.spin_for(0.2)
        status = seen.status[-1]
        assert abs(status.step - len(answered)) <= 1  # one step per answer, none without
        assert status.lockstep_timeouts == 0
        probe.spin_until(lambda: seen.status[-1].lockstep_timeouts >= 2, 10.0,
                         "timeouts once nobody answers")
        assert sim.alive()
        assert sim.stop() == 0

    # The record: every step's state, and the command applied before it (NaN: none new).
    saved = np.load(record)
    states, commands = saved["states"], saved["commands"]
    assert len(states) == len(commands) + 1 >= len(answered)
    assert list(saved["command_fields"][:2]) == ["stamp", "vx"]
    applied = commands[np.isfinite(commands[:, 0])]
    assert abs(len(applied) - len(answered)) <= 1
    assert np.array_equal(applied[:, 0], [to_seconds(s) for s in answered[:len(applied)]])
    assert np.all(applied[:, 1] == 0.3) and np.all(np.isnan(applied[:, 5:]))
    assert np.isnan(commands[:, 0]).sum() >= 2  # the steps after timeouts had none


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_node_cleanly(tmp_path, sig):
    domain = domain_id()
    with ProbeNode(domain) as probe, NodeProcess("gpc_sim", "sim_node", "gpc_sim", {},
                                                 tmp_path, domain) as sim:
        seen = Listener(probe)
        probe.spin_until(lambda: seen.status, 30.0, "the node up")
        assert sim.stop(sig, timeout=10.0) == 0


def test_the_goal_topic_sets_the_goal_errors_and_success_are_measured_against(realtime):
    """One goal: the sim measures its errors (and the start errors the summary reports)
    against the latest goal on the latched goal topic, not its task's default."""
    probe, seen, sim = realtime
    probe.spin_until(lambda: seen.status, 30.0, "status")
    assert (seen.status[-1].goal_x, seen.status[-1].goal_y) == (1.2, 0.0)  # the default
    goal = (0.5, 0.75, 1.0)
    publisher = probe.node.create_publisher(PoseStamped, topics.GOAL, qos.LATCHED)
    publisher.publish(goal_message(goal, "map"))
    probe.spin_until(lambda: seen.status[-1].goal_y == pytest.approx(0.75), 10.0,
                     "the new goal in the status")
    status = seen.status[-1]
    assert (status.goal_x, status.goal_y, status.goal_yaw) == pytest.approx(goal)
    start = ChairPushSimulation(make_task("spot_chair", nthread=1, goal=goal), 0, 0).truth()
    assert status.start_position_error == pytest.approx(start.position_error)
    assert math.hypot(status.chair_x - goal[0], status.chair_y - goal[1]) == pytest.approx(
        status.position_error, abs=1e-6)
    publisher.publish(goal_message((9.0, 9.0, 0.0), "odom"))  # no TF here: refused
    probe.spin_until(lambda: "goal in frame 'odom' refused" in sim.output(), 10.0,
                     "the refusal")
    assert seen.status[-1].goal_x == pytest.approx(0.5)


def test_the_sim_ends_by_itself_at_the_end_of_its_duration(tmp_path):
    """exit_on_finish (both launchers set it): a launch of `duration:=...` ends with it."""
    domain = domain_id()
    params = {"duration": 0.4, "exit_on_finish": True, "status_rate": 50.0,
              "start_paused": True}
    with ProbeNode(domain) as probe, NodeProcess("gpc_sim", "sim_node", "gpc_sim", params,
                                                 tmp_path, domain) as sim:
        seen = Listener(probe)
        probe.spin_until(lambda: seen.status, 30.0, "the paused sim")  # connected
        probe.call(SetBool, topics.PAUSE_SIM, SetBool.Request(data=False))
        end = time.monotonic() + 60.0
        while sim.alive() and time.monotonic() < end:
            probe.spin_for(0.1)
        assert sim.proc.wait(timeout=5) == 0
        probe.spin_for(0.3)
        assert seen.status and seen.status[-1].finished  # the finished status went out
        assert seen.status[-1].step == 20
        assert "shutting down (exit_on_finish)" in sim.output()
        assert "no subscriber" not in sim.output()  # the probe heard it: no wait for one


@pytest.mark.parametrize("name", ["status_rate", "mocap_rate", "realtime_factor"])
def test_rates_have_ranges_that_refuse_zero(name):
    """A rate of 0 divided by zero in a worker thread; the ranges refuse it at start-up."""
    spec = next(s for s in SIM_PARAMETERS if s.name == name)
    assert "outside" in spec.check(0.0)


def test_with_no_one_listening_the_sim_still_ends_by_itself(tmp_path):
    """exit_on_finish waits for a subscriber of the finished status (a launcher's monitor
    that discovered the sim late), but not for ever: with none it ends, exit status 0."""
    params = {"duration": 0.2, "exit_on_finish": True}
    with NodeProcess("gpc_sim", "sim_node", "gpc_sim", params, tmp_path, domain_id()) as sim:
        assert sim.proc.wait(timeout=90) == 0
        assert "no subscriber of the sim status heard the finished status" in sim.output()
        assert "shutting down (exit_on_finish)" in sim.output()
