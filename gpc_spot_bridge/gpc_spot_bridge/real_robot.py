"""The bridge's real mode: one thread that keeps a Spot connected and streams commands to it.

Why a thread of its own: every SDK call is a network round trip (connecting takes seconds,
a stalled link up to ``command_timeout``), and the node's executor must keep taking the
planner's targets and the mocap poses meanwhile. The loop runs at the bridge's ``rate``:
not connected and the backoff says so -> ``connect()``; connected -> send the bridge's
current output (velocity + arm, each command valid for ``valid_for`` seconds, so the robot
stops by itself if this loop stops), then read the robot's joint states for the planner.
A ``SpotConnectionError`` is logged and retried
(``Reconnector``: 1, 2, 4 ... 30 s); nothing here can crash the node. ``close()`` ends the
loop and hands the robot back (stop, sit, power off, lease returned).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gpc_sim.errors import ConfigError
from gpc_spot_bridge.command_bridge import BridgeOutput
from gpc_spot_bridge.spot_client import (
    Reconnector,
    SpotClient,
    SpotClientConfig,
    SpotConfigError,
    SpotConnectionError,
    credentials_from_env,
)


class RealRobot:
    """Owns the ``SpotClient`` and its streaming thread for a ``BridgeNode``."""

    def __init__(self, node, params: dict, output: Callable[[], BridgeOutput],
                 joint_states: Callable[[list[str], list[float], list[float]], None] | None
                 = None) -> None:
        self.node = node
        self.output = output
        self.publish_joints = joint_states
        self.period = 1.0 / params["rate"]
        try:
            config = SpotClientConfig(
                hostname=params["hostname"], port=params["port"],
                ca_cert=params["ca_cert"] or None, velocity_validity=params["valid_for"],
                arm_move_time=params["arm_move_time"])
            username, password = credentials_from_env()
        except SpotConfigError as err:
            raise ConfigError(str(err)) from None
        self.client = SpotClient(config, username, password)
        self.reconnector = Reconnector()
        # After a lost link, power on again only if allowed: if an e-stop cut the motors,
        # releasing it must not make the robot stand up and follow the planner by itself.
        self.resume_after_loss = bool(params["resume_after_loss"])
        self._was_connected = False
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="spot-robot", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        log = self.node.get_logger()
        next_tick = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if not self.client.connected:
                if self.reconnector.due(now):
                    self._connect(log, now)
            else:
                out = self.output()
                try:
                    self.client.send(*(float(v) for v in out.velocity), arm=out.arm)
                    self.sent += 1
                    if self.publish_joints is not None:
                        self.publish_joints(*self.client.joint_states())
                except SpotConnectionError as err:
                    log.error(f"lost Spot: {err}; reconnecting")
                    self.reconnector.failed(time.monotonic(), str(err))
                except ValueError as err:  # a non-finite number never reaches the robot
                    log.error(f"refused to send: {err}")
            next_tick += self.period
            delay = next_tick - time.monotonic()
            if delay < 0.0:
                next_tick = time.monotonic()
            self._stop.wait(max(delay, 0.0))

    def _connect(self, log, now: float) -> None:
        address = self.client.config.address
        log.info(f"connecting to Spot at {address} (attempt {self.reconnector.attempts + 1})")
        try:
            self.client.connect(power_on=not self._was_connected or self.resume_after_loss)
        except SpotConnectionError as err:
            self.reconnector.failed(now, str(err))
            log.error(f"{err}; retrying in {self.reconnector.delay:g} s")
            return
        self.reconnector.succeeded()
        self._was_connected = True
        log.info(f"Spot at {address} is standing and leased to the bridge")

    def close(self) -> None:
        """Stop streaming and hand the robot back."""
        self._stop.set()
        self._thread.join(timeout=5.0)
        problems = self.client.shutdown()
        log = self.node.get_logger()
        for problem in problems:
            log.warning(f"Spot shutdown: {problem}")
        done = self.client.released
        if done is None:
            log.info("Spot was not connected: nothing to hand back")
            return
        log.info("Spot released: " + (", ".join(done) if done else "nothing could be done")
                 + (f" ({len(problems)} problem(s))" if problems else ""))

    def set_rate(self, rate: float) -> None:
        """Stream at ``rate`` commands per second from the next tick (a live parameter)."""
        self.period = 1.0 / rate

    def set_valid_for(self, seconds: float) -> None:
        """Each later command stays valid on the robot ``seconds`` (a live parameter)."""
        self.client.set_velocity_validity(seconds)
