"""The one ``main`` of the stack's nodes: start, spin, stop cleanly, say why on failure.

A node that cannot start (a bad parameter, a missing model file) logs one line and exits
with status 2, not a traceback. Ctrl-C or SIGTERM (what a launcher sends) end the spin; the
node's own ``shutdown`` (threads, a robot's lease) runs before the context goes down.
rclpy's own handlers catch both signals (SignalHandlerOptions.ALL, the default); a Python
handler would not do: the main thread sits in the executor's wait, where Python-level
handlers do not run (an early version replaced SIGTERM's that way and the node ignored it).

rclpy's handler can wake the executor before the context is marked shut down; the executor
then sees a live context and waits again, and a node with no timer of its own (the bridge
in real mode) waited forever: 8 of 60 SIGTERMs hung a timer-less node here. A no-op timer
(``SHUTDOWN_CHECK_PERIOD``) bounds that wait, so a shutdown is noticed within a period.

A node whose worker thread dies (the sim's loop, the planner's planning thread) must not
live on as a node that answers nothing: ``stop_node`` logs why and ends it with a non-zero
exit status, from any thread. A node started by ``gpc launch`` ends when the launcher does,
however the launcher dies (SIGKILL included, which leaves no chance to signal anybody): the
launcher names itself in ``GPC_LAUNCHER_PID`` and the node checks its parent at every
``SHUTDOWN_CHECK_PERIOD``.

The executor is ``PoolExecutor`` (``gpc_sim.ros.executor``): rclpy's MultiThreadedExecutor
without its busy loop, which fought the pool's workers and the node's own threads (the
planner's planning thread, the bridge's Spot loop) for the GIL, kept up to a core busy and
starved the node's callbacks.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
from collections.abc import Callable

EXIT_FAILURE = 1
EXIT_CONFIG = 2
SHUTDOWN_CHECK_PERIOD = 0.2  # s: the longest the executor waits before it checks the context
LAUNCHER_PID_ENV = "GPC_LAUNCHER_PID"  # set by gpc launch: end with it (module docstring)
#: s after a node's shutdown began: if it is still alive then, every thread's Python stack
#: goes to stderr (the node's log under gpc launch), so that a hung shutdown says where
#: it hangs before a launcher's SIGKILL ends it without a word. Longer than the sim's and
#: the planner's worst clean shutdown (``gpc_planner.bringup.WORST_SHUTDOWN``), shorter
#: than their SIGTERM + SIGKILL timeouts. A node class whose clean shutdown takes longer
#: (the bridge, handing a real Spot back) says so in its own ``SHUTDOWN_STACKS_AFTER``.
SHUTDOWN_STACKS_AFTER = 12.0


def stop_node(node, message: str, exit_code: int = EXIT_FAILURE) -> None:
    """End ``node`` from any thread: log ``message`` and make ``run_node`` return
    ``exit_code`` once the node's clean-up has run."""
    import rclpy

    if exit_code:
        node.get_logger().fatal(message)
    else:
        node.get_logger().warning(message)
    node.exit_code = exit_code
    rclpy.try_shutdown(context=node.context)


def _launcher_pid() -> int | None:
    text = os.environ.get(LAUNCHER_PID_ENV, "")
    return int(text) if text.isdigit() else None


def run_node(make_node: Callable[[], object], args: list[str] | None = None) -> int:
    """Create ``make_node()`` under rclpy, spin it on a thread pool until shutdown."""
    # rclpy's SIGINT handler shuts the context down and then calls the Python handler it
    # found, whose KeyboardInterrupt could land after the spin had already ended on the
    # shutdown: in the node's own shutdown (the bridge handing Spot back) or rclpy's, and
    # the node died by SIGINT (4 of 9 SIGINTs to the sim node in one series here). Under
    # rclpy's handler, a Python handler that does nothing makes SIGINT end the node as
    # SIGTERM does: through the context only. Signal handlers exist in the main thread only.
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _no_keyboard_interrupt) if in_main else None
    try:
        return _run_node(make_node, args)
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)


