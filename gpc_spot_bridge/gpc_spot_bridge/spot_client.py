"""Spot SDK client for the bridge's ``real`` mode (bosdyn-client; no ROS in here).

The bridge node owns one :class:`SpotClient`. Bring-up is in explicit steps, as spot_ros2's
and nav2's are, so that starting the bridge never moves or takes a robot by itself:

* ``connect()``: authenticate, time sync, the body lease if it is free (taken from another
  holder, such as the operator's tablet, only with ``take_lease``), an e-stop endpoint.
  Motors stay as they are (off) unless ``power_on`` / ``stand_on_connect`` say otherwise;
* ``power_on()``, then ``stand()``: only then does ``send()`` stream body-frame velocity
  (+ optional arm joint) commands; ``sit()`` and ``power_off()`` go back down;
* ``shutdown()`` hands the robot back sitting and powered off, within a deadline.

Every SDK or gRPC failure surfaces as :class:`SpotConnectionError` with a one-line message
meant for an operator; a failed command marks the client disconnected so the node can
reconnect with a :class:`Reconnector` (exponential backoff). A command while the robot is
not standing is :class:`SpotNotReadyError` (nothing is sent).

Joint states come out as spot_ros2 publishes them: its joint names (``front_left_hip_x``,
with an optional prefix) and the robot's acquisition time turned into this computer's clock
with the time-sync clock skew (robot time = local time + skew).

Safety relies on the robot, not on this process staying alive: each velocity command carries
an end time ``velocity_validity`` seconds ahead (the robot stops by itself when commands stop
coming), the lease keepalive and the e-stop keepalive are background check-ins whose absence
makes the robot sit and cut power.
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import bosdyn.client
from bosdyn.api import estop_pb2
from bosdyn.client import (
    InvalidLoginError,
    LeaseUseError,
    ResponseError,
    RpcError,
    TimedOutError,
    UnauthenticatedError,
)
from bosdyn.client import lease as bd_lease
from bosdyn.client import power as bd_power
from bosdyn.client import time_sync as bd_time_sync
from bosdyn.client.estop import EstopClient, EstopEndpoint, EstopKeepAlive
from bosdyn.client.lease import LeaseClient, LeaseKeepAlive, ResourceAlreadyClaimedError
from bosdyn.client.robot_command import (
    RobotCommandBuilder,
    RobotCommandClient,
    blocking_sit,
    blocking_stand,
)
from bosdyn.client.robot_state import RobotStateClient

from gpc_sim.spot.estimation import SPOT_ROS2_JOINT_NAMES

_LOG = logging.getLogger(__name__)

USERNAME_ENV = "BOSDYN_CLIENT_USERNAME"
PASSWORD_ENV = "BOSDYN_CLIENT_PASSWORD"

#: Arm joint order of :meth:`SpotClient.send_arm` (Spot's names, shoulder to wrist).
ARM_JOINTS = ("sh0", "sh1", "el0", "el1", "wr0", "wr1")

#: If the bridge stops checking in for this long, the robot's e-stop settles and cuts power.
ESTOP_TIMEOUT = 9.0
#: Seconds below which a release step is not tried before a shutdown deadline.
MIN_RPC_TIME = 0.2


def joint_name(sdk_name: str) -> str:
    """The project's name of one of Spot's joints: ``fl.hx`` -> ``fl_hx``, ``arm0.sh0`` ->
    ``arm_sh0`` (``gpc_sim.spot.constants.JOINT_NAMES``, the sim's ``joint_states``)."""
    return sdk_name.replace("arm0.", "arm_").replace(".", "_")


def ros2_joint_name(sdk_name: str, prefix: str = "") -> str:
    """spot_ros2's name of one of Spot's joints: ``fl.hx`` -> ``front_left_hip_x``,
    ``arm0.sh0`` -> ``arm_sh0``, after ``prefix`` (spot_ros2's ``<spot_name>/``); a joint
    spot_ros2 does not know keeps the project's name."""
    name = joint_name(sdk_name)
    return prefix + SPOT_ROS2_JOINT_NAMES.get(name, name)


class SpotConfigError(ValueError):
    """A setting or the environment is wrong; nothing was sent to the robot."""


class SpotConnectionError(RuntimeError):
    """Talking to Spot failed; the message says what and where, without needing a traceback."""


class SpotNotReadyError(RuntimeError):
    """The robot is not in the state a request needs (not standing, not powered): nothing was
    sent; the message says which bring-up step is missing."""


def _positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0):
        raise SpotConfigError(f"{name} must be a positive number of seconds, got {value!r}")


