"""run_node: a signal at any point after init is a clean exit (status 0), a bad start is 2.

The signal itself is stood in for by what rclpy's handler does with it: shut the default
context down. Each test runs that at a moment a real SIGTERM hit in CI: after the node is
built but before the executor is (RCLError from the executor's guard condition), and while
the node is being built; and after the executor's wake-up was lost (rclpy's handler can wake
it before the context is marked down: a node with no timer then waited forever).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

rclpy = pytest.importorskip("rclpy")

from gpc_sim.errors import ConfigError  # noqa: E402
from gpc_sim.ros.run import (  # noqa: E402
    EXIT_CONFIG,
    EXIT_FAILURE,
    LAUNCHER_PID_ENV,
    run_node,
    stop_node,
)

ARGS = ["node", "--ros-args", "-p", "use_sim_time:=false"]


class _Node:
    """A real node whose shutdown is recorded."""

    shut = False

    def __init__(self) -> None:
        self._node = rclpy.create_node("gpc_test_run")
        self.context = self._node.context

    def shutdown(self) -> None:
        _Node.shut = True

    def __getattr__(self, name):
        return getattr(self._node, name)


def test_a_signal_between_the_node_and_the_executor_is_a_clean_exit():
    _Node.shut = False

    def make():
        node = _Node()
        rclpy.shutdown()  # what the SIGTERM handler does, here before the executor exists
        return node

    assert run_node(make, ARGS) == 0
    assert _Node.shut  # the node's own shutdown still ran
    assert not rclpy.ok()


def test_a_signal_while_the_node_is_built_is_a_clean_exit():
    def make():
        rclpy.shutdown()
        return rclpy.create_node("gpc_test_run_late")  # raises: the context is gone

    assert run_node(make, ARGS) == 0


def test_an_error_while_running_is_raised_not_hidden():
    def make():
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        run_node(make, ARGS)
    assert not rclpy.ok()


def test_a_bad_configuration_exits_2_with_one_line(capsys):
    def make():
        raise ConfigError("parameter 'x' must be positive")

    assert run_node(make, ARGS) == EXIT_CONFIG
    assert "cannot start: parameter 'x' must be positive" in capsys.readouterr().err


def test_a_shutdown_whose_wake_up_is_lost_still_ends_the_spin(monkeypatch):
    """A node with no timer (the bridge in real mode): the context goes down while the
    executor waits, and nothing wakes it (the race stood in for by a wake that does nothing).
    Without run_node's periodic check this waited forever (8 of 60 SIGTERMs hung)."""
    import rclpy.executors

    _Node.shut = False
    monkeypatch.setattr(rclpy.executors.Executor, "wake", lambda self: None)

    def make():
        node = _Node()
        threading.Timer(0.5, rclpy.shutdown).start()  # while the executor waits
        return node

    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(run_node(make, ARGS)), daemon=True)
    start = time.monotonic()
    runner.start()
    runner.join(timeout=10.0)
    assert not runner.is_alive(), "run_node still spinning 10 s after its context went down"
    assert result == [0] and _Node.shut
    assert time.monotonic() - start < 5.0


def test_a_sigint_after_the_spin_ended_does_not_interrupt_the_clean_up():
    """rclpy's SIGINT handler shuts the context down and also raises KeyboardInterrupt; the
    latter could land after the spin had ended (here: in the node's own shutdown, where the
    bridge hands Spot back) and the node died by SIGINT, its clean-up cut short."""
    before = signal.getsignal(signal.SIGINT)

    class _Handing(_Node):
        def shutdown(self) -> None:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # where the KeyboardInterrupt landed
            _Node.shut = True

    _Node.shut = False

    def make():
        node = _Handing()
        threading.Timer(0.3, rclpy.shutdown).start()  # the spin ends on the shutdown
        return node

    try:
        result = run_node(make, ARGS)
    except KeyboardInterrupt:
        pytest.fail("a KeyboardInterrupt escaped run_node's clean-up")
    assert result == 0 and _Node.shut
    assert signal.getsignal(signal.SIGINT) is before  # the caller's handler is back


def test_a_worker_thread_that_dies_ends_the_node_with_a_failure(capfd):
    """A node whose worker died must not live on answering nothing (the sim's loop, the
    planner's thread): stop_node from that thread ends the spin with exit status 1."""
    _Node.shut = False

    def make():
        node = _Node()
        threading.Timer(0.3, stop_node, args=(node, "simulation loop stopped: boom")).start()
        return node

    assert run_node(make, ARGS) == EXIT_FAILURE
    assert _Node.shut
    assert "simulation loop stopped: boom" in capfd.readouterr().err


def test_a_node_ends_when_its_launcher_is_gone(monkeypatch, capfd):
    """gpc launch names itself in GPC_LAUNCHER_PID; a node whose parent is no longer that
    process (the launcher died, even by SIGKILL) shuts down by itself."""
    _Node.shut = False
    monkeypatch.setenv(LAUNCHER_PID_ENV, str(os.getppid() + 100_000))  # not our parent

    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(run_node(_Node, ARGS)), daemon=True)
    runner.start()
    runner.join(timeout=10.0)
    assert not runner.is_alive() and result == [0] and _Node.shut
    assert "launcher" in capfd.readouterr().err


def test_a_node_whose_launcher_is_alive_keeps_running(monkeypatch):
    monkeypatch.setenv(LAUNCHER_PID_ENV, str(os.getppid()))
    _Node.shut = False

    def make():
        node = _Node()
        threading.Timer(1.0, rclpy.shutdown).start()
        return node

    start = time.monotonic()
    assert run_node(make, ARGS) == 0
    assert time.monotonic() - start >= 0.9  # ran until the shutdown, not ended early


def test_a_shutdown_that_overruns_prints_where_every_thread_is(capfd):
    """A hung shutdown would otherwise end in a launcher's SIGKILL without a word (the
    planner's exit -9 seen once under load): past ``SHUTDOWN_STACKS_AFTER`` every thread's
    stack goes to stderr, the node's log; a shutdown within it prints nothing."""

    class _Slow(_Node):
        def shutdown(self) -> None:
            time.sleep(0.8)  # stuck (in a thread join, a lock) longer than allowed

    for kind in (_Node, _Slow):
        def make(kind=kind):
            node = kind()
            rclpy.shutdown()
            return node

        make.SHUTDOWN_STACKS_AFTER = 0.3  # as the node class says it (the bridge's)
        assert run_node(make, ARGS) == 0
        time.sleep(0.5)  # the timer would have fired by now
        err = capfd.readouterr().err
        if kind is _Node:
            assert "Thread" not in err
        else:
            assert "Thread 0x" in err and "in shutdown" in err
