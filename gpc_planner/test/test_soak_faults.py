"""``gpc soak``'s fault schedule: a pure function of the seed, spread out, kinds dealt evenly."""

import pytest

from gpc_planner.soak.faults import KINDS, fault_schedule, parse_kinds
from gpc_sim.errors import ConfigError


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another():
    a = fault_schedule(3, 36, 60.0, 3560.0, 40.0)
    assert a == fault_schedule(3, 36, 60.0, 3560.0, 40.0)
    assert a != fault_schedule(4, 36, 60.0, 3560.0, 40.0)


def test_faults_are_in_the_window_in_order_and_at_least_the_gap_apart():
    faults = fault_schedule(0, 36, 60.0, 3560.0, 40.0)
    times = [f.at_s for f in faults]
    assert [f.index for f in faults] == list(range(36))
    assert 60.0 <= times[0] and times[-1] <= 3560.0
    assert all(b - a >= 40.0 - 1e-9 for a, b in zip(times, times[1:], strict=False))


def test_kinds_are_dealt_evenly_and_down_times_stay_in_their_range():
    faults = fault_schedule(1, 36, 60.0, 3560.0, 40.0, down_s=(2.0, 5.0))
    counts = {k: sum(f.kind == k for f in faults) for k in KINDS}
    assert set(counts.values()) <= {7, 8}  # 36 = 7 rounds of 5 + 1
    assert all(2.0 <= f.down_s <= 5.0 for f in faults)
    assert {f.kind for f in faults[:5]} == set(KINDS)  # every kind in the first round


def test_a_subset_of_kinds_and_no_fault():
    faults = fault_schedule(0, 4, 10.0, 200.0, 20.0, kinds=("freeze_planner",))
    assert {f.kind for f in faults} == {"freeze_planner"}
    assert fault_schedule(0, 0, 10.0, 20.0, 40.0) == []


def test_a_schedule_that_cannot_fit_is_refused_in_words():
    with pytest.raises(ConfigError, match="do not fit") as err:
        fault_schedule(0, 5, 60.0, 100.0, 40.0)
    assert err.value.setting == "faults"


def test_kind_lists():
    assert parse_kinds("all") == KINDS
    assert parse_kinds("mocap_dropout, kill_sim") == ("kill_sim", "mocap_dropout")
    with pytest.raises(ConfigError, match="unknown fault kind"):
        parse_kinds("kill_planner,reboot")
    with pytest.raises(ConfigError):
        parse_kinds(" , ")