@dataclass(frozen=True)
class SpotClientConfig:
    """Where Spot is and how the bridge drives it (credentials come from the environment)."""

    hostname: str
    port: int = 443
    #: PEM root CA that signed the robot's certificate; None = the SDK's bundled BD CA.
    ca_cert: str | None = None
    client_name: str = "gpc_spot_bridge"
    #: Seconds each velocity command stays valid on the robot (its end_time).
    velocity_validity: float = 0.3
    #: Seconds given to reach an arm joint target.
    arm_move_time: float = 0.3
    #: Per-step limit while connecting (each RPC, time sync, power on, stand).
    connect_timeout: float = 10.0
    #: RPC limit for each streamed command: a stalled link must not block the caller's loop.
    command_timeout: float = 1.0
    #: Acquire the body lease when it is free; if another client (the operator's tablet)
    #: holds it: take it from them (True) or fail and let the caller retry (False).
    take_lease: bool = False
    #: Stand up when connecting (needs ``power_on``); False: wait for ``stand()``.
    stand_on_connect: bool = False
    #: Power the motors on when connecting; False: wait for ``power_on()``. Registering the
    #: e-stop endpoint seeds it with a stop (the SDK's ``EstopEndpoint.register``), so a
    #: reconnect always finds the motors cut by our own endpoint.
    power_on: bool = False
    #: Prefix of the joint names of ``joint_states`` (spot_ros2's ``<spot_name>/``).
    joint_prefix: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.hostname, str) or not self.hostname.strip():
            raise SpotConfigError("hostname must be a non-empty string (Spot's address)")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not (
                1 <= self.port <= 65535):
            raise SpotConfigError(f"port must be an integer in 1..65535, got {self.port!r}")
        if self.ca_cert is not None and not (
                isinstance(self.ca_cert, str) and os.path.isfile(self.ca_cert)):
            raise SpotConfigError(f"ca_cert {self.ca_cert!r} is not a file (a PEM root CA)")
        if not isinstance(self.client_name, str) or not self.client_name.strip():
            raise SpotConfigError("client_name must be a non-empty string")
        for name in ("velocity_validity", "arm_move_time", "connect_timeout", "command_timeout"):
            _positive(name, getattr(self, name))
        for name in ("take_lease", "stand_on_connect", "power_on"):
            if not isinstance(getattr(self, name), bool):
                raise SpotConfigError(f"{name} must be true or false")
        if self.stand_on_connect and not self.power_on:
            raise SpotConfigError("stand_on_connect needs power_on (a robot stands on motors)")
        if not isinstance(self.joint_prefix, str):
            raise SpotConfigError("joint_prefix must be a string")

    @property
    def address(self) -> str:
        return f"{self.hostname}:{self.port}"


def credentials_from_env() -> tuple[str, str]:
    """(username, password) from BOSDYN_CLIENT_USERNAME / BOSDYN_CLIENT_PASSWORD.

    The SDK's convention; credentials never go through ROS parameters, files or logs.
    """
    username = os.environ.get(USERNAME_ENV, "")
    password = os.environ.get(PASSWORD_ENV, "")
    missing = [n for n, v in ((USERNAME_ENV, username), (PASSWORD_ENV, password)) if not v]
    if missing:
        raise SpotConfigError(
            f"Spot credentials missing: set {' and '.join(missing)} in the environment")
    return username, password


def _default_sdk_factory(client_name: str, ca_cert: str | None) -> Any:
    # The SDK takes a glob: escape the path so names with [ ] * ? still load.
    glob_ = glob.escape(ca_cert) if ca_cert is not None else None
    return bosdyn.client.create_standard_sdk(client_name, cert_resource_glob=glob_)


