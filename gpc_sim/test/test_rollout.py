import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from gpc_sim.rollout import diverged
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task


def test_engine_matches_bare_mujoco_rollout():
    task = make_task("push_t", nthread=2)
    state = task.sample_initial_state(initial_state_rng(0, 0))
    controls = np.random.default_rng(0).uniform(-0.3, 0.3, (8, 50, 2))
    ours = task.rollout(state, controls).copy()
    ref, _ = mj_rollout.rollout(task.model, mujoco.MjData(task.model), state[None], controls)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    # Buffers are reused between calls without leaking the previous result.
    again = task.rollout(state, controls[:, :20])
    np.testing.assert_allclose(again, ref[:, :20], atol=1e-12)


def test_engine_refuses_wrong_control_width():
    task = make_task("push_t", nthread=1)
    state = np.zeros(task.layout.size)
    try:
        task.rollout(state, np.zeros((2, 5, 3)))
    except ValueError as err:
        assert "channels" in str(err)
    else:
        raise AssertionError("expected a ValueError")


def test_a_rollout_that_blows_up_is_flagged_by_its_clock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MuJoCo writes its warning to MUJOCO_LOG.TXT in the cwd
    """MuJoCo resets a world whose accelerations blow up; the reset shows in its time."""
    task = make_task("push_t", nthread=1)
    start = task.sample_initial_state(np.random.default_rng(0))
    start[0] = 12.5  # mid-episode
    controls = np.tile(task.nominal_action(start), (3, 20, 1))
    bad = start.copy()
    task.layout.qvel(bad)[:] = 1e30  # huge velocities: MuJoCo's bad-QACC reset
    states = task.rollout(start, controls).copy()
    np.testing.assert_allclose(task.layout.time(states[:, -1]), 12.5 + 20 * task.dt)
    assert not diverged(task.layout, start, states, task.dt).any()
    blown = task.rollout(np.stack([start, bad, start]), controls)
    assert diverged(task.layout, start, blown, task.dt).tolist() == [False, True, False]
