"""The Push-T success metric: how much of the goal pose the block covers.

coverage = area(block at its pose  intersect  block at the goal pose) / block area.
It is computed with shapely (exact polygon clipping), one definition used by
the task's success test, evaluation and plots.
"""

from __future__ import annotations

import numpy as np
import shapely

from gpc_sim.push.shapes import BlockShape


def place(shape: BlockShape, pose: np.ndarray) -> shapely.Geometry:
    """The block outline at planar pose (x, y, yaw) in the world frame."""
    x, y, yaw = (float(v) for v in pose)
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, -s], [s, c]])
    return shapely.transform(shape.polygon, lambda pts: pts @ rot.T + (x, y))


def coverage(shape: BlockShape, pose: np.ndarray, goal: np.ndarray) -> float:
    """Share of the block's area that lies inside the goal outline, in [0, 1]."""
    block = place(shape, pose)
    target = place(shape, goal)
    return float(shapely.intersection(block, target).area / shape.area)
