"""The bridge node over DDS: its watchdog stops the robot when the planner dies, and in real
mode it drives a fake Spot (a real gRPC server with TLS from a test CA on 127.0.0.1) through
the unmodified bosdyn-client: it starts without taking a held lease or powering anything
on, drives only after the explicit bring-up steps (spot/power_on, spot/stand), re-sends at
>= 10 Hz, survives a lost link, publishes joint states as spot_ros2 does, and hands the
robot back (stop, sit, power off, lease returned) within the launchers' timeouts. In real
mode it puts the torso poses it accepts on /tf; in sim mode it leaves TF to the sim."""

import math
import re
import signal
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from fake_spot import FakeSpot, make_test_ca
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger
from tf2_msgs.msg import TFMessage

from gpc_msgs.msg import BridgeStatus, HighLevelCommand, LocomotionCommand
from gpc_planner.bringup import resolve_arguments, spot_push_nodes
from gpc_sim.ros import qos, topics
from gpc_sim.ros.convert import clock_seconds, to_seconds, to_stamp, yaw_quaternion
from gpc_sim.ros.testing import NodeProcess, ProbeNode, RobotStream, domain_id, mocap_frame
from gpc_sim.spot.action import SAFE_ARM_POSE, targets_to_command, yaw_from_quat
from gpc_sim.spot.estimation import SPOT_ROS2_JOINT_NAMES
from gpc_sim.spot.simulation import TORSO_BODY, ChairPushSimulation
from gpc_sim.spot.world import CHAIR_BODY
from gpc_sim.tasks import make_task
from mocap4r2_msgs.msg import RigidBodies

POSE = (0.5, -0.25, 0.3)  # torso x, y, yaw of the fake mocap in the real-mode tests
TARGET = (0.8, -0.1, 0.5, *SAFE_ARM_POSE)


def wall(probe: ProbeNode) -> float:
    return clock_seconds(probe.node.get_clock())


def stop_decided(log: str) -> float:
    """The wall-clock stamp (s) of the bridge's first stop after it last followed the
    planner, from its log lines ``[WARN] [<stamp>] [spot_bridge]: robot stopped: ...``."""
    lines = re.findall(r"^\[\w+\] \[(\d+\.\d+)\] \[spot_bridge\]: (.*)$", log, re.MULTILINE)
    last_follow = max(i for i, (_, text) in enumerate(lines) if text == "following the planner")
    return next(float(t) for t, text in lines[last_follow:] if text.startswith("robot stopped:"))


def sends_since_moving(fake: FakeSpot) -> list[tuple[float, dict]]:
    """The fake's velocity commands ``(arrival, details)`` from the first that moved on."""
    sends = [(t, d) for t, kind, d in fake.events if kind == "velocity"]
    first = next((i for i, (_, d) in enumerate(sends) if d["vx"] != 0.0), len(sends))
    return sends[first:]


