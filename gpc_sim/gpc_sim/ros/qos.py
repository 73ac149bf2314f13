"""QoS profiles of the stack, by REP 2003 where it has a rule.

* Sensor data (``rigid_bodies``, ``joint_states``): drivers publish reliable (the system
  default, ``DRIVER``); consumers subscribe best effort (``SENSOR_DATA``). A best-effort
  publisher is invisible to a reliable subscriber (rviz, ``ros2 topic echo`` by default,
  another team's node), while a reliable publisher reaches both kinds. The consumers here
  keep only the newest sample (depth 1, not rclpy's sensor-data depth 5): a planner wants
  the latest frame, not a queue of old ones.
* Commands (``gpc/command``, ``spot/locomotion_command``): best effort, depth 1
  (``STREAM``), as spot_ros2 advises for ``cmd_vel``: a late command is worthless and each
  one is re-sent at the stream's rate.
* Status, plans, diagnostics: reliable (``RELIABLE``).
* The static scene and the goal: reliable + transient local, depth 1 (``LATCHED``), so a
  late rviz, sim or planner still gets the last one (the goal is nav2's ``goal_pose`` and
  rviz's goal tool, which gpc.rviz sets to transient local as well).
* TF: what tf2_ros's broadcasters use, so that every TF listener (rviz, tf2_echo) matches:
  ``/tf`` reliable, volatile, depth 100 (``TF``); ``/tf_static`` reliable, transient local,
  depth 1 (``TF_STATIC``): one message holds all static transforms, kept for late joiners.
"""

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
)

STREAM = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                    reliability=ReliabilityPolicy.BEST_EFFORT)
SENSOR_DATA = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                         reliability=ReliabilityPolicy.BEST_EFFORT,
                         durability=DurabilityPolicy.VOLATILE)
RELIABLE = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST,
                      reliability=ReliabilityPolicy.RELIABLE)
DRIVER = RELIABLE  # what a sensor driver publishes with (REP 2003: the system default)
LATCHED = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                     reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
TF = QoSProfile(depth=100, history=HistoryPolicy.KEEP_LAST,
               reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
TF_STATIC = LATCHED  # tf2_ros's StaticBroadcasterQoS: reliable, transient local, depth 1
