"""Constants of the Franka pole-avoidance world ``franka_obstacles`` (SI units, radians).

The NFMPC paper (Sacks & Boots, Sec. 5.2) describes FRANKA in words only: a 7-DoF Franka
Panda steered from a fixed starting pose to a randomly placed target while avoiding a
single pole, with environments random enough that not all are feasible. Its numbers
(Appendix A.2) are not in our copy of the paper, so each value below says where it comes
from: the robot's model and datasheet, a measurement, or our choice.
"""

import numpy as np

# --- the robot: gymnasium-robotics 1.4.2's kitchen Panda MJCF (franka_assets/chain.xml) ---
JOINT_NAMES = tuple(f"robot:panda0_joint{i}" for i in range(1, 8))
CHAIN_BODIES = tuple(f"panda0_link{i}" for i in range(8))  # link0 is fixed to the world
FINGER_BODIES = ("panda0_leftfinger", "panda0_rightfinger")
END_EFFECTOR_SITE = "end_effector"  # between the fingers, 0.21 m out of link 7
# Joint limits: the MJCF's ranges (its header: "pulled from" Franka's control parameters;
# joint 6 is offset by the MJCF's own link 6 frame, so its range differs from Franka's).
# Read from the compiled model at run time; these copies document them and are checked
# against the model by the tests.
JOINT_LOW = np.array([-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -1.6573, -2.8973])
JOINT_HIGH = np.array([2.8973, 1.7628, 2.8973, -0.4, 2.8973, 2.1127, 2.8973])
# Joint velocity limits (rad/s), the box bounds of a control: half of Franka's datasheet
# limits (2.175 rad/s for joints 1-4, 2.61 for 5-7; also in the comments of the MJCF's
# actuator.xml). Ours: at the full limits a step of DT can carry the hand 0.27 m, through
# a pole without a checked state touching it; at half, 0.135 m at most (measured over
# 20,000 random configurations with every joint at its limit), less than the 0.148 m that
# the thinnest capsule (the fingers, 0.034 m) and the thinnest pole (POLE_RADIUS) span.
DATASHEET_VELOCITY_LIMIT = np.array([2.175, 2.175, 2.175, 2.175, 2.61, 2.61, 2.61])
VELOCITY_LIMIT = 0.5 * DATASHEET_VELOCITY_LIMIT
# The fixed start (Sec. 5.2: "from a fixed starting pose"): the Panda's usual ready pose,
# (0, -pi/4, 0, -3 pi/4, 0, pi/2, pi/4) in Franka's angles, with joint 6 at 0 because this
# MJCF's link 6 frame is turned by about pi/2 (measured: the hand then points straight
# down, the end effector at (0.307, 0, 0.487) m).
START_POSE = (0.0, -np.pi / 4, 0.0, -3 * np.pi / 4, 0.0, 0.0, np.pi / 4)
# Capsules that never get near the floor: the base and the link turning on it (a vertical
# axis 0.333 m up); the floor test would otherwise see the base standing on it.
FLOOR_EXEMPT = ("link0_col", "link1_col")

# --- timing ------------------------------------------------------------------------------
DT = 0.05  # s, one control step, 20 Hz. Ours (see VELOCITY_LIMIT for what bounds it).
HORIZON_STEPS = 40  # control steps of the planning horizon (2 s). Ours: measured, MPPI
# with 256 samples on 30 environments reached 24 goals with 2 s, 21 with 1 s (at the full
# datasheet velocities, 26-30 against 19-26: short horizons stall behind the pole). Those
# were seed 0's first 30 environments (the figures' seed); re-checked on seed 2, trials
# 0-29, 2026-12-06: 25 with 2 s, 17 with 1 s; 26 at the full velocities, 25 at half.
MAX_STEPS = 300  # episode limit, in control steps (15 s, as nav_dyn's). Ours.

# --- environments (ours; the robot's base is the origin, the floor z = 0) ---------------
# Goal: the end effector's position, uniform in a box in front of the robot, all of it
# within reach (measured: damped least-squares IK from START_POSE reaches every corner).
GOAL_LOW = (0.30, -0.45, 0.20)
GOAL_HIGH = (0.70, 0.45, 0.70)
MIN_START_GOAL_DISTANCE = 0.25  # m, end effector at the start to the goal
# Pole: a vertical cylinder standing on the floor, placed where it is in the way: its
# centre at a uniform fraction of the way from the start's end effector to the goal
# (seen from above), moved sideways by a uniform offset, so that it sometimes leaves the
# straight way free. Placed uniformly over the workspace instead, it is near the straight
# way in 8% of environments (measured), and the task would hardly be about the pole.
POLE_ALONG = (0.2, 0.8)  # fraction of the way from the start to the goal
POLE_SIDEWAYS = 0.15  # m, largest sideways offset, either side
POLE_RADIUS = (0.04, 0.07)  # m
POLE_HEIGHT = (0.50, 1.00)  # m: from about the start's hand height (0.49 m) to above the arm
START_CLEARANCE = 0.05  # m, the arm's capsules at the start to the pole
GOAL_CLEARANCE = 0.10  # m, the goal to the pole's surface (the hand must fit beside it)
GOAL_TOLERANCE = 0.05  # m, success: the end effector this close to the goal, no collision

# --- costs (ours, the same terms as nav_dyn's: the paper names none for FRANKA) -----
W_GOAL = 10.0  # |end effector - goal| (m), per second
# Per second with a capsule in the pole or the floor. Not larger: the repo's MPPI weights
# normalise costs to [0, 1] (``softmax_weights``), so a huge penalty on a few colliding
# samples flattens the weights of all the others and the plan wanders (measured, MPPI with
# 256 samples on 30 environments: 100 reached 7 goals, 10 reached 24, neither collided;
# seed 0, re-checked on seed 2: 100 reached 10, 10 reached 25).
W_COLLISION = 10.0
W_CONTROL = 0.1  # |joint velocity|^2 ((rad/s)^2), per second
W_TERMINAL = 20.0  # |end effector - goal| (m) at the horizon's end
