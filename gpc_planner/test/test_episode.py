"""run_episode: closed loop until success, the step limit, or a simulation blow-up."""

import numpy as np

from gpc_planner.episode import run_episode
from gpc_planner.methods import build_planner
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task


def test_a_simulation_that_blows_up_ends_the_episode_as_a_failure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MuJoCo writes its warning to MUJOCO_LOG.TXT in the cwd
    task = make_task("push_t", nthread=1)
    planner = build_planner(task, "ps", np.random.default_rng(0), horizon=0.2, num_rollouts=4)
    start = task.sample_initial_state(initial_state_rng(0, 0))
    calm = run_episode(planner, start, max_steps=5)
    assert not calm.diverged and calm.steps == 5
    start[0] = 5.0  # a clock past 0: a reset to time 0 shows (``diverged``'s blind spot)
    task.layout.qvel(start)[:] = 1e30  # MuJoCo resets the world at the first step
    blown = run_episode(planner, start, max_steps=5)
    assert blown.diverged and not blown.success and blown.steps == 1
