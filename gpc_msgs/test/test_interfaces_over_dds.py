"""The generated interfaces work across processes over DDS.

A separate peer process (interface_peer.py, the same Python) publishes each message type of
gpc_msgs and mocap4r2_msgs/RigidBodies and serves each gpc_msgs service; this process
subscribes and calls, and checks every field round-trips. Both run with
ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and a ROS_DOMAIN_ID of their own.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gpc_msgs.msg import (
    BridgeStatus,
    HighLevelCommand,
    LocomotionCommand,
    Plan,
    PlannerStatus,
    SimStatus,
)
from gpc_msgs.srv import ResetPlanner, ResetSim, SetGoal
from gpc_sim.ros.testing import ProbeNode
from mocap4r2_msgs.msg import Marker, RigidBodies

sys.path.insert(0, str(Path(__file__).parent))
import interface_peer as peer  # noqa: E402  (expected values, shared with the peer)

TIMEOUT_S = 20.0
PEER = Path(__file__).with_name("interface_peer.py")

@pytest.fixture
def domain_id():
    # Distinct per test run (pid-derived, 1..100), away from env.sh's default 42.
    did = os.getpid() % 100 + 1
    return did if did != 42 else 43

@pytest.fixture
def peer_process(domain_id):
    env = dict(os.environ)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["ROS_DOMAIN_ID"] = str(domain_id)
    proc = subprocess.Popen(
        [sys.executable, str(PEER), "--lifetime", str(3 * TIMEOUT_S)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()

@pytest.fixture
def probe(domain_id, monkeypatch):
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    p = ProbeNode(domain_id, "gpc_interface_test")
    try:
        yield p
    finally:
        p.close()


def _spin_until(probe, done, what, proc):
    deadline = time.monotonic() + TIMEOUT_S
    while not done():
        if proc.poll() is not None:
            pytest.fail(f"peer exited early ({proc.returncode}): {proc.stdout.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {TIMEOUT_S} s waiting for {what}")
        probe.executor.spin_once(timeout_sec=0.05)


def _header_ok(header):
    assert (header.stamp.sec, header.stamp.nanosec) == peer.STAMP
    assert header.frame_id == "map"

def test_messages_round_trip(probe, peer_process):
    received = {}
    for msg_type, topic in (
        (HighLevelCommand, "command"),
        (PlannerStatus, "status"),
        (Plan, "plan"),
        (RigidBodies, "rigid_bodies"),
        (LocomotionCommand, "locomotion"),
        (SimStatus, "sim_status"),
        (BridgeStatus, "bridge_status"),
    ):
        probe.node.create_subscription(
            msg_type, topic, lambda m, t=topic: received.setdefault(t, m), peer.RELIABLE
        )
    _spin_until(probe, lambda: len(received) == 7, "all seven topics", peer_process)

    cmd = received["command"]
    _header_ok(cmd.header)
    assert (cmd.x, cmd.y, cmd.yaw, cmd.duration) == (1.25, -0.5, 0.375, 0.25)
    assert cmd.plan_id == 2**33 + 1
    assert list(cmd.arm_joints) == peer.ARM

    loco = received["locomotion"]
    assert (loco.header.stamp.sec, loco.header.stamp.nanosec) == peer.STAMP
    assert loco.header.frame_id == "body"
    assert (loco.plan_id, loco.vx, loco.vy, loco.yaw_rate, loco.valid_for) == (
        12, 0.5, -0.25, 0.125, 0.3125)
    assert list(loco.arm_joints) == peer.ARM

    for topic, make in (("sim_status", peer.make_sim_status),
                        ("bridge_status", peer.make_bridge_status)):
        got, expected = received[topic], make()
        _header_ok(got.header)
        for field in expected.get_fields_and_field_types():
            if field != "header":
                assert getattr(got, field) == getattr(expected, field), (topic, field)

    status = received["status"]
    _header_ok(status.header)
    assert status.method == "gpc_cem"
    assert status.iteration == 2**40 + 7
    assert (status.plan_time_ms, status.best_cost) == (12.5, -3.75)
    assert (status.cem_sample_ratio, status.state_age_ms) == (0.625, 4.5)
    assert status.deadline_misses == 3
    assert status.samples_evaluated == 2**32 - 1
    assert status.commands_sent == 2**34 + 5
    assert status.state == "holding: stale state"
    assert status.message == "état: ok ✓"

    plan = received["plan"]
    _header_ok(plan.header)
    assert plan.method == "cem"
    assert list(plan.knot_times) == [0.0, 1.0, 2.0, 3.0]
    assert (plan.num_knots, plan.action_dim, plan.num_samples) == (4, 9, 2)
    assert list(plan.best_knots) == peer.KNOTS
    assert list(plan.sample_knots) == peer.SAMPLES
    assert list(plan.sample_costs) == [1.5, 2.5]

    bodies = received["rigid_bodies"]
    _header_ok(bodies.header)
    assert bodies.frame_number == 4242
    assert [b.rigid_body_name for b in bodies.rigidbodies] == ["torso", "chair"]
    chair = bodies.rigidbodies[1]
    assert (chair.pose.position.x, chair.pose.position.y, chair.pose.position.z) == (
        -2.5,
        0.5,
        0.25,
    )
    assert (chair.pose.orientation.z, chair.pose.orientation.w) == (0.6, 0.8)
    (marker,) = chair.markers
    assert (marker.id_type, marker.marker_index, marker.marker_name) == (
        Marker.USE_BOTH,
        2,
        "chair_m0",
    )
    assert (marker.translation.x, marker.translation.z) == (-2.5, 0.125)

def _call(probe, proc, srv_type, name, request):
    """ProbeNode.call resends while no answer comes (an answer written before the server's
    response writer matched this client is lost); the peer's answers depend on the request
    alone."""
    if proc.poll() is not None:
        pytest.fail(f"peer exited early ({proc.returncode}): {proc.stdout.read()}")
    return probe.call(srv_type, name, request, timeout=TIMEOUT_S, qos_profile=peer.RELIABLE)


def test_services_round_trip(probe, peer_process):
    request = SetGoal.Request(frame_id="map", x=2.5, y=-1.0, yaw=0.5)
    res = _call(probe, peer_process, SetGoal, "set_goal", request)
    assert (res.success, res.message) == (True, "goal 2.5 -1.0 0.5 in map")

    res = _call(probe, peer_process, ResetPlanner, "reset_planner", ResetPlanner.Request(seed=7))
    assert (res.success, res.message) == (True, "seed 7")
    res = _call(probe, peer_process, ResetPlanner, "reset_planner", ResetPlanner.Request(seed=13))
    assert (res.success, res.message) == (False, "seed 13")

    res = _call(probe, peer_process, ResetSim, "reset_sim", ResetSim.Request(seed=5, trial=9))
    assert (res.success, res.message) == (True, "trial 9 of seed 5")