def test_watchdog_stops_the_robot_when_the_planner_dies(tmp_path):
    domain = domain_id()
    sim = ChairPushSimulation(make_task("spot_chair", nthread=1), 0, 0)
    poses = sim.body_poses()
    robot = RobotStream(domain, {"spot": poses[TORSO_BODY], "chair": poses[CHAIR_BODY]},
                        sim.joints())  # a standing robot, 50 Hz, wall-clock stamps
    with ProbeNode(domain) as probe, robot, \
            NodeProcess("gpc_spot_bridge", "spot_bridge", "spot_bridge", {}, tmp_path,
                        domain) as bridge, \
            NodeProcess("gpc_planner", "planner_node", "gpc_planner",
                        {"rollouts": 8, "horizon": 1.0, "threads": 1, "enabled": True}, tmp_path,
                        domain) as planner:
        out: list[tuple[float, LocomotionCommand]] = []  # (arrival, message)
        probe.node.create_subscription(LocomotionCommand, topics.LOCOMOTION_COMMAND,
                                       lambda m: out.append((wall(probe), m)), qos.STREAM)
        statuses: list[BridgeStatus] = []
        diagnostics: list[DiagnosticArray] = []
        probe.node.create_subscription(BridgeStatus, topics.BRIDGE_STATUS, statuses.append,
                                       qos.RELIABLE)
        probe.node.create_subscription(DiagnosticArray, topics.DIAGNOSTICS, diagnostics.append,
                                       qos.RELIABLE)
        probe.spin_until(lambda: out and out[-1][1].plan_id >= 2, 60.0,
                         "commands that follow the planner")
        probe.spin_until(lambda: statuses and statuses[-1].following, 5.0, "status: following")
        assert (statuses[-1].mode, statuses[-1].robot) == ("sim", "simulated")
        planner.stop(signal.SIGKILL)  # dies without a word
        killed = wall(probe)
        out.clear()
        probe.spin_until(lambda: out and out[-1][1].plan_id == 0, 5.0, "the watchdog's stop")
        seen_after = out[-1][0] - killed
        # When the bridge decided, by its own clock (the log line's stamp): the watchdog's
        # latency, apart from DDS delivery to this probe, which a loaded machine can delay
        # (the stop still had to arrive above, and the robot's last command expires anyway).
        decided_after = stop_decided(bridge.output()) - killed
        assert decided_after < 0.5 + 0.5, (  # command_timeout + a tick and scheduling
            f"stop decided {decided_after:.2f} s and seen {seen_after:.2f} s after the kill")
        last = out[-1][1]
        assert (last.vx, last.vy, last.yaw_rate) == (0.0, 0.0, 0.0)
        probe.spin_for(1.0)
        assert all(m.plan_id == 0 and m.vx == 0.0 for _, m in out[-5:])
        assert bridge.alive()
        # The stop is logged once, not at every one of the 20 ticks a second since.
        assert bridge.output().count("planner silent") == 1
        # ... and reported at once: spot/status and /diagnostics (a WARN with the reason).
        probe.spin_until(lambda: statuses[-1].stop_cause == "planner_silent", 5.0,
                         "status: stopped")
        assert not statuses[-1].following and statuses[-1].commands_sent > 0
        bridge_diag = [d.status[0] for d in diagnostics if d.status[0].name.startswith(
            "spot_bridge")]
        assert bridge_diag[-1].level == DiagnosticStatus.WARN
        assert "planner silent" in bridge_diag[-1].message


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_test_ca(tmp_path_factory.mktemp("spot_tls"))


