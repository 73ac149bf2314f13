"""The chair's distance to the goal the way it must travel: around the obstacle.

The paper's cost measures the chair's straight-line distance to the goal. From every start
the straight push runs into the obstacle's cup (``constants``: "going around means first
pushing the chair" away from the goal), and a planner that looks 4 s ahead sees only the
straight line: it presses the chair into the cup, where it stays. The length of the shortest
path the chair's centre can take to the goal (its footprint clear of the obstacle's boxes)
has no such trap: it falls monotonically along the way around. The Spot tasks plan on it by
default (``SpotChairConfig.goal_distance = "geodesic"``; "euclidean" is the paper's): data
collection gets episodes that go around, which a proposal model then learns, and every
planner does better on it (docs/RESULTS.md). The task's success stays the straight-line one.

The field is computed once per (goal, clearance) on a grid over the arena (Dijkstra with
16 neighbours: path lengths within ~3 % of the true ones) and read back with bilinear
interpolation, vectorised over any batch of positions. Cells inside the inflated obstacle
(a chair pressed against a wall sits on its boundary) take their nearest free cell's value
plus the distance to it, so the field is finite everywhere and still leads out.
"""

from __future__ import annotations

import functools

import numpy as np

from gpc_sim.spot.constants import CHAIR_FOOTPRINT_RADIUS, OBSTACLE_BOXES

GRID_STEP = 0.025  # m
GRID_X = (-6.0, 5.0)  # m: the torso target's bounds (-5, 3) with a margin
GRID_Y = (-4.0, 4.0)
# The chair's footprint radius less a little: the field must be free where a chair pushed
# against a wall actually is (its casters stand out from the base, the contact is soft).
DEFAULT_CLEARANCE = CHAIR_FOOTPRINT_RADIUS - 0.05


class GeodesicDistance:
    """Shortest-path distance (m) from a point in the plane to ``goal`` around the boxes."""

    def __init__(self, goal: tuple[float, float], clearance: float = DEFAULT_CLEARANCE) -> None:
        self.goal = (float(goal[0]), float(goal[1]))
        self.clearance = float(clearance)
        self.field = _distance_field(self.goal, self.clearance)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        """Distances (...,) of positions ``xy`` (..., 2); outside the grid, of the nearest
        grid point plus the distance to it."""
        xy = np.asarray(xy, dtype=np.float64)
        lo = np.array([GRID_X[0], GRID_Y[0]])
        hi = np.array([GRID_X[1], GRID_Y[1]])
        inside = np.clip(xy, lo, hi)
        outside = np.linalg.norm(xy - inside, axis=-1)
        u = (inside - lo) / GRID_STEP
        i0 = np.minimum(np.floor(u).astype(np.int64), np.array(self.field.shape) - 2)
        f = u - i0
        fx, fy = f[..., 0], f[..., 1]
        ix, iy = i0[..., 0], i0[..., 1]
        d = self.field
        value = ((1 - fx) * (1 - fy) * d[ix, iy] + fx * (1 - fy) * d[ix + 1, iy]
                 + (1 - fx) * fy * d[ix, iy + 1] + fx * fy * d[ix + 1, iy + 1])
        return value + outside


def blocked_cells(clearance: float) -> np.ndarray:
    """(nx, ny) bool: grid points whose distance to an obstacle box is below ``clearance``."""
    xs, ys = _axes()
    px, py = np.meshgrid(xs, ys, indexing="ij")
    blocked = np.zeros(px.shape, dtype=bool)
    for _, centre, half in OBSTACLE_BOXES:
        dx = np.maximum(np.abs(px - centre[0]) - half[0], 0.0)
        dy = np.maximum(np.abs(py - centre[1]) - half[1], 0.0)
        blocked |= np.hypot(dx, dy) < clearance
    return blocked


def _axes() -> tuple[np.ndarray, np.ndarray]:
    nx = int(round((GRID_X[1] - GRID_X[0]) / GRID_STEP)) + 1
    ny = int(round((GRID_Y[1] - GRID_Y[0]) / GRID_STEP)) + 1
    # Rounded: a point at +y and its mirror at -y must fall on the same side of a wall.
    return (np.round(GRID_X[0] + GRID_STEP * np.arange(nx), 9),
            np.round(GRID_Y[0] + GRID_STEP * np.arange(ny), 9))


def _shifted(cells: tuple[slice, slice], ox: int, oy: int) -> tuple[slice, slice]:
    """The index ranges ``cells`` moved by (ox, oy) cells."""
    sx, sy = cells
    return slice(sx.start + ox, sx.stop + ox), slice(sy.start + oy, sy.stop + oy)


@functools.lru_cache(maxsize=4)
def _distance_field(goal: tuple[float, float], clearance: float) -> np.ndarray:
    """Dijkstra from the goal's grid point over the free cells (16 neighbours), then the
    blocked cells filled from their nearest free cell. Read-only (shared by the cache)."""
    from scipy import ndimage, sparse
    from scipy.sparse import csgraph

    xs, ys = _axes()
    nx, ny = len(xs), len(ys)
    blocked = blocked_cells(clearance)
    free = ~blocked
    index = np.arange(nx * ny).reshape(nx, ny)
    rows, cols, weights = [], [], []
    moves = [(1, 0), (0, 1), (1, 1), (1, -1), (1, 2), (2, 1), (1, -2), (2, -1)]
    for mx, my in moves:
        # Edge (i, j) -> (i + mx, j + my) when both ends are free and, for a long move,
        # the cells it passes are too (no corner cutting through a thin wall).
        a = (slice(0, nx - mx), slice(max(0, -my), ny - max(0, my)))
        b = (slice(mx, nx), slice(max(0, my), ny - max(0, -my)))
        ok = free[a] & free[b]
        if 2 in (abs(mx), abs(my)):  # a knight's move: the two cells beside its middle
            for ox, oy in ((mx // 2, my // 2), (-(-mx // 2), -(-my // 2))):
                ok &= free[_shifted(a, ox, oy)]
        rows.append(index[a][ok])
        cols.append(index[b][ok])
        weights.append(np.full(int(ok.sum()), GRID_STEP * float(np.hypot(mx, my))))
    r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
    graph = sparse.coo_matrix((w, (r, c)), shape=(nx * ny, nx * ny)).tocsr()
    gi = int(np.clip(round((goal[0] - GRID_X[0]) / GRID_STEP), 0, nx - 1))
    gj = int(np.clip(round((goal[1] - GRID_Y[0]) / GRID_STEP), 0, ny - 1))
    if blocked[gi, gj]:
        raise ValueError(f"goal {goal} lies within {clearance:g} m of the obstacle")
    dist = csgraph.dijkstra(graph, directed=False, indices=index[gi, gj]).reshape(nx, ny)
    # Fill blocked (and unreachable) cells from the nearest reachable one.
    reachable = np.isfinite(dist)
    _, (ii, jj) = ndimage.distance_transform_edt(~reachable, return_indices=True)
    fill = dist[ii, jj] + GRID_STEP * np.hypot(ii - np.arange(nx)[:, None],
                                               jj - np.arange(ny)[None, :])
    field = np.where(reachable, dist, fill)
    field.setflags(write=False)
    return field
