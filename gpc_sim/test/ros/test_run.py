"""run_node: a signal at any point after init is a clean exit (status 0), a bad start is 2.

The signal itself is stood in for by what rclpy's handler does with it: shut the default
context down. Each test runs that at a moment a real SIGTERM hit in CI: after the node is
built but before the executor is (RCLError from the executor's guard condition), and while
the node is being built.
"""

from __future__ import annotations

import pytest

rclpy = pytest.importorskip("rclpy")

from gpc_sim.errors import ConfigError  # noqa: E402
from gpc_sim.ros.run import EXIT_CONFIG, run_node  # noqa: E402

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
