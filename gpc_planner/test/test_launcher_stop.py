"""``gpc launch`` stops its nodes as ``ros2 launch`` does with the launch file's timeouts:
SIGINT to all, SIGTERM only after the node's own ``sigterm_timeout``, SIGKILL after its
``sigkill_timeout`` (it used to give every node one 15 s, shorter than the bridge's worst
clean shutdown). Real processes; the timeouts shrunk so the test is fast."""

import subprocess
import sys
import time

import pytest

from gpc_planner import bringup
from gpc_planner.bringup import NodeLaunch
from gpc_planner.ros.launcher import _stop

# A node that takes SIGINT as a request it cannot follow at once (a robot to sit down) and
# leaves at SIGTERM with status 7; and one that leaves at SIGINT.
SLOW = ("import signal, sys, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))\n"
        "print('up', flush=True)\n"
        "time.sleep(60)\n")
# SIGINT's default handler set explicitly: a test run whose SIGINT is ignored (a background
# job's) would otherwise pass that on and the quick node would sit out SIGINT too.
QUICK = ("import signal, time\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
         "print('up', flush=True)\ntime.sleep(60)\n")


def started(code: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "up\n"  # its handlers are in place
    return proc


def test_each_node_gets_its_own_sigterm_timeout(monkeypatch):
    monkeypatch.setattr(bringup, "WORST_SHUTDOWN", {"slow": 1.0, "quick": 0.0})
    monkeypatch.setattr(bringup, "STOP_MARGIN", 0.5)
    nodes = {"quick": NodeLaunch("p", "e", "quick"), "slow": NodeLaunch("p", "e", "slow")}
    assert (nodes["quick"].sigterm_timeout, nodes["slow"].sigterm_timeout) == (1.0, 2.0)
    procs = {"quick": started(QUICK), "slow": started(SLOW)}
    start = time.monotonic()
    codes = _stop(procs, nodes)
    took = time.monotonic() - start
    assert codes == {"quick": -2, "slow": 7}  # SIGINT, then (only the slow one) SIGTERM
    assert took == pytest.approx(2.0, abs=0.5)  # the slow one's own timeout, not the other's


def test_a_monitor_that_dies_says_why_and_ends_the_run(monkeypatch):
    import threading

    from gpc_planner.ros import launcher

    def broken(*args):
        raise RuntimeError("no DDS")

    monkeypatch.setattr(launcher, "_monitor", broken)
    record, ready = launcher.RunRecord(), threading.Event()
    launcher._watch(record, threading.Event(), ready, "", False)
    assert record.error == "RuntimeError: no DDS" and ready.is_set()
