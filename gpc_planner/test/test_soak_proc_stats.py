"""/proc parsing for ``gpc soak``: RSS from status, CPU time from stat, CPU%."""

import math
import os

import pytest

from gpc_planner.soak.proc_stats import cpu_percent, parse_stat, parse_status_rss, read_proc

STATUS = """Name:\tplanner_node
State:\tS (sleeping)
VmPeak:\t 2345678 kB
VmRSS:\t  358400 kB
Threads:\t23
"""
# A command name with a space and a ')' in it: fields must be counted from the last ')'.
STAT = ("4242 (planner) node) S 1 4242 4242 0 -1 4194560 120 0 0 0 1500 250 0 0 20 0 23 0 "
        "100 2345678 89600 18446744073709551615")


def test_rss_from_status():
    assert parse_status_rss(STATUS) == pytest.approx(350.0)
    assert math.isnan(parse_status_rss("Name:\tkthreadd\nState:\tS\n"))


def test_state_and_cpu_time_from_stat():
    state, cpu = parse_stat(STAT, ticks=100)
    assert state == "S" and cpu == pytest.approx(17.5)  # (1500 + 250) ticks / 100


def test_cpu_percent_is_a_share_of_one_core():
    assert cpu_percent((10.0, 1.0), (15.0, 3.5)) == pytest.approx(50.0)
    assert math.isnan(cpu_percent((10.0, 1.0), (10.0, 1.0)))


def test_this_process_and_a_gone_one(tmp_path):
    me = read_proc(os.getpid())
    assert me is not None and me.rss_mb > 1.0 and me.cpu_s > 0.0 and me.state in "RS"
    assert read_proc(2**22 + 1) is None  # above pid_max: never a process
    fake = tmp_path / "7"
    fake.mkdir()
    (fake / "status").write_text(STATUS)
    (fake / "stat").write_text(STAT)
    sample = read_proc(7, root=tmp_path)
    assert sample.rss_mb == pytest.approx(350.0) and sample.state == "S"
