"""Spot with its arm in MuJoCo, driven by the pre-trained locomotion policy.

The MJCF and the policy weights come from the installed ``judo-rai`` package (loaded as
files, never imported): ``assets`` finds and compiles the model, ``policy`` turns the
25-number high-level command into actuator targets, ``constants`` holds the interface
facts both share (rates, command layout, joint orders, default pose). ``action`` maps the
planner's 9-DoF targets (torso x, y, yaw + 6 arm joints) to that command, the one mapping
shared by rollouts, bridge and sim node; ``world`` builds the chair-push scene (Spot, a
wheeled office chair, a C-shaped obstacle, the goal) and reads the chair's pose and tilt.
``rollout`` runs batches of 9-DoF target sequences with the policy in the loop (the
planner's model), and ``task`` is the chair-push task (``spot_chair``, ``spot_chair_avoid``):
costs, success, initial states, plant.
"""
