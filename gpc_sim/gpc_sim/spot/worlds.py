"""Named physics settings of the chair world: the registry ``SPOT_WORLDS`` of ``SpotWorld``.

Why presets and not free options: the planner's rollouts are the whole cost of planning and
data collection on Spot, and most of that cost is the physics of the chair world, so it
pays to simulate a cheaper world where the task survives it. What "survives" means is
measured (``gpc bench fidelity``, docs/SPOT_PHYSICS.md), so only measured combinations get
a name; an evaluation, a benchmark or a dataset then records one word that says which
physics it ran on.

A world changes how the same scene is simulated, never the scene itself: bodies, masses,
geometry, the obstacle and the goal stay; the locomotion policy still runs once per 0.02 s
command step (``COMMAND_DT``), held over ``substeps`` physics steps. The layout the policy
code relies on (Spot first in qpos, the chair's free joint at ``CHAIR_QPOS_ADR``) holds in
every world; only the casters' ball joints, after the chair's free joint, may go.

* ``original``: the world as built since the start (judo's Spot options: implicitfast,
  Newton, pyramidal friction cones, two 0.01 s steps per command step; casters on ball
  joints). Its settings are judo's MJCF's own, so it compiles to the same model.
* ``fast``: one 0.02 s physics step per command step with the Euler integrator (whose
  ``eulerdamp`` treats the joint damping implicitly), and Spot's links not colliding with
  each other: rollouts ~3x cheaper; the ranking of CEM's samples is partly kept (rank
  correlation of their costs ~0.8 per start), the robot falls more often (~1.3x).
* ``balanced``: the same at two 0.01 s steps: rollouts ~1.75x cheaper, trajectories and
  rankings about as close to the original as changing only the friction cone gets.

Measured alternatives that did not make it (docs/SPOT_PHYSICS.md): implicitfast at
0.02 s (as faithful as ``fast``, 1.6x slower), welded or damped casters (the chair then
moves differently: its rank correlation drops to ~0.5), solver iteration caps, CG,
pyramidal cones, Spot's joints without friction loss (no gain).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import mujoco

from gpc_sim.errors import ConfigError
from gpc_sim.spot.constants import COMMAND_DT

INTEGRATORS = {
    "euler": mujoco.mjtIntegrator.mjINT_EULER,
    "rk4": mujoco.mjtIntegrator.mjINT_RK4,
    "implicit": mujoco.mjtIntegrator.mjINT_IMPLICIT,
    "implicitfast": mujoco.mjtIntegrator.mjINT_IMPLICITFAST,
}
SOLVERS = {
    "pgs": mujoco.mjtSolver.mjSOL_PGS,
    "cg": mujoco.mjtSolver.mjSOL_CG,
    "newton": mujoco.mjtSolver.mjSOL_NEWTON,
}
CONES = {"pyramidal": mujoco.mjtCone.mjCONE_PYRAMIDAL, "elliptic": mujoco.mjtCone.mjCONE_ELLIPTIC}
# "ball": a sphere on a ball joint per caster, rolling freely, resisted by the joint's
# friction loss. "damped": the same, resisted by viscous damping instead (the same force
# at a walking push, ``CHAIR_PUSH_SPEED``; no friction-loss rows in the constraint solver,
# and the Euler integrator treats damping implicitly). "welded": the sphere is part of the
# chair body and slides on the floor with a friction coefficient equal to the
# rolling-resistance coefficient (same resisting force, 15 fewer degrees of freedom).
CASTER_MODELS = ("ball", "damped", "welded")


@dataclass(frozen=True)
class SpotWorld:
    """How the chair world is simulated (``world.build_chair_world`` applies it).

    ``substeps`` physics steps of ``COMMAND_DT / substeps`` s make one command step; the
    rest are MuJoCo's ``mjOption`` fields of the same names, the casters' model, whether
    Spot's own links collide with each other and whether its joints have friction loss.
    """

    name: str
    integrator: str = "implicitfast"
    substeps: int = 2
    solver: str = "newton"
    iterations: int = 100
    ls_iterations: int = 50
    tolerance: float = 1e-8
    cone: str = "pyramidal"
    casters: str = "ball"
    self_collision: bool = True
    joint_friction: bool = True  # Spot's joints' friction loss (judo's MJCF: 0.5 N m each)

    @property
    def timestep(self) -> float:
        """The physics step (s): the command step split into ``substeps``."""
        return COMMAND_DT / self.substeps

    def check(self) -> SpotWorld:
        """Itself, or a ConfigError naming the first setting MuJoCo would not take."""
        for value, known, what in ((self.integrator, INTEGRATORS, "integrator"),
                                   (self.solver, SOLVERS, "solver"), (self.cone, CONES, "cone"),
                                   (self.casters, CASTER_MODELS, "caster model")):
            if value not in known:
                raise ConfigError(f"world {self.name}: unknown {what} {value!r}; "
                                  f"known: {', '.join(known)}")
        if self.substeps < 1 or self.iterations < 1 or self.ls_iterations < 1:
            raise ConfigError(f"world {self.name}: substeps and iterations must be >= 1")
        if not self.tolerance >= 0.0:
            raise ConfigError(f"world {self.name}: tolerance must be >= 0")
        return self

    def apply_options(self, spec: mujoco.MjSpec) -> None:
        """Write the solver and integrator settings into ``spec.option``."""
        option = spec.option
        option.timestep = self.timestep
        option.integrator = INTEGRATORS[self.integrator]
        option.solver = SOLVERS[self.solver]
        option.iterations = self.iterations
        option.ls_iterations = self.ls_iterations
        option.tolerance = self.tolerance
        option.cone = CONES[self.cone]

    def variant(self, name: str, **changes: object) -> SpotWorld:
        """A copy under another name with some settings changed (for measuring levers)."""
        return replace(self, name=name, **changes).check()  # type: ignore[arg-type]


ORIGINAL = SpotWorld("original")
SPOT_WORLDS: dict[str, SpotWorld] = {
    "original": ORIGINAL,
    "fast": ORIGINAL.variant("fast", integrator="euler", substeps=1, self_collision=False),
    "balanced": ORIGINAL.variant("balanced", integrator="euler", self_collision=False),
}
# The world the plant and the rollouts run unless told otherwise: `balanced` keeps the task
# (closed-loop CEM within the original's interval on probe seed 1, docs/SPOT_PHYSICS.md) at
# ~1.75x cheaper rollouts.
DEFAULT_WORLD = "balanced"
# The world speed and fidelity are measured against (judo's options), and the one a record
# without a world field was made in (journals and results from before worlds had names).
REFERENCE_WORLD = "original"


def spot_world(world: str | SpotWorld) -> SpotWorld:
    """The preset named ``world`` (a SpotWorld passes through, checked); ConfigError if
    there is none of that name."""
    if isinstance(world, SpotWorld):
        return world.check()
    if world not in SPOT_WORLDS:
        raise ConfigError(f"unknown Spot world {world!r}; known: {', '.join(SPOT_WORLDS)}")
    return SPOT_WORLDS[world]


def world_with_options(world: str | SpotWorld, options: Sequence[str] = ()) -> SpotWorld:
    """``world`` with ``KEY=VALUE`` settings changed, named after them (``original+
    integrator=euler``): the levers ``gpc bench`` measures before a combination earns a
    preset. Values take the type of the setting; a bad key or value is a ConfigError."""
    base = spot_world(world)
    if not options:
        return base
    types = {f.name: f.type for f in fields(SpotWorld) if f.name != "name"}
    changes: dict[str, object] = {}
    for option in options:
        key, sep, text = option.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or key not in types:
            raise ConfigError(f"world option {option!r}: expected KEY=VALUE with KEY one of "
                              f"{', '.join(types)}")
        changes[key] = _parse_value(key, text, types[key])
    return base.variant(f"{base.name}+{','.join(options)}", **changes)


def _parse_value(key: str, text: str, kind: str) -> object:
    """``text`` as the type named ``kind`` (dataclass field types are strings here)."""
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise ConfigError(f"world option {key}: expected a {kind}, got {text!r}") from None
    if kind == "bool":
        if text.lower() not in ("true", "false", "1", "0"):
            raise ConfigError(f"world option {key}: expected true or false, got {text!r}")
        return text.lower() in ("true", "1")
    return text