def test_real_mode_drives_a_fake_spot_and_hands_it_back(tmp_path, tls):
    domain = domain_id()
    with FakeSpot(tls) as fake, ProbeNode(domain) as probe:
        params = {"mode": "real", "hostname": "127.0.0.1", "port": fake.port,
                  "ca_cert": fake.ca_cert, "rate": 20.0, "resume_after_loss": True,
                  "auto_stand": True}
        env = {"BOSDYN_CLIENT_USERNAME": "user", "BOSDYN_CLIENT_PASSWORD": "secret"}
        with NodeProcess("gpc_spot_bridge", "spot_bridge", "spot_bridge", params, tmp_path,
                         domain, env=env) as bridge:
            bodies = probe.node.create_publisher(RigidBodies, topics.RIGID_BODIES, qos.STREAM)
            commands = probe.node.create_publisher(HighLevelCommand, topics.COMMAND, qos.STREAM)
            joints: list[JointState] = []
            probe.node.create_subscription(JointState, topics.JOINT_STATES, joints.append,
                                           qos.STREAM)

            def publish():  # the planner's target and the mocap, 50 Hz
                t = wall(probe)
                bodies.publish(mocap_frame(t, {"spot": ((POSE[0], POSE[1], 0.5),
                                                        yaw_quaternion(POSE[2]))}))
                cmd = HighLevelCommand(plan_id=3)
                cmd.header.stamp = to_stamp(t)
                cmd.x, cmd.y, cmd.yaw = TARGET[:3]
                cmd.arm_joints = list(TARGET[3:])
                commands.publish(cmd)

            probe.spin_until(lambda: len(sends_since_moving(fake)) >= 40, 60.0,
                             "40 velocity commands since the robot followed", every=publish)
            kinds = fake.kinds()
            for step in ("auth", "lease_acquire", "estop_register", "power_on", "stand"):
                assert step in kinds, f"{step} missing from {kinds}"
            assert kinds.index("lease_acquire") < kinds.index("power_on") < kinds.index("stand")
            # The re-send rate: every velocity command counts, a stop too (a late target or
            # mocap frame rightly makes the bridge send stops); 40 of them, 2 s at 20 Hz.
            sends = sends_since_moving(fake)
            intervals = np.diff([t for t, _ in sends])
            rate = len(intervals) / (sends[-1][0] - sends[0][0])
            stops = sum(v["vx"] == 0.0 for _, v in sends)
            assert rate >= 10.0, (f"re-sent at {rate:.1f} Hz, {stops} stops among {len(sends)}: "
                                  f"intervals {np.round(intervals, 3).tolist()}")
            moving = [v for _, v in sends if v["vx"] != 0.0]
            probe.spin_until(lambda: joints, 10.0, "the robot's joint states")
            # spot_ros2's names, stamped when the robot measured them (not in the future).
            assert list(joints[-1].name) == list(SPOT_ROS2_JOINT_NAMES.values())
            np.testing.assert_allclose(joints[-1].position,
                                       [0.1 * (i + 1) for i in range(len(joints[-1].name))])
            assert to_seconds(joints[-1].header.stamp) <= wall(probe) + 0.01
            expected = targets_to_command(np.array(TARGET), np.array(POSE))
            v = moving[-1]
            assert (v["vx"], v["vy"], v["yaw_rate"]) == pytest.approx(tuple(expected[0:3]))
            np.testing.assert_allclose(fake.of("arm")[-1]["joints"], expected[3:9])

            fake.stop()  # the link drops
            probe.spin_until(lambda: "lost Spot" in bridge.output(), 10.0, "a lost link",
                             every=publish)
            fake.clear_events()
            fake.start()  # back: the bridge reconnects by itself (resume_after_loss)
            probe.spin_until(lambda: len(fake.of("velocity")) >= 5, 30.0, "a reconnect",
                             every=publish)
            assert "power_on" in fake.kinds() and "stand" in fake.kinds()
            assert bridge.alive() and "Traceback" not in bridge.output()
            fake.clear_events()
            code = bridge.stop(signal.SIGTERM)  # what docker stop and systemd send
            assert code == 0, f"exit {code}:\n{bridge.output()[-4000:]}"
        kinds = fake.kinds()
        for step in ("stop", "sit", "power_off", "lease_return"):
            assert step in kinds, f"{step} missing from {kinds} after shutdown"
        assert kinds.index("stop") < kinds.index("sit") < kinds.index("power_off") \
            < kinds.index("lease_return")
        assert fake.lease_holder is None and not fake.motors_on
        assert "secret" not in bridge.output()


def test_real_mode_by_default_does_not_take_the_robot_back_after_a_lost_link(tmp_path, tls):
    domain = domain_id()
    with FakeSpot(tls) as fake, ProbeNode(domain) as probe:
        params = {"mode": "real", "hostname": "127.0.0.1", "port": fake.port,
                  "ca_cert": fake.ca_cert, "auto_stand": True}
        env = {"BOSDYN_CLIENT_USERNAME": "user", "BOSDYN_CLIENT_PASSWORD": "secret"}
        with NodeProcess("gpc_spot_bridge", "spot_bridge", "spot_bridge", params, tmp_path,
                         domain, env=env) as bridge:
            probe.spin_until(lambda: "held, standing" in bridge.output()
                             and fake.of("velocity"), 60.0, "the first connection")
            fake.stop()
            probe.spin_until(lambda: "lost Spot" in bridge.output(), 10.0, "a lost link")
            fake.clear_events()
            fake.start()
            probe.spin_until(lambda: "held, connected" in bridge.output(), 20.0,
                             "a reconnect with the motors off")
            probe.spin_for(1.0)
            assert "power_on" not in fake.kinds() and "stand" not in fake.kinds()
            assert not fake.motors_on and not fake.of("velocity") and bridge.alive()
            code = bridge.stop(signal.SIGTERM)
            assert code == 0, f"exit {code}:\n{bridge.output()[-4000:]}"


REAL = {"BOSDYN_CLIENT_USERNAME": "user", "BOSDYN_CLIENT_PASSWORD": "secret"}


