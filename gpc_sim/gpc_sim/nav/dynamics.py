"""The double integrator and the obstacles' random walk, batched in numpy.

One function each for what the plant and the planner's rollouts share, so that the
model differs from the plant only by the noise the plant adds (NFMPC paper, Sec. 5.1:
the noise on the accelerations is the mismatch between MPC's model and the world).
"""

from __future__ import annotations

import numpy as np

# Where things sit in a state vector (nstate = 6 + 2 * obstacles).
POS = slice(0, 2)
VEL = slice(2, 4)
GOAL = slice(4, 6)
OBSTACLES = slice(6, None)


def state_size(num_obstacles: int) -> int:
    return 6 + 2 * num_obstacles


def integrate(pos: np.ndarray, vel: np.ndarray, accel: np.ndarray,
              dt: float) -> tuple[np.ndarray, np.ndarray]:
    """One step of the double integrator under an acceleration held for ``dt``: exact,
    p' = p + v dt + a dt^2 / 2, v' = v + a dt (arrays of any matching shape (..., 2))."""
    return pos + vel * dt + 0.5 * dt * dt * accel, vel + accel * dt


def rollout(pos: np.ndarray, vel: np.ndarray, accels: np.ndarray,
            dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions and velocities (N, T, 2) after each of the accelerations (N, T, 2) from
    one start (2,): T vectorised steps of ``integrate``, a few microseconds each."""
    n, t, _ = accels.shape
    positions = np.empty((n, t, 2))
    velocities = np.empty((n, t, 2))
    p = np.broadcast_to(pos, (n, 2))
    v = np.broadcast_to(vel, (n, 2))
    for k in range(t):
        p, v = integrate(p, v, accels[:, k], dt)
        positions[:, k] = p
        velocities[:, k] = v
    return positions, velocities


def obstacle_distances(pos: np.ndarray, obstacles: np.ndarray) -> np.ndarray:
    """Distances (..., K) from points (..., 2) to obstacle centres given flat, (..., 2K)
    as they sit in a state ([x1, y1, x2, y2, ...]).

    Strided views of x and y rather than a reshape to (..., K, 2): a planning batch's
    obstacles are a non-contiguous slice of its states, and reshaping it copies it.
    """
    dx = obstacles[..., 0::2] - pos[..., 0, None]
    dy = obstacles[..., 1::2] - pos[..., 1, None]
    return np.sqrt(dx * dx + dy * dy)


def clearance(pos: np.ndarray, obstacles: np.ndarray, radius: float,
              half_extent: float) -> np.ndarray:
    """Distance (...) from points (..., 2) to the nearest obstacle edge (obstacles flat,
    (..., 2K)) or wall; negative inside an obstacle or outside the map."""
    to_obstacles = obstacle_distances(pos, obstacles).min(axis=-1) - radius
    to_walls = half_extent - np.abs(pos).max(axis=-1)
    return np.minimum(to_obstacles, to_walls)


def in_collision(pos: np.ndarray, obstacles: np.ndarray, radius: float,
                 half_extent: float) -> np.ndarray:
    """Whether points (..., 2) are inside an obstacle (flat, (..., 2K)) or outside the map.

    Squared distances, no square root: this runs on every step of every rollout.
    """
    dx = obstacles[..., 0::2] - pos[..., 0, None]
    dy = obstacles[..., 1::2] - pos[..., 1, None]
    inside = ((dx * dx + dy * dy) < radius * radius).any(axis=-1)
    return inside | (np.abs(pos).max(axis=-1) > half_extent)


def random_walk(obstacles: np.ndarray, std: float, half_extent: float,
                rng: np.random.Generator) -> np.ndarray:
    """Obstacle centres (any shape) one step later: Gaussian steps, clipped to the map."""
    moved = obstacles + std * rng.standard_normal(obstacles.shape)
    return np.clip(moved, -half_extent, half_extent)