def _no_debug(record: logging.LogRecord) -> bool:
    return record.levelno > logging.DEBUG


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    return x


def _arm_targets(joints: Sequence[float]) -> list[float]:
    values = list(joints)
    if len(values) != len(ARM_JOINTS):
        raise ValueError(f"arm needs {len(ARM_JOINTS)} joint targets "
                         f"({', '.join(ARM_JOINTS)}), got {len(values)}")
    return [_finite(f"arm joint {n}", v) for n, v in zip(ARM_JOINTS, values, strict=True)]


_LAST_ERROR = re.compile(r"last error: (?:[A-Z_]+: )?(?:ipv[46]:\S+?: |unix:\S+?: )?(.*)")


def _transport_detail(exc: RpcError) -> str:
    """The useful tail of a gRPC error ("Connection refused", a TLS failure, ...)."""
    details = ""
    original = getattr(exc, "error", None)
    if original is not None and hasattr(original, "details"):
        try:
            details = original.details() or ""
        except Exception:  # noqa: BLE001 (a foreign object: best effort only)
            details = ""
    m = _LAST_ERROR.search(details)
    text = (m.group(1) if m else details).removesuffix(": OK").strip()
    return (text or exc.error_message)[:200]


def _is_tls_failure(exc: RpcError) -> bool:
    text = _transport_detail(exc).lower()
    return "handshake" in text or "certificate" in text or "ssl" in text


@dataclass
class _Session:
    """Everything one connect() took, so teardown releases exactly that."""

    sdk: Any = None
    robot: Any = None
    lease_client: Any = None
    lease: Any = None
    lease_keepalive: Any = None
    estop_client: Any = None
    estop_endpoint: Any = None
    estop_config_id: str | None = None
    estop_keepalive: Any = None
    powered: bool = False
    standing: bool = False
    command_client: Any = None
    state_client: Any = None
    timesync_endpoint: Any = None
    has_arm: bool | None = None
    problems: list[str] = field(default_factory=list)


