"""Where a physics step of the chair world goes: MuJoCo's stage timers and the contacts.

Why: the planner's rollouts are the whole cost of planning on Spot and the engine already
sits near bare ``mujoco.rollout``, so the next saving has to come from the physics; this
says which part of a step to attack (``gpc bench physics``, docs/SPOT_PHYSICS.md).

``profile_physics`` replays actuator targets (per command step, as the rollout engine
applied them) world by world on one MjData, the way the engine steps (each command step
sets the state and starts the solver cold, then ``substeps`` steps), and reads:

* MuJoCo's own stage timers (``mjData.timer``: step = forward + advance; forward =
  position (kinematics, inertia, collision = broad + narrow phase, constraint make) +
  velocity + actuation + constraint solve), per physics step, in microseconds. The clock
  is a C function from the compiled lane library when it is available: a Python clock
  costs about a microsecond per call, ~30 calls a step, and is reported as such;
* the solver's iterations and the constraint rows per step;
* the contacts per step, by the kind of pair (``CONTACT_KINDS``): which pairs exist at all
  and which are worth simulating.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Iterator
from contextlib import contextmanager

import mujoco
import numpy as np

from gpc_sim.spot.assets import substeps_of
from gpc_sim.spot.native_lane import native_lane
from gpc_sim.spot.world import CHAIR_BODY, SPOT_ROOT_BODY

# Stage timers, as reported (name -> mjtTimer), in the order of a step.
STAGES = {
    "step": mujoco.mjtTimer.mjTIMER_STEP,
    "forward": mujoco.mjtTimer.mjTIMER_FORWARD,
    "position": mujoco.mjtTimer.mjTIMER_POSITION,
    "kinematics": mujoco.mjtTimer.mjTIMER_POS_KINEMATICS,
    "inertia": mujoco.mjtTimer.mjTIMER_POS_INERTIA,
    "collision": mujoco.mjtTimer.mjTIMER_POS_COLLISION,
    "broadphase": mujoco.mjtTimer.mjTIMER_COL_BROAD,
    "narrowphase": mujoco.mjtTimer.mjTIMER_COL_NARROW,
    "constraint_make": mujoco.mjtTimer.mjTIMER_POS_MAKE,
    "velocity": mujoco.mjtTimer.mjTIMER_VELOCITY,
    "actuation": mujoco.mjtTimer.mjTIMER_ACTUATION,
    "constraint_solve": mujoco.mjtTimer.mjTIMER_CONSTRAINT,
    "advance": mujoco.mjtTimer.mjTIMER_ADVANCE,
}
# Pairs of geom groups (sorted) -> the kind of contact reported.
_KINDS = {
    ("floor", "foot"): "feet-floor",
    ("floor", "robot"): "robot-floor",
    ("caster", "floor"): "casters-floor",
    ("chair", "floor"): "chair-floor",
    ("caster", "foot"): "chair-robot",
    ("caster", "robot"): "chair-robot",
    ("chair", "foot"): "chair-robot",
    ("chair", "robot"): "chair-robot",
    ("caster", "obstacle"): "chair-obstacle",
    ("chair", "obstacle"): "chair-obstacle",
    ("foot", "obstacle"): "robot-obstacle",
    ("obstacle", "robot"): "robot-obstacle",
    ("foot", "foot"): "robot-self",
    ("foot", "robot"): "robot-self",
    ("robot", "robot"): "robot-self",
}
CONTACT_KINDS = tuple(dict.fromkeys([*_KINDS.values(), "other"]))


def geom_groups(model: mujoco.MjModel) -> list[str]:
    """Each geom's group: floor, foot, robot (Spot's other links), caster, chair, obstacle."""
    spot = model.body(SPOT_ROOT_BODY).id
    chair = model.body(CHAIR_BODY).id
    groups = []
    for g in range(model.ngeom):
        body = int(model.geom_bodyid[g])
        root = int(model.body_rootid[body])
        name = model.geom(g).name
        if root == spot:
            groups.append("foot" if name.endswith("foot_collision") else "robot")
        elif root == chair:
            groups.append("caster" if "caster" in name else "chair")
        elif body == 0:
            groups.append("floor")
        else:
            groups.append("obstacle")
    return groups


def contact_kind(groups: list[str], geom1: int, geom2: int) -> str:
    """The kind (``CONTACT_KINDS``) of a contact between two geoms."""
    pair = tuple(sorted((groups[geom1], groups[geom2])))
    return _KINDS.get(pair, "other")  # type: ignore[arg-type]


@contextmanager
def stage_timers() -> Iterator[str]:
    """MuJoCo's stage timers switched on (``mjcb_time``) for the block; yields the clock
    used, "c" or "python". The previous callback is put back afterwards."""
    lane = native_lane()
    if lane is not None:
        clock, name = lane.clock_us, "c"
    else:
        clock = ctypes.CFUNCTYPE(ctypes.c_double)(lambda: time.perf_counter() * 1e6)
        name = "python"
    previous = mujoco.get_mjcb_time()
    mujoco.set_mjcb_time(clock)
    try:
        yield name
    finally:
        mujoco.set_mjcb_time(previous)


def profile_physics(model: mujoco.MjModel, physics_starts: np.ndarray,
                    ctrl: np.ndarray, cold: bool = True) -> dict:
    """Stage times, solver work and contacts per physics step of ``model``.

    ``physics_starts``: (N, FULLPHYSICS size) or one row for all; ``ctrl``: (N, T, nu)
    actuator targets per command step, each held for the world's substeps. ``cold``: start
    the solver cold at every command step, as the engine does (False: MuJoCo's warm start
    throughout, as bare ``mujoco.rollout``).
    """
    n, t, _ = ctrl.shape
    substeps = substeps_of(model)
    starts = np.broadcast_to(np.asarray(physics_starts, dtype=np.float64),
                             (n, mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_FULLPHYSICS)))
    groups = geom_groups(model)
    kinds = dict.fromkeys(CONTACT_KINDS, 0)
    data = mujoco.MjData(model)
    steps = iterations = rows = contacts = 0
    max_iterations = 0
    with stage_timers() as clock:
        for world in range(n):
            mujoco.mj_setState(model, data, starts[world], mujoco.mjtState.mjSTATE_FULLPHYSICS)
            for k in range(t):
                data.ctrl[:] = ctrl[world, k]
                if cold:
                    data.qacc_warmstart[:] = 0.0  # the engine starts every command step cold
                for _ in range(substeps):
                    mujoco.mj_step(model, data)
                    steps += 1
                    niter = int(data.solver_niter[0])
                    iterations += niter
                    max_iterations = max(max_iterations, niter)
                    rows += data.nefc
                    contacts += data.ncon
                    for geom1, geom2 in data.contact.geom[: data.ncon]:
                        kinds[contact_kind(groups, int(geom1), int(geom2))] += 1
        timers = {name: data.timer[int(stage)].duration for name, stage in STAGES.items()}
    # data.timer accumulates over every step since the MjData was made.
    return {
        "nq": model.nq,
        "nv": model.nv,
        "timestep_s": float(model.opt.timestep),
        "substeps": substeps,
        "physics_steps": steps,
        "clock": clock,
        "us_per_step": {name: round(total / steps, 2) for name, total in timers.items()},
        "us_per_command_step": round(timers["step"] / steps * substeps, 2),
        "solver_iterations_mean": round(iterations / steps, 3),
        "solver_iterations_max": max_iterations,
        "constraint_rows_mean": round(rows / steps, 2),
        "contacts_mean": round(contacts / steps, 3),
        "contacts_per_step": {kind: round(count / steps, 3) for kind, count in kinds.items()},
    }
