"""Physical constants of the Push-T / Push-K world (SI units)."""

TIMESTEP = 0.01  # s, physics and control step (the paper's 0.01 s)
MAX_STEPS = 2500  # episode length limit for success (the paper's 2,500 steps)
SUCCESS_COVERAGE = 0.9  # coverage needed for success

TABLE_HALF_EXTENT = 0.35  # m, the pusher's reachable square is [-0.35, 0.35]^2
PUSHER_RADIUS = 0.015  # m
PUSHER_MASS = 0.1  # kg
PUSHER_KP = 100.0  # N/m, position servo stiffness
PUSHER_KV = 10.0  # N s/m, servo damping (overdamped: no overshoot into the block)
PUSHER_MAX_FORCE = 10.0  # N, servo force limit
BLOCK_HEIGHT = 0.04  # m, only matters for contact geometry
BLOCK_DENSITY = 300.0  # kg/m^3 -> ~0.2 kg for a T of 0.0175 m^2 x 0.04 m
BLOCK_SLIDE_FRICTION = 1.5  # N, Coulomb friction of the table on the block (x and y)
BLOCK_SPIN_FRICTION = 0.05  # N m, Coulomb friction against spinning
BLOCK_DAMPING = 2.0  # N s/m on the slides (x0.01 on the hinge): the block stops quickly

GOAL_POSE = (0.0, 0.0, 0.0)  # x, y, yaw of the block frame at the goal
