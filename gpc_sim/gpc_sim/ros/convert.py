"""Conversions between ROS messages and the core's numbers (seconds, arrays)."""

from __future__ import annotations

import math

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Pose, TransformStamped
from rclpy.clock import Clock


def nanoseconds_to_seconds(ns: int) -> float:
    """Integer nanoseconds as seconds, correctly rounded (one IEEE division).

    The one conversion that stamps and clock readings go through, so that one instant is
    one float wherever it is read. ``sec + nanosec * 1e-9`` and ``ns * 1e-9`` disagree in
    the last bit for 40 % of the 0.02 s steps; with the two mixed, a lock-stepped run
    depended on whether ``/clock`` or the mocap frame reached the planner first."""
    return ns / 1e9


def to_seconds(stamp: Time) -> float:
    """A message stamp as seconds."""
    return nanoseconds_to_seconds(stamp.sec * 1_000_000_000 + stamp.nanosec)


def clock_seconds(clock: Clock) -> float:
    """An rclpy clock's reading (a node's: sim time under ``use_sim_time``) as seconds."""
    return nanoseconds_to_seconds(clock.now().nanoseconds)


def to_stamp(seconds: float) -> Time:
    """Seconds (>= 0) as a message stamp, rounded to the nanosecond."""
    ns = int(round(seconds * 1e9))
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def pose_to_arrays(pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """Position (3,) and (w, x, y, z) orientation of a geometry_msgs/Pose."""
    p, q = pose.position, pose.orientation
    return np.array([p.x, p.y, p.z]), np.array([q.w, q.x, q.y, q.z])


def arrays_to_pose(position: np.ndarray, quat: np.ndarray) -> Pose:
    """A geometry_msgs/Pose from a position (3,) and a (w, x, y, z) orientation."""
    pose = Pose()
    pose.position.x, pose.position.y, pose.position.z = (float(v) for v in position)
    w, x, y, z = (float(v) for v in quat)
    pose.orientation.w, pose.orientation.x = w, x
    pose.orientation.y, pose.orientation.z = y, z
    return pose


def transform_stamped(parent: str, child: str, position, quat, stamp: Time
                      ) -> TransformStamped:
    """A TF edge: frame ``child`` at ``position`` (3,) and (w, x, y, z) ``quat`` in
    ``parent``."""
    msg = TransformStamped()
    msg.header.stamp, msg.header.frame_id = stamp, parent
    msg.child_frame_id = child
    t, r = msg.transform.translation, msg.transform.rotation
    t.x, t.y, t.z = (float(v) for v in position)
    r.w, r.x, r.y, r.z = (float(v) for v in quat)
    return msg


def yaw_quaternion(yaw: float) -> tuple[float, float, float, float]:
    """(w, x, y, z) of a rotation by ``yaw`` about the vertical."""
    return (math.cos(yaw / 2.0), 0.0, 0.0, math.sin(yaw / 2.0))
