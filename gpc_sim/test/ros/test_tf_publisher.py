"""The TF and marker messages, and when the sim's frame publisher sends them, without DDS: a
stub node records what would be published."""

from __future__ import annotations

import pytest

pytest.importorskip("rclpy")

from visualization_msgs.msg import Marker  # noqa: E402

from gpc_sim.ros import qos, topics  # noqa: E402
from gpc_sim.ros.convert import to_seconds, to_stamp  # noqa: E402
from gpc_sim.ros.model_shapes import model_shapes  # noqa: E402
from gpc_sim.ros.tf_frames import FrameTransform, FrameTree  # noqa: E402
from gpc_sim.ros.tf_publisher import (  # noqa: E402
    ModelFramePublisher,
    shape_markers,
    tf_message,
)
from gpc_sim.spot.constants import TORSO_BODY  # noqa: E402
from gpc_sim.spot.simulation import ChairPushSimulation  # noqa: E402
from gpc_sim.spot.world import CHAIR_BODY  # noqa: E402
from gpc_sim.tasks import make_task  # noqa: E402


class StubPublisher:
    def __init__(self, topic: str, profile) -> None:
        self.topic, self.profile, self.sent = topic, profile, []

    def publish(self, msg) -> None:
        self.sent.append(msg)


class StubNode:
    def __init__(self) -> None:
        self.publishers: dict[str, StubPublisher] = {}

    def create_publisher(self, _type, topic: str, profile) -> StubPublisher:
        self.publishers[topic] = StubPublisher(topic, profile)
        return self.publishers[topic]


@pytest.fixture(scope="module")
def sim() -> ChairPushSimulation:
    return ChairPushSimulation(make_task("spot_chair", nthread=1), 0, 0)


def test_a_tf_message_carries_each_edge_with_the_stamp():
    edge = FrameTransform("map", "body", (1.0, 2.0, 0.5), (0.5, 0.5, 0.5, 0.5))
    (msg,) = tf_message([edge], to_stamp(3.02)).transforms
    assert (msg.header.frame_id, msg.child_frame_id) == ("map", "body")
    assert to_seconds(msg.header.stamp) == 3.02
    t, r = msg.transform.translation, msg.transform.rotation
    assert (t.x, t.y, t.z, r.w, r.x, r.y, r.z) == (1.0, 2.0, 0.5, 0.5, 0.5, 0.5, 0.5)


def test_markers_replace_the_old_ones_and_follow_their_frames(sim):
    tree = FrameTree(sim.model, "map")
    shapes = model_shapes(tree, {TORSO_BODY: "robot", CHAIR_BODY: "chair"})
    markers = shape_markers(shapes).markers
    assert markers[0].action == Marker.DELETEALL
    assert len(markers) == len(shapes) + 1
    keys = [(m.ns, m.id) for m in markers[1:]]
    assert len(set(keys)) == len(keys)  # rviz replaces a marker of the same ns and id
    for m, s in zip(markers[1:], shapes, strict=True):
        assert m.frame_locked and m.action == Marker.ADD and m.header.frame_id == s.frame
        assert to_seconds(m.header.stamp) == 0.0  # the newest transform, at every redraw
        assert m.type in (Marker.CUBE, Marker.SPHERE, Marker.CYLINDER)
        assert (m.scale.x, m.scale.y, m.scale.z) == s.scale


def test_the_publisher_sends_static_and_markers_once_and_tf_at_its_rate_never_twice(sim):
    node = StubNode()
    tree = FrameTree(sim.model, "map")
    frames = ModelFramePublisher(node, tree, model_shapes(tree, {TORSO_BODY: "robot"}), 25.0,
                                 start=1.0)
    pubs = node.publishers
    assert pubs[topics.TF].profile == qos.TF and pubs[topics.TF].profile.depth == 100
    assert pubs[topics.TF_STATIC].profile == qos.TF_STATIC
    assert pubs[topics.ROBOT_MARKERS].profile == qos.LATCHED
    (static,) = pubs[topics.TF_STATIC].sent
    assert [t.child_frame_id for t in static.transforms] == ["obstacle"]
    assert len(pubs[topics.ROBOT_MARKERS].sent) == 1
    sent_at = []
    for step in range(10):  # 50 Hz command steps, each frame offered twice (a re-send)
        t = 1.0 + 0.02 * step
        for _ in range(2):
            if frames.due(t):
                frames.publish(t, sim.data.qpos)
                sent_at.append(t)
    assert sent_at == pytest.approx([1.0 + 0.04 * k for k in range(5)])  # 25 Hz, no repeats
    stamps = [to_seconds(m.transforms[0].header.stamp) for m in pubs[topics.TF].sent]
    assert stamps == pytest.approx(sent_at)
