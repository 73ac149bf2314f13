"""Topic and service names of the stack, relative (a namespace applies), in one place."""

RIGID_BODIES = "rigid_bodies"  # mocap4r2_msgs/RigidBodies, frame "map"
JOINT_STATES = "joint_states"  # sensor_msgs/JointState, Spot's 19 joints
COMMAND = "gpc/command"  # gpc_msgs/HighLevelCommand, planner -> bridge
LOCOMOTION_COMMAND = "spot/locomotion_command"  # gpc_msgs/LocomotionCommand, bridge -> sim
GOAL = "goal_pose"  # geometry_msgs/PoseStamped, latched: the chair's goal (nav2's name)
PLANNER_STATUS = "gpc/status"  # gpc_msgs/PlannerStatus
PLAN = "gpc/plan"  # gpc_msgs/Plan: knots and top samples
PLAN_PATH = "gpc/plan_path"  # nav_msgs/Path: the executed plan's torso targets
PLAN_MARKERS = "gpc/plan_markers"  # visualization_msgs/MarkerArray: plan and samples
SCENE_MARKERS = "gpc/scene_markers"  # visualization_msgs/MarkerArray: goal, obstacle, bodies
DIAGNOSTICS = "/diagnostics"  # diagnostic_msgs/DiagnosticArray (absolute, as ROS tools expect)
SIM_STATUS = "sim/status"  # gpc_msgs/SimStatus: ground truth
BRIDGE_STATUS = "spot/status"  # gpc_msgs/BridgeStatus: the bridge and its robot
CLOCK = "/clock"  # rosgraph_msgs/Clock (absolute: every node's sim time)
TF = "/tf"  # tf2_msgs/TFMessage (absolute, as tf2 reads it): the sim's bodies, the torso
TF_STATIC = "/tf_static"  # tf2_msgs/TFMessage, latched: the sim's fixed bodies
ROBOT_MARKERS = "sim/robot_markers"  # visualization_msgs/MarkerArray, latched: the model's
# geoms (Spot, the chair) locked to their TF frames

SET_GOAL = "gpc/set_goal"  # gpc_msgs/SetGoal (publishes GOAL)
RESET_PLANNER = "gpc/reset"  # gpc_msgs/ResetPlanner
ENABLE_PLANNER = "gpc/enable"  # std_srvs/SetBool
RESET_SIM = "sim/reset"  # gpc_msgs/ResetSim
PAUSE_SIM = "sim/pause"  # std_srvs/SetBool
# The bridge's real-mode bring-up steps (std_srvs/Trigger), as spot_ros2 names them.
SPOT_POWER_ON = "spot/power_on"
SPOT_STAND = "spot/stand"
SPOT_SIT = "spot/sit"
SPOT_POWER_OFF = "spot/power_off"
