"""The planner node over DDS: it plans from mocap + joint states, and holds on stale or bad
state with a clear status (a separate process; the test plays the mocap and the robot)."""

import math
import re
import time

import numpy as np
import pytest
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState

from gpc_msgs.msg import HighLevelCommand, PlannerStatus
from gpc_sim.ros import qos, topics
from gpc_sim.ros.convert import arrays_to_pose, clock_seconds, to_seconds, to_stamp
from gpc_sim.ros.testing import NodeProcess, ProbeNode, domain_id
from gpc_sim.spot.simulation import TORSO_BODY, ChairPushSimulation
from gpc_sim.spot.world import CHAIR_BODY
from gpc_sim.tasks import make_task
from mocap4r2_msgs.msg import RigidBodies, RigidBody

# Cheap plans (the tests are about states), enabled (by default a planner waits for gpc/enable).
FAST = {"rollouts": 8, "horizon": 1.0, "threads": 1, "enabled": True}


class Robot:
    """Publishes a standing robot's mocap frames and joint states, stamped with wall time."""

    def __init__(self, probe: ProbeNode, joint_names: list[str] | None = None,
                 publish_qos=qos.STREAM) -> None:
        self.probe = probe
        self.sim = ChairPushSimulation(make_task("spot_chair", nthread=1), 0, 0)
        self.bodies = probe.node.create_publisher(RigidBodies, topics.RIGID_BODIES, publish_qos)
        self.joints = probe.node.create_publisher(JointState, topics.JOINT_STATES, publish_qos)
        self.joint_names = joint_names  # None: the sim's
        self.mocap_on = True
        self.nan = False
        self.lag = 0.0  # seconds between the state and its stamp (a slow mocap pipeline)

    def now(self) -> float:
        return clock_seconds(self.probe.node.get_clock())

    def publish(self) -> None:
        t = self.now() - self.lag
        names, q, v = self.sim.joints()
        msg = JointState(name=list(self.joint_names or names), position=q.tolist(),
                         velocity=v.tolist())
        msg.header.stamp = to_stamp(t)
        self.joints.publish(msg)
        if not self.mocap_on:
            return
        frame = RigidBodies()
        frame.header.stamp, frame.header.frame_id = to_stamp(t), "map"
        for body, name in ((TORSO_BODY, "spot"), (CHAIR_BODY, "chair")):
            pos, quat = self.sim.body_poses()[body]
            if self.nan:
                pos = np.full(3, math.nan)
            frame.rigidbodies.append(RigidBody(rigid_body_name=name,
                                               pose=arrays_to_pose(pos, quat)))
        self.bodies.publish(frame)


@pytest.fixture
def setup(tmp_path):
    domain = domain_id()
    with ProbeNode(domain) as probe, NodeProcess("gpc_planner", "planner_node", "gpc_planner",
                                                 FAST, tmp_path, domain) as planner:
        statuses, commands = [], []
        probe.node.create_subscription(PlannerStatus, topics.PLANNER_STATUS, statuses.append,
                                       qos.RELIABLE)
        probe.node.create_subscription(HighLevelCommand, topics.COMMAND, commands.append,
                                       qos.STREAM)
        yield probe, planner, Robot(probe), statuses, commands


def test_plans_then_holds_on_stale_mocap_then_resumes(setup):
    probe, planner, robot, statuses, commands = setup
    probe.spin_until(lambda: any(s.state == "running" and s.iteration >= 2 for s in statuses),
                     60.0, "two plans", every=robot.publish)
    assert commands and commands[-1].plan_id >= 1
    robot.mocap_on = False  # the mocap dies; joint states go on
    probe.spin_until(lambda: statuses[-1].state.startswith("holding: stale mocap"), 10.0,
                     "a stale-mocap hold", every=robot.publish)
    commands.clear()
    probe.spin_until(lambda: len(commands) >= 2, 5.0, "hold commands", every=robot.publish)
    torso = robot.sim.task.torso_pose(robot.sim.state())
    for cmd in commands:  # stand where last seen, arm where it is
        assert (cmd.x, cmd.y, cmd.yaw) == pytest.approx(tuple(torso), abs=1e-6)
        np.testing.assert_allclose(cmd.arm_joints, robot.sim.truth_arm(), atol=1e-6)
    robot.mocap_on = True
    probe.spin_until(lambda: statuses[-1].state == "running", 30.0, "running again",
                     every=robot.publish)
    assert planner.alive()


