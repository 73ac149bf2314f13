"""Parameters of the sim node (``gpc_sim``), declared from this table (``parameters.declare``).

Read-only but one: the sim is set up for an episode at start-up (``sim/reset`` and
``sim/pause`` change what may change while it runs); ``mocap_blackout`` is live, so that a
mocap outage can be switched on and off in a running graph (``gpc soak``'s mocap dropout)."""

from gpc_sim.ros.parameters import ParamSpec

SIM_PARAMETERS = (
    ParamSpec("task", "spot_chair", "chair-push task whose goal and success the ground truth "
              "reports: spot_chair or spot_chair_avoid (the same world)", read_only=True),
    ParamSpec("seed", 0, "initial state: trial `trial` of seed `seed`, as gpc eval's",
              read_only=True, low=0, high=2**31 - 1),
    ParamSpec("trial", 0, "initial state: trial index within the seed", read_only=True,
              low=0, high=2**31 - 1),
    ParamSpec("lockstep", False, "wait for the planner and the bridge at every mocap frame "
              "(sim time then runs as fast as they answer); false: real time",
              read_only=True),
    ParamSpec("realtime_factor", 1.0, "sim seconds per wall second when not lock-stepped",
              read_only=True, low=0.01, high=100.0),
    ParamSpec("lockstep_timeout", 10.0, "wall seconds to wait for the command answering a "
              "frame before the robot is stopped and the simulation goes on (then 0.5 s "
              "until answers come again)", read_only=True, low=0.1, high=3600.0),
    ParamSpec("lockstep_start_timeout", 180.0, "wall seconds to wait for the planner's first "
              "plan before the simulation starts without it", read_only=True, low=0.1,
              high=3600.0),
    ParamSpec("duration", 0.0, "sim seconds to run, then stop and report finished (0: "
              "forever)", read_only=True, low=0.0, high=1e6),
    ParamSpec("exit_on_finish", False, "end the node (exit status 0) once the duration is "
              "reached and the record written, so that a launch ends with it (both launchers "
              "set it); false: stay up, finished, for sim/reset", read_only=True),
    ParamSpec("start_paused", False, "start paused (resume with the sim/pause service)",
              read_only=True),
    ParamSpec("mocap_rate", 50.0, "motion-capture frames per second (at most the 50 Hz of "
              "the command step)", read_only=True, low=1.0, high=50.0),
    ParamSpec("mocap_position_noise", 0.0, "std of the mocap position noise per axis (m)",
              read_only=True, low=0.0, high=1.0),
    ParamSpec("mocap_yaw_noise", 0.0, "std of the mocap yaw noise (rad)", read_only=True,
              low=0.0, high=1.0),
    ParamSpec("mocap_latency", 0.0, "delay from capture to publication (s); frames keep "
              "their capture stamp", read_only=True, low=0.0, high=1.0),
    ParamSpec("mocap_dropout", 0.0, "probability that a mocap frame is lost, [0, 1)",
              read_only=True, low=0.0, high=0.99),
    ParamSpec("mocap_blackout", False, "live: while true the mocap system delivers no frame "
              "(it lost every body); the world, the clock and the joint states go on"),
    ParamSpec("record", "", "write the episode's states (every command step) to this .npz "
              "when the duration is reached or the node stops (empty: no recording)",
              read_only=True),
    ParamSpec("status_rate", 10.0, "sim/status (ground truth) messages per sim second",
              read_only=True, low=0.1, high=1000.0),
    ParamSpec("torso_body", "spot", "rigid-body name of Spot's torso in rigid_bodies",
              read_only=True),
    ParamSpec("chair_body", "chair", "rigid-body name of the chair in rigid_bodies",
              read_only=True),
    ParamSpec("frame_id", "map", "frame of rigid_bodies and of the ground truth",
              read_only=True),
    ParamSpec("publish_tf", True, "publish /tf (every body of Spot and the chair, from the "
              "simulated state), /tf_static (the fixed obstacle) and sim/robot_markers (the "
              "model's shapes on those frames, for rviz)", read_only=True),
    ParamSpec("tf_rate", 50.0, "/tf messages per sim second (at most the 50 Hz of the "
              "command step)", read_only=True, low=1.0, high=50.0),
    ParamSpec("tf_prefix", "", "prefix of Spot's TF frames, spot_ros2's '<spot_name>/' "
              "(the frames are spot_ros2's link names: body, front_left_hip ...)",
              read_only=True),
)
