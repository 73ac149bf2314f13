"""Parameters of the Spot bridge node (``spot_bridge``), declared from this table.

Live (``ros2 param set`` takes effect at once): the rate, the watchdog's timeouts, the
command validity, the mapping's tracking time and limits, the stamp tolerance, the jump
limit. Everything else is read-only: it shapes the connection or the node's wiring.

The shutdown bounds live here too (plain numbers, no SDK import): the launchers give the
bridge longer than ``WORST_SHUTDOWN`` to exit before they send SIGTERM or SIGKILL."""

from gpc_sim.ros.parameters import ParamSpec

#: s, each connection step's limit (login, time sync, lease, power on, stand ...).
CONNECT_TIMEOUT = 10.0
#: s, the longest the bridge takes to hand a real Spot back once its clean-up starts (stop,
#: sit, safe power off, e-stop deregistration, lease return; each request's timeout is cut
#: to what is left).
SHUTDOWN_BUDGET = 15.0
#: s, the worst clean shutdown from the signal to the exit: a bring-up step or connection
#: step in flight finishes first (up to CONNECT_TIMEOUT), then the hand-back, then tearing
#: the node down.
WORST_SHUTDOWN = CONNECT_TIMEOUT + SHUTDOWN_BUDGET + 2.0

BRIDGE_PARAMETERS = (
    ParamSpec("mode", "sim", "sim: publish spot/locomotion_command for the sim node; real: "
              "drive a Spot through bosdyn-client", read_only=True),
    ParamSpec("rate", 20.0, "commands per second re-sent to the robot (>= 10 for a real "
              "Spot); in sim mode also one per incoming pose or target", low=1.0, high=200.0),
    ParamSpec("command_timeout", 0.5, "watchdog: seconds without a planner target before "
              "the robot is stopped", low=0.01, high=5.0),
    ParamSpec("pose_timeout", 0.3, "seconds without a torso pose before the robot is "
              "stopped", low=0.01, high=5.0),
    ParamSpec("valid_for", 0.3, "seconds each velocity command stays valid on the robot, "
              "which stops by itself after it", low=0.05, high=2.0),
    ParamSpec("tracking_time", 0.25, "finite-difference time (s) of the 9-DoF mapping: "
              "velocity = pose error / tracking_time (the planner's model uses 0.25)",
              low=0.05, high=5.0),
    ParamSpec("max_vx", 0.7, "forward speed limit (m/s)", low=0.0, high=1.6),
    ParamSpec("max_vy", 0.7, "sideways speed limit (m/s)", low=0.0, high=1.6),
    ParamSpec("max_yaw_rate", 0.7, "turning rate limit (rad/s)", low=0.0, high=2.0),
    ParamSpec("future_tolerance", 0.1, "seconds a message's stamp may be ahead of this "
              "node's clock; later stamps are refused (a mocap clock glitch must not switch "
              "the watchdog off)", low=0.0, high=1.0),
    ParamSpec("max_jump", 0.5, "largest believable move of the torso between two poses (m); "
              "larger: stop until the next pose confirms it", low=0.01, high=10.0),
    ParamSpec("hostname", "", "real mode: Spot's address", read_only=True),
    ParamSpec("port", 443, "real mode: Spot's gRPC port", read_only=True, low=1,
              high=65535),
    ParamSpec("ca_cert", "", "real mode: PEM root CA of the robot (empty: the SDK's "
              "bundled one); credentials come only from BOSDYN_CLIENT_USERNAME and "
              "BOSDYN_CLIENT_PASSWORD", read_only=True),
    ParamSpec("arm_move_time", 0.3, "real mode: seconds the arm is given to reach a target",
              read_only=True, low=0.05, high=10.0),
    ParamSpec("take_lease", False, "real mode: if another client (the operator's tablet) "
              "holds the body lease, take it from them; false: wait until it is free",
              read_only=True),
    ParamSpec("auto_power_on", False, "real mode: power the motors on once connected "
              "(false: wait for the spot/power_on service)", read_only=True),
    ParamSpec("auto_stand", False, "real mode: power on and stand up once connected, then "
              "follow the planner (false: wait for spot/stand)", read_only=True),
    ParamSpec("resume_after_loss", False, "real mode: after a lost connection, power the "
              "robot on and stand it up again by itself if it was standing (false: the "
              "bridge reconnects with the motors off; spot/power_on and spot/stand again)",
              read_only=True),
    ParamSpec("publish_joint_states", True, "real mode: publish the robot's joint states on "
              "joint_states, as spot_ros2 does (the planner needs them; false if the "
              "spot_ros2 driver runs too)", read_only=True),
    ParamSpec("joint_prefix", "", "real mode: prefix of the published joint names, "
              "spot_ros2's '<spot_name>/' (the names are spot_ros2's: front_left_hip_x ...)",
              read_only=True),
    ParamSpec("diagnostics_rate", 1.0, "spot/status and /diagnostics messages per second "
              "(wall clock; also one at each change)", read_only=True, low=0.1, high=100.0),
    ParamSpec("publish_tf", True, "real mode: publish map -> body on /tf from each torso "
              "pose of rigid_bodies the bridge accepts (false if the spot_ros2 driver runs "
              "too: there body's parent is odom)", read_only=True),
    ParamSpec("tf_prefix", "", "prefix of Spot's TF frames, spot_ros2's '<spot_name>/' "
              "(the bridge's one frame: '<tf_prefix>body', spot_ros2's name)",
              read_only=True),
    ParamSpec("torso_body", "spot", "rigid-body name of Spot's torso in rigid_bodies",
              read_only=True),
    ParamSpec("frame_id", "map", "world frame of rigid_bodies and of the planner's targets",
              read_only=True),
)
