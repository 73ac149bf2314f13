"""Parameters of the Spot bridge node (``spot_bridge``), declared from this table."""

from gpc_sim.ros.parameters import ParamSpec

BRIDGE_PARAMETERS = (
    ParamSpec("mode", "sim", "sim: publish spot/locomotion_command for the sim node; real: "
              "drive a Spot through bosdyn-client", read_only=True),
    ParamSpec("rate", 20.0, "commands per second re-sent to the robot (>= 10 for a real "
              "Spot); in sim mode also one per incoming pose or target"),
    ParamSpec("command_timeout", 0.5, "watchdog: seconds without a planner target before "
              "the robot is stopped"),
    ParamSpec("pose_timeout", 0.3, "seconds without a torso pose before the robot is "
              "stopped"),
    ParamSpec("valid_for", 0.3, "seconds each velocity command stays valid on the robot, "
              "which stops by itself after it"),
    ParamSpec("tracking_time", 0.25, "finite-difference time (s) of the 9-DoF mapping: "
              "velocity = pose error / tracking_time (the planner's model uses 0.25)"),
    ParamSpec("max_vx", 0.7, "forward speed limit (m/s)"),
    ParamSpec("max_vy", 0.7, "sideways speed limit (m/s)"),
    ParamSpec("max_yaw_rate", 0.7, "turning rate limit (rad/s)"),
    ParamSpec("hostname", "", "real mode: Spot's address", read_only=True),
    ParamSpec("port", 443, "real mode: Spot's gRPC port", read_only=True),
    ParamSpec("ca_cert", "", "real mode: PEM root CA of the robot (empty: the SDK's "
              "bundled one); credentials come only from BOSDYN_CLIENT_USERNAME and "
              "BOSDYN_CLIENT_PASSWORD", read_only=True),
    ParamSpec("arm_move_time", 0.3, "real mode: seconds the arm is given to reach a target"),
    ParamSpec("resume_after_loss", False, "real mode: after a lost connection, power the "
              "robot on, stand it up and follow the planner again by itself (false: the "
              "bridge reports the loss and refuses to power on; restart it to take control)",
              read_only=True),
    ParamSpec("publish_joint_states", True, "real mode: publish the robot's joint states on "
              "joint_states (the planner needs them; false if another driver does)",
              read_only=True),
    ParamSpec("torso_body", "spot", "rigid-body name of Spot's torso in rigid_bodies"),
    ParamSpec("frame_id", "map", "world frame of rigid_bodies and of the planner's targets"),
)