def test_lockstep_answers_a_late_frame_at_its_own_time(tmp_path):
    """Lock-step: a late duplicate of a frame, taken after /clock moved on, is answered with
    the plan read at the frame's own time. Answered at "now", it answered the next frame
    from the old plan: the main job (seed 0) diverged so 36 s in, under a slow executor."""
    domain = domain_id()
    params = {**FAST, "synchronous": True, "use_sim_time": True}
    with ProbeNode(domain) as probe, NodeProcess("gpc_planner", "planner_node", "gpc_planner",
                                                 params, tmp_path, domain) as planner:
        commands: list[HighLevelCommand] = []
        probe.node.create_subscription(HighLevelCommand, topics.COMMAND, commands.append,
                                       qos.STREAM)
        clock = probe.node.create_publisher(Clock, topics.CLOCK, qos.RELIABLE)
        robot = Robot(probe)
        clock_time, frame_time = [10.0], [10.0]
        robot.now = lambda: frame_time[0]

        def tick(frame: bool = True) -> None:
            clock.publish(Clock(clock=to_stamp(clock_time[0])))
            if frame:
                robot.publish()

        stamps = lambda: [to_seconds(c.header.stamp) for c in commands]  # noqa: E731
        probe.spin_until(lambda: any(t >= 10.0 for t in stamps()), 60.0,
                         "the first plan's answer", every=tick)
        clock_time[0] = 10.04  # the clock moves on ...
        end = time.monotonic() + 1.0
        probe.spin_until(lambda: time.monotonic() > end, 5.0, "the new clock",
                         every=lambda: tick(frame=False))
        frame_time[0] = 10.02  # ... and a frame before it arrives late (not due: plans at 5 Hz)
        commands.clear()
        probe.spin_until(lambda: commands, 10.0, "the answer to the late frame", every=tick)
        assert stamps()[0] == pytest.approx(10.02, abs=1e-9), stamps()
        assert planner.alive()


def test_plans_from_the_spot_ros2_drivers_joint_states(tmp_path):
    """Beside the spot_ros2 driver: its joint names (after a robot-name prefix), published
    reliably as a driver does (REP 2003); the planner subscribes best effort and plans."""
    from gpc_sim.spot.constants import JOINT_NAMES
    from gpc_sim.spot.estimation import SPOT_ROS2_JOINT_NAMES

    domain = domain_id()
    with ProbeNode(domain) as probe, NodeProcess("gpc_planner", "planner_node", "gpc_planner",
                                                 FAST, tmp_path, domain) as planner:
        statuses: list[PlannerStatus] = []
        probe.node.create_subscription(PlannerStatus, topics.PLANNER_STATUS, statuses.append,
                                       qos.RELIABLE)
        robot = Robot(probe, [f"spot/{SPOT_ROS2_JOINT_NAMES[n]}" for n in JOINT_NAMES],
                      publish_qos=qos.DRIVER)
        probe.spin_until(lambda: any(s.state == "running" for s in statuses), 60.0,
                         "a plan", every=robot.publish)
        robot.joint_names = [*robot.joint_names[:-1], "spot/tail"]  # the gripper renamed
        probe.spin_until(lambda: "unknown joint names ignored: spot/tail" in planner.output(),
                         10.0, "the warning", every=robot.publish)
        assert planner.alive()


