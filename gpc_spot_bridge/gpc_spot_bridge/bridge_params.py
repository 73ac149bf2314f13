"""Parameters of the Spot bridge node (``spot_bridge``), declared from this table.

Live (``ros2 param set`` takes effect at once): the rate, the watchdog's timeouts, the
command validity, the mapping's tracking time and limits, the stamp tolerance, the jump
limit. Everything else is read-only: it shapes the connection or the node's wiring."""

from gpc_sim.ros.parameters import ParamSpec

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
    ParamSpec("resume_after_loss", False, "real mode: after a lost connection, power the "
              "robot on, stand it up and follow the planner again by itself (false: the "
              "bridge reports the loss and refuses to power on; restart it to take control)",
              read_only=True),
    ParamSpec("publish_joint_states", True, "real mode: publish the robot's joint states on "
              "joint_states (the planner needs them; false if another driver does)",
              read_only=True),
    ParamSpec("torso_body", "spot", "rigid-body name of Spot's torso in rigid_bodies",
              read_only=True),
    ParamSpec("frame_id", "map", "world frame of rigid_bodies and of the planner's targets",
              read_only=True),
)
