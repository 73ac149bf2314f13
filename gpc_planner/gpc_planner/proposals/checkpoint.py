"""Training checkpoints: one file format and one resume rule for every ``gpc train``.

A checkpoint (``OUT/checkpoint.pt``, a torch zip read with ``weights_only=True``) is::

    format_version   int, CHECKPOINT_FORMAT_VERSION
    header           dict, what the run was started with (settings, data, task): a rerun
                     resumes only with an equal header
    ...              the training's own state (weights, optimizer, counters, history)
    wall_s           float, seconds of training so far, over every resumed part

Each training names the keys its state needs (``keys``, ``header`` and ``wall_s``
among them); a file lacking one is refused, not half-restored. Written atomically, so
an interrupted run leaves the previous checkpoint or the new one, never half of one.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch

from gpc_planner.proposals.torch_io import save_atomic
from gpc_sim.errors import ConfigError

CHECKPOINT_FORMAT_VERSION = 1


def save_checkpoint(path: Path, header: dict, state: dict, wall_s: float) -> None:
    """Write ``state`` (the training's own keys, in order) atomically as a checkpoint."""
    save_atomic({"format_version": CHECKPOINT_FORMAT_VERSION, "header": header, **state,
                 "wall_s": wall_s}, path)


def load_checkpoint(path: Path, keys: Iterable[str]) -> dict:
    """The checkpoint at ``path``; ConfigError (delete it to start afresh) when it is
    unreadable, of another format or lacks one of ``keys``."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same user error
        raise ConfigError(f"{path} is not a readable checkpoint ({type(err).__name__}); "
                          "delete it to start afresh") from None
    if not isinstance(ckpt, dict) or ckpt.get("format_version") != CHECKPOINT_FORMAT_VERSION:
        raise ConfigError(f"{path} is not a checkpoint of this gpc version; delete it")
    missing = [k for k in keys if k not in ckpt]
    if missing:
        raise ConfigError(f"{path} is an incomplete checkpoint (no {', '.join(missing)}); "
                          "delete it to start afresh")
    return ckpt


def resume_checkpoint(path: Path, keys: Iterable[str], header: dict,
                      made_from: str = "settings") -> dict | None:
    """The checkpoint to continue from, None when there is none; ConfigError when it was
    made with another ``header`` (``made_from`` names what the header holds: continuing
    it would end with weights no uninterrupted run of these settings gives)."""
    if not path.exists():
        return None
    ckpt = load_checkpoint(path, keys)
    if ckpt["header"] != header:
        raise ConfigError(f"{path} was made with other {made_from}; train into another "
                          "folder or delete it to start afresh", setting="out")
    return ckpt


__all__ = ["CHECKPOINT_FORMAT_VERSION", "load_checkpoint", "resume_checkpoint",
           "save_checkpoint"]
