"""The faults ``gpc soak`` injects, and when: a schedule drawn from a seed.

Five kinds, each something a deployed graph meets:

* ``kill_planner``, ``kill_bridge``, ``kill_sim``: SIGKILL (a crash that leaves no chance
  to say goodbye), the process down for ``down_s``, then started again;
* ``freeze_planner``: SIGSTOP for ``down_s``, then SIGCONT (a planner stuck in a long
  computation, swapped out, or a debugger's breakpoint): alive but silent;
* ``mocap_dropout``: the sim's live ``mocap_blackout`` parameter for ``down_s`` (the
  tracking system lost every body): the world and the clock go on, no pose arrives.

A schedule is a pure function of the seed and the settings, so a failing fault can be
injected again at the same moment of a rerun. Kinds are dealt evenly (each kind once per
round, in a shuffled order) so that a short run still tries each one; times are uniform
in the window with at least ``min_gap`` seconds between two faults, enough for the graph
to come back and for the fault to be judged before the next one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpc_sim.errors import ConfigError

KILL_PLANNER = "kill_planner"
KILL_BRIDGE = "kill_bridge"
KILL_SIM = "kill_sim"
FREEZE_PLANNER = "freeze_planner"
MOCAP_DROPOUT = "mocap_dropout"
KINDS = (KILL_PLANNER, KILL_BRIDGE, KILL_SIM, FREEZE_PLANNER, MOCAP_DROPOUT)
#: The node each kind acts on (the process killed or frozen, the node whose parameter is set).
TARGET = {KILL_PLANNER: "gpc_planner", KILL_BRIDGE: "spot_bridge", KILL_SIM: "gpc_sim",
          FREEZE_PLANNER: "gpc_planner", MOCAP_DROPOUT: "gpc_sim"}
KILLS = (KILL_PLANNER, KILL_BRIDGE, KILL_SIM)


@dataclass(frozen=True)
class Fault:
    """One fault: its kind, when (s after the soak's start), and how long the process is
    down, frozen or the mocap dark (s)."""

    index: int
    kind: str
    at_s: float
    down_s: float

    def as_dict(self) -> dict:
        return {"index": self.index, "kind": self.kind, "at_s": round(self.at_s, 2),
                "down_s": round(self.down_s, 2)}


def parse_kinds(text: str) -> tuple[str, ...]:
    """A comma-separated list of kinds ("all": every kind), each once, in KINDS' order."""
    names = [k.strip() for k in text.split(",") if k.strip()]
    if names == ["all"]:
        return KINDS
    unknown = sorted(set(names) - set(KINDS))
    if unknown or not names:
        raise ConfigError(f"unknown fault kind(s) {', '.join(unknown) or '(none given)'}; "
                          f"known: all, {', '.join(KINDS)}", setting="kinds")
    return tuple(k for k in KINDS if k in names)


def fault_schedule(seed: int, count: int, start_s: float, end_s: float, min_gap_s: float,
                   kinds: tuple[str, ...] = KINDS, down_s: tuple[float, float] = (2.0, 5.0)
                   ) -> list[Fault]:
    """``count`` faults between ``start_s`` and ``end_s`` (s after the start), at least
    ``min_gap_s`` apart, kinds dealt evenly from ``kinds``, each down for a time uniform in
    ``down_s``; the same arguments give the same schedule."""
    if count < 0:
        raise ConfigError(f"fault count must be >= 0, got {count}", setting="faults")
    if not kinds:
        raise ConfigError("no fault kind to inject", setting="kinds")
    low, high = down_s
    if not 0.0 < low <= high:
        raise ConfigError(f"down time range must be 0 < low <= high, got {down_s}")
    if count == 0:
        return []
    span = end_s - start_s
    slack = span - (count - 1) * min_gap_s
    if min_gap_s < 0.0 or slack < 0.0:
        raise ConfigError(
            f"{count} faults at least {min_gap_s:g} s apart do not fit between {start_s:g} s "
            f"and {end_s:g} s: a longer duration, fewer faults or a smaller gap",
            setting="faults")
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.uniform(0.0, slack, count))
    times = start_s + offsets + min_gap_s * np.arange(count)
    dealt: list[str] = []
    while len(dealt) < count:
        dealt += [kinds[i] for i in rng.permutation(len(kinds))]
    downs = rng.uniform(low, high, count)
    return [Fault(i, dealt[i], float(times[i]), float(downs[i])) for i in range(count)]
