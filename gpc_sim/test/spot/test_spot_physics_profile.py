"""``spot.physics_profile``: MuJoCo's stage timers and the contacts of a chair-world step.

Two worlds standing for 0.2 s: the stages add up, the feet and casters touch the floor,
nothing else does, and the timer callback is put back afterwards. Well under a second.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from gpc_sim.spot.constants import STANDING_LEG_POSE, UNSTOWED_ARM_POSE
from gpc_sim.spot.physics_profile import (
    CONTACT_KINDS,
    contact_kind,
    geom_groups,
    profile_physics,
    stage_timers,
)
from gpc_sim.spot.rollout import SpotStateLayout
from gpc_sim.spot.world import build_chair_world


@pytest.mark.parametrize("world", ["original", "fast"])
def test_a_standing_robot_profiles_feet_and_casters_only(task, start, world):
    model = build_chair_world(world)
    layout = SpotStateLayout.of(model)
    physics = np.zeros(layout.physics_size)
    physics[1 : 1 + model.nq] = model.qpos0
    physics[1 : 1 + 33] = task.layout.qpos(start)[:33]  # Spot and the chair's free joint
    ctrl = np.broadcast_to(np.r_[STANDING_LEG_POSE, UNSTOWED_ARM_POSE], (2, 10, model.nu))
    result = profile_physics(model, physics, ctrl)
    substeps = result["substeps"]
    assert result["physics_steps"] == 2 * 10 * substeps and result["nv"] == model.nv
    stages = result["us_per_step"]
    assert stages["step"] > 0 and stages["advance"] > 0 and stages["constraint_solve"] > 0
    # step = forward + advance; forward contains position, velocity, actuation, solve.
    assert stages["forward"] + stages["advance"] == pytest.approx(stages["step"], rel=0.1)
    assert stages["collision"] <= stages["position"] <= stages["forward"]
    assert result["us_per_command_step"] == pytest.approx(stages["step"] * substeps, rel=0.01)
    kinds = result["contacts_per_step"]
    assert set(kinds) == set(CONTACT_KINDS)
    assert kinds["feet-floor"] >= 2 and kinds["casters-floor"] == pytest.approx(5.0)
    others = {k: v for k, v in kinds.items() if k not in ("feet-floor", "casters-floor")}
    assert not any(others.values())
    assert result["solver_iterations_mean"] >= 1 and result["constraint_rows_mean"] > 0


def test_contact_kinds_and_the_timer_callback_is_restored():
    model = build_chair_world()
    groups = geom_groups(model)
    geom = {name: model.geom(name).id for name in (
        "ground", "front_left_foot_collision", "body_collision", "chair_seat",
        "chair_caster0_wheel", "obstacle_back")}
    assert contact_kind(groups, geom["ground"], geom["front_left_foot_collision"]) == "feet-floor"
    assert contact_kind(groups, geom["chair_caster0_wheel"], geom["ground"]) == "casters-floor"
    assert contact_kind(groups, geom["chair_seat"], geom["body_collision"]) == "chair-robot"
    assert contact_kind(groups, geom["obstacle_back"], geom["chair_seat"]) == "chair-obstacle"
    assert contact_kind(groups, geom["body_collision"], geom["obstacle_back"]) == "robot-obstacle"
    assert contact_kind(groups, geom["body_collision"],
                        geom["front_left_foot_collision"]) == "robot-self"
    before = mujoco.get_mjcb_time()
    with stage_timers() as clock:
        assert clock in ("c", "python") and mujoco.get_mjcb_time() is not None
    assert mujoco.get_mjcb_time() is before
