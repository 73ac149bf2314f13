"""The Spot bridge node: ``gpc/command`` (9-DoF targets) -> a Spot's velocity and arm command.

Thin adapter around ``CommandBridge`` (the shared 9-DoF mapping, limits, watchdog):
subscribes ``gpc/command`` and ``rigid_bodies`` (the torso's pose), and

* ``mode: sim`` publishes ``spot/locomotion_command`` for the sim node, once per incoming
  pose or target (a lock-stepped sim waits for the answer to its frame) and at ``rate``;
* ``mode: real`` drives a Spot through bosdyn-client (``RealRobot``, ``SpotClient``): on a
  thread of its own, connect (login with ``BOSDYN_CLIENT_USERNAME``/``BOSDYN_CLIENT_PASSWORD``
  from the environment, time sync, the body lease if it is free, an e-stop endpoint) and
  nothing more: the robot moves only after the services ``spot/power_on`` and ``spot/stand``
  (std_srvs/Trigger, as spot_ros2's), and then follows the planner with a synchronized
  velocity + arm command at ``rate`` (>= 10 Hz) with a short validity; ``spot/sit`` and
  ``spot/power_off`` go back down. A held lease is taken only with ``take_lease``. A lost
  connection is logged and retried with exponential backoff, never a crash; the robot's
  joint states are published on ``joint_states`` as spot_ros2 publishes them (its names,
  the robot's acquisition time in this computer's clock); at shutdown stop, sit, power off,
  and return the lease, within ``SHUTDOWN_BUDGET``.

In real mode the torso's pose also goes on ``/tf`` as map -> ``body`` (``publish_tf``;
``tf_prefix``), stamped with its mocap frame, for every pose the bridge accepts: rviz then
shows where the robot is. Its links' frames would need the robot's joint angles through a
kinematic model (spot_ros2's robot_state_publisher does that where it runs); the sim node
publishes the simulated robot's. In sim mode the sim node publishes the true poses, so the
bridge publishes none (two sources of one frame make TF jump between them).

Status: ``spot/status`` (gpc_msgs/BridgeStatus) and ``/diagnostics``, at
``diagnostics_rate`` and at every change (the robot's state, a stop and its cause).

With no fresh target (``command_timeout``: the planner died) or pose (``pose_timeout``), or
with a pose that fails the estimator's checks, the command is a stop: zero velocity, arm
held. Stamps from the future are refused (``gpc_sim.stamps``); a clock that jumps back (the
simulation restarted) makes the bridge forget its inputs and stop until new ones arrive.
The rate, the timeouts, the validity, the mapping's limits, the stamp tolerance and the
jump limit are live parameters (``ros2 param set`` applies them at once, or refuses them
with the reason); the others are read-only.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger
from tf2_msgs.msg import TFMessage

from gpc_msgs.msg import BridgeStatus, HighLevelCommand, LocomotionCommand
from gpc_sim.errors import ConfigError
from gpc_sim.ros import qos, topics
from gpc_sim.ros.convert import (
    clock_seconds,
    pose_to_arrays,
    to_seconds,
    to_stamp,
    transform_stamped,
)
from gpc_sim.ros.parameters import Value, declare
from gpc_sim.spot.action import SpotActionConfig
from gpc_sim.spot.constants import TORSO_BODY
from gpc_spot_bridge.bridge_params import BRIDGE_PARAMETERS, WORST_SHUTDOWN
from gpc_spot_bridge.command_bridge import BridgeConfig, BridgeOutput, CommandBridge
from mocap4r2_msgs.msg import RigidBodies

MODES = ("sim", "real")
STEPS = {"power_on": topics.SPOT_POWER_ON, "stand": topics.SPOT_STAND,
         "sit": topics.SPOT_SIT, "power_off": topics.SPOT_POWER_OFF}


class BridgeNode(Node):
    """ROS adapter of ``CommandBridge`` towards the sim node or a real Spot."""

    NAME = "spot_bridge"  # the default node name (launch files may rename it)
    SHUTDOWN_STACKS_AFTER = WORST_SHUTDOWN + 1.0  # gpc_sim.ros.run: a hung shutdown's stacks

    def __init__(self) -> None:
        super().__init__(self.NAME)
        p = declare(self, BRIDGE_PARAMETERS, apply=self._apply_parameters)
        self.p = p
        if p["mode"] not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {p['mode']!r}")
        _check_rate(p)
        if p["tf_prefix"].startswith("/") or any(c.isspace() for c in p["tf_prefix"]):
            raise ConfigError(f"tf_prefix {p['tf_prefix']!r}: tf2 refuses frame names with a "
                              f"leading '/' or spaces")
        self.bridge = CommandBridge(_bridge_config(p))
        self._timer = None
        self._lock = threading.Lock()
        self._stop_cause: str | None = None
        self._last_out: BridgeOutput | None = None
        self._reported: tuple | None = None  # what the last status said (robot, cause)
        self.sent = 0
        self.create_subscription(HighLevelCommand, topics.COMMAND, self._on_command, qos.STREAM)
        self.create_subscription(RigidBodies, topics.RIGID_BODIES, self._on_bodies,
                                 qos.SENSOR_DATA)
        self.status_pub = self.create_publisher(BridgeStatus, topics.BRIDGE_STATUS, qos.RELIABLE)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, topics.DIAGNOSTICS,
                                                     qos.RELIABLE)
        self.robot = None
        self.tf_pub = None
        if p["mode"] == "real" and p["publish_tf"]:
            self.tf_pub = self.create_publisher(TFMessage, topics.TF, qos.TF)
        if p["mode"] == "sim":
            self.locomotion_pub = self.create_publisher(LocomotionCommand,
                                                        topics.LOCOMOTION_COMMAND, qos.STREAM)
            self._timer = self.create_timer(1.0 / p["rate"], self._publish)
        else:
            self._start_real(p)
        # Wall clock: a status under sim time would stop with /clock.
        self.create_timer(1.0 / p["diagnostics_rate"], self._publish_status,
                          clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.get_logger().info(
            f"mode {p['mode']}: watchdog {p['command_timeout']:g} s, limits "
            f"{p['max_vx']:g} / {p['max_vy']:g} m/s, {p['max_yaw_rate']:g} rad/s")
        if self.robot is not None:
            self.robot.start()

    def _start_real(self, p: dict) -> None:
        """Real mode: the robot's thread, its joint states and the bring-up services."""
        from gpc_spot_bridge.real_robot import RealRobot

        publish = None
        if p["publish_joint_states"]:
            # A driver's sensor data: reliable (REP 2003; consumers subscribe best effort).
            self.joints_pub = self.create_publisher(JointState, topics.JOINT_STATES,
                                                    qos.DRIVER)
            publish = self._publish_joints
        self.robot = RealRobot(self, p, self._output, publish, self._status_if_changed)
        steps = MutuallyExclusiveCallbackGroup()  # seconds each: not in the inputs' group
        for step, name in STEPS.items():
            self.create_service(Trigger, name, lambda request, response, step=step:
                                self._on_step(step, response), callback_group=steps)

    def _on_step(self, step: str, response: Trigger.Response) -> Trigger.Response:
        """A bring-up service: power_on, stand, sit or power_off."""
        response.success, response.message = self.robot.step(step)
        # Two call sites: rclpy refuses one call site that changes severity between calls.
        if response.success:
            self.get_logger().info(f"{step}: {response.message}")
        else:
            self.get_logger().error(f"{step}: {response.message}")
        return response

    def _apply_parameters(self, changes: dict[str, Value]) -> None:
        """Put live parameters into effect (``parameters.declare``); ConfigError refuses."""
        p = {**self.p, **changes}
        _check_rate(p)
        config = _bridge_config(p)  # checks them all before anything changes
        with self._lock:
            self.bridge.config = config
            self.p.update(changes)
        if "rate" in changes:
            if self._timer is not None:
                self.destroy_timer(self._timer)
                self._timer = self.create_timer(1.0 / p["rate"], self._publish)
            if self.robot is not None:
                self.robot.set_rate(p["rate"])
        if "valid_for" in changes and self.robot is not None:
            self.robot.set_valid_for(p["valid_for"])
        self.get_logger().info("parameters set: " + ", ".join(
            f"{name} = {value}" for name, value in changes.items()))

    def _now(self) -> float:
        return clock_seconds(self.get_clock())

    def _checked_now(self) -> float:
        """The clock's reading, checked for a jump back (the bridge then forgets its inputs,
        ``CommandBridge.clock_went_back``), which is logged; call with the lock held."""
        now = self._now()
        back = self.bridge.clock_went_back(now)
        if back is not None:
            self.get_logger().warning(f"the clock went back {back:.2f} s (the simulation "
                                      "restarted?): target and pose forgotten")
        return now

    def _on_command(self, msg: HighLevelCommand) -> None:
        target = np.array([msg.x, msg.y, msg.yaw, *msg.arm_joints])
        with self._lock:
            problem = self.bridge.on_target(to_seconds(msg.header.stamp), target, msg.plan_id,
                                            self._checked_now())
        if problem:
            self.get_logger().warning(problem, throttle_duration_sec=2.0)
        elif self.robot is None:
            self._publish()

    def _on_bodies(self, msg: RigidBodies) -> None:
        for body in msg.rigidbodies:
            if body.rigid_body_name != self.p["torso_body"]:
                continue
            pos, quat = pose_to_arrays(body.pose)
            with self._lock:
                problem = self.bridge.on_pose(to_seconds(msg.header.stamp), pos, quat,
                                              self._checked_now())
            if problem:
                self.get_logger().warning(problem, throttle_duration_sec=2.0)
            elif self.robot is None:
                self._publish()
            elif self.tf_pub is not None:
                self.tf_pub.publish(TFMessage(transforms=[transform_stamped(
                    self.p["frame_id"], self.p["tf_prefix"] + TORSO_BODY, pos, quat,
                    msg.header.stamp)]))
            return

    def _output(self) -> BridgeOutput:
        """The command for now, logging when the robot starts or stops following."""
        with self._lock:
            out = self.bridge.output(self._checked_now())
        self._last_out = out
        if out.cause != self._stop_cause:  # once per change, not at every tick
            if out.cause is not None:
                self.get_logger().warning(f"robot stopped: {out.stopped}")
            else:
                self.get_logger().info("following the planner")
            self._stop_cause = out.cause
            self._status_if_changed()
        return out

    def _publish(self) -> None:
        out = self._output()
        msg = LocomotionCommand(plan_id=out.plan_id, valid_for=self.p["valid_for"])
        msg.header.stamp = to_stamp(max(out.stamp, 0.0))
        msg.header.frame_id = "body"
        msg.vx, msg.vy, msg.yaw_rate = (float(v) for v in out.velocity)
        msg.arm_joints = [math.nan] * 6 if out.arm is None else [float(v) for v in out.arm]
        self.locomotion_pub.publish(msg)
        self.sent += 1

    def _publish_joints(self, names: list[str], positions: list[float],
                        velocities: list[float], stamp_ns: int) -> None:
        """The robot's joints as spot_ros2 publishes them: stamped with the time they were
        measured (the robot's clock turned into this computer's), not their arrival."""
        msg = JointState(name=names, position=positions, velocity=velocities)
        msg.header.stamp = Time(sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000)
        self.joints_pub.publish(msg)

    # --- status -------------------------------------------------------------------------
    def _robot_state(self) -> str:
        return "simulated" if self.robot is None else self.robot.state

    def _status_if_changed(self) -> None:
        """Publish the status at once when the robot's state or the stop's cause changed."""
        if (self._robot_state(), self._stop_cause) != self._reported:
            self._publish_status()

    def _publish_status(self) -> None:
        """``spot/status`` and ``/diagnostics`` (a timer, and at every change)."""
        robot, cause = self._robot_state(), self._stop_cause
        self._reported = (robot, cause)
        out = self._last_out
        following = out is not None and out.cause is None and robot in ("simulated", "standing")
        msg = BridgeStatus(mode=self.p["mode"], robot=robot, following=following,
                           stop_cause=cause or "", commands_sent=self._sent(),
                           rejected=self.bridge.rejected)
        msg.message = (out.stopped or "") if out is not None else "no command yet"
        if self.robot is not None:
            msg.failed_connects = self.robot.reconnector.attempts
            if robot == "disconnected" and self.robot.reconnector.last_error:
                msg.message = self.robot.reconnector.last_error
        msg.header.stamp = self.get_clock().now().to_msg()
        self.status_pub.publish(msg)
        self.diagnostics_pub.publish(self._diagnostics(msg))

    def _sent(self) -> int:
        return self.sent if self.robot is None else self.robot.sent

    def _diagnostics(self, status: BridgeStatus) -> DiagnosticArray:
        level = DiagnosticStatus.OK if status.following else DiagnosticStatus.WARN
        if status.robot == "disconnected" and status.failed_connects:
            level = DiagnosticStatus.ERROR
        values = {"mode": status.mode, "robot": status.robot, "following": status.following,
                  "stop_cause": status.stop_cause, "commands_sent": status.commands_sent,
                  "rejected": status.rejected, "failed_connects": status.failed_connects}
        text = "following the planner" if status.following else (
            f"robot {status.robot}" + (f": {status.message}" if status.message else ""))
        diag = DiagnosticStatus(level=level, name=f"{self.get_name()}: robot",
                                hardware_id=f"spot ({status.mode})", message=text,
                                values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])
        array = DiagnosticArray(status=[diag])
        array.header = status.header
        return array

    def shutdown(self) -> None:
        if self.robot is not None:
            self.robot.close()


def _check_rate(p: dict) -> None:
    if p["mode"] == "real" and p["rate"] < 10.0:
        raise ConfigError(f"rate must be >= 10 Hz for a real Spot, got {p['rate']:g}")


def _bridge_config(p: dict) -> BridgeConfig:
    """The bridge's configuration from the node's parameters (ConfigError if they clash)."""
    action = SpotActionConfig(tracking_time=p["tracking_time"], max_vx=p["max_vx"],
                              max_vy=p["max_vy"], max_yaw_rate=p["max_yaw_rate"])
    return BridgeConfig(command_timeout=p["command_timeout"], pose_timeout=p["pose_timeout"],
                        future_tolerance=p["future_tolerance"], max_jump=p["max_jump"],
                        action=action)


def main(args: list[str] | None = None) -> int:
    """Console entry point ``spot_bridge``."""
    from gpc_sim.ros.run import node_main

    return node_main(BridgeNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
