"""Interface facts of Spot's pre-trained locomotion policy (SI units, radians).

The numbers below are fixed by how the policy was trained (joint order, default pose,
action scale, command layout): changing any of them breaks the policy, not just tunes it.
Source and measurements: notes/spot_locomotion_policy.md.
"""

from __future__ import annotations

import math

# --- Rates ------------------------------------------------------------------------------
TIMESTEP = 0.01  # s, physics step of judo's MJCF (<option timestep>): the original world's
COMMAND_DT = 0.02  # s, one policy evaluation per command step (the policy's 50 Hz)
SUBSTEPS = 2  # physics steps per command step in the original world; targets held for all
# (a world may split the command step otherwise: spot.worlds, assets.substeps_of)

# --- Sizes ------------------------------------------------------------------------------
COMMAND_DIM = 25  # high-level command fed to the policy (layout below)
OBS_DIM = 84  # policy input
ACTION_DIM = 12  # policy output: one number per leg joint, Isaac leg order
N_JOINTS = 19  # 12 leg + 6 arm + 1 gripper hinge, all position-controlled
N_LEG_JOINTS = 12
N_ARM_JOINTS = 7  # 6 arm joints + the gripper finger (f1x)

# --- The 25-number command (raw units, no normalisation) --------------------------------
BASE_VEL = slice(0, 3)  # body-frame vx (m/s), vy (m/s), yaw rate (rad/s)
ARM = slice(3, 10)  # arm joint targets sh0, sh1, el0, el1, wr0, wr1, f1x (rad), passed through
LEG_OVERRIDE = slice(10, 22)  # FL, FR, HL, HR x (hx, hy, kn) (rad); a leg of all zeros = policy
TORSO = slice(22, 25)  # torso roll (rad), pitch (rad), height (m)
VX, VY, YAW_RATE = 0, 1, 2
ROLL, PITCH, HEIGHT = 22, 23, 24

# --- The 84-number observation ----------------------------------------------------------
OBS_LIN_VEL = slice(0, 3)  # base linear velocity in the body frame (m/s)
OBS_ANG_VEL = slice(3, 6)  # base angular velocity, body frame (rad/s): qvel[3:6] as is
OBS_GRAVITY = slice(6, 9)  # unit gravity direction (0, 0, -1) in the body frame
OBS_COMMAND = slice(9, 34)  # the 25-number command
OBS_JOINT_POS = slice(34, 53)  # joint positions minus the default pose, Isaac order (rad)
OBS_JOINT_VEL = slice(53, 72)  # joint velocities, Isaac order (rad/s)
OBS_PREV_ACTION = slice(72, 84)  # the previous raw network output

# --- Joint orders -----------------------------------------------------------------------
# MuJoCo order: qpos[7:26], qvel[6:25] and the 19 actuators of judo's MJCF all follow it.
JOINT_NAMES = (
    "fl_hx", "fl_hy", "fl_kn",
    "fr_hx", "fr_hy", "fr_kn",
    "hl_hx", "hl_hy", "hl_kn",
    "hr_hx", "hr_hy", "hr_kn",
    "arm_sh0", "arm_sh1", "arm_el0", "arm_el1", "arm_wr0", "arm_wr1", "arm_f1x",
)  # fmt: skip
BASE_JOINT = "base"  # the free joint: qpos[0:7] (x, y, z, qw, qx, qy, qz), qvel[0:6]
TORSO_BODY = "body"  # Spot's base link in judo's model (the free joint's body); also the
# name of Spot's body frame in spot_ros2, so the TF frame of the torso is this name
QPOS_JOINTS = 7  # offset of the first hinge in qpos (after the free joint)
QVEL_JOINTS = 6  # offset of the first hinge in qvel