def test_nan_mocap_is_refused_and_held_not_a_crash(setup):
    probe, planner, robot, statuses, _ = setup
    probe.spin_until(lambda: any(s.state == "running" for s in statuses), 60.0, "a plan",
                     every=robot.publish)
    robot.nan = True
    probe.spin_until(lambda: statuses[-1].state.startswith("holding: stale mocap"), 10.0,
                     "a hold on NaN frames", every=robot.publish)
    assert planner.alive()
    assert "mocap torso pose with NaN or inf" in planner.output()



def test_a_frame_from_the_future_is_not_answered_and_does_not_latch(setup):
    """One mocap frame stamped an hour ahead: ignored with a warning, never answered (its
    stamp would reach the bridge in a command), and the frames after it are planned from."""
    probe, planner, robot, statuses, commands = setup
    probe.spin_until(lambda: any(s.state == "running" for s in statuses), 60.0, "a plan",
                     every=robot.publish)
    now = robot.now
    robot.now = lambda: now() + 3600.0
    commands.clear()
    probe.spin_until(lambda: "in the future" in planner.output(), 10.0, "the warning",
                     every=robot.publish)  # a glitch of a few frames
    robot.now = now
    statuses.clear()
    probe.spin_until(lambda: len(statuses) >= 3 and statuses[-1].state == "running", 30.0,
                     "planning from the frames after it", every=robot.publish)
    assert commands
    assert max(to_seconds(c.header.stamp) for c in commands) < robot.now() + 1.0
    assert all(s.state_age_ms >= 0.0 for s in statuses if math.isfinite(s.state_age_ms))
    assert planner.alive()


def test_a_plan_older_than_plan_timeout_becomes_a_hold(tmp_path):
    """A planning thread that stalls must not keep the robot on its old plan under fresh
    stamps: with plans slower than plan_timeout the command becomes a hold in between."""
    domain = domain_id()
    params = {"rollouts": 64, "horizon": 4.0, "threads": 1, "plan_timeout": 0.1,
              "enabled": True}
    with ProbeNode(domain) as probe, NodeProcess("gpc_planner", "planner_node", "gpc_planner",
                                                 params, tmp_path, domain) as planner:
        statuses: list[PlannerStatus] = []
        probe.node.create_subscription(PlannerStatus, topics.PLANNER_STATUS, statuses.append,
                                       qos.RELIABLE)
        robot = Robot(probe)
        probe.spin_until(lambda: any(s.state == "holding: planning stalled" for s in statuses),
                         60.0, "a hold on a stale plan", every=robot.publish)
        stalled = next(s for s in statuses if s.state == "holding: planning stalled")
        assert "plan_timeout 0.1 s" in stalled.message
        assert planner.alive()


def test_live_parameters_take_effect_or_are_refused(setup):
    probe, planner, robot, statuses, _ = setup
    probe.spin_until(lambda: any(s.state == "running" for s in statuses), 60.0, "a plan",
                     every=robot.publish)
    ok, = probe.set_parameters("gpc_planner", {"enabled": False})
    assert ok.successful, ok.reason
    probe.spin_until(lambda: statuses[-1].state == "disabled", 10.0, "disabled",
                     every=robot.publish)
    ok, = probe.set_parameters("gpc_planner", {"state_timeout": 0.01})
    ok2, = probe.set_parameters("gpc_planner", {"enabled": True})
    assert ok.successful and ok2.successful
    # Frames 50 ms old at arrival: within the default state_timeout, not within 10 ms (a plan
    # triggered by a fresh frame would see an age of ~0, so the lag makes the test certain).
    robot.lag = 0.05
    probe.spin_until(lambda: statuses[-1].state.startswith("holding: stale mocap"), 10.0,
                     "a hold on the new limit", every=robot.publish)
    for values, reason in (({"rollouts": 4}, "read-only"), ({"goal": [1.0, 2.0]}, "3 finite"),
                           ({"state_timeout": math.nan}, "range|finite"),
                           ({"plan_timeout": 1e9}, "range")):
        result, = probe.set_parameters("gpc_planner", values)
        assert not result.successful and re.search(reason, result.reason), (values,
                                                                             result.reason)
    assert probe.get_parameters("gpc_planner", ["rollouts", "state_timeout"]) == [8, 0.01]
    assert planner.alive()