def bridge_stop_timeouts() -> tuple[float, float]:
    """What both launchers give the bridge after SIGINT before SIGTERM, then SIGKILL."""
    graph = spot_push_nodes(resolve_arguments({"use_sim": "false", "rviz": "false"}))
    (bridge,) = [n for n in graph if n.name == "spot_bridge"]
    return bridge.sigterm_timeout, bridge.sigkill_timeout


def stop_timed(bridge: NodeProcess) -> tuple[int, float]:
    """SIGINT (what a launcher sends first); the exit code and the seconds it took."""
    start = time.monotonic()
    code = bridge.stop(signal.SIGINT, timeout=60.0)
    return code, time.monotonic() - start


def test_real_mode_takes_no_held_lease_and_moves_only_after_the_bring_up_steps(tmp_path,
                                                                             tls):
    """The operator's tablet holds the lease when the bridge starts: the bridge waits for it
    (never takes it), then holds the lease with the motors off; targets from the planner
    move nothing until spot/power_on and spot/stand; SIGINT then hands the robot back within
    the launchers' timeout."""
    domain = domain_id()
    with FakeSpot(tls) as fake, ProbeNode(domain) as probe:
        fake.lease_holder = "tablet"
        params = {"mode": "real", "hostname": "127.0.0.1", "port": fake.port,
                  "ca_cert": fake.ca_cert}
        statuses: list[BridgeStatus] = []
        probe.node.create_subscription(BridgeStatus, topics.BRIDGE_STATUS, statuses.append,
                                       qos.RELIABLE)
        with NodeProcess("gpc_spot_bridge", "spot_bridge", "spot_bridge", params, tmp_path,
                         domain, env=REAL) as bridge:
            planner = Planner(probe)
            probe.spin_until(lambda: "held by another client (tablet)" in bridge.output(),
                             60.0, "the refusal of a held lease", every=planner.publish)
            assert fake.lease_holder == "tablet" and "lease_take" not in fake.kinds()
            fake.take_lease_as(None)  # the operator releases it
            probe.spin_until(lambda: "lease_acquire" in fake.kinds(), 30.0, "a free lease",
                             every=planner.publish)
            probe.spin_until(lambda: statuses and statuses[-1].robot == "connected", 10.0,
                             "status: connected", every=planner.publish)
            probe.spin_for(1.0)  # the planner's targets arrive; nothing may move
            assert "power_on" not in fake.kinds() and not fake.of("velocity")
            assert not fake.motors_on and not statuses[-1].following

            refused = probe.call(Trigger, topics.SPOT_STAND, Trigger.Request())
            assert not refused.success and "motors are off" in refused.message
            assert probe.call(Trigger, topics.SPOT_POWER_ON, Trigger.Request()).success
            assert fake.motors_on and "stand" not in fake.kinds()
            probe.spin_for(0.5)
            assert not fake.of("velocity")  # powered, sitting: still no command
            stood = probe.call(Trigger, topics.SPOT_STAND, Trigger.Request())
            assert stood.success and "standing" in stood.message
            probe.spin_until(lambda: any(v["vx"] > 0.0 for v in fake.of("velocity")), 10.0,
                             "the robot following the planner", every=planner.publish)
            probe.spin_until(lambda: statuses[-1].following, 5.0, "status: following",
                             every=planner.publish)
            assert fake.kinds().index("stand") < fake.kinds().index("velocity")

            code, took = stop_timed(bridge)
        sigterm, _ = bridge_stop_timeouts()
        print(f"bridge clean shutdown, robot standing: {took:.1f} s")
        assert code == 0 and took < sigterm, (f"exit {code} after {took:.1f} s:\n"
                                              f"{bridge.output()[-4000:]}")
        kinds = fake.kinds()
        assert kinds.index("sit") < kinds.index("power_off") < kinds.index("lease_return")
        assert fake.lease_holder is None and not fake.motors_on
        assert "Traceback" not in bridge.output()


