"""The planner node's timing without ROS: the cases that broke a lock-stepped run before."""

import math

import pytest

from gpc_planner.scheduling import ReplanScheduler, SchedulerConfig
from gpc_sim.errors import ConfigError

PERIOD = 0.2


def scheduler(synchronous: bool) -> ReplanScheduler:
    return ReplanScheduler(SchedulerConfig(PERIOD, synchronous=synchronous, plan_timeout=1.0))


def test_real_time_plans_every_period_and_answers_every_frame_at_now():
    s = scheduler(synchronous=False)
    assert s.on_frame(10.00, now=10.01) == 10.01  # answered by the plan in force, read now
    assert s.due == 10.00  # the first frame is due
    assert s.take() == 10.00 and s.planning
    assert s.on_frame(10.02, now=10.03) == 10.03  # a frame while planning: answered, not due
    assert s.due is None
    s.finish(planned_from=10.00)
    assert s.next_plan == pytest.approx(10.20)
    s.on_frame(10.18, now=10.19)
    assert s.due is None  # not yet
    s.on_frame(10.20, now=10.21)
    assert s.due == 10.20


def test_lockstep_a_due_frame_and_its_resent_copies_are_answered_by_the_new_plan():
    s = scheduler(synchronous=True)
    assert s.on_frame(10.00, now=10.00) is None  # due: the coming plan answers it
    s.take()
    assert s.on_frame(10.00, now=10.00) is None  # the sim re-sent it while waiting
    s.finish(planned_from=10.00)
    assert s.answer_time(now=10.00, state_stamp=10.00) == 10.00


def test_lockstep_a_late_duplicate_is_answered_at_its_own_stamp_not_at_now():
    """The race of the stock executor: the clock had moved to the due frame's time when a
    late copy of the frame before it arrived; answered at "now", the old plan's answer
    carried the due frame's stamp and the run diverged 36 s in."""
    s = scheduler(synchronous=True)
    s.on_frame(10.00, now=10.00)
    s.take()
    s.finish(planned_from=10.00)
    assert s.on_frame(10.18, now=10.18) == 10.18  # not due: the old plan, at its own time
    assert s.on_frame(10.20, now=10.20) is None  # due
    s.take()
    assert s.on_frame(10.18, now=10.20) == 10.18  # the late copy: at its stamp, not 10.20


def test_crossing_joint_and_mocap_frames_wait_only_in_lockstep():
    sync, real = scheduler(synchronous=True), scheduler(synchronous=False)
    assert sync.wait_for_joints(10.02, joint_stamp=10.00)  # joints of this frame not in yet
    assert not sync.wait_for_joints(10.02, joint_stamp=10.02)
    assert sync.wait_for_joints(10.02, joint_stamp=math.nan)  # none at all yet
    assert not real.wait_for_joints(10.02, joint_stamp=10.00)


def test_a_stale_or_nan_state_wakes_the_planning_thread_to_hold_and_then_plans_soon():
    s = scheduler(synchronous=False)
    assert not s.on_tick(hold_needed=False, stamp=10.0)
    assert s.on_tick(hold_needed=True, stamp=10.0) and s.due == 10.0
    assert not s.on_tick(hold_needed=True, stamp=10.0)  # already woken
    s.take()
    assert not s.on_tick(hold_needed=True, stamp=10.0)  # holding in progress
    s.finish(planned_from=None)  # held: plan again as soon as a frame allows
    s.on_frame(10.02, now=10.02)
    assert s.due == 10.02


def test_disable_enable_and_reset_plan_from_the_next_frame():
    s = scheduler(synchronous=False)
    s.on_frame(10.0, now=10.0)
    s.take()
    s.finish(planned_from=10.0)
    s.on_frame(10.02, now=10.02)
    assert s.due is None
    s.plan_soon()  # enabled again, or the planner was reset
    s.on_frame(10.04, now=10.04)
    assert s.due == 10.04
    s.reset()
    assert s.due is None and not s.planning and s.next_plan == -math.inf


def test_a_plan_older_than_the_timeout_has_expired():
    s = scheduler(synchronous=False)
    assert not s.plan_expired(0.99) and s.plan_expired(1.01)


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="replan_period"):
        SchedulerConfig(0.0)
    with pytest.raises(ConfigError, match="plan_timeout"):
        SchedulerConfig(0.2, plan_timeout=math.inf)
