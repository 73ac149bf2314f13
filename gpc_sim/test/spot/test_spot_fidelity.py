"""``spot.fidelity``: comparing a world's rollouts with another's on the same sequences.

Tiny cases (2 starts x 4 sequences x 1 s): a world against itself is exact, a cheaper one
is compared figure by figure, bad input is refused. A few seconds after the task builds.
"""

from __future__ import annotations

import numpy as np
import pytest

from gpc_sim.spot.fidelity import approach, compare_worlds
from gpc_sim.spot.world import chair_pose_from_qpos
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task

HORIZON = 1.0


@pytest.fixture(scope="module")
def original():
    return make_task("spot_chair", nthread=2, horizon=HORIZON, world="original")


@pytest.fixture(scope="module")
def fast():
    return make_task("spot_chair", nthread=2, horizon=HORIZON, world="fast")


@pytest.fixture(scope="module")
def case(original):
    """Two starts and four drifting target sequences of 1 s from each."""
    starts, batches = [], []
    for trial in range(2):
        state = original.sample_initial_state(initial_state_rng(1, trial))
        rng = np.random.default_rng(trial)
        drift = rng.normal(0.0, [0.8, 0.8, 0.8, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], (4, 1, 9))
        steps = round(HORIZON / original.dt)
        starts.append(state)
        batches.append(original.nominal_action(state)
                       + drift * np.linspace(0.0, 1.0, steps)[None, :, None])
    return starts, batches


def test_a_world_against_itself_is_exact(original, case):
    result = compare_worlds(original, original, *case, times=(0.5, 1.0))
    assert result["reference"] == result["world"] == "original"
    assert result["starts"] == 2 and result["rollouts"] == 8
    assert set(result["errors"]) == {"0.5s", "1s"}
    for row in result["errors"].values():
        assert all(v == {"mean": 0.0, "max": 0.0} for v in row.values())
    assert result["falls"]["reference"] == result["falls"]["world"]
    assert result["tips"]["reference"] == result["tips"]["world"]
    for key in ("rank_corr_final_distance", "rank_corr_cost", "elite_overlap"):
        assert result[key] == {"mean": 1.0, "min": 1.0}
    assert result["rollout_s"]["world"] > 0


def test_a_cheaper_world_drifts_a_little_and_keeps_most_of_the_ranking(original, fast, case):
    result = compare_worlds(original, fast, *case, times=(1.0,), elites=2)
    assert result["world"] == "fast"
    errors = result["errors"]["1s"]
    assert 0.0 < errors["torso_position_m"]["mean"] <= errors["torso_position_m"]["max"] < 0.5
    assert errors["torso_yaw_rad"]["max"] < 0.5
    assert -1.0 <= result["rank_corr_cost"]["min"] <= result["rank_corr_cost"]["mean"] <= 1.0
    assert result["rank_corr_cost"]["mean"] > 0.5
    assert result["elite_overlap"]["min"] in (0.0, 0.5, 1.0)
    assert result["falls"]["world"] <= 8 and result["tips"]["world"] <= 8


def test_bad_input_is_refused(original, case):
    starts, batches = case
    with pytest.raises(ValueError, match="one target batch per start"):
        compare_worlds(original, original, starts, batches[:1])
    with pytest.raises(ValueError, match="do not fit"):
        compare_worlds(original, original, starts, batches, times=(2.0,))


def test_approach_walks_the_robot_to_the_chair(original):
    state = original.sample_initial_state(initial_state_rng(2, 0))
    np.testing.assert_array_equal(approach(original, state, 0.0), state)
    after = approach(original, state, 2.0)
    qpos, qpos_after = original.layout.qpos(state), original.layout.qpos(after)
    chair = chair_pose_from_qpos(qpos)[:2]
    assert np.linalg.norm(qpos_after[:2] - chair) < np.linalg.norm(qpos[:2] - chair) - 1.0
    assert qpos_after[2] > 0.4 and original.layout.time(after) == pytest.approx(2.0)