# Isaac order (the policy's training simulator) interleaves the kinematic chains:
# [sh0, fl_hx, fr_hx, hl_hx, hr_hx, sh1, *_hy, el0, *_kn, el1, wr0, wr1, f1x].
# isaac[j] = mujoco[ISAAC_FROM_MUJOCO[j]] (indices into the 19 MuJoCo-ordered joints).
ISAAC_FROM_MUJOCO = (12, 0, 3, 6, 9, 13, 1, 4, 7, 10, 14, 2, 5, 8, 11, 15, 16, 17, 18)
# The network output is in Isaac leg order (all hx, all hy, all kn):
# leg target k (MuJoCo order) uses out[LEG_ACTION_FROM_MUJOCO[k]].
LEG_ACTION_FROM_MUJOCO = (0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11)

# --- Default pose (the policy's zero point), MuJoCo order, rad --------------------------
def _four_legs(hx: float, hy: float, kn: float) -> tuple[float, ...]:
    """(hx, hy, kn) of FL, FR, HL, HR: the right legs mirror the hip abduction hx."""
    return (hx, hy, kn, -hx, hy, kn, hx, hy, kn, -hx, hy, kn)


# Left legs hx +0.12, right legs -0.12 (feet slightly outward); hy 0.5; knee -1.0.
DEFAULT_LEG_POSE = _four_legs(0.12, 0.5, -1.0)
# Arm unstowed in front of the body, gripper open: the arm part of the policy's default
# pose, so also a safe arm target (the policy was trained around it). Arm targets must
# move smoothly: switching to the stowed arm in one step makes the robot fall.
GRIPPER_OPEN = -1.54  # rad, f1x (its range is [-1.57, 0])
GRIPPER_CLOSED = 0.0  # rad
DEFAULT_ARM_POSE = (0.0, -0.9, 1.8, 0.0, -0.9, 0.0, GRIPPER_OPEN)
# The same arm with the gripper closed: judo's working pose, and the one under which the
# note's speed figures were measured. The policy tracks a little better with it (vx 0.5 ->
# 0.48 instead of 0.47 m/s, yaw rate 0.5 -> 0.48 instead of 0.42 rad/s); stands ~1 cm lower.
UNSTOWED_ARM_POSE = DEFAULT_ARM_POSE[:6] + (GRIPPER_CLOSED,)
DEFAULT_JOINT_POSE = DEFAULT_LEG_POSE + DEFAULT_ARM_POSE

ACTION_SCALE = 0.2  # rad per unit of network output, added to the default leg pose

# --- Standing ---------------------------------------------------------------------------
# The height command is not the height reached: 0.52 m commanded settles at ~0.48 m
# (measured), and the response saturates (0.40 -> 0.41 m, 0.60 -> 0.53 m).
STANDING_HEIGHT_COMMAND = 0.52  # m
STANDING_HEIGHT = 0.48  # m, measured torso height under STANDING_TORSO
STANDING_TORSO = (0.0, 0.0, STANDING_HEIGHT_COMMAND)  # roll (rad), pitch (rad), height (m)

# Start configuration (judo's Spot reset): torso at 0.52 m, legs bent more than the policy's
# zero point so that the feet rest on the ground (7 mm deep). With the zero-point legs at
# 0.52 m the feet would start 8.7 cm underground and the contacts pop the robot up (up to
# 0.58 m/s); from this pose it settles gently (|vz| < 0.2 m/s).
START_HEIGHT = 0.52  # m, torso
STANDING_LEG_POSE = _four_legs(0.12, 0.72, -1.45)

# --- Joint limits -----------------------------------------------------------------------
# The arm's hard joint ranges (rad) in judo's MJCF, sh0, sh1, el0, el1, wr0, wr1, as
# (low, high); the arm actuators' ctrlrange is the same. A test checks them against the
# compiled model. Whole degrees: -150/180, -180/30, 0/180, +-160, +-105, +-165.
ARM_JOINT_LIMITS = (
    (math.radians(-150.0), math.radians(180.0)),  # arm_sh0
    (math.radians(-180.0), math.radians(30.0)),  # arm_sh1
    (0.0, math.radians(180.0)),  # arm_el0
    (math.radians(-160.0), math.radians(160.0)),  # arm_el1
    (math.radians(-105.0), math.radians(105.0)),  # arm_wr0
    (math.radians(-165.0), math.radians(165.0)),  # arm_wr1
)
GRIPPER_LIMITS = (-1.57, 0.0)  # rad, arm_f1x

