"""A fake Spot robot for tests: a real gRPC server on 127.0.0.1 that the unmodified SDK talks to.

It implements the services the bridge's SpotClient uses (auth, directory, time-sync, lease,
e-stop, power, robot-state, robot-command, robot-id) over TLS with a throwaway CA made by
openssl, and records what the client did as ``(time.monotonic(), kind, details)`` events.

Usage::

    tls = make_test_ca(tmp_path)
    with FakeSpot(tls) as fake:          # started on an ephemeral port
        ...  # connect to 127.0.0.1:fake.port with ca_cert=fake.ca_cert
        fake.stop()                      # the robot drops off the network
        fake.start()                     # back again, same port, same state
        fake.kinds()                     # ["auth", "time_sync", "lease_acquire", ...]
        fake.of("velocity")              # [{"vx": ..., "vy": ..., "end_time": ...}, ...]
        fake.wait_for("stand", timeout=10)   # a client in another process

Event kinds (details): auth (username, ok, refresh), time_sync, lease_acquire / lease_take
(client), lease_refused (client, holder), lease_retain, lease_return (client), estop_register
(name, timeout, unique_id), estop_check_in (level), estop_deregister (unique_id), power_on,
power_off (safe), stand, sit, stop, velocity (vx, vy, yaw_rate, end_time, frame), arm (joints,
time, points). Robot state (motors, lease holder, e-stop level) lives on the object and
survives stop()/start(), like a robot whose network link dropped.
"""

from __future__ import annotations

import itertools
import random
import subprocess
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any, NamedTuple

import grpc
from bosdyn.api import (
    auth_pb2,
    auth_service_pb2_grpc,
    basic_command_pb2,
    directory_pb2,
    directory_service_pb2_grpc,
    estop_pb2,
    estop_service_pb2_grpc,
    header_pb2,
    lease_pb2,
    lease_service_pb2_grpc,
    power_pb2,
    power_service_pb2_grpc,
    robot_command_pb2,
    robot_command_service_pb2_grpc,
    robot_id_pb2,
    robot_id_service_pb2_grpc,
    robot_state_pb2,
    robot_state_service_pb2_grpc,
    time_sync_pb2,
    time_sync_service_pb2_grpc,
)

HOST = "127.0.0.1"
ESTOP_CONFIG_ID = "fake-estop-config"


class FakeSpotTLS(NamedTuple):
    """PEM files of a throwaway CA and a server certificate it signed."""

    ca_pem: Path
    server_cert_pem: Path
    server_key_pem: Path


def make_test_ca(tmp_path: Path) -> FakeSpotTLS:
    """Make a CA and a server certificate for ``*.spot.robot`` with openssl (EC keys: fast).

    The SDK overrides the TLS target name with per-service authorities (auth.spot.robot,
    api.spot.robot, and those the directory hands out), hence the wildcard SAN.
    """
    d = Path(tmp_path)
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca_pem = d / "ca.key", d / "ca.pem"
    key, csr, cert, ext = d / "server.key", d / "server.csr", d / "server.pem", d / "server.ext"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)

    run("req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca_pem), "-days", "2",
        "-subj", "/CN=GPC fake Spot test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=api.spot.robot")
    ext.write_text(
        "subjectAltName=DNS:*.spot.robot,DNS:localhost,IP:127.0.0.1\n"
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
    )
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_pem), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext))
    return FakeSpotTLS(ca_pem, cert, key)


def _ts_now(ts: Any, skew: float = 0.0) -> None:
    ts.FromNanoseconds(time.time_ns() + round(skew * 1e9))


def _ts_secs(ts: Any) -> float:
    return ts.seconds + ts.nanos * 1e-9


