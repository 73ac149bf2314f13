"""The verdict on one fault, from the locomotion commands the robot received.

What counts is what the robot does, so the judge reads ``spot/locomotion_command`` (what
the bridge sends the simulated Spot) the way the sim applies it: a command arriving at sim
time ``a`` with stamp ``s`` drives the robot until a newer one arrives or until it expires
at ``min(s, a) + valid_for`` (the robot's own stop, as on a real Spot); one stamped beyond
the sim's clock (more than ``future_tolerance``) is refused and drives nothing. The robot
moves while the command in force has a non-zero velocity; the bridge's stop is a zero
velocity with ``plan_id`` 0.

Times are the sim's clock (``/clock`` as the probe last heard it when the command
arrived): the bridge's watchdog and the robot's expiry run on it, and when a killed node
pauses its publishers (Fast DDS's dead-reader check, docs/ROS.md) the simulated world
pauses with them, so wall time would count seconds in which nothing moved. The wall-clock
figure is reported beside it.

* time to stop: from the fault until the robot stopped for good, that is the start of the
  stopped spell that lasts until the fault ends (the process back, the mocap back); None if
  the robot was still moving when the fault ended. A stop that the robot left again while
  the fault lasted does not count.
* time to resume: from the fault's end (wall clock: restarts take wall time, and a
  restarted sim's clock starts again from zero) until the robot is driven by the planner
  again: the first accepted command with ``plan_id`` > 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

STOPPED = 1e-9  # m/s, rad/s: a command this small in every component is a stop


@dataclass(frozen=True)
class CommandEvent:
    """A locomotion command as the probe received it."""

    wall: float  # s, monotonic clock of the soak process at arrival
    sim: float  # s, the sim's clock as last heard at arrival (NaN: none yet)
    stamp: float  # s, the command's header stamp
    plan_id: int
    speed: float  # largest |vx|, |vy|, |yaw_rate|
    valid_for: float  # s


def accepted(event: CommandEvent, future_tolerance: float) -> bool:
    """Whether the sim would take the command (its stamp not beyond the sim's clock)."""
    return math.isnan(event.sim) or event.stamp <= event.sim + future_tolerance


def moving_until(events: Sequence[CommandEvent], future_tolerance: float,
                 clock: str = "sim") -> list[tuple[float, float]]:
    """The intervals (on ``clock``: "sim" or "wall") in which the robot moves, from the
    commands in arrival order."""
    taken = [e for e in events if accepted(e, future_tolerance)]
    spells = []
    for i, event in enumerate(taken):
        if event.speed <= STOPPED:
            continue
        start = getattr(event, clock)
        if clock == "sim":
            expiry = min(event.stamp, event.sim) + event.valid_for
        else:
            expiry = event.wall + event.valid_for
        end = expiry if i + 1 == len(taken) else min(expiry, getattr(taken[i + 1], clock))
        if end > start:
            spells.append((start, end))
    return spells


def time_to_stop(events: Sequence[CommandEvent], fault: float, back: float,
                 future_tolerance: float = 0.1, clock: str = "sim") -> float | None:
    """Seconds from ``fault`` until the robot stopped for good before ``back`` (the fault's
    end), both on ``clock``; None if it still moved at ``back`` (module docstring)."""
    last = -math.inf
    for start, end in moving_until(events, future_tolerance, clock):
        if end <= fault or start >= back:
            continue
        last = max(last, min(end, back))
    if last == -math.inf:
        return 0.0  # stopped already when the fault came
    if last >= back:
        return None
    return last - fault


def time_to_resume(events: Sequence[CommandEvent], back_wall: float,
                   future_tolerance: float = 0.1) -> float | None:
    """Wall seconds from ``back_wall`` (the fault's end) until the first accepted command
    that follows a plan; None if none came."""
    for event in events:
        if event.wall >= back_wall and event.plan_id > 0 and accepted(event,
                                                                       future_tolerance):
            return event.wall - back_wall
    return None


@dataclass
class Verdict:
    """What one fault did: times (s; None: did not happen), and why it failed, if it did."""

    stop_s: float | None  # sim clock
    stop_wall_s: float | None
    resume_s: float | None  # wall clock
    was_moving: bool  # whether the robot moved when the fault came
    problems: list[str]

    @property
    def survived(self) -> bool:
        return not self.problems


def judge(events: Sequence[CommandEvent], kind_kills_robot: bool, fault_wall: float,
          fault_sim: float, back_wall: float, back_sim: float, bound_s: float,
          future_tolerance: float = 0.1, problems: Sequence[str] = ()) -> Verdict:
    """The verdict on one fault from the commands around it (``events``, arrival order).

    ``kind_kills_robot``: the fault killed the sim, which is the robot: it stops with its
    process (time to stop 0) and what is judged is that the new one is driven again.
    ``problems``: what the soak saw besides (a crash, a traceback in a log)."""
    issues = list(problems)
    before = [e for e in events if e.wall <= fault_wall]
    moving = bool(before) and any(
        s <= fault_sim < e for s, e in moving_until(before[-1:], future_tolerance))
    if kind_kills_robot:
        stop, stop_wall = 0.0, 0.0
    else:
        window = [e for e in events if e.wall <= back_wall]
        stop_wall = time_to_stop(window, fault_wall, back_wall, future_tolerance, "wall")
        stop = (stop_wall if math.isnan(fault_sim) or math.isnan(back_sim) else
                time_to_stop(window, fault_sim, back_sim, future_tolerance))
        if stop is None:
            issues.append("the robot was still moving when the fault ended")
        elif stop > bound_s:
            issues.append(f"the robot stopped after {stop:.2f} s of sim time, beyond the "
                          f"{bound_s:g} s bound")
    resume = time_to_resume(events, back_wall, future_tolerance)
    if resume is None:
        issues.append("the graph did not resume (no command following a plan)")
    return Verdict(stop, stop_wall, resume, moving, issues)