def _no_keyboard_interrupt(signum: int, frame: object) -> None:
    """SIGINT's Python half under rclpy's handler: nothing (see ``run_node``)."""


def _run_node(make_node: Callable[[], object], args: list[str] | None) -> int:
    import rclpy
    from rclpy.clock import Clock, ClockType
    from rclpy.executors import ExternalShutdownException

    from gpc_sim.errors import ConfigError
    from gpc_sim.ros.executor import PoolExecutor

    name = getattr(make_node, "NAME", getattr(make_node, "__name__", "node"))
    try:
        rclpy.init(args=sys.argv if args is None else args)
    except Exception as err:  # noqa: BLE001 - rcl's errors (a malformed params file, ...)
        print(f"[{name}] cannot start: {str(err).splitlines()[0]}", file=sys.stderr,
              flush=True)
        return EXIT_CONFIG
    node = None
    try:
        try:
            node = make_node()
        except (ConfigError, ValueError, FileNotFoundError) as err:
            print(f"[{name}] cannot start: {err}", file=sys.stderr, flush=True)
            return EXIT_CONFIG
        except Exception:  # noqa: BLE001 - a signal while the node was being built
            if rclpy.ok():
                raise
            return 0
        if not rclpy.ok(context=node.context):
            return getattr(node, "exit_code", 0)  # stopped while starting (a dead worker?)
        executor = None
        launcher = _launcher_pid()

        def check() -> None:  # the periodic wake-up of the module docstring
            if launcher is not None and os.getppid() != launcher:
                stop_node(node, f"the launcher (pid {launcher}) is gone: shutting down", 0)

        try:
            # Wall clock: under use_sim_time a timer on ROS time stops with /clock.
            node.create_timer(SHUTDOWN_CHECK_PERIOD, check,
                              clock=Clock(clock_type=ClockType.STEADY_TIME))
            executor = PoolExecutor(num_threads=4)
            executor.add_node(node)
            executor.spin()
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        except Exception:  # noqa: BLE001
            # A signal shuts the context down at any point after init: while the executor
            # is being built or builds its next wait set, rclpy raises RCLError ("the
            # given context is not valid"). That is a normal exit, not a failure.
            if rclpy.ok(context=node.context):
                raise
        finally:
            if executor is not None:
                executor.shutdown(timeout_sec=1.0)
        return getattr(node, "exit_code", 0)
    finally:
        _watch_shutdown(_stacks_after(make_node))
        if node is not None:
            stop = getattr(node, "shutdown", None)
            if stop is not None:
                stop()
            node.destroy_node()
        rclpy.try_shutdown()
        faulthandler.cancel_dump_traceback_later()


def node_main(make_node: Callable[[], object], args: list[str] | None = None) -> int:
    """A node executable's ``main``: ``run_node``, then the same watch over the
    interpreter's exit, where a daemon thread still inside native code (torch, MuJoCo, rcl)
    can hold a lock that finalization waits for. The watch is a C-level timer, alive through
    finalization; never cancelled, as the process ends first."""
    code = run_node(make_node, args)
    _watch_shutdown(_stacks_after(make_node))
    return code


def _stacks_after(make_node: Callable[[], object]) -> float:
    return float(getattr(make_node, "SHUTDOWN_STACKS_AFTER", SHUTDOWN_STACKS_AFTER))


def _watch_shutdown(seconds: float) -> None:
    """Every thread's stack to the process's stderr (file descriptor 2) in ``seconds``,
    unless cancelled. ``sys.__stderr__``: a captured ``sys.stderr`` (pytest) has no file
    descriptor; without any, no watch (a diagnostic must not stop a shutdown)."""
    try:
        faulthandler.dump_traceback_later(seconds, exit=False, file=sys.__stderr__)
    except (AttributeError, ValueError, OSError):
        pass
