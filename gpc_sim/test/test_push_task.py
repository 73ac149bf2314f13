import numpy as np
import pytest

from gpc_sim.push import constants as C
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task


@pytest.fixture(scope="module")
def task():
    return make_task("push_t", nthread=1)


def test_initial_states_are_reproducible_and_distinct(task):
    a = task.sample_initial_state(initial_state_rng(7, 3))
    b = task.sample_initial_state(initial_state_rng(7, 3))
    c = task.sample_initial_state(initial_state_rng(7, 4))
    d = task.sample_initial_state(initial_state_rng(8, 3))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, d)


def test_push_k_uses_the_k_block():
    k = make_task("push_k", nthread=1)
    assert k.shape.name == "K" and k.model.nbody == 3
    assert k.model.ngeom == 1 + 1 + len(k.shape.rectangles)  # table, pusher, block pieces


def test_initial_states_are_unsolved_and_clear_of_the_pusher(task):
    for trial in range(20):
        s = task.sample_initial_state(initial_state_rng(0, trial))
        assert not task.success(s)
        pose = task.block_pose(s)
        assert np.all(np.abs(pose[:2]) <= task.config.spawn_block_extent)


def test_success_at_goal_and_not_away(task):
    s = np.zeros(task.layout.size)
    task.layout.qpos(s)[:] = [0.3, 0.3, *task.goal]
    assert task.success(s) and task.coverage(s) == pytest.approx(1.0)
    task.layout.qpos(s)[2] += 0.05
    assert not task.success(s)


def test_block_is_pushed_by_the_pusher_and_then_stops(task):
    """Physics sanity: contact moves the block; table friction stops it."""
    s = np.zeros(task.layout.size)
    task.layout.qpos(s)[:] = [0.0, -0.2, 0.0, 0.0, 0.0]
    push = np.tile([0.0, 0.05], (1, 200, 1))  # drive the pusher up into the stem
    pushed = task.rollout(s, push)[0, -1].copy()
    assert task.layout.qpos(pushed)[3] > 0.02  # the block moved forward
    hold = np.tile(task.pusher_position(pushed), (1, 100, 1))
    rest = task.rollout(pushed, hold)[0, -1]
    assert np.abs(task.layout.qvel(rest)[2:]).max() < 1e-3  # and came to rest


def test_costs_prefer_the_goal(task):
    near = np.zeros((1, 1, task.layout.size))
    far = near.copy()
    task.layout.qpos(near)[..., 2:5] = [0.01, 0.0, 0.0]
    task.layout.qpos(far)[..., 2:5] = [0.2, 0.0, 1.0]
    u = np.zeros((1, 1, 2))
    assert task.cost(near, u)[0] < task.cost(far, u)[0]


def test_episode_limit_is_the_papers():
    assert C.MAX_STEPS == 2500 and C.TIMESTEP == 0.01 and C.SUCCESS_COVERAGE == 0.9


def test_proximity_is_the_papers_pusher_block_distance(task):
    """By default the pusher is drawn to the block itself, whichever side it is on."""
    assert task.config.push_offset == 0.0
    behind = np.zeros((1, 1, task.layout.size))
    task.layout.qpos(behind)[..., :] = [0.15, 0.0, 0.1, 0.0, 0.0]  # block at +x, goal at 0
    between = behind.copy()
    task.layout.qpos(between)[..., :2] = [0.05, 0.0]  # same distance from the block, other side
    u = np.zeros((1, 1, 2))
    assert task.running_cost(behind, u)[0, 0] == pytest.approx(task.running_cost(between, u)[0, 0])
    farther = behind.copy()
    task.layout.qpos(farther)[..., :2] = [0.25, 0.0]
    assert task.running_cost(farther, u)[0, 0] - task.running_cost(behind, u)[0, 0] == (
        pytest.approx(task.config.w_proximity * 0.1)
    )


def test_push_offset_pulls_the_pusher_behind_the_block():
    """The optional shaping: an attraction point on the side away from the goal."""
    shaped = make_task("push_t", nthread=1, push_offset=0.05)
    behind = np.zeros((1, 1, shaped.layout.size))
    shaped.layout.qpos(behind)[..., :] = [0.15, 0.0, 0.1, 0.0, 0.0]
    between = behind.copy()
    shaped.layout.qpos(between)[..., :2] = [0.05, 0.0]
    u = np.zeros((1, 1, 2))
    assert shaped.running_cost(between, u)[0, 0] - shaped.running_cost(behind, u)[0, 0] == (
        pytest.approx(shaped.config.w_proximity * 0.1)
    )


def test_the_t_task_is_mirror_symmetric_in_its_physics_costs_and_observation(task):
    """A reflected start under reflected controls traces the reflected trajectory."""
    r = task.reflection()
    assert r is not None
    rng = np.random.default_rng(3)
    start = task.sample_initial_state(initial_state_rng(0, 5))
    task.layout.qpos(start)[0:2] = task.block_pose(start)[:2] + [0.12, -0.05]  # pusher nearby
    mirror = r.state(start)
    block = task.block_pose(start)[:2]
    controls = block + rng.normal(0.0, 0.08, (1, 150, 2))  # sweeps through the block
    states = task.rollout(start, controls).copy()  # the engine reuses its output buffer
    mirrored = task.rollout(mirror, controls * r.action)
    moved = np.linalg.norm(task.block_pose(states[0, -1])[:2] - block)
    assert moved > 0.01  # the block was pushed: contacts are part of the check
    np.testing.assert_allclose(mirrored, r.state(states), atol=1e-9)
    np.testing.assert_allclose(task.cost(mirrored, controls * r.action),
                               task.cost(states, controls), rtol=1e-9)
    np.testing.assert_allclose(task.observation(mirrored[0, -1]),
                               task.observation(states[0, -1]) * r.observation, atol=1e-9)


def test_the_k_task_and_an_off_axis_goal_claim_no_mirror_symmetry():
    assert make_task("push_k", nthread=1).reflection() is None
    assert make_task("push_t", nthread=1, goal=(0.05, 0.0, 0.0)).reflection() is None
    assert make_task("push_t", nthread=1, goal=(0.0, 0.0, 0.3)).reflection() is None
