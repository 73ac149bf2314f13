"""``ClockWatch``: a clock that goes back (a restarted simulation's /clock) is noticed once."""

import math
import threading

import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.stamps import CLOCK_JUMP_TOLERANCE, ClockWatch


def test_forward_time_and_small_steps_back_are_no_jump():
    watch = ClockWatch()
    for now in (0.0, 0.02, 5.0, 5.0, 5.0 - CLOCK_JUMP_TOLERANCE * 0.5):
        assert watch.went_back(now) is None
    assert watch.jumps == 0


def test_a_jump_back_is_reported_once_with_its_size():
    watch = ClockWatch()
    watch.went_back(31.7)
    assert watch.went_back(0.0) == pytest.approx(31.7)
    assert watch.went_back(0.02) is None  # the new clock runs on
    assert watch.jumps == 1 and watch.latest == 0.02


def test_non_finite_readings_change_nothing():
    watch = ClockWatch()
    watch.went_back(3.0)
    assert watch.went_back(math.nan) is None and watch.latest == 3.0


def test_check_reads_under_its_lock_so_racing_readers_see_no_jump():
    watch, clock, lock = ClockWatch(tolerance=0.0), [0.0], threading.Lock()

    def read() -> float:
        with lock:
            clock[0] += 0.001
            return clock[0]

    def reader() -> None:
        for _ in range(2000):
            assert watch.check(read) is None

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert watch.jumps == 0


def test_a_negative_tolerance_is_refused():
    with pytest.raises(ConfigError):
        ClockWatch(tolerance=-1.0)