def test_at_the_goal_it_holds_and_plans_again_for_a_new_goal(setup):
    """hold_at_goal (the default): a chair at the goal is not pushed on; a new goal wakes
    the planner at once, without the dwell."""
    probe, planner, robot, statuses, commands = setup
    probe.spin_until(lambda: any(s.state == "running" for s in statuses), 60.0, "a plan",
                     every=robot.publish)
    chair = robot.sim.task.chair_pose(robot.sim.state())
    ok, = probe.set_parameters("gpc_planner", {"goal": [float(v) for v in chair]})
    assert ok.successful, ok.reason
    probe.spin_until(lambda: statuses[-1].state == "at goal", 10.0, "a hold at the goal",
                     every=robot.publish)
    assert "off the goal for 1 s" in statuses[-1].message
    commands.clear()
    probe.spin_until(lambda: len(commands) >= 2, 5.0, "hold commands", every=robot.publish)
    torso = robot.sim.task.torso_pose(robot.sim.state())
    for cmd in commands:  # stand where it is, arm still
        assert (cmd.x, cmd.y, cmd.yaw) == pytest.approx(tuple(torso), abs=1e-6)
        np.testing.assert_allclose(cmd.arm_joints, robot.sim.truth_arm(), atol=1e-6)
    iterations = statuses[-1].iteration
    ok, = probe.set_parameters("gpc_planner", {"goal": [1.2, 0.0, 0.0]})
    assert ok.successful, ok.reason
    probe.spin_until(lambda: statuses[-1].state == "running"
                     and statuses[-1].iteration > iterations, 30.0, "planning again",
                     every=robot.publish)
    off, = probe.set_parameters("gpc_planner", {"hold_at_goal": False})
    ok, = probe.set_parameters("gpc_planner", {"goal": [float(v) for v in chair]})
    assert off.successful and ok.successful, (off.reason, ok.reason)
    count = len(statuses)
    probe.spin_until(lambda: len(statuses) >= count + 5, 10.0, "more decisions",
                     every=robot.publish)
    assert all(s.state == "running" for s in statuses[count + 1:])  # off: it plans on
    assert planner.alive()


def test_disabled_until_enabled_then_services_disable_set_the_goal_and_reset(tmp_path):
    from geometry_msgs.msg import PoseStamped
    from std_srvs.srv import SetBool

    from gpc_msgs.srv import ResetPlanner
    from gpc_sim.ros.goal import goal_from_message, goal_message

    domain = domain_id()
    params = {key: value for key, value in FAST.items() if key != "enabled"}
    with ProbeNode(domain) as probe, NodeProcess("gpc_planner", "planner_node", "gpc_planner",
                                                 params, tmp_path, domain) as planner:
        statuses: list[PlannerStatus] = []
        goals: list[PoseStamped] = []
        probe.node.create_subscription(PlannerStatus, topics.PLANNER_STATUS, statuses.append,
                                       qos.RELIABLE)
        probe.node.create_subscription(PoseStamped, topics.GOAL, goals.append, qos.LATCHED)
        robot = Robot(probe)
        # A planner that was not told otherwise holds: a real robot's must wait for the
        # operator. Its goal is on the latched goal topic from the start.
        probe.spin_until(lambda: statuses and statuses[-1].state == "disabled" and goals, 60.0,
                         "a disabled planner and its goal", every=robot.publish)
        assert goal_from_message(goals[-1], "map") == ((1.2, 0.0, 0.0), None)
        res = probe.call(SetBool, topics.ENABLE_PLANNER, SetBool.Request(data=True))
        assert res.success and "enabled" in res.message
        probe.spin_until(lambda: any(s.state == "running" for s in statuses), 60.0, "a plan",
                         every=robot.publish)
        _services(probe, planner, robot, statuses, goals)
        # A goal from anyone on the goal topic (rviz's tool) becomes the planner's.
        other = probe.node.create_publisher(PoseStamped, topics.GOAL, qos.LATCHED)
        other.publish(goal_message((0.9, -0.3, 0.5), "map"))
        probe.spin_until(lambda: probe.get_parameters("gpc_planner", ["goal"])[0]
                         == pytest.approx([0.9, -0.3, 0.5]), 10.0, "the goal taken",
                         every=robot.publish)
        other.publish(goal_message((5.0, 5.0, 0.0), "odom"))  # no TF here: refused
        probe.spin_until(lambda: "goal in frame 'odom' refused" in planner.output(), 10.0,
                         "the refusal", every=robot.publish)
        assert probe.get_parameters("gpc_planner", ["goal"])[0] == pytest.approx([0.9, -0.3,
                                                                                  0.5])
        res = probe.call(ResetPlanner, topics.RESET_PLANNER, ResetPlanner.Request(seed=5))
        assert res.success and "seed 5" in res.message
        probe.spin_until(lambda: statuses[-1].iteration >= 1 and statuses[-1].state ==
                         "running", 30.0, "a plan after the reset", every=robot.publish)
        assert planner.alive()


