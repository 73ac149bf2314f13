"""The Spot bridge node: ``gpc/command`` (9-DoF targets) -> a Spot's velocity and arm command.

Thin adapter around ``CommandBridge`` (the shared 9-DoF mapping, limits, watchdog):
subscribes ``gpc/command`` and ``rigid_bodies`` (the torso's pose), and

* ``mode: sim`` publishes ``spot/locomotion_command`` for the sim node, once per incoming
  pose or target (a lock-stepped sim waits for the answer to its frame) and at ``rate``;
* ``mode: real`` drives a Spot through bosdyn-client (``SpotClient``): on a thread of its
  own, connect (login with ``BOSDYN_CLIENT_USERNAME``/``BOSDYN_CLIENT_PASSWORD`` from the
  environment, time sync, lease, e-stop endpoint, power on, stand), then a synchronized
  velocity + arm command at ``rate`` (>= 10 Hz) with a short validity; a lost connection is
  logged and retried with exponential backoff, never a crash; the robot's joint states are
  published on ``joint_states`` for the planner (``publish_joint_states``); at shutdown
  stop, sit, power off, and return the lease.

With no fresh target (``command_timeout``: the planner died) or pose (``pose_timeout``), or
with a pose that fails the estimator's checks, the command is a stop: zero velocity, arm
held. Stamps from the future are refused (``gpc_sim.stamps``). The rate, the timeouts, the
validity, the mapping's limits, the stamp tolerance and the jump limit are live parameters
(``ros2 param set`` applies them at once, or refuses them with the reason); the others are
read-only.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import JointState

from gpc_msgs.msg import HighLevelCommand, LocomotionCommand
from gpc_sim.errors import ConfigError
from gpc_sim.ros import qos, topics
from gpc_sim.ros.convert import clock_seconds, pose_to_arrays, to_seconds, to_stamp
from gpc_sim.ros.parameters import Value, declare
from gpc_sim.spot.action import SpotActionConfig
from gpc_spot_bridge.bridge_params import BRIDGE_PARAMETERS
from gpc_spot_bridge.command_bridge import BridgeConfig, BridgeOutput, CommandBridge
from mocap4r2_msgs.msg import RigidBodies

MODES = ("sim", "real")


class BridgeNode(Node):
    """ROS adapter of ``CommandBridge`` towards the sim node or a real Spot."""

    NAME = "spot_bridge"  # the default node name (launch files may rename it)

    def __init__(self) -> None:
        super().__init__(self.NAME)
        p = declare(self, BRIDGE_PARAMETERS, apply=self._apply_parameters)
        self.p = p
        if p["mode"] not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {p['mode']!r}")
        _check_rate(p)
        self.bridge = CommandBridge(_bridge_config(p))
        self._timer = None
        self._lock = threading.Lock()
        self._stop_cause: str | None = None
        self.sent = 0
        self.create_subscription(HighLevelCommand, topics.COMMAND, self._on_command, qos.STREAM)
        self.create_subscription(RigidBodies, topics.RIGID_BODIES, self._on_bodies, qos.STREAM)
        self.robot = None
        if p["mode"] == "sim":
            self.locomotion_pub = self.create_publisher(LocomotionCommand,
                                                        topics.LOCOMOTION_COMMAND, qos.STREAM)
            self._timer = self.create_timer(1.0 / p["rate"], self._publish)
        else:
            from gpc_spot_bridge.real_robot import RealRobot

            publish = None
            if p["publish_joint_states"]:
                self.joints_pub = self.create_publisher(JointState, topics.JOINT_STATES,
                                                        qos.STREAM)
                publish = self._publish_joints
            self.robot = RealRobot(self, p, self._output, publish)
        self.get_logger().info(
            f"mode {p['mode']}: watchdog {p['command_timeout']:g} s, limits "
            f"{p['max_vx']:g} / {p['max_vy']:g} m/s, {p['max_yaw_rate']:g} rad/s")

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

    def _on_command(self, msg: HighLevelCommand) -> None:
        target = np.array([msg.x, msg.y, msg.yaw, *msg.arm_joints])
        with self._lock:
            problem = self.bridge.on_target(to_seconds(msg.header.stamp), target, msg.plan_id,
                                            self._now())
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
                                              self._now())
            if problem:
                self.get_logger().warning(problem, throttle_duration_sec=2.0)
            elif self.robot is None:
                self._publish()
            return

    def _output(self) -> BridgeOutput:
        """The command for now, logging when the robot starts or stops following."""
        with self._lock:
            out = self.bridge.output(self._now())
        if out.cause != self._stop_cause:  # once per change, not at every tick
            if out.cause is not None:
                self.get_logger().warning(f"robot stopped: {out.stopped}")
            else:
                self.get_logger().info("following the planner")
            self._stop_cause = out.cause
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
                        velocities: list[float]) -> None:
        msg = JointState(name=names, position=positions, velocity=velocities)
        msg.header.stamp = self.get_clock().now().to_msg()
        self.joints_pub.publish(msg)

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
    from gpc_sim.ros.run import run_node

    return run_node(BridgeNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
