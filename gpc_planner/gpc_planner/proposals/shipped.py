"""Models shipped with the package: ``gpc_planner/models/<task>.pt``.

The GPC methods use the shipped model of a task when no ``--model`` is given.
The paper reuses its Push-T model on Push-K, so Push-K falls back to it; the chair push
with the obstacle-avoidance cost uses the chair push's model (the paper's Table II does).
"""

from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
# task -> task whose model serves it when it has none
FALLBACKS = {"push_k": "push_t", "spot_chair_avoid": "spot_chair"}


def default_model_path(task_name: str) -> Path | None:
    """The shipped model file for ``task_name``, or None when none is installed."""
    for name in (task_name, FALLBACKS.get(task_name)):
        if name is not None and (MODELS_DIR / f"{name}.pt").is_file():
            return MODELS_DIR / f"{name}.pt"
    return None
