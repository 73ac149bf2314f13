"""Pictures of episodes (matplotlib, headless Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

from gpc_sim.push.coverage import place  # noqa: E402
from gpc_sim.push.task import PushTask  # noqa: E402


def _outline(ax, geom: shapely.Geometry, **kwargs) -> None:
    for poly in getattr(geom, "geoms", [geom]):
        x, y = poly.exterior.xy
        ax.fill(x, y, **kwargs)


def plot_push_episode(task: PushTask, states: np.ndarray, path: str | Path, title: str,
                      snapshots: int = 8) -> Path:
    """Top view: goal outline, block snapshots fading in over time, the pusher's path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 6))
    idx = np.linspace(0, len(states) - 1, snapshots).astype(int)
    for j, i in enumerate(idx):
        alpha = 0.15 + 0.75 * j / max(1, snapshots - 1)
        _outline(ax, place(task.shape, task.block_pose(states[i])), facecolor="tab:red",
                 alpha=alpha, edgecolor="darkred", linewidth=0.5,
                 label="block" if j == len(idx) - 1 else None)
    _outline(ax, place(task.shape, task.goal), facecolor="none", edgecolor="green",
             linewidth=2.5, label="goal", zorder=5)  # on top: visible under the final block
    pusher = np.array([task.pusher_position(s) for s in states])
    ax.plot(pusher[:, 0], pusher[:, 1], color="tab:blue", linewidth=1, label="pusher path")
    ax.plot(*pusher[0], "o", color="tab:blue", markersize=6, label="pusher start")
    lim = 0.35
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel="x [m]", ylabel="y [m]",
           title=title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
