"""The bridge's real mode: one thread that keeps a Spot connected and streams commands to it.

Why a thread of its own: every SDK call is a network round trip (connecting takes seconds,
a stalled link up to ``command_timeout``), and the node's executor must keep taking the
planner's targets and the mocap poses meanwhile. The loop runs at the bridge's ``rate``:
not connected and the backoff says so -> ``connect()``; connected -> read the robot's joint
states for the planner, and while the robot stands send it the bridge's current output
(velocity + arm, each command valid for ``valid_for`` seconds, so the robot stops by itself
if this loop stops). A ``SpotConnectionError`` is logged and retried (``Reconnector``: 1, 2,
4 ... 30 s). Anything else that escapes the loop is a bug: the node ends with exit status 1
(``stop_node``) rather than live on as a bridge that no longer drives anything.

Bring-up is explicit (``power_on``, ``stand``, ``sit``, ``power_off``: the node's services),
so starting the bridge takes only a free lease and moves nothing: a held lease is taken only
with ``take_lease``, the motors come on and the robot stands only when told (or with
``auto_power_on`` / ``auto_stand``, which apply to the first connection only). After a lost
link the robot is stood up again by itself only with ``resume_after_loss`` and only if it
was standing: otherwise an e-stop released by the operator must not make it stand up and
follow the planner.

``close()`` ends the loop and hands the robot back (stop, sit, power off, lease returned)
within ``bridge_params.SHUTDOWN_BUDGET``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gpc_sim.errors import ConfigError
from gpc_spot_bridge.bridge_params import CONNECT_TIMEOUT, SHUTDOWN_BUDGET
from gpc_spot_bridge.command_bridge import BridgeOutput
from gpc_spot_bridge.spot_client import (
    Reconnector,
    SpotClient,
    SpotClientConfig,
    SpotConfigError,
    SpotConnectionError,
    SpotNotReadyError,
    credentials_from_env,
)

JointStates = Callable[[list[str], list[float], list[float], int], None]


class RealRobot:
    """Owns the ``SpotClient`` and its streaming thread for a ``BridgeNode``."""

    def __init__(self, node, params: dict, output: Callable[[], BridgeOutput],
                 joint_states: JointStates | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        self.node = node
        self.output = output
        self.publish_joints = joint_states
        self.on_change = on_change or (lambda: None)  # the robot's state changed (status)
        self.period = 1.0 / params["rate"]
        try:
            config = SpotClientConfig(
                hostname=params["hostname"], port=params["port"],
                ca_cert=params["ca_cert"] or None, velocity_validity=params["valid_for"],
                arm_move_time=params["arm_move_time"], connect_timeout=CONNECT_TIMEOUT,
                take_lease=params["take_lease"],
                power_on=params["auto_power_on"] or params["auto_stand"],
                stand_on_connect=params["auto_stand"], joint_prefix=params["joint_prefix"])
            username, password = credentials_from_env()
        except SpotConfigError as err:
            raise ConfigError(str(err)) from None
        self.client = SpotClient(config, username, password)
        self.reconnector = Reconnector()
        self.resume_after_loss = bool(params["resume_after_loss"])
        self._stand_again = False  # standing when the link dropped (resume_after_loss)
        self._connected_once = False  # auto_power_on / auto_stand: the first connection only
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spot-robot", daemon=True)

    def start(self) -> None:
        """Start the thread (once the node is built: a thread that dies at once must find a
        whole node to end)."""
        self._thread.start()

    @property
    def state(self) -> str:
        return self.client.state

    # --- the loop (its own thread) --------------------------------------------------------
    def _run(self) -> None:
        """The loop; an exception it does not expect ends the node (module docstring)."""
        try:
            self._loop()
        except Exception as err:  # noqa: BLE001 - a dead loop must say why, not vanish
            # A shutdown (SIGTERM, Ctrl-C) invalidates the context before close() sets
            # _stop: a publish failing then is the shutdown, not a failure; close() still
            # hands the robot back.
            if not self._stop.is_set() and self.node.context.ok():
                from gpc_sim.ros.run import stop_node

                stop_node(self.node, f"Spot loop stopped: {type(err).__name__}: {err}")

    def _loop(self) -> None:
        log = self.node.get_logger()
        next_tick = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if not self.client.connected:
                if self.reconnector.due(now):
                    self._connect(log, now)
            else:
                self._tick(log)
            next_tick += self.period
            delay = next_tick - time.monotonic()
            if delay < 0.0:
                next_tick = time.monotonic()
            self._stop.wait(max(delay, 0.0))

    def _tick(self, log) -> None:
        """One period while connected: the command (if standing), then the joint states."""
        standing = self.client.standing
        try:
            if standing:
                out = self.output()
                self.client.send(*(float(v) for v in out.velocity), arm=out.arm)
                self.sent += 1
            if self.publish_joints is not None:
                self.publish_joints(*self.client.joint_states())
        except SpotConnectionError as err:
            self._stand_again = standing
            log.error(f"lost Spot: {err}; reconnecting")
            self.reconnector.failed(time.monotonic(), str(err))
            self.on_change()
        except SpotNotReadyError:
            pass  # sat down between the check and the send (a service): nothing was sent
        except ValueError as err:  # a non-finite number never reaches the robot
            log.error(f"refused to send: {err}")

    def _connect(self, log, now: float) -> None:
        address = self.client.config.address
        # The first connection: the config's auto_* settings; a reconnect: resume or nothing.
        up = None if not self._connected_once else (self.resume_after_loss
                                                     and self._stand_again)
        log.info(f"connecting to Spot at {address} (attempt {self.reconnector.attempts + 1})")
        try:
            self.client.connect(power_on=up, stand=up)
        except SpotConnectionError as err:
            self.reconnector.failed(now, str(err))
            log.error(f"{err}; retrying in {self.reconnector.delay:g} s")
            self.on_change()
            return
        self.reconnector.succeeded()
        self._connected_once = True
        self._stand_again = False
        state = self.client.state
        log.info(f"Spot at {address}: lease and e-stop held, {state}"
                 + ("" if state == "standing" else
                    "; the robot moves only after spot/power_on and spot/stand"))
        self.on_change()

    # --- bring-up steps (the node's services) ---------------------------------------------
    def step(self, name: str) -> tuple[bool, str]:
        """Run bring-up step ``name`` (power_on, stand, sit, power_off): (success, message)."""
        action = {"power_on": self.client.power_on, "stand": self.client.stand,
                  "sit": self.client.sit, "power_off": self.client.power_off}[name]
        try:
            action()
        except (SpotConnectionError, SpotNotReadyError) as err:
            return False, str(err)
        finally:
            self.on_change()
        return True, f"Spot {self.client.state}"

    # --- shutdown ---------------------------------------------------------------------------
    def close(self) -> None:
        """Stop streaming and hand the robot back, within SHUTDOWN_BUDGET seconds."""
        deadline = time.monotonic() + SHUTDOWN_BUDGET
        self._stop.set()
        self.client.abort(deadline)  # a connect in progress gives up at its next step
        if self._thread.is_alive():
            self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        problems = self.client.shutdown(deadline)
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