def test_the_slowest_clean_shutdown_ends_within_the_launch_timeouts(tmp_path, tls):
    """A robot that accepts the safe power off but never finishes it: the bridge's clean-up
    waits for it only as long as its budget allows, still returns the lease, and exits
    before a launcher would send SIGTERM."""
    domain = domain_id()
    with FakeSpot(tls) as fake, ProbeNode(domain) as probe:
        params = {"mode": "real", "hostname": "127.0.0.1", "port": fake.port,
                  "ca_cert": fake.ca_cert, "auto_stand": True}
        with NodeProcess("gpc_spot_bridge", "spot_bridge", "spot_bridge", params, tmp_path,
                         domain, env=REAL) as bridge:
            probe.spin_until(lambda: fake.of("velocity"), 60.0, "a standing robot")
            fake.stuck_motors = True
            code, took = stop_timed(bridge)
        sigterm, _ = bridge_stop_timeouts()
        print(f"bridge clean shutdown with a robot that never powers off: {took:.1f} s")
        assert code == 0 and took < sigterm, (f"exit {code} after {took:.1f} s:\n"
                                              f"{bridge.output()[-4000:]}")
        assert "power off" in bridge.output() and "lease_return" in fake.kinds()


def test_real_mode_puts_the_torso_poses_it_accepts_on_tf(tmp_path, tls):
    """map -> <tf_prefix>body from each mocap pose the bridge accepts, stamped with its frame;
    a pose it refuses (stamped an hour ahead) stays off TF. Nothing moves: no bring-up."""
    domain = domain_id()
    with FakeSpot(tls) as fake, ProbeNode(domain) as probe:
        params = {"mode": "real", "hostname": "127.0.0.1", "port": fake.port,
                  "ca_cert": fake.ca_cert, "tf_prefix": "spot1/"}
        tf: list[TFMessage] = []
        probe.node.create_subscription(TFMessage, topics.TF, tf.append, qos.TF)
        with NodeProcess("gpc_spot_bridge", "spot_bridge", "spot_bridge", params, tmp_path,
                         domain, env=REAL) as bridge:
            planner = Planner(probe)
            planner.planner_on = False  # mocap only
            probe.spin_until(lambda: len(tf) >= 5, 60.0, "the torso on /tf",
                             every=planner.publish)
            planner.skew = 3600.0  # refused: from the future (sent until the bridge says so:
            probe.spin_until(lambda: "in the future" in bridge.output(), 10.0, "the refusal",
                             every=planner.publish)  # best effort may drop one frame)
            planner.skew = 0.0
            after = time.monotonic() + 0.3
            probe.spin_until(lambda: time.monotonic() > after, 5.0, "frames after the glitch",
                             every=planner.publish)
            now = wall(probe)
            code = bridge.stop(signal.SIGTERM)
            assert code == 0, f"exit {code}:\n{bridge.output()[-4000:]}"
        assert "power_on" not in fake.kinds() and not fake.of("velocity")
    edges = [t for m in tf for t in m.transforms]
    assert {(e.header.frame_id, e.child_frame_id) for e in edges} == {("map", "spot1/body")}
    assert max(to_seconds(e.header.stamp) for e in edges) <= now  # none from the future
    last = edges[-1].transform
    q = last.rotation
    assert (last.translation.x, last.translation.y, last.translation.z) == pytest.approx(
        (POSE[0], POSE[1], 0.5))
    assert float(yaw_from_quat(np.array([q.w, q.x, q.y, q.z]))) == pytest.approx(POSE[2])


class Planner:
    """The test plays the mocap and the planner: a torso pose and a target 0.5 m ahead,
    stamped with the wall clock, published together (50 Hz when called from spin_until)."""

    def __init__(self, probe: ProbeNode) -> None:
        self.probe = probe
        self.bodies = probe.node.create_publisher(RigidBodies, topics.RIGID_BODIES, qos.STREAM)
        self.commands = probe.node.create_publisher(HighLevelCommand, topics.COMMAND,
                                                    qos.STREAM)
        self.planner_on = True
        self.skew = 0.0  # s added to the next stamps (a clock glitch)

    def publish(self, mocap: bool = True) -> None:
        t = wall(self.probe) + self.skew
        if mocap:
            self.bodies.publish(mocap_frame(t, {"spot": ((POSE[0], POSE[1], 0.5),
                                                         yaw_quaternion(POSE[2]))}))
        if self.planner_on:
            cmd = HighLevelCommand(plan_id=3)
            cmd.header.stamp = to_stamp(t)
            cmd.x, cmd.y, cmd.yaw = POSE[0] + 0.5, POSE[1], POSE[2]
            cmd.arm_joints = list(SAFE_ARM_POSE)
            self.commands.publish(cmd)


