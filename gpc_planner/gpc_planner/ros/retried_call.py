"""An idempotent service request, sent again until it is answered.

Over DDS a request written before the server's reader has matched the client, or an answer
written before the client's reply reader has matched the server, is lost without a trace:
the future never completes. One request is then a hang (the launcher once left the sim
paused for good; the soak's parameter requests timed out). Requests that are idempotent
(resume the sim, set a parameter) can simply be sent again until one is answered. No rclpy
here: ``call`` is whatever sends one request and returns its future (``done()``,
``result()``), so the logic is tested without a graph.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

RESEND_S = 1.0  # s without an answer before the request is sent again


class RetriedCall:
    """Send ``call()`` and poll its future; send again after ``resend`` s without an answer,
    or at once when ``accept(response)`` turns the answer down (the server refused: e.g. not
    ready yet). ``poll`` returns True once an accepted answer is in ``response``."""

    def __init__(self, call: Callable[[], Any],
                 accept: Callable[[Any], bool] = lambda response: response is not None,
                 clock: Callable[[], float] = time.monotonic, resend: float = RESEND_S) -> None:
        self.call, self.accept, self.clock, self.resend = call, accept, clock, resend
        self.response: Any = None
        self.done = False
        self.sent = 0  # requests sent so far (for logs)
        self._future: Any = None
        self._sent_at = 0.0

    def poll(self) -> bool:
        """Check the answer in flight; send (again) when none came within ``resend``."""
        if self.done:
            return True
        if self._future is not None and self._future.done():
            response = self._future.result()
            if self.accept(response):
                self.response, self.done = response, True
                return True
            self._future = None  # turned down: ask again now
        now = self.clock()
        if self._future is None or now - self._sent_at >= self.resend:
            self._future = self.call()
            self._sent_at = now
            self.sent += 1
        return False