class SpotClient:
    """One connection to one Spot, driven by the bridge node (no ROS here).

    Not a general-purpose wrapper: it does exactly what the bridge needs and reports failures
    as :class:`SpotConnectionError`. Methods may be called from different threads; connect
    and shutdown are serialized, streamed commands do not wait for them (they fail fast when
    not connected).
    """

    def __init__(self, config: SpotClientConfig, username: str, password: str,
                 sdk_factory: Callable[[str, str | None], Any] | None = None) -> None:
        if not username or not password:
            raise SpotConfigError("Spot username and password must be non-empty")
        self._config = config
        #: What the last release did (``_release``'s steps, in order); None: nothing to do.
        self.released: list[str] | None = None
        self._username = username
        self._password = password
        self._sdk_factory = sdk_factory or _default_sdk_factory
        self._lock = threading.RLock()  # connect and shutdown
        self._motion = threading.Lock()  # commands and the bring-up steps, one at a time
        self._closing = threading.Event()  # shutdown began: a connect in progress gives up
        self._session: _Session | None = None
        # After another client took the lease from us, do not take it back on reconnect:
        # acquire only, so the bridge resumes once they return it but never fights them.
        self._lease_lost = False
        self._deadline: float | None = None  # of a shutdown (``abort``)

    def __repr__(self) -> str:  # no password here
        state = "connected" if self.connected else "disconnected"
        return f"SpotClient({self._config.address}, user={self._username!r}, {state})"

    @property
    def config(self) -> SpotClientConfig:
        return self._config

    @property
    def connected(self) -> bool:
        return self._session is not None

    @property
    def powered(self) -> bool:
        s = self._session
        return s is not None and s.powered

    @property
    def standing(self) -> bool:
        """Connected, powered and standing: the only state in which ``send()`` sends."""
        s = self._session
        return s is not None and s.standing

    @property
    def state(self) -> str:
        """``disconnected``, ``connected`` (lease and e-stop held, motors off), ``powered``
        or ``standing``: where the bring-up is."""
        s = self._session
        if s is None:
            return "disconnected"
        return "standing" if s.standing else "powered" if s.powered else "connected"

    @property
    def has_arm(self) -> bool | None:
        """Whether the connected robot reports an arm (None when not connected)."""
        s = self._session
        return None if s is None else s.has_arm

    # -- connect -----------------------------------------------------------------------------
    def connect(self, power_on: bool | None = None, stand: bool | None = None) -> None:
        """Connect to Spot and hold its lease and an e-stop endpoint; on failure release what
        was taken and raise.

        ``power_on`` and ``stand`` override the config's ``power_on`` / ``stand_on_connect``
        for this connection (a reconnect that restores a robot that was standing before the
        link dropped). Idempotent: returns at once when already connected.
        """
        with self._lock:
            if self._session is not None:
                return
            if self._closing.is_set():
                raise SpotConnectionError("not connecting: the client is shutting down")
            s = _Session()
            step = "setup"
            powered = self._config.power_on if power_on is None else power_on
            stand = self._config.stand_on_connect if stand is None else stand
            try:
                for name, action in self._connect_steps(s, powered, stand and powered):
                    if self._closing.is_set():
                        raise SpotConnectionError("shutting down")
                    step = name
                    action()
            except Exception as exc:  # noqa: BLE001 (SDK errors have no common base)
                reachable = not isinstance(exc, RpcError)
                problems = self._release(s, reachable=reachable, graceful=s.powered,
                                         deadline=self._deadline)
                for p in problems:
                    _LOG.warning("Spot connect cleanup: %s", p)
                raise SpotConnectionError(self._describe(step, exc)) from exc
            self._session = s
            _LOG.info("connected to Spot at %s (arm: %s, %s)", self._config.address,
                      s.has_arm, self.state)

    def _connect_steps(self, s: _Session, power_on: bool, stand: bool
                       ) -> list[tuple[str, Callable[[], None]]]:
        c = self._config
        t = c.connect_timeout

        def create() -> None:
            s.sdk = self._sdk_factory(c.client_name, c.ca_cert)
            s.robot = s.sdk.create_robot(c.hostname)
            s.robot.update_secure_channel_port(c.port)
            # The SDK logs every request at DEBUG, GetAuthToken's password included.
            logging.getLogger(f"{s.robot.logger.name}.AuthService.GetAuthToken").addFilter(
                _no_debug)

        def time_sync() -> None:
            s.robot.start_time_sync()
            s.robot.time_sync.wait_for_sync(timeout_sec=t)
            s.timesync_endpoint = s.robot.time_sync.endpoint

        def lease() -> None:
            s.lease_client = s.robot.ensure_client(LeaseClient.default_service_name)
            try:
                s.lease = s.lease_client.acquire(timeout=t)
            except ResourceAlreadyClaimedError:
                if not c.take_lease or self._lease_lost:
                    raise
                _LOG.warning("body lease held by another client: taking it (take_lease)")
                s.lease = s.lease_client.take(timeout=t)
            self._lease_lost = False
            s.lease_keepalive = LeaseKeepAlive(s.lease_client, must_acquire=True,
                                               return_at_exit=False)

        def estop() -> None:
            s.estop_client = s.robot.ensure_client(EstopClient.default_service_name)
            endpoint = EstopEndpoint(s.estop_client, c.client_name, ESTOP_TIMEOUT)
            s.estop_config_id = s.estop_client.get_config(timeout=t).unique_id
            # Join the active configuration (other e-stops stay), not force_simple_setup().
            endpoint.register(s.estop_config_id)
            s.estop_endpoint = endpoint
            s.estop_keepalive = EstopKeepAlive(endpoint)  # first check-in releases our stop
            if endpoint.last_set_level != estop_pb2.ESTOP_LEVEL_NONE:
                raise SpotConnectionError("the e-stop check-in failed: our endpoint still "
                                          "asserts a stop")

        def clients() -> None:
            s.command_client = s.robot.ensure_client(RobotCommandClient.default_service_name)
            s.state_client = s.robot.ensure_client(RobotStateClient.default_service_name)
            s.has_arm = bool(s.robot.has_arm(timeout=t))

        steps = [
            ("SDK setup", create),
            ("login", lambda: s.robot.authenticate(self._username, self._password,
                                                   timeout=t)),
            ("time sync", time_sync),
            ("body lease", lease),
            ("e-stop registration", estop),
            ("command client", clients),
        ]
        if power_on:
            steps.append(("power on", lambda: self._power_on(s)))
        if stand:
            steps.append(("stand", lambda: self._stand(s)))
        return steps

    # -- bring-up steps ------------------------------------------------------------------------
    def power_on(self) -> None:
        """Power the motors on (the robot stays sitting). Raises SpotNotReadyError when not
        connected, SpotConnectionError when the robot refuses (an e-stop) or the link fails."""
        self._step("power on", self._power_on, need="connected")

    def stand(self) -> None:
        """Stand up; from now on ``send()`` sends. Needs the motors on (``power_on``)."""
        self._step("stand", self._stand, need="powered")

    def sit(self) -> None:
        """Stop streaming and sit down (motors stay on)."""
        self._step("sit", self._sit, need="powered")

    def power_off(self) -> None:
        """Stop streaming, sit and power the motors off safely."""
        self._step("power off", self._power_off, need="connected")

    def _step(self, what: str, action: Callable[[_Session], None], need: str) -> None:
        """Run one bring-up step on the session, after the commands in flight."""
        with self._motion:
            s = self._session
            if s is None:
                raise SpotNotReadyError(f"{what}: not connected to Spot at "
                                        f"{self._config.address}")
            if need == "powered" and not s.powered:
                raise SpotNotReadyError(f"{what}: the motors are off (power on first)")
            try:
                action(s)
            except Exception as exc:  # noqa: BLE001
                message = self._describe(what, exc)
                if isinstance(exc, (RpcError, LeaseUseError, bd_lease.Error)):
                    self._drop(s, exc)  # the link or the lease is gone: reconnect
                raise SpotConnectionError(message) from exc

    def _power_on(self, s: _Session) -> None:
        t = self._config.connect_timeout
        s.robot.power_on(timeout_sec=t, update_frequency=4.0, timeout=t)
        s.powered = True

    def _stand(self, s: _Session) -> None:
        blocking_stand(s.command_client, timeout_sec=self._config.connect_timeout,
                       update_frequency=4.0)
        s.standing = True

    def _sit(self, s: _Session) -> None:
        s.standing = False  # no velocity command after this one: it would stand it up
        blocking_sit(s.command_client, timeout_sec=self._config.connect_timeout,
                     update_frequency=4.0)

    def _power_off(self, s: _Session) -> None:
        s.standing = False
        if s.powered:
            t = self._config.connect_timeout
            s.robot.power_off(cut_immediately=False, timeout_sec=t, update_frequency=4.0,
                              timeout=t)
        s.powered = False

    # -- commands ----------------------------------------------------------------------------
    def set_velocity_validity(self, seconds: float) -> None:
        """Each later velocity command stays valid ``seconds`` (a live bridge parameter)."""
        self._config = dataclasses.replace(self._config, velocity_validity=seconds)

    def send(self, vx: float, vy: float, yaw_rate: float,
             arm: Sequence[float] | None = None) -> None:
        """Body-frame velocity (m/s, m/s, rad/s), plus arm joint targets when given.

        One synchronized command, so legs and arm move together; it expires
        ``velocity_validity`` s from now, so the caller must re-send (>= 10 Hz).
        """
        v = (_finite("vx", vx), _finite("vy", vy), _finite("yaw_rate", yaw_rate))
        targets = None if arm is None else _arm_targets(arm)
        cmd = RobotCommandBuilder.synchro_velocity_command(v_x=v[0], v_y=v[1], v_rot=v[2])
        if targets is not None:
            cmd = RobotCommandBuilder.build_synchro_command(cmd, self._arm_command(targets))
        with self._motion:  # never between a sit and its end: it would stand the robot up
            s = self._require_standing("velocity command")
            self._command(s, "velocity command", cmd,
                          end_time_secs=time.time() + self._config.velocity_validity)

    def send_velocity(self, vx: float, vy: float, yaw_rate: float) -> None:
        """Velocity only (see :meth:`send`)."""
        self.send(vx, vy, yaw_rate)

    def send_arm(self, joints: Sequence[float]) -> None:
        """Arm joint targets (rad) in the order sh0, sh1, el0, el1, wr0, wr1, reached in
        ``arm_move_time`` s; the legs keep their current command."""
        targets = _arm_targets(joints)
        with self._motion:
            s = self._require_standing("arm command")
            self._command(s, "arm command", self._arm_command(targets))

    def stop(self) -> None:
        """Stop with minimal motion (walking -> standing)."""
        with self._motion:
            s = self._require_standing("stop command")
            self._command(s, "stop command", RobotCommandBuilder.stop_command())

    def joint_states(self) -> tuple[list[str], list[float], list[float], int]:
        """Spot's joints as spot_ros2 publishes them: names (``front_left_hip_x`` ...
        ``arm_f1x``, after ``joint_prefix``), positions (rad), velocities (rad/s), and when
        they were measured: the robot's acquisition time in this computer's clock (integer
        ns since the epoch; robot time - the time-sync clock skew)."""
        s = self._require_session()
        try:
            state = s.state_client.get_robot_state(timeout=self._config.command_timeout)
        except Exception as exc:  # noqa: BLE001
            message = self._describe("robot state", exc)
            self._drop(s, exc)
            raise SpotConnectionError(message) from exc
        kinematic = state.kinematic_state
        joints = kinematic.joint_states
        prefix = self._config.joint_prefix
        return ([ros2_joint_name(j.name, prefix) for j in joints],
                [j.position.value for j in joints], [j.velocity.value for j in joints],
                self._local_ns(s, kinematic.acquisition_timestamp))

    @staticmethod
    def _local_ns(s: _Session, robot_stamp: Any) -> int:
        """A robot-clock timestamp in this computer's clock (ns); now if the robot gave none
        or time sync has no estimate (it was established at connect)."""
        robot_ns = robot_stamp.seconds * 1_000_000_000 + robot_stamp.nanos
        try:
            skew = s.timesync_endpoint.clock_skew
        except Exception:  # noqa: BLE001 - NotEstablishedError: use the arrival time
            return time.time_ns()
        if robot_ns == 0:
            return time.time_ns()
        return robot_ns - (skew.seconds * 1_000_000_000 + skew.nanos)

    def _arm_command(self, targets: list[float]) -> Any:
        return RobotCommandBuilder.arm_joint_move_helper(
            joint_positions=[targets], times=[self._config.arm_move_time])

    def _require_session(self) -> _Session:
        s = self._session
        if s is None:
            raise SpotConnectionError(f"not connected to Spot at {self._config.address}")
        return s

    def _require_standing(self, what: str) -> _Session:
        s = self._require_session()
        if not s.standing:
            raise SpotNotReadyError(f"{what} not sent: Spot is {self.state}, not standing "
                                    "(power on and stand first)")
        return s

    def _command(self, s: _Session, what: str, cmd: Any,
                 end_time_secs: float | None = None) -> None:
        try:
            s.command_client.robot_command(cmd, end_time_secs=end_time_secs,
                                           timesync_endpoint=s.timesync_endpoint,
                                           timeout=self._config.command_timeout)
        except Exception as exc:  # noqa: BLE001
            message = self._describe(what, exc)
            self._drop(s, exc)
            raise SpotConnectionError(message) from exc

    def _drop(self, s: _Session, exc: Exception) -> None:
        """A command failed: forget this session so the caller reconnects."""
        lease_lost = isinstance(exc, (LeaseUseError, bd_lease.Error))
        with self._lock:
            if self._session is not s:
                return  # shutdown or another failure got there first
            self._session = None
            if lease_lost:
                self._lease_lost = True
                s.lease = None  # not ours to return any more
        # Unreachable: no RPCs (each would wait). Refused: hand the lease back, stay powered
        # (the robot sits and cuts power by itself once our e-stop check-ins stop).
        for p in self._release(s, reachable=not isinstance(exc, RpcError), graceful=False):
            _LOG.warning("Spot disconnect cleanup: %s", p)

    # -- shutdown ----------------------------------------------------------------------------
    def abort(self, deadline: float | None = None) -> None:
        """Shutting down: a connect in progress gives up at its next step, and releases what
        it took by ``deadline`` (``time.monotonic()``); no new connect starts."""
        self._deadline = deadline
        self._closing.set()

    def shutdown(self, deadline: float | None = None) -> list[str]:
        """Hand the robot back: stop, sit, safe power off, e-stop and lease released, each
        request's timeout cut so that all is done by ``deadline`` (``time.monotonic()``;
        None: no limit); what is left at the deadline is skipped and reported.

        Best effort and never raises; returns the problems met (empty when all went well).
        Final: the client connects no more. Idempotent: a second call (or one while
        disconnected) returns []. What was done is
        in ``released`` (None when there was no session to release), for the operator's log.
        """
        try:
            self.abort(deadline)
            wait = -1 if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._lock.acquire(timeout=wait):
                return ["a connection attempt still holds the client at the deadline: "
                        "nothing released (the robot's e-stop timeout cuts power)"]
            try:
                s, self._session = self._session, None
            finally:
                self._lock.release()
            if s is None:
                self.released = None
                return []
            problems = self._release(s, reachable=True, graceful=True, deadline=deadline)
            _LOG.info("Spot at %s released%s", self._config.address,
                      f" with {len(problems)} problem(s)" if problems else "")
            return problems
        except Exception as exc:  # noqa: BLE001 (never raise from shutdown)
            return [f"shutdown failed: {type(exc).__name__}: {exc}"]

    def _release(self, s: _Session, reachable: bool, graceful: bool,
                 deadline: float | None = None) -> list[str]:
        """Undo a session in the safe order; RPC steps are skipped once Spot is unreachable
        (each would wait for its timeout), noted as problems if it became so on the way, and
        each RPC's timeout is cut to what is left before ``deadline``."""
        problems: list[str] = []
        done: list[str] = []
        self.released = done
        state = {"reachable": reachable}

        def left(limit: float) -> float:
            if deadline is None:
                return limit
            return min(limit, deadline - time.monotonic())

        def rpc(what: str, fn: Callable[[float], object], limit: float) -> None:
            if not state["reachable"]:
                if reachable:
                    problems.append(f"{what}: skipped, Spot unreachable")
                return
            timeout = left(limit)
            if timeout < MIN_RPC_TIME:
                problems.append(f"{what}: skipped, shutdown deadline reached")
                return
            try:
                fn(timeout)
                done.append(what)
            except Exception as exc:  # noqa: BLE001
                if isinstance(exc, RpcError):
                    state["reachable"] = False
                problems.append(self._describe(what, exc))

        def local(what: str, fn: Callable[[], object]) -> None:
            try:
                fn()
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{what}: {type(exc).__name__}: {exc}")

        if not reachable and s.robot is not None:
            # Close the channels first: background check-ins blocked in an RPC return at once.
            local("closing channels", s.robot.shutdown)
        cc = s.command_client
        t, ct = self._config.connect_timeout, self._config.command_timeout
        s.standing = False
        if graceful and s.powered and cc is not None:
            rpc("stop", lambda x: cc.robot_command(RobotCommandBuilder.stop_command(),
                                                   timeout=x), ct)
            rpc("sit", lambda x: cc.robot_command(RobotCommandBuilder.synchro_sit_command(),
                                                  timeout=x), ct)
            rpc("power off", lambda x: s.robot.power_off(
                cut_immediately=False, timeout_sec=x, update_frequency=4.0, timeout=x), t)
        if s.estop_keepalive is not None:
            local("e-stop keepalive", s.estop_keepalive.shutdown)
        if s.estop_endpoint is not None:
            rpc("e-stop deregistration", lambda x: s.estop_client.deregister(
                s.estop_config_id, s.estop_endpoint, timeout=x), t)
        if s.lease_keepalive is not None:
            local("lease keepalive", s.lease_keepalive.shutdown)
        if s.lease is not None:
            rpc("lease return", lambda x: s.lease_client.return_lease(s.lease, timeout=x), t)
        if s.sdk is not None:
            local("time sync", s.sdk.clear_robots)  # stops time sync and token refresh
        if s.robot is not None:
            local("closing channels", s.robot.shutdown)
        return problems

    # -- messages ----------------------------------------------------------------------------
    def _describe(self, what: str, exc: BaseException) -> str:
        """One line for an operator: what failed, where, and the likely cause."""
        where = f"Spot at {self._config.address}"
        if isinstance(exc, SpotConnectionError):
            return f"{what} failed: {exc}"
        if isinstance(exc, InvalidLoginError):
            return (f"login refused for user {self._username!r} by {where}: "
                    "wrong username or password")
        if isinstance(exc, ResourceAlreadyClaimedError):
            owner = getattr(getattr(exc.response, "lease_owner", None), "client_name", "")
            why = ("it took the lease from the bridge; release it there" if self._lease_lost
                   else "release it there (or set take_lease to take it)")
            return (f"lease is held by another client{f' ({owner})' if owner else ''} "
                    f"on {where}: {why}")
        if isinstance(exc, (LeaseUseError, bd_lease.Error)):
            return f"{what} failed: the body lease is no longer ours (another client took it?)"
        if isinstance(exc, bd_time_sync.TimedOutError):
            return (f"time sync with {where} not established within "
                    f"{self._config.connect_timeout:g} s")
        if isinstance(exc, bd_power.CommandTimedOutError):
            return f"{where} did not finish {what} within {self._config.connect_timeout:g} s"
        if isinstance(exc, TimedOutError):
            return f"{where} did not answer in time ({what})"
        if isinstance(exc, UnauthenticatedError):
            return f"{where} rejected our user token ({what}): log in again"
        if isinstance(exc, RpcError):
            if _is_tls_failure(exc):
                ca = self._config.ca_cert or "the SDK's bundled Boston Dynamics CA"
                return (f"TLS handshake with {where} failed ({_transport_detail(exc)}): "
                        f"is the robot's certificate signed by {ca}?")
            return f"cannot reach {where} ({what}): {_transport_detail(exc)}"
        if isinstance(exc, ResponseError):
            return f"{where} refused {what}: {exc.error_message or type(exc).__name__}"
        if isinstance(exc, OSError) and what == "SDK setup":
            return f"cannot load the CA certificate {self._config.ca_cert!r}: {exc}"
        return f"{what} failed: {type(exc).__name__}: {exc}"


