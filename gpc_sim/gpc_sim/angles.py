"""Planar angle helpers shared by every task (one definition of "yaw error")."""

import numpy as np


def wrap_angle(angle: np.ndarray | float) -> np.ndarray | float:
    """Wrap angles to [-pi, pi) so that errors near +-pi are small, not ~2 pi."""
    return (np.asarray(angle) + np.pi) % (2.0 * np.pi) - np.pi
