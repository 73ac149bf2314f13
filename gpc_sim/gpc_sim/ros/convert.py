"""Conversions between ROS messages and the core's numbers (seconds, arrays)."""

from __future__ import annotations

import math

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Pose


def to_seconds(stamp: Time) -> float:
    """A message stamp as seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


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


def yaw_quaternion(yaw: float) -> tuple[float, float, float, float]:
    """(w, x, y, z) of a rotation by ``yaw`` about the vertical."""
    return (math.cos(yaw / 2.0), 0.0, 0.0, math.sin(yaw / 2.0))
