"""Parameters of the planner node (``gpc_planner``), declared from this table.

Live (``ros2 param set`` takes effect at once): ``enabled``, ``goal``, the goal hold, the state
estimate's limits, the stamp tolerance, the plan timeout, the anytime budget,
``visual_samples``. The
rest is read-only: it decides what the node built at start-up (the method, its rollouts, the
wiring)."""

from gpc_sim.ros.parameters import ParamSpec

PLANNER_PARAMETERS = (
    ParamSpec("task", "spot_chair", "task whose costs the rollouts use: spot_chair or "
              "spot_chair_avoid (with the obstacle-avoidance cost)", read_only=True),
    ParamSpec("method", "gpc_cem", "planning method: ps, cem, mppi, dial, gpc_shoot, gpc_cem",
              read_only=True),
    ParamSpec("model", "", "proposal model file of the GPC methods (empty: the task's "
              "shipped model)", read_only=True),
    ParamSpec("rollouts", 32, "rollouts per planning iteration", read_only=True, low=1,
              high=100_000),
    ParamSpec("horizon", 0.0, "planning horizon (s); 0: the task's (4 s for the chair push)",
              read_only=True, low=0.0, high=60.0),
    ParamSpec("goal_distance", "geodesic", "the chair's distance to the goal in the cost: "
              "geodesic (the shortest way around the obstacle, what the shipped model's data "
              "was planned on) or euclidean (the straight line, the paper's); success is the "
              "same", read_only=True),
    ParamSpec("flow_steps", 0, "Euler steps when sampling the proposal model (GPC methods); "
              "0: what the model card recommends for the method on the task (gpc model "
              "set-sampling), "
              "else 10, the paper's", read_only=True, low=0, high=1000),
    ParamSpec("flow_noise", 0.0, "std of the flow's initial noise (GPC methods); 0: what the "
              "model card recommends for the method on the task, else 1, the paper's",
              read_only=True, low=0.0, high=100.0),
    ParamSpec("replan_rate", 5.0, "planning steps per second (the paper's 5 Hz); a step that "
              "takes longer is a deadline miss and the previous plan goes on meanwhile",
              read_only=True, low=0.1, high=100.0),
    ParamSpec("plan_budget", 0.16, "anytime budget: wall seconds a planning step may take; "
              "at the budget it updates from the candidates rolled out so far (the GPC "
              "methods' proposals first); 0: every candidate, however long. Not used in "
              "lock-step (synchronous), where the sim waits for every plan", low=0.0,
              high=60.0),
    ParamSpec("seed", 0, "seed of the sampling planner", read_only=True, low=0,
              high=2**31 - 1),
    ParamSpec("threads", 0, "rollout threads (0: every core this process may use)",
              read_only=True, low=0, high=1024),
    ParamSpec("synchronous", False, "lock-step mode: the command answering a frame that is "
              "due for replanning waits for the new plan (for a lock-stepped sim only)",
              read_only=True),
    ParamSpec("enabled", False, "plan at start-up (false: hold until gpc/enable, as a real "
              "robot's planner must; the launchers set it true in simulation)"),
    ParamSpec("goal", [1.2, 0.0, 0.0], "chair goal x (m), y (m), yaw (rad) in frame_id; "
              "published on the latched goal_pose topic (the sim measures success there), "
              "changed by gpc/set_goal or a goal published there"),
    ParamSpec("hold_at_goal", True, "stop pushing at the goal: once the chair is there, hold "
              "(stand, arm still; status 'at goal') until it has been off the goal for "
              "goal_hold_dwell s, a new goal or a reset (false: plan on, as gpc eval's "
              "planners do)"),
    ParamSpec("goal_hold_dwell", 1.0, "seconds in a row the chair must be off the goal "
              "before a planner holding at the goal plans again", low=0.0, high=60.0),
    ParamSpec("state_timeout", 0.3, "oldest mocap frame (s) a plan may start from; older: "
              "hold", low=0.01, high=5.0),
    ParamSpec("joint_timeout", 0.5, "oldest joint_states (s) a plan may start from",
              low=0.01, high=5.0),
    ParamSpec("max_jump", 0.5, "largest believable move of a body between two mocap frames "
              "(m); larger: hold and re-initialise the estimate", low=0.01, high=10.0),
    ParamSpec("velocity_filter", 0.05, "time constant (s) of the low-pass on "
              "finite-difference velocities", low=0.0, high=5.0),
    ParamSpec("future_tolerance", 0.1, "seconds a message's stamp may be ahead of this "
              "node's clock; later stamps are refused", low=0.0, high=1.0),
    ParamSpec("plan_timeout", 3.0, "seconds the plan in force may age without a new plan "
              "before the command becomes a hold (a stalled or failed planning thread)",
              low=0.1, high=60.0),
    ParamSpec("visual_samples", 8, "best samples drawn in gpc/plan_markers and sent in "
              "gpc/plan (0: none)", low=0, high=1000),
    ParamSpec("diagnostics_rate", 1.0, "/diagnostics messages per second", read_only=True,
              low=0.1, high=100.0),
    ParamSpec("torso_body", "spot", "rigid-body name of Spot's torso in rigid_bodies",
              read_only=True),
    ParamSpec("chair_body", "chair", "rigid-body name of the chair in rigid_bodies",
              read_only=True),
    ParamSpec("frame_id", "map", "world frame of mocap, commands and markers",
              read_only=True),
)
