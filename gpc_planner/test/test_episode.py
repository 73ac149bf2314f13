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


def test_a_stalled_episode_ends_early_and_says_why_with_its_cost(monkeypatch):
    from gpc_planner.early_stop import StallRule

    task = make_task("push_t", nthread=1)
    planner = build_planner(task, "cem", np.random.default_rng(0), horizon=0.2, num_rollouts=4)
    start = task.sample_initial_state(initial_state_rng(0, 1))
    monkeypatch.setattr(type(task), "object_position", lambda self, state: np.zeros(2))
    rule = StallRule(window=0.5, distance=0.01)
    stalled = run_episode(planner, start, max_steps=200, stall=rule)
    # Replanning at 10 Hz (every 0.1 s): the window is full at t = 0.5 s, step 50.
    assert stalled.stopped is not None and "stalled" in stalled.stopped
    assert stalled.steps == 50 and not stalled.success
    assert stalled.wall_s > 0.0 and stalled.cpu_s > 0.0
    monkeypatch.setattr(type(task), "object_position",
                        lambda self, state: np.array([state[0], 0.0]))  # moves 0.1 m/s
    moving = run_episode(planner, start, max_steps=80, stall=rule)
    assert moving.stopped is None and moving.steps == 80


def test_a_collision_ends_the_episode_as_a_failure():
    """Task.failed: nav_dyn's robot heads into an obstacle faster than it can brake."""
    task = make_task("nav_dyn", nthread=1)
    planner = build_planner(task, "mppi", np.random.default_rng(0), num_rollouts=8)
    start = task.sample_initial_state(initial_state_rng(0, 0))
    obstacle = start[6:8]
    start[:2] = obstacle - np.array([1.0, 0.0])  # 0.4 m from its edge, at 6 m/s towards it
    start[2:4] = [6.0, 0.0]
    result = run_episode(planner, start, max_steps=50)
    assert result.failed and not result.success and result.steps < 5
    assert result.final_metrics["collided"] == 1.0
    assert not run_episode(planner, task.sample_initial_state(initial_state_rng(0, 0)),
                           max_steps=3).failed


def test_the_trajectory_cost_is_the_tasks_cost_of_what_was_executed(monkeypatch):
    """The NFMPC paper's figure of merit: the task's own cost of the states reached and the
    controls applied, not of any plan."""
    task = make_task("nav_dyn", nthread=1)
    planner = build_planner(task, "mppi", np.random.default_rng(0), num_rollouts=8)
    calls = []
    original = type(task).cost

    def spy(self, states, controls):
        calls.append((states.copy(), controls.copy()))
        return original(self, states, controls)

    monkeypatch.setattr(type(task), "cost", spy)
    start = task.sample_initial_state(initial_state_rng(0, 3))
    result = run_episode(planner, start, max_steps=12, record=True)
    states, controls = calls[-1]  # the last call: after the episode
    assert states.shape[:2] == (1, 12) and controls.shape == (1, 12, task.action_dim)
    np.testing.assert_array_equal(states[0], result.states[1:])
    assert np.all(controls >= task.action_low) and np.all(controls <= task.action_high)
    assert result.trajectory_cost == float(original(task, states, controls)[0])
    assert result.trajectory_cost > 0.0