def _services(probe, planner, robot, statuses, goals):
    from std_srvs.srv import SetBool

    from gpc_msgs.srv import SetGoal
    from gpc_sim.ros.goal import goal_from_message

    res = probe.call(SetBool, topics.ENABLE_PLANNER, SetBool.Request(data=False))
    assert res.success and "disabled" in res.message
    probe.spin_until(lambda: statuses[-1].state == "disabled", 10.0, "disabled",
                     every=robot.publish)
    iterations = statuses[-1].iteration
    probe.spin_for(0.5)
    assert statuses[-1].iteration == iterations  # no planning while disabled
    res = probe.call(SetGoal, topics.SET_GOAL, SetGoal.Request(x=1.0, y=0.5, yaw=0.25))
    assert res.success and "x 1.00 m, y 0.50 m" in res.message
    # set_goal publishes the goal (the sim and the summary follow the topic).
    probe.spin_until(lambda: goal_from_message(goals[-1], "map")[0] == pytest.approx(
        (1.0, 0.5, 0.25)), 10.0, "the new goal on the goal topic", every=robot.publish)
    res = probe.call(SetGoal, topics.SET_GOAL, SetGoal.Request(x=math.nan, y=0.0, yaw=0.0))
    assert not res.success and "3 finite numbers" in res.message
    res = probe.call(SetGoal, topics.SET_GOAL, SetGoal.Request(frame_id="odom", x=1.0))
    assert not res.success and "frame 'odom'" in res.message
    probe.call(SetBool, topics.ENABLE_PLANNER, SetBool.Request(data=True))
    probe.spin_until(lambda: statuses[-1].iteration > iterations, 30.0, "planning again",
                     every=robot.publish)


@pytest.mark.parametrize("params,message", [
    ({"method": "bogus"}, "unknown method 'bogus'"),
    ({"method": "gpc_cem", "model": "/nonexistent/model.pt"}, "model /nonexistent/model.pt"),
    ({"rollouts": "many"}, "parameter rollouts"),
    ({"horizon": 2}, "parameter horizon"),
    ({"goal": [1.0, 2.0]}, "goal must be 3 finite numbers"),
])
def test_bad_parameters_are_one_line_errors(tmp_path, params, message):
    node = NodeProcess("gpc_planner", "planner_node", "gpc_planner", params, tmp_path,
                       domain_id())
    assert node.proc.wait(timeout=60) == 2
    out = node.output()
    assert message in out and "Traceback" not in out
    assert "[gpc_planner] cannot start:" in out
