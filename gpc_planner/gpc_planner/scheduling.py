"""The planner node's timing: when to plan, when to hold, which plan answers which frame.

A robot's planner runs against the clock. Frames (mocap) arrive at 50 Hz; a planning step
starts from the newest frame once the replanning period has passed since the last plan's
state, on a thread of its own, and takes what it takes. Every frame is answered with a
command read from the plan in force. In lock-step (a simulation that waits for the answer
to its frame before stepping) one rule more keeps a run reproducible: a frame due for
replanning is answered by the new plan, and so is any re-sent copy of it that arrives while
that plan is being made; a late copy of an earlier frame is answered by the old plan read at
that frame's own stamp, never at the clock's "now" (which may already be the due frame's
time: a run diverged so once).

``ReplanScheduler`` holds exactly that bookkeeping, with no ROS and no threads, so each case
that once broke is a unit test; the node calls it under its lock and publishes what it says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gpc_sim.errors import ConfigError

DUE_SLACK = 1e-6  # s: a frame this close before the next replanning instant is due
SAME_FRAME = 1e-9  # s: stamps this close are the same frame


@dataclass(frozen=True)
class SchedulerConfig:
    """replan_period: s between the states two plans start from. synchronous: lock-step.
    plan_timeout: s the plan in force may age before the robot is made to hold."""

    replan_period: float
    synchronous: bool = False
    plan_timeout: float = 3.0

    def __post_init__(self) -> None:
        for name in ("replan_period", "plan_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ConfigError(f"{name} must be a positive number of seconds, got {value}")


class ReplanScheduler:
    """Decides for the planner node (module docstring); one instance per node."""

    def __init__(self, config: SchedulerConfig) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Nothing due, nothing planning; the next frame is due (a new episode)."""
        self.due: float | None = None  # stamp of the frame the planning thread is to take
        self.planning = False
        self.planning_stamp = math.inf  # the frame the current (or last) step started from
        self.next_plan = -math.inf  # frames from here on are due for replanning

    def plan_soon(self) -> None:
        """Plan from the next frame (after enabling, a reset of the planner, a hold)."""
        self.next_plan = -math.inf

    @property
    def busy(self) -> bool:
        return self.planning or self.due is not None

    def wait_for_joints(self, stamp: float, joint_stamp: float) -> bool:
        """Whether a frame stamped ``stamp`` should wait for its joint states first.

        A lock-stepped sim sends a frame's joint states just before its mocap, on another
        topic, and the two may cross; planning from the older joints would make the run
        depend on delivery order. In real time nothing waits.
        """
        return self.config.synchronous and not joint_stamp >= stamp - SAME_FRAME

    def on_frame(self, stamp: float, now: float) -> float | None:
        """A frame stamped ``stamp`` was taken at ``now``: schedule a plan if one is due.

        Returns the time at which the plan in force is to be read for the command that
        answers this frame now, or None when the coming plan answers it (lock-step).
        """
        due = not self.busy and stamp >= self.next_plan - DUE_SLACK
        busy = self.busy
        if due:
            self.due = self.planning_stamp = stamp
        if self.config.synchronous:
            if due or (busy and stamp >= self.planning_stamp - SAME_FRAME):
                return None
            return stamp
        return now

    def on_tick(self, hold_needed: bool, stamp: float) -> bool:
        """Periodic check: without frames nothing would wake the planning thread. Returns
        whether to wake it to hold (``hold_needed``: no usable state, or disabled), from
        the last frame's ``stamp``."""
        if self.busy or not hold_needed:
            return False
        self.due = self.planning_stamp = stamp
        return True

    def take(self) -> float | None:
        """The planning thread takes the due frame's stamp (None: nothing is due)."""
        stamp, self.due = self.due, None
        if stamp is not None:
            self.planning = True
        return stamp

    def finish(self, planned_from: float | None) -> None:
        """The planning step is over. ``planned_from``: the stamp of the state a plan put in
        force started from; None when the step held (or failed): plan again at once."""
        self.planning = False
        if planned_from is None:
            self.plan_soon()
        else:
            self.next_plan = planned_from + self.config.replan_period

    def answer_time(self, now: float, state_stamp: float) -> float:
        """When to read the plan for the command sent after a planning step: in lock-step
        the answer to the frame it started from (its stamp passed the node's stamp check),
        in real time the node's own clock."""
        if self.config.synchronous and math.isfinite(state_stamp):
            return max(now, state_stamp)
        return now

    def plan_expired(self, plan_age: float) -> bool:
        """Whether the plan in force, ``plan_age`` s old, is too old to execute."""
        return plan_age > self.config.plan_timeout
