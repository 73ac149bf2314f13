"""MuJoCo's warnings go to the ``gpc_sim.mujoco`` logger, never to stdout.

By default MuJoCo prints a warning (e.g. "Nan, Inf or huge value in QACC") with
``printf`` to stdout and appends it to ``MUJOCO_LOG.TXT`` in the working directory.
Stdout is where ``gpc eval --json`` and ``gpc bench --json`` write their JSON: one
unstable rollout made that output unparseable. Routed through ``logging``, the
warnings reach stderr (through logging's last-resort handler when the program has
configured none) and whatever handlers an embedding program sets up.
"""

from __future__ import annotations

import logging

import mujoco

logger = logging.getLogger("gpc_sim.mujoco")


def _log_warning(message: str) -> None:
    """MuJoCo's warning callback; runs on rollout threads too, so it only logs."""
    try:
        logger.warning("MuJoCo: %s", message.strip())
    except Exception:  # noqa: BLE001 - an exception must never unwind into MuJoCo's C code
        pass


def route_mujoco_warnings() -> None:
    """Install the callback (idempotent; MuJoCo's handler is process-wide)."""
    if mujoco.get_mju_user_warning() is not _log_warning:
        mujoco.set_mju_user_warning(_log_warning)
