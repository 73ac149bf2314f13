"""``PoolExecutor``: rclpy's MultiThreadedExecutor, minus its busy loop.

Why not the stock one: rclpy 9.1 (Kilted, the wheels this project pins) yields, before it
waits, every handler that has not started yet, and MultiThreadedExecutor submits what it is
yielded to its thread pool. A handler waiting in the pool's queue is therefore yielded and
submitted again at every turn, with no wait between turns: the spinning thread holds the
GIL in a tight loop while the pool's workers, and the node's own threads, need it (rclpy
issue 1452, fixed upstream after this release). Measured here: the Spot bridge in real
mode used a whole core, the 20 Hz loop that feeds Spot its commands stalled for up to 1.5 s
at a time (``Event.wait(0.05)`` returning after 1.5 s), and the watchdog saw the planner
"silent" while its targets were arriving (CI caught it as commands re-sent at 4.9 Hz); the
lock-stepped main job ran 4 s of sim time in 132 s of wall (17 s with this executor).

This executor submits each handler once. When the one yielded has been submitted but no
worker has taken it yet, the spinning thread waits (GIL released) until a worker does,
at most ``QUEUE_WAIT``, instead of submitting it again. Everything else (callback groups,
coroutine tasks, the wait set) is MultiThreadedExecutor's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from rclpy.executors import (
    ConditionReachedException,
    ExternalShutdownException,
    MultiThreadedExecutor,
    ShutdownException,
    TimeoutException,
)

QUEUE_WAIT = 0.05  # s: the longest the spinning thread waits for a worker to take a handler


class PoolExecutor(MultiThreadedExecutor):
    """A thread-pool executor that hands each ready callback to the pool once."""

    def __init__(self, num_threads: int, **kwargs: Any) -> None:
        super().__init__(num_threads=num_threads, **kwargs)
        self._queued: dict[Any, threading.Event] = {}  # submitted, not started: its start

    def _spin_once_impl(self, timeout_sec: float | None = None,
                        wait_condition: Callable[[], bool] = lambda: False) -> None:
        try:
            handler, _, _ = self.wait_for_ready_callbacks(timeout_sec, None, wait_condition)
        except (ExternalShutdownException, ShutdownException, TimeoutException,
                ConditionReachedException):
            return
        started = self._queued.get(handler)
        if started is not None:  # still in the pool's queue: let a worker take it
            started.wait(QUEUE_WAIT)
            return
        started = threading.Event()
        self._queued[handler] = started
        self._executor.submit(self._start, handler, started)
        self._futures.append(handler)
        for future in self._futures[:]:  # as MultiThreadedExecutor: surface errors
            if future.done():
                self._futures.remove(future)
                future.result()

    def _start(self, handler: Callable[[], None], started: threading.Event) -> None:
        """Run in a worker: mark the handler taken, then run it."""
        self._queued.pop(handler, None)
        started.set()
        handler()
