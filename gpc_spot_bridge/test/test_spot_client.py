"""SpotClient against a fake Spot: the real bosdyn SDK over real TLS on 127.0.0.1.

Bring-up is explicit: connecting takes a free lease and an e-stop endpoint and nothing else;
the robot powers on, stands and takes commands only after ``power_on()`` and ``stand()``."""

from __future__ import annotations

import logging
import math
import time

import pytest
from bosdyn.api import estop_pb2
from fake_spot import FakeSpot, make_test_ca

from gpc_sim.spot.estimation import SPOT_ROS2_JOINT_NAMES
from gpc_spot_bridge.spot_client import (
    PASSWORD_ENV,
    USERNAME_ENV,
    Reconnector,
    SpotClient,
    SpotClientConfig,
    SpotConfigError,
    SpotConnectionError,
    SpotNotReadyError,
    credentials_from_env,
)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_test_ca(tmp_path_factory.mktemp("spot_tls"))


@pytest.fixture
def fake(tls):
    with FakeSpot(tls) as f:
        yield f


@pytest.fixture
def make_client(fake):
    """SpotClient factory for the fake; every client is shut down after the test."""
    clients: list[SpotClient] = []

    def make(password: str = "secret", **overrides) -> SpotClient:
        kwargs = dict(hostname="127.0.0.1", port=fake.port, ca_cert=fake.ca_cert,
                      connect_timeout=3.0)
        kwargs.update(overrides)
        client = SpotClient(SpotClientConfig(**kwargs), "user", password)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.shutdown()


def stood_up(client: SpotClient) -> SpotClient:
    client.connect()
    client.power_on()
    client.stand()
    return client


@pytest.fixture
def client(make_client):
    """A client whose robot stands: it takes commands."""
    return stood_up(make_client())


def _in_order(kinds: list[str], expected: list[str]) -> bool:
    """expected is a subsequence of kinds."""
    it = iter(kinds)
    return all(k in it for k in expected)


def test_connect_takes_a_free_lease_and_moves_nothing(fake, make_client):
    client = make_client()
    client.connect()
    assert client.connected and client.has_arm is True and client.state == "connected"
    kinds = fake.kinds()
    assert _in_order(kinds, ["auth", "time_sync", "lease_acquire", "estop_register"]), kinds
    assert "power_on" not in kinds and "stand" not in kinds and not fake.motors_on
    assert fake.lease_holder and fake.lease_holder.startswith("gpc_spot_bridge")
    assert fake.of("estop_register")[0]["name"] == "gpc_spot_bridge"
    assert fake.estop_level == estop_pb2.ESTOP_LEVEL_NONE
    client.connect()  # idempotent
    assert len(fake.of("auth")) == 1
    assert "secret" not in repr(client)


def test_the_robot_moves_only_after_power_on_and_stand(fake, make_client):
    client = make_client()
    client.connect()
    with pytest.raises(SpotNotReadyError, match="not standing"):
        client.send_velocity(0.3, 0.0, 0.0)
    with pytest.raises(SpotNotReadyError, match="motors are off"):
        client.stand()
    client.power_on()
    assert fake.motors_on and client.state == "powered"
    with pytest.raises(SpotNotReadyError):
        client.send_velocity(0.3, 0.0, 0.0)
    assert fake.of("velocity") == []
    client.stand()
    assert client.state == "standing"
    client.send_velocity(0.3, 0.0, 0.0)
    assert _in_order(fake.kinds(), ["power_on", "stand", "velocity"])
    client.sit()  # back down: no more commands (one would stand it up again)
    assert client.state == "powered" and fake.kinds()[-1] == "sit"
    with pytest.raises(SpotNotReadyError):
        client.send_velocity(0.3, 0.0, 0.0)
    client.power_off()
    assert client.state == "connected" and not fake.motors_on
    assert fake.lease_holder is not None  # still ours until shutdown


def test_auto_power_on_and_stand_when_asked_for(fake, make_client):
    client = make_client(power_on=True, stand_on_connect=True)
    client.connect()
    assert client.state == "standing"
    assert _in_order(fake.kinds(), ["lease_acquire", "power_on", "stand"])


def test_password_stays_out_of_debug_logs(fake, make_client, caplog):
    caplog.set_level(logging.DEBUG)  # the SDK logs each request at DEBUG, passwords too
    client = make_client()
    client.connect()
    assert "TimeSyncUpdate" in caplog.text  # debug logging was on
    assert "secret" not in caplog.text


def test_velocity_reaches_robot_with_end_time(fake, client):
    t0 = time.time()
    client.send_velocity(0.4, -0.1, 0.25)
    t1 = time.time()
    (v,) = fake.of("velocity")
    assert [v["vx"], v["vy"], v["yaw_rate"]] == pytest.approx([0.4, -0.1, 0.25])
    assert v["frame"] == "body"
    # Fake robot clock == ours (skew 0): end time is velocity_validity after the call.
    assert t0 + 0.3 - 1e-3 <= v["end_time"] <= t1 + 0.3 + 1e-3