# --- The planner's 9-DoF high-level target ----------------------------------------------
# World-frame torso x (m), y (m), yaw (rad), then the 6 arm joint targets (rad, no
# gripper). ``spot.action.targets_to_command`` maps it to the 25-number command.
TARGET_DIM = 9
TARGET_TORSO = slice(0, 3)  # x, y, yaw
TARGET_ARM = slice(3, 9)  # sh0, sh1, el0, el1, wr0, wr1
N_TARGET_ARM = 6

# --- Chair-push world (spot.world) ------------------------------------------------------
# World frame: x towards the goal, z up, the floor at z = 0; lengths in m, angles in rad.
# A C-shaped obstacle opens towards -x: its back wall stands between the start (x < 0)
# and the goal (x > 0), its two arms reach back towards the start, so pushing the chair
# straight at the goal drives it into the cup (the paper's local minimum).
OBSTACLE_HEIGHT = 0.8  # higher than the seat (0.48) and Spot's back (~0.6)
OBSTACLE_THICKNESS = 0.1
OBSTACLE_BACK_X = 0.0  # centre line of the back wall
OBSTACLE_HALF_WIDTH = 1.0  # the back wall spans y in [-1, 1] (outer faces)
OBSTACLE_DEPTH = 0.95  # the arms reach from the back wall's far face to x = -0.9
# The three boxes as (name, centre (x, y, z), half sizes (x, y, z)).
OBSTACLE_BOXES = (
    (
        "obstacle_back",
        (OBSTACLE_BACK_X, 0.0, OBSTACLE_HEIGHT / 2),
        (OBSTACLE_THICKNESS / 2, OBSTACLE_HALF_WIDTH, OBSTACLE_HEIGHT / 2),
    ),
    (
        "obstacle_left",
        (
            OBSTACLE_BACK_X + OBSTACLE_THICKNESS / 2 - OBSTACLE_DEPTH / 2,
            OBSTACLE_HALF_WIDTH - OBSTACLE_THICKNESS / 2,
            OBSTACLE_HEIGHT / 2,
        ),
        (OBSTACLE_DEPTH / 2, OBSTACLE_THICKNESS / 2, OBSTACLE_HEIGHT / 2),
    ),
    (
        "obstacle_right",
        (
            OBSTACLE_BACK_X + OBSTACLE_THICKNESS / 2 - OBSTACLE_DEPTH / 2,
            -(OBSTACLE_HALF_WIDTH - OBSTACLE_THICKNESS / 2),
            OBSTACLE_HEIGHT / 2,
        ),
        (OBSTACLE_DEPTH / 2, OBSTACLE_THICKNESS / 2, OBSTACLE_HEIGHT / 2),
    ),
)
CHAIR_GOAL = (1.2, 0.0, 0.0)  # x, y, yaw: 1.15 m behind the back wall, seat facing +x
# Start: chair 0.7 m in front of the cup's mouth, from the centre line to a quarter metre
# beyond the cup's outer edge (y +- 1.6), the robot behind it facing the goal (its lateral
# offset follows the chair's, plus its own jitter). From every start the straight push at
# the goal runs into the obstacle: from the middle (|y| < ~0.7) the chair enters the cup,
# further out it catches on an arm's end; going around means first pushing the chair
# sideways, away from the goal, the more so the nearer the middle it starts. Calibration:
# with starts within 0.25 m of the centre line CEM failed online (32 x 4 s) and offline
# (128 x 4 s x 2 iterations, a 50 s episode), and with starts across the cup's width
# (+- 1.0) online CEM failed its first 4 trials, all ending in the cup: no successful
# episodes to learn from, where the paper's CEM succeeds in a third of its trials.
# Uniform offsets keep the arm (reaching ~1.05 m ahead of the torso) >= 0.25 m from the
# chair (whose casters reach 0.35 m from its centre) and the chair out of the cup.
CHAIR_START = (-1.6, 0.0, 0.0)  # x, y, yaw
CHAIR_START_JITTER = (0.15, 1.6, math.pi / 4)  # +- uniform on x, y, yaw
ROBOT_START = (-3.5, 0.0, 0.0)  # torso x, y, yaw; y is relative to the chair's offset
ROBOT_START_JITTER = (0.1, 0.25, 0.3)