class FakeSpot:
    """A fake Spot: start()/stop() a TLS gRPC server; inspect ``events`` and the state fields.

    Knobs a test may set (also while running): ``lease_holder`` (a client name: another
    client holds the body lease, so AcquireLease answers RESOURCE_ALREADY_CLAIMED and the
    commands of anyone else get a lease_use_result OLDER; ``take_lease_as(name)`` also makes
    the lease newer, as a real take does, so a client's wallet notices), ``other_estop``
    (another e-stop endpoint asserts a stop: power on answers ESTOPPED), ``has_arm``,
    ``clock_skew`` (s: the robot's clock runs this far ahead of ours; time sync reports it,
    robot-state stamps and command end times are in the robot's clock), ``stuck_motors``
    (a safe power off is accepted but the motors never go off: the slowest clean shutdown).
    """

    def __init__(self, tls: FakeSpotTLS, username: str = "user", password: str = "secret",
                 has_arm: bool = True, port: int = 0) -> None:
        self.tls = tls
        self.username = username
        self.password = password
        self.has_arm = has_arm
        # Joint angles the robot state reports, by the SDK's names (legs standing, arm out).
        legs = [f"{leg}.{j}" for leg in ("fl", "fr", "hl", "hr") for j in ("hx", "hy", "kn")]
        arm = [f"arm0.{j}" for j in ("sh0", "sh1", "el0", "el1", "wr0", "wr1", "f1x")] \
            if has_arm else []
        self.joint_positions = {name: 0.1 * (i + 1) for i, name in enumerate(legs + arm)}
        self.port = port
        self._lock = threading.Lock()
        self._events: list[tuple[float, str, dict[str, Any]]] = []
        self._server: grpc.Server | None = None
        self._tokens: set[str] = set()
        self._ids = itertools.count(1)
        # Robot state (kept across stop()/start()).
        self.motors_on = False
        self.lease_holder: str | None = None
        self.lease_sequence = 0
        self.estop_level = estop_pb2.ESTOP_LEVEL_CUT  # e-stopped until an endpoint checks in
        self.other_estop = False
        self.clock_skew = 0.0
        self.stuck_motors = False
        self.estop_endpoints: dict[str, estop_pb2.EstopEndpoint] = {}
        self._commands: dict[int, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def ca_cert(self) -> str:
        return str(self.tls.ca_pem)

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeSpot:
        """Serve on 127.0.0.1 (an ephemeral port the first time, the same port afterwards)."""
        if self._server is not None:
            return self
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8),
                             options=[("grpc.so_reuseport", 0)])
        for add, servicer in (
            (auth_service_pb2_grpc.add_AuthServiceServicer_to_server, _Auth(self)),
            (directory_service_pb2_grpc.add_DirectoryServiceServicer_to_server, _Directory(self)),
            (time_sync_service_pb2_grpc.add_TimeSyncServiceServicer_to_server, _TimeSync(self)),
            (lease_service_pb2_grpc.add_LeaseServiceServicer_to_server, _Lease(self)),
            (estop_service_pb2_grpc.add_EstopServiceServicer_to_server, _Estop(self)),
            (power_service_pb2_grpc.add_PowerServiceServicer_to_server, _Power(self)),
            (robot_state_service_pb2_grpc.add_RobotStateServiceServicer_to_server,
             _RobotState(self)),
            (robot_command_service_pb2_grpc.add_RobotCommandServiceServicer_to_server,
             _RobotCommand(self)),
            (robot_id_service_pb2_grpc.add_RobotIdServiceServicer_to_server, _RobotId(self)),
        ):
            add(servicer, server)
        creds = grpc.ssl_server_credentials(
            [(self.tls.server_key_pem.read_bytes(), self.tls.server_cert_pem.read_bytes())])
        port = server.add_secure_port(f"{HOST}:{self.port}", creds)
        if port == 0:
            raise RuntimeError(f"fake Spot cannot bind {HOST}:{self.port}")
        self.port = port
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        """Drop off the network: the server stops, open RPCs are cancelled."""
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace=None).wait()

    def __enter__(self) -> FakeSpot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- records -----------------------------------------------------------------------------
    def record(self, kind: str, **details: Any) -> None:
        with self._lock:
            self._events.append((time.monotonic(), kind, details))

    @property
    def events(self) -> list[tuple[float, str, dict[str, Any]]]:
        """A copy of the events so far (thread-safe)."""
        with self._lock:
            return list(self._events)

    def kinds(self, exclude: tuple[str, ...] = ("lease_retain", "estop_check_in")) -> list[str]:
        """Event kinds in order, without the periodic keepalive ones by default."""
        return [k for _, k, _ in self.events if k not in exclude]

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Details of every event of one kind."""
        return [d for _, k, d in self.events if k == kind]

    def clear_events(self) -> None:
        with self._lock:
            self._events.clear()

    def wait_for(self, kind: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``count`` events of ``kind`` arrived (for a client in another process)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.of(kind)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    # -- helpers for the servicers -----------------------------------------------------------
    def header(self, request: Any, response: Any, received_ns: int) -> Any:
        """Fill the common response header (CODE_OK and both timestamps: time sync needs them)."""
        h = response.header
        h.request_header.CopyFrom(request.header)
        h.request_received_timestamp.FromNanoseconds(received_ns)
        _ts_now(h.response_timestamp)
        h.error.code = header_pb2.CommonError.CODE_OK
        return response

    def check_token(self, context: grpc.ServicerContext) -> None:
        """Services other than auth and robot-id want the user token the SDK sends as metadata."""
        meta = dict(context.invocation_metadata())
        token = meta.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            ok = token in self._tokens
        if not ok:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid user token")

    def issue_token(self) -> str:
        token = f"fake-token-{next(self._ids)}"
        with self._lock:
            self._tokens.add(token)
        return token

    def lease_use(self, request: Any, result: lease_pb2.LeaseUseResult) -> bool:
        """Judge the lease a request carries: it must be the body lease of the holder."""
        result.attempted_lease.CopyFrom(request.lease)
        holder = self.lease_holder
        if request.lease.resource != "body":
            result.status = lease_pb2.LeaseUseResult.STATUS_INVALID_LEASE
        elif holder != request.header.client_name:
            result.status = lease_pb2.LeaseUseResult.STATUS_OLDER  # someone else has it now
            result.owner.client_name = holder or ""
            result.latest_known_lease.CopyFrom(self.lease_proto(holder or ""))
        else:
            result.status = lease_pb2.LeaseUseResult.STATUS_OK
            return True
        return False

    def lease_proto(self, client_name: str) -> lease_pb2.Lease:
        # Two levels: the SDK advances the last number with every request it sends.
        return lease_pb2.Lease(resource="body", epoch="fake-epoch",
                               sequence=[self.lease_sequence, 0], client_names=[client_name])

    def take_lease_as(self, client_name: str | None) -> None:
        """Another client (e.g. the tablet) takes the body lease; None: it returns it."""
        with self._lock:
            self.lease_holder = client_name
            self.lease_sequence += 1



class _Servicer:
    """Keeps the fake; the gRPC servicer base classes come second in each subclass."""

    def __init__(self, fake: FakeSpot) -> None:
        self.fake = fake


class _Auth(_Servicer, auth_service_pb2_grpc.AuthServiceServicer):
    def GetAuthToken(self, request, context):  # noqa: N802 (gRPC method names)
        t = time.time_ns()
        resp = auth_pb2.GetAuthTokenResponse()
        f = self.fake
        if request.token:
            with f._lock:
                ok = request.token in f._tokens
        else:
            ok = request.username == f.username and request.password == f.password
        f.record("auth", username=request.username, ok=ok, refresh=bool(request.token))
        if ok:
            resp.status = auth_pb2.GetAuthTokenResponse.STATUS_OK
            resp.token = f.issue_token()
        else:
            resp.status = auth_pb2.GetAuthTokenResponse.STATUS_INVALID_LOGIN
        return f.header(request, resp, t)


_SERVICES = {  # directory name -> gRPC service type
    "auth": "bosdyn.api.AuthService",
    "directory": "bosdyn.api.DirectoryService",
    "time-sync": "bosdyn.api.TimeSyncService",
    "lease": "bosdyn.api.LeaseService",
    "estop": "bosdyn.api.EstopService",
    "power": "bosdyn.api.PowerService",
    "robot-state": "bosdyn.api.RobotStateService",
    "robot-command": "bosdyn.api.RobotCommandService",
    "robot-id": "bosdyn.api.RobotIdService",
}


def _entry(name: str) -> directory_pb2.ServiceEntry:
    return directory_pb2.ServiceEntry(name=name, type=_SERVICES[name],
                                      authority=f"{name}.spot.robot", user_token_required=True)


class _Directory(_Servicer, directory_service_pb2_grpc.DirectoryServiceServicer):
    def ListServiceEntries(self, request, context):  # noqa: N802
        t = time.time_ns()
        self.fake.check_token(context)
        resp = directory_pb2.ListServiceEntriesResponse(
            service_entries=[_entry(n) for n in _SERVICES])
        return self.fake.header(request, resp, t)

    def GetServiceEntry(self, request, context):  # noqa: N802
        t = time.time_ns()
        self.fake.check_token(context)
        resp = directory_pb2.GetServiceEntryResponse()
        if request.service_name in _SERVICES:
            resp.status = directory_pb2.GetServiceEntryResponse.STATUS_OK
            resp.service_entry.CopyFrom(_entry(request.service_name))
        else:
            resp.status = directory_pb2.GetServiceEntryResponse.STATUS_NONEXISTENT_SERVICE
        return self.fake.header(request, resp, t)


class _TimeSync(_Servicer, time_sync_service_pb2_grpc.TimeSyncServiceServicer):
    def TimeSyncUpdate(self, request, context):  # noqa: N802
        t = time.time_ns()
        self.fake.check_token(context)
        self.fake.record("time_sync")
        resp = time_sync_pb2.TimeSyncUpdateResponse(
            clock_identifier=request.clock_identifier or "fake-spot-clock")
        resp.state.status = time_sync_pb2.TimeSyncState.STATUS_OK
        resp.state.best_estimate.clock_skew.FromNanoseconds(round(self.fake.clock_skew * 1e9))
        resp.state.best_estimate.round_trip_time.FromNanoseconds(100_000)
        _ts_now(resp.state.measurement_time)
        return self.fake.header(request, resp, t)


class _Lease(_Servicer, lease_service_pb2_grpc.LeaseServiceServicer):
    def AcquireLease(self, request, context):  # noqa: N802
        t = time.time_ns()
        f = self.fake
        f.check_token(context)
        client = request.header.client_name
        resp = lease_pb2.AcquireLeaseResponse()
        with f._lock:
            holder = f.lease_holder
            free = holder is None or holder == client
            if free:
                f.lease_holder = client
                f.lease_sequence += 1
        if free:
            resp.status = lease_pb2.AcquireLeaseResponse.STATUS_OK
            resp.lease.CopyFrom(f.lease_proto(client))
            f.record("lease_acquire", client=client)
        else:
            resp.status = lease_pb2.AcquireLeaseResponse.STATUS_RESOURCE_ALREADY_CLAIMED
            f.record("lease_refused", client=client, holder=holder)
        resp.lease_owner.client_name = client if free else str(holder)
        return f.header(request, resp, t)

    def TakeLease(self, request, context):  # noqa: N802
        t = time.time_ns()
        f = self.fake
        f.check_token(context)
        client = request.header.client_name
        with f._lock:
            f.lease_holder = client
            f.lease_sequence += 1
        f.record("lease_take", client=client)
        resp = lease_pb2.TakeLeaseResponse(status=lease_pb2.TakeLeaseResponse.STATUS_OK,
                                           lease=f.lease_proto(client))
        resp.lease_owner.client_name = client
        return f.header(request, resp, t)

    def ReturnLease(self, request, context):  # noqa: N802
        t = time.time_ns()
        f = self.fake
        f.check_token(context)
        with f._lock:
            ours = f.lease_holder == request.header.client_name
            if ours:
                f.lease_holder = None
        resp = lease_pb2.ReturnLeaseResponse(status=lease_pb2.ReturnLeaseResponse.STATUS_OK)
        if ours:
            f.record("lease_return", client=request.header.client_name)
        else:
            resp.status = lease_pb2.ReturnLeaseResponse.STATUS_NOT_ACTIVE_LEASE
        return f.header(request, resp, t)

    def RetainLease(self, request, context):  # noqa: N802
        t = time.time_ns()
        self.fake.check_token(context)
        self.fake.record("lease_retain")
        resp = lease_pb2.RetainLeaseResponse()
        self.fake.lease_use(request, resp.lease_use_result)
        return self.fake.header(request, resp, t)


class _Estop(_Servicer, estop_service_pb2_grpc.EstopServiceServicer):
    def GetEstopConfig(self, request, context):  # noqa: N802
        t = time.time_ns()
        self.fake.check_token(context)
        resp = estop_pb2.GetEstopConfigResponse()
        resp.active_config.unique_id = ESTOP_CONFIG_ID
        ep = resp.active_config.endpoints.add(role="PDB_rooted", name="fake-default",
                                              unique_id="0")
        ep.timeout.FromSeconds(9)
        return self.fake.header(request, resp, t)

    def RegisterEstopEndpoint(self, request, context):  # noqa: N802
        t = time.time_ns()
        f = self.fake
        f.check_token(context)
        resp = estop_pb2.RegisterEstopEndpointResponse(request=request)
        if request.target_config_id != ESTOP_CONFIG_ID:
            resp.status = estop_pb2.RegisterEstopEndpointResponse.STATUS_CONFIG_MISMATCH
            return f.header(request, resp, t)
        ep = estop_pb2.EstopEndpoint()
        ep.CopyFrom(request.new_endpoint)
        ep.unique_id = f"endpoint-{next(f._ids)}"
        with f._lock:
            f.estop_endpoints[ep.unique_id] = ep
        resp.status = estop_pb2.RegisterEstopEndpointResponse.STATUS_SUCCESS
        resp.new_endpoint.CopyFrom(ep)
        f.record("estop_register", name=ep.name, timeout=_ts_secs(ep.timeout),
                 unique_id=ep.unique_id)
        return f.header(request, resp, t)

    def DeregisterEstopEndpoint(self, request, context):  # noqa: N802
        t = time.time_ns()
        f = self.fake
        f.check_token(context)
        resp = estop_pb2.DeregisterEstopEndpointResponse(request=request)
        if f.motors_on:
            resp.status = estop_pb2.DeregisterEstopEndpointResponse.STATUS_MOTORS_ON
        else:
            with f._lock:
                f.estop_endpoints.pop(request.target_endpoint.unique_id, None)
            resp.status = estop_pb2.DeregisterEstopEndpointResponse.STATUS_SUCCESS
            f.record("estop_deregister", unique_id=request.target_endpoint.unique_id)
        return f.header(request, resp, t)

    def EstopCheckIn(self, request, context):  # noqa: N802
        t = time.time_ns()
        f = self.fake
        f.check_token(context)
        resp = estop_pb2.EstopCheckInResponse(request=request, challenge=random.getrandbits(63))
        if request.endpoint.unique_id not in f.estop_endpoints:
            resp.status = estop_pb2.EstopCheckInResponse.STATUS_ENDPOINT_UNKNOWN
        else:
            resp.status = estop_pb2.EstopCheckInResponse.STATUS_OK
            with f._lock:
                f.estop_level = request.stop_level
                if request.stop_level != estop_pb2.ESTOP_LEVEL_NONE:
                    f.motors_on = False  # a stop level cuts motor power
            f.record("estop_check_in", level=request.stop_level)
        return f.header(request, resp, t)


class _Power(_Servicer, power_service_pb2_grpc.PowerServiceServicer):
    def PowerCommand(self, request, context):  # noqa: N802
        t = time.time_ns()
        f = self.fake
        f.check_token(context)
        resp = power_pb2.PowerCommandResponse(power_command_id=next(f._ids))
        if not f.lease_use(request, resp.lease_use_result):
            return f.header(request, resp, t)
        if request.request == power_pb2.PowerCommandRequest.REQUEST_ON_MOTORS:
            if f.other_estop or f.estop_level != estop_pb2.ESTOP_LEVEL_NONE:
                resp.status = power_pb2.STATUS_ESTOPPED
            else:
                f.motors_on = True
                resp.status = power_pb2.STATUS_SUCCESS
                f.record("power_on")
        elif request.request == power_pb2.PowerCommandRequest.REQUEST_OFF_MOTORS:
            f.motors_on = False
            resp.status = power_pb2.STATUS_SUCCESS
            f.record("power_off", safe=False)
        else:
            resp.status = power_pb2.STATUS_INTERNAL_ERROR
        return f.header(request, resp, t)

    def PowerCommandFeedback(self, request, context):  # noqa: N802
        t = time.time_ns()
        self.fake.check_token(context)
        resp = power_pb2.PowerCommandFeedbackResponse(status=power_pb2.STATUS_SUCCESS)
        return self.fake.header(request, resp, t)


class _RobotState(_Servicer, robot_state_service_pb2_grpc.RobotStateServiceServicer):
    def GetRobotState(self, request, context):  # noqa: N802
        t = time.time_ns()
        f = self.fake
        f.check_token(context)
        resp = robot_state_pb2.RobotStateResponse()
        ps = resp.robot_state.power_state
        _ts_now(ps.timestamp, f.clock_skew)
        _ts_now(resp.robot_state.kinematic_state.acquisition_timestamp, f.clock_skew)
        ps.motor_power_state = (robot_state_pb2.PowerState.STATE_ON if f.motors_on
                                else robot_state_pb2.PowerState.STATE_OFF)
        if f.has_arm:
            resp.robot_state.manipulator_state.gripper_open_percentage = 0.0
        for name, position in f.joint_positions.items():
            joint = resp.robot_state.kinematic_state.joint_states.add(name=name)
            joint.position.value = position
            joint.velocity.value = 0.0
        return f.header(request, resp, t)


class _RobotCommand(_Servicer, robot_command_service_pb2_grpc.RobotCommandServiceServicer):
    def RobotCommand(self, request, context):  # noqa: N802
        t = time.time_ns()
        f = self.fake
        f.check_token(context)
        resp = robot_command_pb2.RobotCommandResponse(robot_command_id=next(f._ids))
        if not f.lease_use(request, resp.lease_use_result):
            return f.header(request, resp, t)
        if not f.motors_on:
            resp.status = robot_command_pb2.RobotCommandResponse.STATUS_NOT_POWERED_ON
            return f.header(request, resp, t)
        resp.status = robot_command_pb2.RobotCommandResponse.STATUS_OK
        cmd = request.command
        kind = "other"
        if cmd.HasField("full_body_command"):
            fb = cmd.full_body_command
            if fb.HasField("stop_request"):
                kind = "stop"
                f.record("stop")
            elif fb.HasField("safe_power_off_request"):
                kind = "power_off"
                # The SDK then polls robot-state for motors off (until its timeout).
                f.motors_on = f.stuck_motors
                f.record("power_off", safe=True)
        sync = cmd.synchronized_command
        if sync.HasField("mobility_command"):
            mob = sync.mobility_command
            if mob.HasField("stand_request"):
                kind = "stand"
                f.record("stand")
            elif mob.HasField("sit_request"):
                kind = "sit"
                f.record("sit")
            elif mob.HasField("se2_velocity_request"):
                kind = "velocity"
                v = mob.se2_velocity_request
                f.record("velocity", vx=v.velocity.linear.x, vy=v.velocity.linear.y,
                         yaw_rate=v.velocity.angular, end_time=_ts_secs(v.end_time),
                         frame=v.se2_frame_name)
        if sync.HasField("arm_command") and sync.arm_command.HasField("arm_joint_move_command"):
            kind = "arm" if kind == "other" else kind
            points = sync.arm_command.arm_joint_move_command.trajectory.points
            p = points[-1]
            joints = [getattr(p.position, j).value for j in ("sh0", "sh1", "el0", "el1",
                                                               "wr0", "wr1")]
            f.record("arm", joints=joints, time=_ts_secs(p.time_since_reference),
                     points=len(points))
        with f._lock:
            f._commands[resp.robot_command_id] = kind
        return f.header(request, resp, t)

    def RobotCommandFeedback(self, request, context):  # noqa: N802
        t = time.time_ns()
        f = self.fake
        f.check_token(context)
        with f._lock:
            kind = f._commands.get(request.robot_command_id, "other")
        resp = robot_command_pb2.RobotCommandFeedbackResponse()
        resp.lease_use_result.status = lease_pb2.LeaseUseResult.STATUS_OK
        processing = basic_command_pb2.RobotCommandFeedbackStatus.STATUS_PROCESSING
        stand, sit = basic_command_pb2.StandCommand, basic_command_pb2.SitCommand
        if kind in ("stop", "power_off"):
            resp.feedback.full_body_feedback.status = processing
        else:
            mob = resp.feedback.synchronized_feedback.mobility_command_feedback
            mob.status = processing
            if kind == "stand":
                mob.stand_feedback.status = stand.Feedback.STATUS_IS_STANDING
            elif kind == "sit":
                mob.sit_feedback.status = sit.Feedback.STATUS_IS_SITTING
        return f.header(request, resp, t)


class _RobotId(_Servicer, robot_id_service_pb2_grpc.RobotIdServiceServicer):
    def GetRobotId(self, request, context):  # noqa: N802
        t = time.time_ns()
        # No token needed: the SDK may ask for the robot id before it authenticates.
        resp = robot_id_pb2.RobotIdResponse()
        resp.robot_id.serial_number = "fake-spot-0001"
        resp.robot_id.species = "spot"
        resp.robot_id.nickname = "fake-spot"
        return self.fake.header(request, resp, t)
