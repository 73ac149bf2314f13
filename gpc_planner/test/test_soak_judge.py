"""``gpc soak``'s verdict on a fault, from recorded locomotion command sequences.

A command drives the simulated robot from its arrival until a newer one arrives or it
expires at min(stamp, arrival) + valid_for; a zero command is a stop; one stamped beyond the
sim's clock is refused. Times here are on the sim's clock (wall = sim + 1000)."""

import pytest

from gpc_planner.soak.judge import CommandEvent, judge, moving_until, time_to_resume, time_to_stop

DT = 0.02


def following(start, end, stamp_lag=0.0, plan_id=5, speed=0.4):
    """Commands every 20 ms that follow a plan, stamped ``stamp_lag`` s before arrival."""
    n = round((end - start) / DT)
    return [CommandEvent(1000.0 + start + i * DT, start + i * DT, start + i * DT - stamp_lag,
                         plan_id, speed, 0.3) for i in range(n)]


def stops(start, end):
    return following(start, end, plan_id=0, speed=0.0)


def test_a_bridge_stop_after_the_watchdog():
    """The planner dies at 10.0; the bridge follows its last target until 10.5, then stops."""
    events = following(9.0, 10.5) + stops(10.5, 14.0)
    assert time_to_stop(events, 10.0, 14.0) == pytest.approx(0.5)
    assert time_to_stop(events, 1010.0, 1014.0, clock="wall") == pytest.approx(0.5)


def test_commands_that_stop_coming_expire_on_the_robot():
    """The bridge dies at 10.0: the last command drives the robot for valid_for more."""
    events = following(9.0, 10.0)
    assert time_to_stop(events, 10.0, 14.0) == pytest.approx(0.28)  # sent at 9.98


def test_an_old_stamp_expires_earlier():
    """Commands stamped with the last target's time (a silent planner) expire from it."""
    events = [CommandEvent(1000.0 + t, t, 9.9, 5, 0.4, 0.3) for t in (9.9, 10.0, 10.1, 10.3)]
    spells = moving_until(events, 0.1)
    assert spells[-1] == (pytest.approx(10.1), pytest.approx(10.2))  # 10.3's: expired
    assert time_to_stop(events, 10.0, 14.0) == pytest.approx(0.2)


def test_a_robot_still_moving_when_the_fault_ends_did_not_stop():
    events = following(9.0, 12.0)
    assert time_to_stop(events, 10.0, 11.0) is None


def test_a_brief_stop_that_the_robot_left_again_does_not_count():
    events = following(9.0, 10.1) + stops(10.1, 10.2) + following(10.2, 10.6) + stops(10.6, 12)
    assert time_to_stop(events, 10.0, 12.0) == pytest.approx(0.6)


def test_a_robot_already_stopped_stops_at_once():
    assert time_to_stop(stops(9.0, 12.0), 10.0, 12.0) == 0.0


def test_commands_from_the_future_drive_nothing():
    """A restarted sim refuses commands stamped on the old clock."""
    events = [CommandEvent(1000.0 + t, t, 40.0, 5, 0.4, 0.3) for t in (0.1, 0.2, 0.3)]
    assert moving_until(events, 0.1) == []
    assert time_to_resume(events, 1000.0) is None
    events.append(CommandEvent(1000.4, 0.4, 0.38, 1, 0.4, 0.3))
    assert time_to_resume(events, 1000.0) == pytest.approx(0.4)


def test_resume_is_the_first_command_that_follows_a_plan_after_the_fault_ended():
    events = following(9.0, 10.0) + stops(10.0, 13.0) + following(13.0, 14.0, plan_id=1)
    assert time_to_resume(events, 1012.0) == pytest.approx(1.0)
    assert time_to_resume(stops(10.0, 13.0), 1011.0) is None


def test_verdicts():
    events = following(9.0, 10.5) + stops(10.5, 13.0) + following(13.0, 14.0, plan_id=1)
    good = judge(events, False, 1010.0, 10.0, 1012.0, 12.0, bound_s=0.8)
    assert good.survived and good.was_moving
    assert good.stop_s == pytest.approx(0.5) and good.resume_s == pytest.approx(1.0)
    late = judge(following(9.0, 11.0) + stops(11.0, 13.0) + following(13.0, 14.0),
                 False, 1010.0, 10.0, 1012.0, 12.0, bound_s=0.8)
    assert not late.survived and "beyond the 0.8 s bound" in late.problems[0]
    stuck = judge(following(9.0, 10.5) + stops(10.5, 14.0), False, 1010.0, 10.0, 1012.0,
                  12.0, bound_s=0.8, problems=["gpc_planner exited by itself with code 1"])
    assert not stuck.survived and len(stuck.problems) == 2
    assert "did not resume" in stuck.problems[1]


def test_a_killed_sim_takes_the_robot_with_it():
    """The sim is the robot: stop 0; judged on the new robot being driven again."""
    new_clock = [CommandEvent(1013.0 + i * DT, 0.5 + i * DT, 0.5 + i * DT, 1, 0.4, 0.3)
                 for i in range(25)]
    events = following(9.0, 10.0) + new_clock
    verdict = judge(events, True, 1010.0, 10.0, 1012.0, 0.0, bound_s=0.8)
    assert verdict.survived and verdict.stop_s == 0.0
    assert verdict.resume_s == pytest.approx(1.0)
