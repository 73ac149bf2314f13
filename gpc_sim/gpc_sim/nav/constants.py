"""Constants of the dynamic-obstacle navigation world ``nav_dyn`` (SI units).

The NFMPC paper (Sacks & Boots, Sec. 5.1) describes PNRANDDYN in words: a holonomic
point robot with double-integrator dynamics and noise on its accelerations, eight
obstacles whose positions are perturbed with Gaussian noise at every step and clipped
to the map, random start and goal. Its numbers (its Appendix A.2) are not in our copy of
the paper, so the values here are ours, chosen so that the obstacles matter: they cover
about a tenth of the map, and the robot needs several seconds to cross it.
"""

DT = 0.1  # s, one control step of the plant and of the planner's model
MAP_HALF_EXTENT = 5.0  # m, the map is [-5, 5]^2; leaving it is a collision (walls)
NUM_OBSTACLES = 8
OBSTACLE_RADIUS = 0.6  # m; the robot is a point
ACCEL_LIMIT = 2.0  # m/s^2, per axis: the box bounds of a control
ACCEL_NOISE_STD = 0.3  # m/s^2, per axis, added to the applied acceleration (plant only)
OBSTACLE_STEP_STD = 0.05  # m per step, per axis: the obstacles' random walk (plant only)
GOAL_TOLERANCE = 0.3  # m, success: the robot this close to the goal, never having collided
MIN_START_GOAL_DISTANCE = 5.0  # m
SPAWN_CLEARANCE = 0.5  # m between a start or goal and any obstacle's edge
SPAWN_MARGIN = 0.5  # m between a start or goal and the map's edge
HORIZON_STEPS = 20  # control steps of the planning horizon (2 s)
MAX_STEPS = 150  # episode limit, in control steps (15 s)