class Reconnector:
    """When to try connecting again: exponential backoff, pure logic (inject the clock).

    The node calls ``if not client.connected and reconnector.due(now): ...`` from a timer,
    then ``succeeded()`` or ``failed(now, str(error))``. Delays after consecutive failures:
    initial, initial*factor, ... capped at ``maximum``.
    """

    def __init__(self, initial: float = 1.0, factor: float = 2.0,
                 maximum: float = 30.0) -> None:
        if not (initial > 0 and factor >= 1 and maximum >= initial):
            raise ValueError("need initial > 0, factor >= 1 and maximum >= initial")
        self.initial = initial
        self.factor = factor
        self.maximum = maximum
        self.attempts = 0  # consecutive failures
        self.last_error: str | None = None
        self.next_attempt: float | None = None  # None: due now

    @property
    def delay(self) -> float:
        """The wait after the latest failure (0 before any)."""
        if self.attempts == 0:
            return 0.0
        return min(self.maximum, self.initial * self.factor ** (self.attempts - 1))

    def due(self, now: float) -> bool:
        return self.next_attempt is None or now >= self.next_attempt

    def failed(self, now: float, error_message: str) -> None:
        self.attempts += 1
        self.last_error = error_message
        self.next_attempt = now + self.delay

    def succeeded(self) -> None:
        self.attempts = 0
        self.last_error = None
        self.next_attempt = None
