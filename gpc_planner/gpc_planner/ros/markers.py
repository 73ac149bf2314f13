"""rviz pictures of the chair push: the plan, the best samples, the goal, the obstacle, bodies.

Message builders only (no node): the planner node calls them and publishes the results.
Paths are the torso targets of a plan (the planner's action), read off its spline every
0.1 s; the scene is the task's own geometry (``spot.constants``), so what rviz shows is
what the costs see.
"""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, PoseStamped
from nav_msgs.msg import Path
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from gpc_planner.control import ControlSpline
from gpc_planner.planner import PlanResult
from gpc_sim.ros.convert import arrays_to_pose, yaw_quaternion
from gpc_sim.spot.constants import (
    CHAIR_FOOTPRINT_RADIUS,
    OBSTACLE_BOXES,
    SUCCESS_POSITION_TOLERANCE,
)
from gpc_sim.spot.task import SpotChairTask

PATH_STEP = 0.1  # s between the drawn points of a plan


def best_samples(result: PlanResult, count: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The ``count`` cheapest candidates of the last iteration: knots (n, K, m), costs (n,)."""
    if count <= 0 or result.samples is None or result.sample_costs is None:
        return None
    order = np.argsort(result.sample_costs)[:count]
    return result.samples[order], result.sample_costs[order]


def _torso_points(spline: ControlSpline, knots: np.ndarray) -> np.ndarray:
    """(T, 3) torso x, y, yaw targets along ``knots`` (K, m), every ``PATH_STEP``."""
    times = np.arange(0.0, spline.horizon + 1e-9, PATH_STEP)
    return np.stack([spline.value_at(knots, t)[:3] for t in times])


def plan_path(spline: ControlSpline, knots: np.ndarray, stamp: Time, frame: str) -> Path:
    """The executed plan's torso targets as a nav_msgs/Path."""
    path = Path()
    path.header.stamp, path.header.frame_id = stamp, frame
    for x, y, yaw in _torso_points(spline, knots):
        pose = PoseStamped()
        pose.header = path.header
        pose.pose = arrays_to_pose((x, y, 0.05), yaw_quaternion(yaw))
        path.poses.append(pose)
    return path


def _marker(ns: str, ident: int, kind: int, stamp: Time, frame: str,
            rgba: tuple[float, float, float, float]) -> Marker:
    m = Marker(ns=ns, id=ident, type=kind, action=Marker.ADD)
    m.header.stamp, m.header.frame_id = stamp, frame
    m.pose.orientation.w = 1.0
    m.color = ColorRGBA(r=rgba[0], g=rgba[1], b=rgba[2], a=rgba[3])
    return m


def _line(ns: str, ident: int, points: np.ndarray, width: float, stamp: Time, frame: str,
          rgba: tuple[float, float, float, float]) -> Marker:
    m = _marker(ns, ident, Marker.LINE_STRIP, stamp, frame, rgba)
    m.scale.x = width
    m.points = [Point(x=float(x), y=float(y), z=0.05) for x, y, _ in points]
    return m


def plan_markers(spline: ControlSpline, knots: np.ndarray,
                 samples: tuple[np.ndarray, np.ndarray] | None, stamp: Time,
                 frame: str) -> MarkerArray:
    """The plan (thick green) and the best samples (thin, fading with rank)."""
    out = MarkerArray(markers=[_line("plan", 0, _torso_points(spline, knots), 0.04, stamp,
                                     frame, (0.1, 0.8, 0.2, 1.0))])
    if samples is not None:
        n = len(samples[1])
        for i, sample in enumerate(samples[0]):
            alpha = 0.8 - 0.6 * i / max(n - 1, 1)
            out.markers.append(_line("samples", i, _torso_points(spline, sample), 0.015,
                                     stamp, frame, (0.2, 0.5, 1.0, alpha)))
    return out


def scene_markers(task: SpotChairTask, state: np.ndarray | None, stamp: Time,
                  frame: str) -> MarkerArray:
    """Obstacle boxes, the goal (tolerance disc + heading), and the estimated bodies."""
    out = MarkerArray()
    for i, (_, centre, half) in enumerate(OBSTACLE_BOXES):
        m = _marker("obstacle", i, Marker.CUBE, stamp, frame, (0.55, 0.35, 0.2, 0.9))
        m.pose.position.x, m.pose.position.y, m.pose.position.z = centre
        m.scale.x, m.scale.y, m.scale.z = (2.0 * h for h in half)
        out.markers.append(m)
    gx, gy, gyaw = (float(v) for v in task.goal)
    disc = _marker("goal", 0, Marker.CYLINDER, stamp, frame, (0.1, 0.9, 0.1, 0.35))
    disc.pose = arrays_to_pose((gx, gy, 0.005), (1.0, 0.0, 0.0, 0.0))
    disc.scale.x = disc.scale.y = 2.0 * SUCCESS_POSITION_TOLERANCE
    disc.scale.z = 0.01
    arrow = _marker("goal", 1, Marker.ARROW, stamp, frame, (0.1, 0.9, 0.1, 1.0))
    arrow.pose = arrays_to_pose((gx, gy, 0.02), yaw_quaternion(gyaw))
    arrow.scale.x, arrow.scale.y, arrow.scale.z = 0.4, 0.05, 0.05
    out.markers += [disc, arrow]
    if state is None:
        return out
    torso = task.torso_pose(state)
    chair = task.chair_pose(state)
    body = _marker("torso", 0, Marker.CUBE, stamp, frame, (0.95, 0.8, 0.1, 0.9))
    body.pose = arrays_to_pose((torso[0], torso[1], 0.5), yaw_quaternion(torso[2]))
    body.scale.x, body.scale.y, body.scale.z = 0.84, 0.22, 0.18  # Spot's body box
    seat = _marker("chair", 0, Marker.CYLINDER, stamp, frame, (0.2, 0.2, 0.25, 0.8))
    seat.pose = arrays_to_pose((chair[0], chair[1], 0.25), (1.0, 0.0, 0.0, 0.0))
    seat.scale.x = seat.scale.y = 2.0 * CHAIR_FOOTPRINT_RADIUS
    seat.scale.z = 0.5
    heading = _marker("chair", 1, Marker.ARROW, stamp, frame, (0.9, 0.2, 0.2, 1.0))
    heading.pose = arrays_to_pose((chair[0], chair[1], 0.52), yaw_quaternion(chair[2]))
    heading.scale.x, heading.scale.y, heading.scale.z = 0.4, 0.04, 0.04
    out.markers += [body, seat, heading]
    return out