# The chair (chair frame: origin on the floor under the column, +x where the seat faces,
# backrest at -x). A five-star office chair with its seat swivel locked (one rigid body on
# a free joint, so it can tip) and five casters modelled as spheres on ball joints, which
# roll in every direction; rolling resistance is ball-joint friction.
CHAIR_SEAT_HEIGHT = 0.48  # top of the seat
CHAIR_SEAT_HALF = (0.24, 0.24, 0.035)  # 0.48 x 0.48 x 0.07 cushion
CHAIR_BACK_TOP = 0.98
CHAIR_BASE_RADIUS = 0.32  # hub to caster centre
CHAIR_CASTER_RADIUS = 0.03  # 60 mm casters
CHAIR_LEG_HEIGHT = 0.09  # centre of the star's legs above the floor
# Masses (kg): seat 4.0, backrest 2.5 + bracket 0.5, column 2.0, hub 0.4, legs 5 x 0.5,
# casters 5 x 0.12: 12.5 kg, a typical office chair.
CHAIR_MASS = 12.5
# Rolling resistance: ball-joint frictionloss = c_rr x (load per caster) x radius with a
# rolling coefficient c_rr = 0.02 (hard casters on a hard floor): ~0.015 N m, ~2.5 N for
# the chair. It also gives stiction: the chair does not creep on its own. Welded casters
# (worlds.SpotWorld.casters) slide with friction coefficient c_rr instead: the same force.
CHAIR_ROLLING_RESISTANCE = 0.02
CHAIR_CASTER_FRICTIONLOSS = CHAIR_ROLLING_RESISTANCE * CHAIR_MASS * 9.81 / 5 * CHAIR_CASTER_RADIUS
CHAIR_TIP_ANGLE = math.radians(45.0)  # tilt of the chair's up axis beyond which it is down
CHAIR_QPOS_ADR = 26  # its free joint in the chair world's qpos (after Spot's 26); checked
CHAIR_QVEL_ADR = 25

# --- The chair-push task (spot.task) ----------------------------------------------------
# Success (the paper's): chair centre within 0.15 m of the goal and its heading within 50
# degrees; the task also asks the chair to be upright (tilt below CHAIR_TIP_ANGLE).
SUCCESS_POSITION_TOLERANCE = 0.15  # m
SUCCESS_YAW_TOLERANCE = math.radians(50.0)
MAX_STEPS = 2500  # command steps per episode (50 s), as in the paper
# A torso this low has fallen (standing ~0.48 m; the policy's height response saturates at
# ~0.41 m even when commanded 0.40 m, so nothing upright gets near it).
FALL_HEIGHT = 0.35  # m
# Bounds of the planner's torso target: the arena around the start, the obstacle and the
# goal (start x ~ -3.5, obstacle x in [-0.9, 0.05] and y in [-1, 1], goal (1.2, 0)), with
# room to walk around the obstacle's arms and behind the goal.
TORSO_TARGET_X = (-5.0, 3.0)  # m
TORSO_TARGET_Y = (-3.0, 3.0)  # m
# The gripper point of the proximity cost: the finger joint's site, between the jaws at
# the wrist's end (judo's ``trace_fngr_site``).
GRIPPER_SITE = "site_arm_link_fngr"
# Footprints of the obstacle-avoidance cost (top view): Spot as two circles on its heading
# (body box 0.84 x 0.22 m plus hips and legs: ~1.0 x 0.5 m), the chair as one circle over
# its five-star base.
ROBOT_FOOTPRINT_OFFSETS = (-0.25, 0.25)  # m, circle centres along the heading from the torso
ROBOT_FOOTPRINT_RADIUS = 0.25  # m
CHAIR_FOOTPRINT_RADIUS = 0.35  # m: CHAIR_BASE_RADIUS + CHAIR_CASTER_RADIUS
