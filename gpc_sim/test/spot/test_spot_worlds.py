"""World presets of the chair world (``spot.worlds``): every preset builds and steps, names
and options fail in one line, the settings reach the compiled model, and for a preset that
is not the original the rollout engines (numpy and compiled) still agree with a plain
``policy_step`` / ``mj_step`` loop. A few worlds for 0.5 s each: seconds in all.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from mujoco import rollout as mj_rollout

from gpc_sim.blas import single_blas_thread
from gpc_sim.errors import ConfigError
from gpc_sim.rollout import get_state
from gpc_sim.spot.action import base_pose_from_qpos, targets_to_command
from gpc_sim.spot.assets import spot_model, substeps_of
from gpc_sim.spot.bench import applied_inputs
from gpc_sim.spot.constants import CHAIR_QPOS_ADR, COMMAND_DT, UNSTOWED_ARM_POSE
from gpc_sim.spot.native_lane import native_unavailable
from gpc_sim.spot.policy import policy_step, standing_command, standing_qpos
from gpc_sim.spot.rollout import SpotRolloutEngine, SpotStateLayout
from gpc_sim.spot.world import build_chair_world, convert_state
from gpc_sim.spot.worlds import (
    DEFAULT_WORLD,
    REFERENCE_WORLD,
    SPOT_WORLDS,
    SpotWorld,
    spot_world,
    world_with_options,
)
from gpc_sim.tasks import make_task

STEPS = 25  # 0.5 s


@pytest.fixture(scope="module")
def fast_task():
    """The chair task with rollouts in the ``fast`` world, planning against the original."""
    return make_task("spot_chair", nthread=2, world="fast", plant_world="original")


def drifting_targets(task, state, n: int, seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    drift = rng.normal(0.0, [0.6, 0.6, 0.6, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], (n, 1, 9))
    return task.nominal_action(state) + drift * np.linspace(0.0, 1.0, STEPS)[None, :, None]


@pytest.mark.parametrize("name", list(SPOT_WORLDS))
def test_every_preset_builds_and_spot_stands_in_it(name):
    world = SPOT_WORLDS[name]
    model = build_chair_world(name)
    assert world.name == name and spot_world(name) is world
    assert model.opt.timestep == pytest.approx(COMMAND_DT / world.substeps)
    assert substeps_of(model) == world.substeps
    assert mujoco.mjtIntegrator(model.opt.integrator).name.lower().endswith(world.integrator)
    assert int(model.joint("chair_joint").qposadr[0]) == CHAIR_QPOS_ADR  # the layout holds
    data = mujoco.MjData(model)
    data.qpos[:] = standing_qpos(model, xy=(-3.5, 0.0), arm=UNSTOWED_ARM_POSE)
    mujoco.mj_forward(model, data)
    prev = np.zeros(12, dtype=np.float32)
    for _ in range(STEPS):
        prev = policy_step(model, data, standing_command(UNSTOWED_ARM_POSE), prev)
    assert data.time == pytest.approx(STEPS * COMMAND_DT)
    assert 0.43 < data.qpos[2] < 0.53 and np.all(np.isfinite(data.qpos))


def test_the_original_world_keeps_judos_options_exactly():
    """The reference preset must not change the world it names: every mjOption field equals
    that of judo's MJCF compiled as it is (``spot_model``)."""
    assert REFERENCE_WORLD == "original"
    model, judo = build_chair_world(REFERENCE_WORLD), spot_model()
    for name in dir(judo.opt):
        value = getattr(judo.opt, name)
        if name.startswith("_") or callable(value):
            continue
        np.testing.assert_array_equal(getattr(model.opt, name), value, err_msg=name)
    assert model.nq == 53 and model.nv == 46 and substeps_of(model) == 2


def test_the_default_world_is_balanced_for_plant_and_rollouts():
    """One world for the simulated robot and the planner unless told otherwise."""
    assert DEFAULT_WORLD == "balanced"
    task = make_task("spot_chair", nthread=1)
    assert task.world.name == DEFAULT_WORLD and task.plant_world == task.world


def test_unknown_names_and_bad_options_are_one_line_config_errors():
    for call in (lambda: spot_world("nope"), lambda: build_chair_world("nope"),
                 lambda: make_task("spot_chair", world="nope"),
                 lambda: make_task("spot_chair", plant_world="nope"),
                 lambda: world_with_options("original", ["integrator=verlet"]),
                 lambda: world_with_options("original", ["substeps=two"]),
                 lambda: world_with_options("original", ["colour=red"]),
                 lambda: world_with_options("original", ["substeps"]),
                 lambda: world_with_options("original", ["substeps=0"]),
                 lambda: world_with_options("original", ["self_collision=maybe"])):
        with pytest.raises(ConfigError) as err:
            call()
        assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="known: original, fast"):
        spot_world("nope")


