"""Spot with its arm in MuJoCo, driven by the pre-trained locomotion policy.

The MJCF and the policy weights come from the installed ``judo-rai`` package (loaded as
files, never imported): ``assets`` finds and compiles the model, ``policy`` turns the
25-number high-level command into actuator targets, ``constants`` holds the interface
facts both share (rates, command layout, joint orders, default pose).
"""
