"""Fixtures shared by the Spot tests: the chair-push task and its first start, per module."""

from __future__ import annotations

import numpy as np
import pytest

from gpc_sim.spot.task import SpotChairTask
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task


@pytest.fixture(scope="module")
def task() -> SpotChairTask:
    """The chair-push task on 2 rollout threads (~1.5 s to build, mostly importing torch)."""
    return make_task("spot_chair", nthread=2)


@pytest.fixture(scope="module")
def start(task) -> np.ndarray:
    """Trial 0 of seed 0, the start the Spot tests roll out from."""
    return task.sample_initial_state(initial_state_rng(0, 0))
