import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

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
