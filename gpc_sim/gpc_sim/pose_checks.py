"""Checks of a measured pose before anything acts on it: one definition for every receiver.

Motion-capture systems report trouble in ways that look like numbers: NaN when a body is
lost, a zero quaternion ("tracking lost" on several systems), a body swapped with another
(a jump). The planner's state estimate and the bridge both take poses from ``rigid_bodies``
and both must refuse the same ones; a zero quaternion turned into yaw 0 once let the bridge
steer by a heading nobody measured.
"""

from __future__ import annotations

import numpy as np

# |q| may differ from 1 by this much (a system's rounding); beyond it the orientation is
# not a rotation, and a zero quaternion is a lost body, not yaw 0.
UNIT_QUAT_TOLERANCE = 0.1


def pose_problem(position: np.ndarray, quat: np.ndarray, what: str = "pose") -> str | None:
    """Why a position (3,) and a (w, x, y, z) orientation cannot be used (None: they can)."""
    position = np.asarray(position, dtype=np.float64)
    quat = np.asarray(quat, dtype=np.float64)
    if position.shape != (3,) or quat.shape != (4,):
        return f"{what} of the wrong size ({position.shape}, {quat.shape})"
    if not (np.all(np.isfinite(position)) and np.all(np.isfinite(quat))):
        return f"{what} with NaN or inf"
    norm = float(np.linalg.norm(quat))
    if abs(norm - 1.0) > UNIT_QUAT_TOLERANCE:
        return f"{what} with a degenerate orientation (|q| = {norm:.2f}, not a rotation)"
    return None


def unit_quat(quat: np.ndarray) -> np.ndarray:
    """``quat`` normalised (after ``pose_problem`` accepted it)."""
    quat = np.asarray(quat, dtype=np.float64)
    return quat / np.linalg.norm(quat)


def jump(position: np.ndarray, previous: np.ndarray | None) -> float:
    """Distance (m) from the previous position (0 without one)."""
    if previous is None:
        return 0.0
    return float(np.linalg.norm(np.asarray(position) - np.asarray(previous)))
