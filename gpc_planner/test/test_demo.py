"""``gpc demo``: a short episode writes its picture, its states and (Spot) an image strip."""

from __future__ import annotations

import numpy as np
from matplotlib.image import imread

from gpc_planner.cli.main import main


def test_push_demo_writes_picture_and_replayable_states(tmp_path, capsys):
    assert main(["demo", "--task", "push_t", "--max-steps", "30", "--out", str(tmp_path)]) == 0
    stem = tmp_path / "push_t_cem_seed0_trial0"
    assert imread(stem.with_suffix(".png")).ndim == 3
    saved = np.load(stem.with_suffix(".npz"))
    assert saved["states"].shape[0] == 31  # the initial state and one per step
    assert float(saved["dt"]) == 0.01
    assert not bool(saved["success"])
    assert not (tmp_path / "push_t_cem_seed0_trial0_strip.png").exists()  # Spot only
    assert "FAILURE after 30 steps" in capsys.readouterr().out


def test_spot_demo_writes_an_image_strip_of_six_moments(tmp_path):
    assert main(["demo", "--task", "spot_chair", "--max-steps", "10", "--trial", "2",
                 "--out", str(tmp_path)]) == 0
    stem = tmp_path / "spot_chair_cem_seed0_trial2"
    states = np.load(stem.with_suffix(".npz"))["states"]
    assert states.shape[0] == 11
    strip = imread(f"{stem}_strip.png")
    # Six panels in two rows of three: wider than tall, unlike the single top view.
    assert strip.shape[1] > 1.5 * strip.shape[0]
    assert imread(stem.with_suffix(".png")).ndim == 3


def test_spot_demo_runs_the_world_it_is_given(tmp_path, capsys):
    """--world original replays results made before balanced became the default: the same
    start, other physics, so the states part ways; a push task has no worlds (one line)."""
    finals = {}
    for world in ("original", "balanced"):
        out = tmp_path / world
        assert main(["demo", "--task", "spot_chair", "--max-steps", "10", "--world", world,
                     "--rollouts", "4", "--out", str(out)]) == 0
        states = np.load(out / "spot_chair_cem_seed0_trial0.npz")["states"]
        finals[world] = states
    np.testing.assert_array_equal(finals["original"][0], finals["balanced"][0])
    assert not np.array_equal(finals["original"][-1], finals["balanced"][-1])
    assert main(["demo", "--task", "push_t", "--world", "original", "--out",
                 str(tmp_path / "push")]) == 2
    assert "has no worlds" in capsys.readouterr().err


def test_tasks_without_a_picture_of_their_own_get_the_generic_one(tmp_path):
    """nav_dyn and franka_obstacles have no top view of their own: the demo must not end in
    a ValueError after the episode ran."""
    import numpy as np

    from gpc_planner.plotting import plot_episode
    from gpc_sim.task import initial_state_rng
    from gpc_sim.tasks import make_task

    for name in ("nav_dyn", "franka_obstacles"):
        task = make_task(name, nthread=1)
        state = task.sample_initial_state(initial_state_rng(0, 0))
        path = plot_episode(task, np.stack([state, state]), tmp_path / f"{name}.png", name)
        assert path.stat().st_size > 1000
