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
from gpc_sim.spot.constants import (  # noqa: E402
    CHAIR_FOOTPRINT_RADIUS,
    OBSTACLE_BOXES,
    ROBOT_FOOTPRINT_OFFSETS,
    ROBOT_FOOTPRINT_RADIUS,
    SUCCESS_POSITION_TOLERANCE,
)
from gpc_sim.spot.task import SpotChairTask  # noqa: E402
from gpc_sim.task import Task  # noqa: E402


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


def _spot_scene(ax, task: SpotChairTask) -> None:
    """The fixed parts of a Spot top view: the C obstacle and the goal (disc and heading)."""
    for _, (cx, cy, _), (hx, hy, _) in OBSTACLE_BOXES:
        ax.add_patch(plt.Rectangle((cx - hx, cy - hy), 2 * hx, 2 * hy, color="tab:brown"))
    gx, gy, gyaw = task.goal
    ax.add_patch(plt.Circle((gx, gy), SUCCESS_POSITION_TOLERANCE, facecolor="none",
                            edgecolor="green", linewidth=2.5, label="goal", zorder=5))
    ax.arrow(gx, gy, 0.3 * np.cos(gyaw), 0.3 * np.sin(gyaw), color="green", width=0.02,
             zorder=5)


def _chair(ax, pose: np.ndarray, alpha: float, label: str | None = None) -> None:
    """The chair's footprint disc and a radius along its seat heading."""
    x, y, yaw = pose
    ax.add_patch(plt.Circle((x, y), CHAIR_FOOTPRINT_RADIUS, color="tab:red", alpha=alpha,
                            label=label))
    ax.plot([x, x + CHAIR_FOOTPRINT_RADIUS * np.cos(yaw)],
            [y, y + CHAIR_FOOTPRINT_RADIUS * np.sin(yaw)], color="darkred", alpha=alpha)


def plot_spot_strip(task: SpotChairTask, states: np.ndarray, path: str | Path, title: str,
                    panels: int = 6) -> Path:
    """An image strip: ``panels`` top views at evenly spaced times of the episode.

    Each panel shows the robot as the footprint the obstacle cost uses (two discs along
    its heading), its arm as a line from the torso to the gripper, the chair's footprint
    and heading, the obstacle and the goal. Rendering with MuJoCo needs an OpenGL context,
    which headless machines without a GPU often lack; this needs none.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = min(panels, 3)
    rows = -(-panels // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    idx = np.linspace(0, len(states) - 1, panels).round().astype(int)
    gripper = task.gripper(task.layout.qpos(states[idx]))
    for ax, i, grip in zip(axes.flat, idx, gripper, strict=False):
        _spot_scene(ax, task)
        _chair(ax, task.chair_pose(states[i]), alpha=0.8)
        x, y, yaw = task.torso_pose(states[i])
        for offset in ROBOT_FOOTPRINT_OFFSETS:
            ax.add_patch(plt.Circle((x + offset * np.cos(yaw), y + offset * np.sin(yaw)),
                                    ROBOT_FOOTPRINT_RADIUS, color="tab:blue", alpha=0.5))
        ax.plot([x, grip[0]], [y, grip[1]], color="tab:purple", linewidth=2)
        ax.plot(grip[0], grip[1], "o", color="tab:purple", markersize=4)
        ax.set(xlim=(-4.5, 2.5), ylim=(-2.5, 2.5), aspect="equal",
               title=f"t = {i * task.dt:.1f} s")
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(idx):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_spot_episode(task: SpotChairTask, states: np.ndarray, path: str | Path, title: str,
                      snapshots: int = 8) -> Path:
    """Top view: obstacle, goal disc and heading, chair snapshots fading in, torso and
    gripper paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 6))
    _spot_scene(ax, task)
    idx = np.linspace(0, len(states) - 1, snapshots).astype(int)
    for j, i in enumerate(idx):
        alpha = 0.15 + 0.75 * j / max(1, snapshots - 1)
        _chair(ax, task.chair_pose(states[i]), alpha,
               label="chair" if j == len(idx) - 1 else None)
    torso = np.array([task.torso_pose(s) for s in states])
    gripper = task.gripper(task.layout.qpos(states))
    ax.plot(torso[:, 0], torso[:, 1], color="tab:blue", linewidth=1, label="torso path")
    ax.plot(*torso[0, :2], "o", color="tab:blue", markersize=6, label="torso start")
    ax.plot(gripper[:, 0], gripper[:, 1], color="tab:purple", linewidth=0.8, alpha=0.7,
            label="gripper path")
    ax.set(xlim=(task.action_low[0], task.action_high[0]),
           ylim=(task.action_low[1], task.action_high[1]), aspect="equal",
           xlabel="x [m]", ylabel="y [m]", title=title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_object_path(task: Task, states: np.ndarray, path: str | Path, title: str) -> Path:
    """Any task: the path from above of what has to get somewhere (``object_position``),
    beside its distance to the goal over time (``metrics``' ``position_error``)."""
    points = np.array([task.object_position(s) for s in states])
    errors = [task.metrics(s).get("position_error", np.nan) for s in states]
    fig, (top, curve) = plt.subplots(1, 2, figsize=(10, 4.5))
    top.plot(points[:, 0], points[:, 1], color="tab:blue")
    top.plot(*points[0], "o", color="tab:green", label="start")
    top.plot(*points[-1], "s", color="tab:blue", label="end")
    top.set(xlabel="x (m)", ylabel="y (m)", aspect="equal", title=f"{task.name}: from above")
    top.legend(fontsize=8)
    curve.plot(np.arange(len(states)) * task.dt, errors, color="tab:red")
    curve.set(xlabel="t (s)", ylabel="distance to the goal", title=title)
    for ax in (top, curve):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_episode(task: Task, states: np.ndarray, path: str | Path, title: str) -> Path:
    """The top view that suits ``task``'s family (push or Spot chair; for the others the
    generic path of ``plot_object_path``)."""
    if isinstance(task, SpotChairTask):
        return plot_spot_episode(task, states, path, title)
    if isinstance(task, PushTask):
        return plot_push_episode(task, states, path, title)
    return plot_object_path(task, states, path, title)
