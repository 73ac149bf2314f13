"""A MuJoCo model stepped one control at a time: the closed-loop stand-in for hardware."""

from __future__ import annotations

import mujoco
import numpy as np

from gpc_sim.rollout import get_state, set_state
from gpc_sim.task import Plant


class MujocoPlant(Plant):
    """Applies a control as ``data.ctrl`` for ``substeps`` physics steps."""

    def __init__(self, model: mujoco.MjModel, state: np.ndarray, substeps: int = 1) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        self.substeps = substeps
        set_state(model, self.data, state)

    def state(self) -> np.ndarray:
        return get_state(self.model, self.data)

    def step(self, control: np.ndarray) -> None:
        self.data.ctrl[:] = control
        mujoco.mj_step(self.model, self.data, nstep=self.substeps)