def test_options_reach_the_model():
    world = world_with_options("original", ["integrator=euler", "substeps=4", "cone=pyramidal",
                                            "iterations=7", "self_collision=false",
                                            "joint_friction=false", "casters=welded"])
    assert isinstance(world, SpotWorld) and world.name.startswith("original+")
    model = build_chair_world(world)
    assert model.opt.timestep == pytest.approx(0.005) and substeps_of(model) == 4
    assert model.opt.cone == mujoco.mjtCone.mjCONE_PYRAMIDAL and model.opt.iterations == 7
    assert model.nq == CHAIR_QPOS_ADR + 7  # welded casters: no ball joints
    assert not np.any(model.dof_frictionloss)
    spot = model.body("body").id
    ours = [g for g in range(model.ngeom) if model.body_rootid[model.geom_bodyid[g]] == spot
            and (model.geom_contype[g] or model.geom_conaffinity[g])]
    others = [g for g in range(model.ngeom) if g not in ours
              and (model.geom_contype[g] or model.geom_conaffinity[g])]
    # Spot's geoms never meet each other, and meet everything else.
    for a in ours:
        for b in ours:
            assert not (model.geom_contype[a] & model.geom_conaffinity[b])
        for b in others:
            assert model.geom_contype[a] & model.geom_conaffinity[b]


def test_a_timestep_that_does_not_divide_the_command_step_is_refused():
    model = build_chair_world()
    model.opt.timestep = 0.015
    with pytest.raises(ConfigError, match="does not divide"):
        substeps_of(model)


def test_states_convert_between_worlds_and_the_plant_answers_in_the_planners_layout():
    """Rollouts in a world without caster balls, the plant in the original one."""
    welded = world_with_options("fast", ["casters=welded"])
    task = make_task("spot_chair", nthread=1, world=welded, plant_world="original")
    start = task.sample_initial_state(np.random.default_rng(3))
    original = task.plant_model
    assert SpotStateLayout.of(original).size == start.size + 5 * (4 + 3)  # balls: quat, omega
    there = convert_state(start, task.model, original)
    np.testing.assert_array_equal(convert_state(there, original, task.model), start)
    plant = task.make_plant(start)
    np.testing.assert_array_equal(plant.state(), start)
    for _ in range(5):
        plant.step(task.nominal_action(start))
    assert plant.state().shape == start.shape and plant.state()[0] == pytest.approx(0.1)
    assert plant.engine.model is original and plant.engine.substeps == 2
    fast = make_task("spot_chair", nthread=1, world="fast")
    assert fast.plant_model is fast.model  # no plant world: the rollouts' own


def test_numpy_engine_equals_each_world_stepped_with_mj_step_in_a_non_default_world(fast_task):
    """The fast world's rollouts (numpy loop) against one MjData per world stepped by
    ``policy_step`` (one 0.02 s mj_step per command step there)."""
    task, model = fast_task, fast_task.model
    start = task.sample_initial_state(np.random.default_rng(5))
    n = 4
    targets = drifting_targets(task, start, n)
    engine = SpotRolloutEngine(model, nthread=2, policy=task.policy, native=False)
    try:
        ours = engine.rollout_batch(start, targets).copy()
    finally:
        engine.close()
    datas = [mujoco.MjData(model) for _ in range(n)]
    for data in datas:
        data.qpos[:] = task.layout.qpos(start)
        mujoco.mj_forward(model, data)
    prev = np.zeros((n, 12), dtype=np.float32)
    worst = 0.0
    with single_blas_thread():
        for k in range(STEPS):
            for data in datas:  # as the engine (mujoco.rollout) does at every command step
                data.qacc_warmstart[:] = 0.0
            qpos = np.stack([d.qpos for d in datas])
            command = targets_to_command(targets[:, k], base_pose_from_qpos(qpos))
            prev = policy_step(model, datas, command, prev, task.policy)
            for i, data in enumerate(datas):
                expected = task.layout.pack(get_state(model, data), prev[i])
                worst = max(worst, np.abs(ours[i, k] - expected).max())
    # Exact: the same policy batch, the same mj_step calls from the same cold solver start.
    # (With MuJoCo's warm start kept in the reference, the Newton solver stops elsewhere
    # within its tolerance: ~1e-5 after 0.5 s here, as in the original world.)
    assert worst == 0.0
    assert np.ptp(task.layout.qpos(ours)[:, -1, 0]) > 0.05  # the worlds did differ


@pytest.mark.skipif(native_unavailable() is not None, reason=str(native_unavailable()))
def test_compiled_engine_physics_is_mujoco_rollout_in_a_non_default_world(fast_task):
    """Each command step of the compiled loop in the fast world, replayed by mujoco.rollout
    (its one physics step) from the state before it: the same states, bit for bit."""
    task = fast_task
    start = task.sample_initial_state(np.random.default_rng(6))
    n = 3
    targets = drifting_targets(task, start, n, seed=7)
    engine = SpotRolloutEngine(task.model, nthread=1, policy=task.policy, native=True)
    try:
        ours = engine.rollout_batch(start, targets).copy()
        _, ctrl = applied_inputs(engine, start, targets, ours)
    finally:
        engine.close()
    layout = task.layout
    before = np.concatenate([np.broadcast_to(start, (n, 1, layout.size)), ours[:, :-1]], 1)
    init = np.ascontiguousarray(layout.physics(before).reshape(n * STEPS, -1))
    held = np.ascontiguousarray(ctrl.reshape(n * STEPS, 1, -1))  # one substep
    with mj_rollout.Rollout(nthread=0) as pool:
        replay, _ = pool.rollout(task.model, mujoco.MjData(task.model), init, held)
    np.testing.assert_array_equal(replay[:, -1].reshape(n, STEPS, -1), layout.physics(ours))
