"""TF and the model's shapes as ROS messages, and the publisher the sim node runs them with.

``tf_frames`` and ``model_shapes`` compute (no ROS); this module only turns their results
into ``tf2_msgs/TFMessage`` and ``visualization_msgs/MarkerArray`` and owns the three
topics: ``/tf`` (the moving bodies, stamped with the sim time of the state), ``/tf_static``
(the fixed bodies, once, latched) and ``sim/robot_markers`` (once, latched: frame-locked
markers, so rviz moves them with TF and one message draws the robot for the whole run).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from builtin_interfaces.msg import Time
from std_msgs.msg import ColorRGBA
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from gpc_sim.ros import qos, topics
from gpc_sim.ros.convert import to_stamp, transform_stamped
from gpc_sim.ros.model_shapes import BOX, CYLINDER, SPHERE, Shape
from gpc_sim.ros.tf_frames import FrameTransform, FrameTree

MARKER_TYPES = {BOX: Marker.CUBE, SPHERE: Marker.SPHERE, CYLINDER: Marker.CYLINDER}


def tf_message(transforms: Iterable[FrameTransform], stamp: Time) -> TFMessage:
    """TF edges at one instant as one tf2_msgs/TFMessage (what /tf and /tf_static carry)."""
    return TFMessage(transforms=[transform_stamped(t.parent, t.child, t.translation,
                                                   t.rotation, stamp) for t in transforms])


def shape_markers(shapes: Iterable[Shape]) -> MarkerArray:
    """The shapes as frame-locked markers in their frames, after a DELETEALL (a restarted
    node's array replaces the old one in rviz rather than adding to it).

    Stamp zero with ``frame_locked``: rviz places each marker by the newest transform of its
    frame at every redraw, so one latched message draws the robot for the whole run."""
    clear = Marker(action=Marker.DELETEALL)
    out = MarkerArray(markers=[clear])
    ids: dict[str, int] = {}
    for shape in shapes:
        ident = ids[shape.group] = ids.get(shape.group, -1) + 1
        m = Marker(ns=shape.group, id=ident, type=MARKER_TYPES[shape.kind], action=Marker.ADD,
                   frame_locked=True)
        m.header.frame_id = shape.frame
        p, q = m.pose.position, m.pose.orientation
        p.x, p.y, p.z = shape.position
        q.w, q.x, q.y, q.z = shape.rotation
        m.scale.x, m.scale.y, m.scale.z = shape.scale
        m.color = ColorRGBA(r=shape.rgba[0], g=shape.rgba[1], b=shape.rgba[2], a=shape.rgba[3])
        out.markers.append(m)
    return out


class ModelFramePublisher:
    """``/tf``, ``/tf_static`` and ``sim/robot_markers`` of a node simulating ``tree``'s
    model.

    ``/tf`` goes out at most ``rate`` times per sim second and never twice at one stamp: tf2
    drops a repeated stamp with a ``TF_REPEATED_DATA`` warning for every message (the sim
    re-publishes a frame at an unchanged time while paused, finished or frozen after a
    blow-up)."""

    def __init__(self, node, tree: FrameTree, shapes: list[Shape], rate: float,
                 start: float) -> None:
        self.tree = tree
        self.period = 1.0 / rate
        self._next = -math.inf
        self._last = -math.inf
        self.tf_pub = node.create_publisher(TFMessage, topics.TF, qos.TF)
        self.static_pub = node.create_publisher(TFMessage, topics.TF_STATIC, qos.TF_STATIC)
        self.markers_pub = node.create_publisher(MarkerArray, topics.ROBOT_MARKERS,
                                                 qos.LATCHED)
        static = tree.static_transforms()
        if static:
            self.static_pub.publish(tf_message(static, to_stamp(start)))
        self.markers_pub.publish(shape_markers(shapes))

    def due(self, t: float) -> bool:
        """Whether the state at sim time ``t`` (s) is to be published."""
        return t > self._last + 1e-9 and t >= self._next - 1e-9

    def publish(self, t: float, qpos: np.ndarray) -> None:
        """The moving frames at ``qpos``, stamped ``t`` (call only when ``due(t)``)."""
        self._last, self._next = t, t + self.period
        self.tf_pub.publish(tf_message(self.tree.transforms(qpos), to_stamp(t)))