def test_arm_and_combined_command(fake, make_client):
    client = stood_up(make_client(arm_move_time=0.5))
    client.send_arm([0.1, -0.2, 0.3, -0.4, 0.5, -0.6])
    (arm,) = fake.of("arm")
    assert arm["joints"] == pytest.approx([0.1, -0.2, 0.3, -0.4, 0.5, -0.6])
    assert arm["time"] == pytest.approx(0.5) and arm["points"] == 1
    assert fake.of("velocity") == []  # arm only: legs keep their command
    client.send(0.2, 0.0, 0.1, arm=(0, 1, 2, 1, 0, -1))
    assert fake.of("arm")[-1]["joints"] == pytest.approx([0, 1, 2, 1, 0, -1])
    assert fake.of("velocity")[-1]["vx"] == pytest.approx(0.2)


@pytest.mark.parametrize("call", [
    lambda c: c.send_velocity(math.nan, 0.0, 0.0),
    lambda c: c.send_velocity(0.0, math.inf, 0.0),
    lambda c: c.send(0.0, 0.0, 0.0, arm=[0, 0, math.nan, 0, 0, 0]),
    lambda c: c.send_arm([0.0] * 5),
    lambda c: c.send_arm([0, 0, 0, 0, 0, "x"]),
])
def test_bad_numbers_never_reach_robot(fake, client, call):
    before = fake.kinds()
    with pytest.raises(ValueError):
        call(client)
    assert fake.kinds() == before and client.connected


def test_joint_states_are_spot_ros2s_names_stamped_in_our_clock(fake, make_client):
    """spot_ros2's names (with its robot-name prefix) and the robot's acquisition time moved
    into this computer's clock by the time-sync skew: a robot 100 s ahead of us stamps its
    joints 100 s "in the future", which every receiver would refuse."""
    fake.clock_skew = 100.0
    client = make_client(joint_prefix="spot1/")
    client.connect()  # the joints are read before the robot is powered (the planner waits)
    before = time.time_ns()
    names, positions, velocities, stamp = client.joint_states()
    after = time.time_ns()
    assert names[0] == "spot1/front_left_hip_x" and names[-1] == "spot1/arm_f1x"
    assert [n.removeprefix("spot1/") for n in names] == list(SPOT_ROS2_JOINT_NAMES.values())
    assert positions == pytest.approx([0.1 * (i + 1) for i in range(19)])
    assert velocities == [0.0] * 19
    assert before - 50_000_000 <= stamp <= after  # not 100 s ahead


def test_shutdown_keeps_its_deadline_when_the_robot_does_not_power_off(fake, client):
    fake.stuck_motors = True  # a safe power off the robot never finishes
    start = time.monotonic()
    problems = client.shutdown(deadline=start + 2.0)
    took = time.monotonic() - start
    assert took < 2.5, f"shutdown took {took:.1f} s against a 2 s deadline"
    assert any("power off" in p for p in problems), problems
    assert client.released[:2] == ["stop", "sit"] and not client.connected


def test_shutdown_hands_robot_back(fake, client):
    fake.clear_events()
    assert client.shutdown() == []
    assert client.released == ["stop", "sit", "power off", "e-stop deregistration",
                               "lease return"]  # what the operator's log says was done
    kinds = fake.kinds()
    assert _in_order(kinds, ["stop", "sit", "power_off", "estop_deregister",
                             "lease_return"]), kinds
    assert fake.of("power_off") == [{"safe": True}]
    assert not fake.motors_on and fake.lease_holder is None and not fake.estop_endpoints
    assert not client.connected
    n = len(fake.events)
    assert client.shutdown() == []  # idempotent
    assert client.released is None  # nothing left to release: the log must not claim it
    time.sleep(0.1)
    assert len(fake.events) == n
    with pytest.raises(SpotConnectionError, match="not connected"):
        client.send_velocity(0.1, 0.0, 0.0)


def test_wrong_password(fake, make_client):
    client = make_client(password="wrong-pass")
    with pytest.raises(SpotConnectionError) as info:
        client.connect()
    msg = str(info.value)
    assert "login refused for user 'user'" in msg and "wrong-pass" not in msg
    assert "\n" not in msg and not client.connected
    assert fake.kinds() == ["auth"]


def test_credentials_from_env_only(monkeypatch):
    monkeypatch.delenv(USERNAME_ENV, raising=False)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(SpotConfigError, match=f"{USERNAME_ENV} and {PASSWORD_ENV}"):
        credentials_from_env()
    monkeypatch.setenv(USERNAME_ENV, "admin")
    with pytest.raises(SpotConfigError) as info:
        credentials_from_env()
    assert PASSWORD_ENV in str(info.value) and USERNAME_ENV not in str(info.value)
    monkeypatch.setenv(PASSWORD_ENV, "hunter2")
    assert credentials_from_env() == ("admin", "hunter2")


