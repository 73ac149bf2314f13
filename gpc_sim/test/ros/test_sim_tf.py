"""The sim node's TF and robot markers over DDS: map -> the torso and map -> the chair are
the ground truth of ``sim/status`` at the same stamp (within 1 mm), every link of Spot is a
frame under its parent, the obstacle is on /tf_static, and the latched markers arrive and
sit on frames that exist."""

import math

import numpy as np
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from gpc_msgs.msg import SimStatus
from gpc_sim.ros import qos, topics
from gpc_sim.ros.convert import to_seconds
from gpc_sim.ros.testing import NodeProcess, ProbeNode, domain_id
from gpc_sim.spot.action import yaw_from_quat

PREFIX = "spot1/"
LINKS = ("body", "front_left_hip", "front_left_upper_leg", "front_left_lower_leg",
         "front_right_hip", "rear_left_lower_leg", "rear_right_upper_leg", "arm_link_sh0",
         "arm_link_el1", "arm_link_fngr")


def edge_pose(t) -> tuple[float, float, float, float]:
    """x, y, z, yaw of a TransformStamped."""
    r, p = t.transform.rotation, t.transform.translation
    return p.x, p.y, p.z, float(yaw_from_quat(np.array([r.w, r.x, r.y, r.z])))


def test_tf_and_robot_markers_match_the_ground_truth(tmp_path):
    domain = domain_id()
    params = {"status_rate": 50.0, "tf_prefix": PREFIX}  # a status at every step
    with ProbeNode(domain) as probe, NodeProcess("gpc_sim", "sim_node", "gpc_sim", params,
                                                 tmp_path, domain) as sim:
        tf: list[TFMessage] = []
        static: list[TFMessage] = []
        markers: list[MarkerArray] = []
        status: list[SimStatus] = []
        n = probe.node
        n.create_subscription(TFMessage, topics.TF, tf.append, qos.TF)
        n.create_subscription(TFMessage, topics.TF_STATIC, static.append, qos.TF_STATIC)
        n.create_subscription(MarkerArray, topics.ROBOT_MARKERS, markers.append, qos.LATCHED)
        n.create_subscription(SimStatus, topics.SIM_STATUS, status.append, qos.RELIABLE)
        probe.spin_until(lambda: len(status) > 30 and len(tf) > 30 and static and markers,
                         30.0, "status, /tf, /tf_static and the robot markers")
        assert sim.alive()
        for topic in (topics.TF, topics.TF_STATIC, topics.ROBOT_MARKERS):
            assert n.count_publishers(topic) == 1, topic

    by_stamp = {to_seconds(m.transforms[0].header.stamp): m for m in tf}
    stamps = [to_seconds(m.transforms[0].header.stamp) for m in tf]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # no repeated stamp
    pairs = [(s, by_stamp[to_seconds(s.header.stamp)]) for s in status
             if to_seconds(s.header.stamp) in by_stamp]
    assert len(pairs) > 20
    for truth, msg in pairs:
        edges = {t.child_frame_id: t for t in msg.transforms}
        assert all(to_seconds(t.header.stamp) == to_seconds(truth.header.stamp)
                   for t in msg.transforms)
        torso, chair = edges[PREFIX + "body"], edges["chair"]
        assert torso.header.frame_id == chair.header.frame_id == "map"
        x, y, z, yaw = edge_pose(torso)
        assert math.hypot(x - truth.torso_x, y - truth.torso_y) < 1e-3
        assert abs(z - truth.torso_height) < 1e-3
        assert abs(math.remainder(yaw - truth.torso_yaw, math.tau)) < 1e-3
        x, y, _, yaw = edge_pose(chair)
        assert math.hypot(x - truth.chair_x, y - truth.chair_y) < 1e-3
        assert abs(math.remainder(yaw - truth.chair_yaw, math.tau)) < 1e-3

    parents = {t.child_frame_id: t.header.frame_id for t in tf[-1].transforms}
    assert {PREFIX + link for link in LINKS} <= set(parents)
    assert parents[PREFIX + "front_left_lower_leg"] == PREFIX + "front_left_upper_leg"
    assert parents[PREFIX + "arm_link_sh0"] == PREFIX + "body"
    assert {f"chair_caster{i}" for i in range(5)} <= set(parents)
    assert [(t.header.frame_id, t.child_frame_id) for t in static[-1].transforms] == [
        ("map", "obstacle")]

    frames = set(parents) | {"map", "obstacle"}
    drawn = markers[-1].markers
    assert drawn[0].action == Marker.DELETEALL
    assert {m.ns for m in drawn[1:]} == {"robot", "chair"}
    assert {m.header.frame_id for m in drawn[1:]} <= frames
    assert all(m.frame_locked for m in drawn[1:])


def test_without_publish_tf_nothing_goes_on_tf(tmp_path):
    domain = domain_id()
    with ProbeNode(domain) as probe, NodeProcess("gpc_sim", "sim_node", "gpc_sim",
                                                 {"publish_tf": False}, tmp_path, domain):
        status: list[SimStatus] = []
        probe.node.create_subscription(SimStatus, topics.SIM_STATUS, status.append,
                                       qos.RELIABLE)
        probe.spin_until(lambda: status, 30.0, "the sim up")
        for topic in (topics.TF, topics.TF_STATIC, topics.ROBOT_MARKERS):
            assert probe.node.count_publishers(topic) == 0, topic
