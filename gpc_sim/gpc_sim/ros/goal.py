"""The chair's goal on the latched goal topic: one goal for the planner, the sim and the summary.

Why a topic: the goal used to live in two places, the planner's ``goal`` parameter and the
sim's task default, so ``gpc/set_goal`` moved what the planner aimed for while the sim (and
the launcher's summary, which reads the sim) went on measuring success at the default. Now
the planner publishes its goal on ``goal_pose`` (``geometry_msgs/PoseStamped``, reliable and
transient local: a node that starts later still gets it) whenever it changes, and takes any
goal published there (rviz's goal tool, nav2-style tools, another node); the sim measures its
errors and success against the latest one. The frame must be the nodes' ``frame_id``: no TF
here, so a goal in another frame is refused, not silently misread.
"""

from __future__ import annotations

import numpy as np
from geometry_msgs.msg import PoseStamped

from gpc_sim.angles import wrap_angle
from gpc_sim.pose_checks import pose_problem
from gpc_sim.ros.convert import arrays_to_pose, to_stamp, yaw_quaternion
from gpc_sim.spot.action import yaw_from_quat

Goal = tuple[float, float, float]  # x (m), y (m), yaw (rad)
SAME = 1e-9  # m or rad: goals this close are the same goal (a yaw's trip through a quaternion)


def goal_message(goal: Goal, frame_id: str, stamp: float = 0.0) -> PoseStamped:
    """``goal`` as the goal topic's message (z = 0, the yaw as a rotation about z)."""
    msg = PoseStamped()
    msg.header.frame_id = frame_id
    msg.header.stamp = to_stamp(max(stamp, 0.0))
    msg.pose = arrays_to_pose((goal[0], goal[1], 0.0), yaw_quaternion(goal[2]))
    return msg


def goal_from_message(msg: PoseStamped, frame_id: str) -> tuple[Goal | None, str | None]:
    """(goal, None) from a goal message in ``frame_id``, or (None, why it is refused)."""
    frame = msg.header.frame_id.lstrip("/")
    if frame != frame_id.lstrip("/"):
        return None, (f"goal in frame {msg.header.frame_id!r} refused: goals must be in "
                      f"{frame_id!r} (no TF here)")
    p, q = msg.pose.position, msg.pose.orientation
    problem = pose_problem(np.array([p.x, p.y, p.z]), np.array([q.w, q.x, q.y, q.z]), "goal")
    if problem is not None:
        return None, problem
    yaw = float(yaw_from_quat(np.array([q.w, q.x, q.y, q.z])))
    return (float(p.x), float(p.y), yaw), None


def same_goal(a: Goal | None, b: Goal | None) -> bool:
    """Whether two goals are the same (position and yaw within ``SAME``)."""
    if a is None or b is None:
        return a is b
    return (abs(a[0] - b[0]) <= SAME and abs(a[1] - b[1]) <= SAME
            and abs(float(wrap_angle(a[2] - b[2]))) <= SAME)


def goal_text(goal: Goal) -> str:
    return f"x {goal[0]:.2f} m, y {goal[1]:.2f} m, yaw {goal[2]:.2f} rad"