@pytest.mark.parametrize("kwargs, words", [
    (dict(hostname=""), "hostname"),
    (dict(hostname="spot", port=0), "port"),
    (dict(hostname="spot", port=70000), "port"),
    (dict(hostname="spot", ca_cert="/nonexistent/ca.pem"), "ca_cert"),
    (dict(hostname="spot", velocity_validity=0.0), "velocity_validity"),
    (dict(hostname="spot", connect_timeout=math.nan), "connect_timeout"),
    (dict(hostname="spot", take_lease="yes"), "take_lease"),
    (dict(hostname="spot", stand_on_connect=True), "stand_on_connect needs power_on"),
])
def test_config_validation(kwargs, words):
    with pytest.raises(SpotConfigError, match=words) as info:
        SpotClientConfig(**kwargs)
    assert "\n" not in str(info.value)


def test_robot_down_then_back(fake, make_client):
    client = make_client(connect_timeout=2.0)
    fake.stop()
    t0 = time.monotonic()
    with pytest.raises(SpotConnectionError, match=f"cannot reach Spot at 127.0.0.1:{fake.port}"):
        client.connect()
    assert time.monotonic() - t0 < 3.0 and not client.connected
    fake.start()
    client.connect()
    assert client.connected and client.state == "connected"


def test_link_lost_mid_session_then_reconnect(fake, client):
    fake.stop()
    t0 = time.monotonic()
    with pytest.raises(SpotConnectionError, match="cannot reach Spot"):
        client.send_velocity(0.3, 0.0, 0.0)
    assert not client.connected and time.monotonic() - t0 < 3.0
    with pytest.raises(SpotConnectionError, match="not connected"):
        client.send_velocity(0.3, 0.0, 0.0)
    fake.start()
    stood_up(client)  # same client name: the lease is acquired again
    client.send_velocity(0.3, 0.0, 0.0)
    assert fake.of("velocity")[-1]["vx"] == pytest.approx(0.3)


def test_a_reconnect_does_not_power_the_robot_on_by_itself(fake, client, make_client):
    fake.stop()
    with pytest.raises(SpotConnectionError):
        client.send_velocity(0.3, 0.0, 0.0)
    fake.start()
    fake.clear_events()
    # Registering the e-stop endpoint again seeds it with a stop (the SDK's register()), so
    # after a lost link the motors are off: they stay off until power_on().
    client.connect()
    assert client.state == "connected" and not fake.motors_on
    assert "power_on" not in fake.kinds() and "stand" not in fake.kinds()
    with pytest.raises(SpotNotReadyError):
        client.send_velocity(0.2, 0.0, 0.0)
    client.shutdown()  # final: a client that was shut down connects no more
    with pytest.raises(SpotConnectionError, match="shutting down"):
        client.connect()
    other = make_client()
    other.connect(power_on=True, stand=True)  # what resume_after_loss asks for
    assert other.state == "standing"
    other.send_velocity(0.2, 0.0, 0.0)


@pytest.mark.filterwarnings("ignore:read_binary is deprecated:DeprecationWarning")
def test_wrong_ca_says_tls(fake, make_client):
    client = make_client(ca_cert=None)  # the SDK's bundled Boston Dynamics CA
    with pytest.raises(SpotConnectionError, match="TLS handshake .* failed"):
        client.connect()


def test_lease_held_by_another_client(fake, make_client):
    fake.lease_holder = "tablet"
    client = make_client()  # the default: never take it from its holder
    with pytest.raises(SpotConnectionError, match=r"lease is held by another client \(tablet\)"
                       r".*release it there"):
        client.connect()
    assert "power_on" not in fake.kinds() and fake.lease_holder == "tablet"
    taker = make_client(take_lease=True)
    taker.connect()
    assert "lease_take" in fake.kinds() and fake.lease_holder != "tablet"


def test_lease_taken_mid_session_is_not_taken_back(fake, client):
    fake.take_lease_as("tablet")  # an operator took control
    with pytest.raises(SpotConnectionError, match="lease is no longer ours"):
        client.send_velocity(0.2, 0.0, 0.0)
    assert not client.connected
    with pytest.raises(SpotConnectionError, match="took the lease from the bridge"):
        client.connect()  # take_lease=True, but not against someone who took it from us
    assert "lease_take" not in fake.kinds()
    fake.take_lease_as(None)  # they returned it
    client.connect()
    assert client.connected


def test_failed_connect_releases_what_it_took(fake, make_client):
    fake.other_estop = True
    client = make_client(power_on=True)
    with pytest.raises(SpotConnectionError, match="refused power on"):
        client.connect()
    kinds = fake.kinds()
    assert _in_order(kinds, ["lease_acquire", "estop_register", "estop_deregister",
                             "lease_return"]), kinds
    assert fake.lease_holder is None and not fake.estop_endpoints and not client.connected


def test_reconnector_backoff():
    r = Reconnector()
    assert r.due(0.0) and r.attempts == 0 and r.last_error is None
    now, delays = 0.0, []
    for i in range(8):
        r.failed(now, f"error {i}")
        nxt = r.next_attempt
        assert not r.due(nxt - 1e-6) and r.due(nxt)
        delays.append(nxt - now)
        now = nxt
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    assert r.attempts == 8 and r.last_error == "error 7"
    r.succeeded()
    assert r.due(now) and r.attempts == 0 and r.last_error is None
    r.failed(now, "again")
    assert r.next_attempt == now + 1.0
