"""How far a chair world (``spot.worlds``) drifts from another on the same command sequences.

Why: a cheaper physics is only worth having if the planner would decide the same with it.
A sampling planner scores a batch of command sequences from one state and keeps the best
(CEM: the elites; MPPI: weights by cost), so what has to survive is first the *ranking* of
the sequences, then the trajectories themselves. ``compare_worlds`` rolls the same target
sequences out from the same starts in both worlds (each with its own rollout engine, the
policy in the loop) and reports, over all rollouts:

* torso and chair position (m) and yaw (rad) errors at given times, mean and max;
* how many rollouts fell (torso below the task's fall height at any step) or tipped the
  chair (tilt beyond the task's tip angle at any step) in each world;
* per start, the rank correlation (Spearman) across its sequences of the final chair-goal
  distance and of the task's cost (what CEM ranks), and the share of the reference's
  elites (the best ``elites``) that the world also ranks among its best;
* the wall time of each world's rollouts (speed beside fidelity; one run, not a benchmark).

Errors pool all rollouts; rank figures are per start (one planning step's batch), then
their mean and minimum. ``gpc bench fidelity`` draws the sequences as CEM's first
iteration from several starts (docs/SPOT_PHYSICS.md).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from scipy.stats import spearmanr

from gpc_sim.angles import wrap_angle
from gpc_sim.spot.action import base_pose_from_qpos
from gpc_sim.spot.task import SpotChairTask
from gpc_sim.spot.world import chair_pose_from_qpos, chair_tilt_from_qpos, convert_state

FIDELITY_TIMES = (1.0, 2.0, 4.0)  # s after the start: where the poses are compared
ELITES = 6  # CEM's elites (CEMConfig.num_elites)
APPROACH_BEYOND = 0.5  # m past the chair's centre: where ``approach`` sends the torso


def approach(task: SpotChairTask, state: np.ndarray, seconds: float,
             beyond: float = APPROACH_BEYOND) -> np.ndarray:
    """The state after walking at the chair for ``seconds`` from ``state`` in ``task``'s world.

    The torso is sent to a point ``beyond`` m past the chair's centre on the line from the
    torso, facing the chair, the arm held: from the sampler's starts (the chair ~1.9 m
    ahead) the arm reaches the chair after ~2.5 s and then pushes it. Starts taken so make
    the compared samples push the chair, as most of an episode's planning steps do.
    """
    steps = round(seconds / task.dt)
    if steps <= 0:
        return np.array(state, dtype=np.float64)
    qpos = task.layout.qpos(state)
    torso, chair = base_pose_from_qpos(qpos), chair_pose_from_qpos(qpos)
    direction = chair[:2] - torso[:2]
    direction /= max(float(np.linalg.norm(direction)), 1e-9)
    target = task.nominal_action(state)
    target[0:2] = chair[:2] + beyond * direction
    target[2] = np.arctan2(direction[1], direction[0])
    targets = np.broadcast_to(target, (1, steps, target.shape[0]))
    return task.rollout(state, targets)[0, -1].copy()


def _poses(task: SpotChairTask, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    qpos = task.layout.qpos(states)
    return base_pose_from_qpos(qpos), chair_pose_from_qpos(qpos)


def _events(task: SpotChairTask, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per rollout: fell (torso below fall height) and tipped (chair tilt) at any step."""
    qpos = task.layout.qpos(states)
    fell = np.any(qpos[..., 2] < task.config.fall_height, axis=-1)
    tipped = np.any(chair_tilt_from_qpos(qpos) > task.config.tip_angle, axis=-1)
    return fell, tipped


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Rank correlation of two samples; 1.0 where either is constant (nothing to rank)."""
    if np.ptp(a) == 0.0 or np.ptp(b) == 0.0:
        return 1.0
    return float(spearmanr(a, b).statistic)


def _elite_overlap(reference_costs: np.ndarray, costs: np.ndarray, elites: int) -> float:
    k = min(elites, len(costs))
    best = set(np.argsort(reference_costs, kind="stable")[:k].tolist())
    return len(best & set(np.argsort(costs, kind="stable")[:k].tolist())) / k


def _stats(values: list[float]) -> dict:
    return {"mean": round(float(np.mean(values)), 4), "min": round(float(np.min(values)), 4)}


def compare_worlds(reference: SpotChairTask, task: SpotChairTask, starts: Sequence[np.ndarray],
                   targets: Sequence[np.ndarray], times: Sequence[float] = FIDELITY_TIMES,
                   elites: int = ELITES) -> dict:
    """Roll ``targets[i]`` (N, T, 9) from ``starts[i]`` in both tasks' worlds and compare.

    Starts are states of ``reference``'s world (converted for ``task``'s,
    ``world.convert_state``). ``times`` (s) must fall within the horizon T x dt.
    """
    if len(starts) != len(targets) or not starts:
        raise ValueError("need one target batch per start, and at least one start")
    steps = [round(t / reference.dt) - 1 for t in times]
    horizon = min(batch.shape[1] for batch in targets)
    if min(steps) < 0 or max(steps) >= horizon:
        raise ValueError(f"times {tuple(times)} s do not fit a horizon of {horizon} steps")
    torso_err: dict[float, list[np.ndarray]] = {t: [] for t in times}
    chair_err: dict[float, list[np.ndarray]] = {t: [] for t in times}
    events = {"reference": np.zeros(2, dtype=int), "world": np.zeros(2, dtype=int)}
    rank_distance, rank_cost, overlap = [], [], []
    seconds = [0.0, 0.0]  # rollout wall time: reference, world
    for start, batch in zip(starts, targets, strict=True):
        ours_start = convert_state(start, reference.model, task.model)
        clock = time.perf_counter()
        ref_states = reference.rollout(start, batch).copy()
        seconds[0] += time.perf_counter() - clock
        clock = time.perf_counter()
        states = task.rollout(ours_start, batch).copy()
        seconds[1] += time.perf_counter() - clock
        for name, who, s in (("reference", reference, ref_states), ("world", task, states)):
            fell, tipped = _events(who, s)
            events[name] += (int(fell.sum()), int(tipped.sum()))
        ref_torso, ref_chair = _poses(reference, ref_states)
        torso, chair = _poses(task, states)
        for t, k in zip(times, steps, strict=True):
            torso_err[t].append(np.stack(_pose_errors(torso[:, k], ref_torso[:, k])))
            chair_err[t].append(np.stack(_pose_errors(chair[:, k], ref_chair[:, k])))
        goal = reference.goal[:2]
        rank_distance.append(_spearman(np.linalg.norm(ref_chair[:, -1, :2] - goal, axis=-1),
                                       np.linalg.norm(chair[:, -1, :2] - goal, axis=-1)))
        ref_costs = reference.cost(ref_states, batch)
        costs = task.cost(states, batch)
        rank_cost.append(_spearman(ref_costs, costs))
        overlap.append(_elite_overlap(ref_costs, costs, elites))
    errors = {}
    for t in times:
        row = {}
        for body, err in (("torso", torso_err[t]), ("chair", chair_err[t])):
            position, yaw = np.concatenate(err, axis=1)
            row[f"{body}_position_m"] = {"mean": round(float(position.mean()), 4),
                                         "max": round(float(position.max()), 4)}
            row[f"{body}_yaw_rad"] = {"mean": round(float(yaw.mean()), 4),
                                      "max": round(float(yaw.max()), 4)}
        errors[f"{t:g}s"] = row
    return {
        "reference": reference.world.name,
        "world": task.world.name,
        "starts": len(starts),
        "rollouts": int(sum(len(batch) for batch in targets)),
        "horizon_s": round(horizon * reference.dt, 6),
        "errors": errors,
        "falls": {name: int(counts[0]) for name, counts in events.items()},
        "tips": {name: int(counts[1]) for name, counts in events.items()},
        "rank_corr_final_distance": _stats(rank_distance),
        "rank_corr_cost": _stats(rank_cost),
        "elite_overlap": _stats(overlap),
        "rollout_s": {"reference": round(seconds[0], 3), "world": round(seconds[1], 3)},
        "speedup": round(seconds[0] / seconds[1], 3) if seconds[1] > 0 else None,
    }


def _pose_errors(pose: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planar position error (m) and |yaw error| (rad) of poses (N, 3) against others."""
    position = np.linalg.norm(pose[:, :2] - reference[:, :2], axis=-1)
    return position, np.abs(wrap_angle(pose[:, 2] - reference[:, 2]))
