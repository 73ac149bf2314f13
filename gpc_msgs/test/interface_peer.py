"""Peer process of test_interfaces_over_dds.py: publishes every message type and serves every
service of gpc_msgs (plus mocap4r2_msgs/RigidBodies) with known field values.

Run by the test with the venv's Python, ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and the
test's ROS_DOMAIN_ID. It republishes every 100 ms (so late subscribers still get data) and
exits by itself after --lifetime seconds in case the test could not stop it.
"""

import argparse
import time

import rclpy
from geometry_msgs.msg import Point, Pose
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

from gpc_msgs.msg import (
    BridgeStatus,
    HighLevelCommand,
    LocomotionCommand,
    Plan,
    PlannerStatus,
    SimStatus,
)
from gpc_msgs.srv import ResetPlanner, ResetSim, SetGoal
from mocap4r2_msgs.msg import Marker, RigidBodies, RigidBody

# Exact binary fractions, so the test can compare with ==.
STAMP = (1234, 500_000_000)
ARM = [0.5, -1.25, 2.0, 0.0, -0.75, 1.5]
KNOTS = [float(i) / 4.0 for i in range(4 * 9)]  # 4 knots x 9 action dims
SAMPLES = [float(i) / 8.0 for i in range(2 * 4 * 9)]  # 2 samples x 4 knots x 9 dims

RELIABLE = QoSProfile(
    depth=10, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST
)


def _stamp(header, frame_id):
    header.stamp.sec, header.stamp.nanosec = STAMP
    header.frame_id = frame_id


def make_command():
    msg = HighLevelCommand()
    _stamp(msg.header, "map")
    msg.plan_id = 2**33 + 1  # beyond 32 bits: checks uint64
    msg.x, msg.y, msg.yaw = 1.25, -0.5, 0.375
    msg.arm_joints = ARM
    msg.duration = 0.25
    return msg


def make_locomotion():
    msg = LocomotionCommand()
    _stamp(msg.header, "body")
    msg.plan_id = 12
    msg.vx, msg.vy, msg.yaw_rate = 0.5, -0.25, 0.125
    msg.arm_joints = ARM
    msg.valid_for = 0.3125
    return msg


def make_sim_status():
    msg = SimStatus()
    _stamp(msg.header, "map")
    msg.step, msg.seed, msg.trial = 2**35, 3, 4
    msg.paused, msg.finished = False, True
    msg.torso_x, msg.torso_y, msg.torso_yaw, msg.torso_height = -1.5, 0.25, 0.5, 0.48
    msg.chair_x, msg.chair_y, msg.chair_yaw, msg.chair_tilt = 1.0, 0.125, -0.25, 0.0625
    msg.goal_x, msg.goal_y, msg.goal_yaw = 1.25, -0.5, 0.75
    msg.position_error, msg.yaw_error = 0.25, 0.125
    msg.start_position_error, msg.start_yaw_error = 3.0, 0.75
    msg.success, msg.success_time = True, 12.5
    msg.fallen, msg.tipped, msg.diverged = False, True, False
    msg.lockstep_timeouts = 2
    return msg


def make_bridge_status():
    msg = BridgeStatus()
    _stamp(msg.header, "map")
    msg.mode, msg.robot = "real", "standing"
    msg.following, msg.stop_cause = False, "planner_silent"
    msg.message = "planner silent for 0.62 s (watchdog)"
    msg.commands_sent, msg.rejected = 2**33 + 3, 7  # beyond 32 bits: checks uint64
    msg.failed_connects = 2
    return msg


def make_status():
    msg = PlannerStatus()
    _stamp(msg.header, "map")
    msg.method = "gpc_cem"
    msg.iteration = 2**40 + 7  # beyond 32 bits: checks uint64
    msg.plan_time_ms = 12.5
    msg.best_cost = -3.75
    msg.cem_sample_ratio = 0.625
    msg.state_age_ms = 4.5
    msg.deadline_misses = 3
    msg.samples_evaluated = 2**32 - 1
    msg.commands_sent = 2**34 + 5
    msg.state = "holding: stale state"
    msg.message = "état: ok ✓"  # non-ASCII survives the wire
    return msg


def make_plan():
    msg = Plan()
    _stamp(msg.header, "map")
    msg.method = "cem"
    msg.knot_times = [0.0, 1.0, 2.0, 3.0]
    msg.num_knots = 4
    msg.action_dim = 9
    msg.best_knots = KNOTS
    msg.num_samples = 2
    msg.sample_knots = SAMPLES
    msg.sample_costs = [1.5, 2.5]
    return msg


def make_rigid_bodies():
    msg = RigidBodies()
    _stamp(msg.header, "map")
    msg.frame_number = 4242
    for name, x, index in (("torso", 1.0, 1), ("chair", -2.5, 2)):
        body = RigidBody(rigid_body_name=name)
        body.pose = Pose()
        body.pose.position.x, body.pose.position.y, body.pose.position.z = x, 0.5, 0.25
        body.pose.orientation.z, body.pose.orientation.w = 0.6, 0.8
        body.markers = [
            Marker(
                id_type=Marker.USE_BOTH,
                marker_index=index,
                marker_name=f"{name}_m0",
                translation=Point(x=x, y=0.5, z=0.125),
            )
        ]
        msg.rigidbodies.append(body)
    return msg


class Peer(Node):
    def __init__(self):
        super().__init__("gpc_interface_peer")
        self._pubs = [
            (self.create_publisher(HighLevelCommand, "command", RELIABLE), make_command()),
            (self.create_publisher(PlannerStatus, "status", RELIABLE), make_status()),
            (self.create_publisher(Plan, "plan", RELIABLE), make_plan()),
            (self.create_publisher(RigidBodies, "rigid_bodies", RELIABLE), make_rigid_bodies()),
            (self.create_publisher(LocomotionCommand, "locomotion", RELIABLE), make_locomotion()),
            (self.create_publisher(SimStatus, "sim_status", RELIABLE), make_sim_status()),
            (self.create_publisher(BridgeStatus, "bridge_status", RELIABLE),
             make_bridge_status()),
        ]
        self.create_service(SetGoal, "set_goal", self._set_goal)
        self.create_service(ResetPlanner, "reset_planner", self._reset)
        self.create_service(ResetSim, "reset_sim", self._reset_sim)
        self.create_timer(0.1, self._publish)

    def _publish(self):
        for pub, msg in self._pubs:
            pub.publish(msg)

    # Responses depend on the request, so the test sees the request arrive intact.
    def _set_goal(self, request, response):
        response.success = True
        response.message = f"goal {request.x} {request.y} {request.yaw} in {request.frame_id}"
        return response

    def _reset(self, request, response):
        response.success = request.seed != 13
        response.message = f"seed {request.seed}"
        return response

    def _reset_sim(self, request, response):
        response.success = True
        response.message = f"trial {request.trial} of seed {request.seed}"
        return response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifetime", type=float, default=60.0)
    args = parser.parse_args()
    rclpy.init()
    node = Peer()
    print("peer ready", flush=True)
    deadline = time.monotonic() + args.lifetime
    try:
        while rclpy.ok() and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
