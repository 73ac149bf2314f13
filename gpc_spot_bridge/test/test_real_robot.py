"""The real-mode bridge ends (exit status 1, a clear log line) when its Spot thread dies.

That thread is the only thing that drives the robot: a bridge that lived on without it would
answer services and take targets while driving nothing. Run in-process through run_node,
with the thread's loop made to fail as a bug would (no robot is needed: it fails before
connecting)."""

from __future__ import annotations

import pytest

rclpy = pytest.importorskip("rclpy")

from gpc_sim.ros.run import EXIT_FAILURE, run_node  # noqa: E402
from gpc_spot_bridge import real_robot  # noqa: E402
from gpc_spot_bridge.bridge_node import BridgeNode  # noqa: E402

ARGS = ["spot_bridge", "--ros-args", "-p", "mode:=real", "-p", "hostname:=127.0.0.1",
        "-p", "port:=9"]


def test_a_dead_spot_thread_ends_the_node_with_a_failure(monkeypatch, capfd):
    monkeypatch.setenv("BOSDYN_CLIENT_USERNAME", "user")
    monkeypatch.setenv("BOSDYN_CLIENT_PASSWORD", "secret")
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

    def broken(self) -> None:
        raise RuntimeError("a bug in the loop")

    monkeypatch.setattr(real_robot.RealRobot, "_loop", broken)
    assert run_node(BridgeNode, ARGS) == EXIT_FAILURE
    err = capfd.readouterr().err
    assert "Spot loop stopped: RuntimeError: a bug in the loop" in err
    assert "Spot was not connected: nothing to hand back" in err  # the clean-up still ran