@pytest.fixture
def sim_bridge(tmp_path):
    domain = domain_id()
    with ProbeNode(domain) as probe, NodeProcess("gpc_spot_bridge", "spot_bridge",
                                                 "spot_bridge", {}, tmp_path, domain) as bridge:
        out: list[tuple[float, LocomotionCommand]] = []
        probe.node.create_subscription(LocomotionCommand, topics.LOCOMOTION_COMMAND,
                                       lambda m: out.append((wall(probe), m)), qos.STREAM)
        yield probe, bridge, Planner(probe), out


def test_a_future_stamped_frame_and_target_cannot_keep_the_robot_moving(sim_bridge):
    """Issue 22's safety case over DDS: one mocap frame and one target stamped an hour ahead,
    then a silent planner: the robot still stops within command_timeout + valid_for."""
    probe, bridge, planner, out = sim_bridge
    probe.spin_until(lambda: out and out[-1][1].vx > 0.0, 30.0, "the robot following",
                     every=planner.publish)
    planner.skew = 3600.0
    planner.publish()  # one glitch: a frame and a target from the future
    planner.skew = 0.0
    planner.planner_on = False  # then the planner falls silent; the mocap goes on
    silent_from = wall(probe)
    probe.spin_until(lambda: out and out[-1][1].plan_id == 0 and out[-1][1].vx == 0.0, 5.0,
                     "the watchdog's stop", every=lambda: planner.publish(mocap=True))
    decided_after = stop_decided(bridge.output()) - silent_from
    limit = 0.5 + 0.3  # command_timeout + valid_for of config/spot_push.yaml's defaults
    assert decided_after < limit, f"stop decided {decided_after:.2f} s after the silence"
    assert "in the future" in bridge.output()
    # No command carries the future stamp on (the sim would otherwise hold it as valid).
    assert max(to_seconds(m.header.stamp) for _, m in out) < wall(probe) + 1.0
    probe.spin_for(1.0)
    assert all(m.vx == 0.0 for _, m in out[-5:]) and bridge.alive()


def test_sim_mode_leaves_tf_to_the_sim(sim_bridge):
    """The sim publishes the true torso frame; a second source of it would make TF jump."""
    probe, _, planner, out = sim_bridge
    probe.spin_until(lambda: out, 30.0, "the bridge up", every=planner.publish)
    assert probe.node.count_publishers(topics.TF) == 0


def test_set_parameters_take_effect_or_are_refused(sim_bridge):
    probe, bridge, planner, out = sim_bridge
    probe.spin_until(lambda: out and out[-1][1].vx > 0.6, 30.0, "the robot at full speed",
                     every=planner.publish)
    ok, = probe.set_parameters("spot_bridge", {"max_vx": 0.2})
    assert ok.successful, ok.reason
    out.clear()
    probe.spin_until(lambda: len(out) >= 10, 10.0, "commands at the new limit",
                     every=planner.publish)
    assert max(m.vx for _, m in out[-5:]) == pytest.approx(0.2)
    assert probe.get_parameters("spot_bridge", ["max_vx"]) == [0.2]
    # Refused by rclpy (range, type, read-only) or by the node's own check: either way with
    # a reason, and nothing changes.
    for values, reason in (({"valid_for": 1e9}, "range"), ({"rate": math.inf}, "range"),
                           ({"command_timeout": math.nan}, "range|finite"),
                           ({"max_vx": 1}, "type|integer"), ({"mode": "real"}, "read-only")):
        result, = probe.set_parameters("spot_bridge", values)
        assert not result.successful and re.search(reason, result.reason), (values,
                                                                             result.reason)
    assert probe.get_parameters("spot_bridge", ["valid_for", "mode"]) == [0.3, "sim"]
    ok, = probe.set_parameters("spot_bridge", {"valid_for": 0.5})
    assert ok.successful
    out.clear()
    probe.spin_until(lambda: len(out) >= 3, 10.0, "commands", every=planner.publish)
    assert out[-1][1].valid_for == pytest.approx(0.5)
