"""Atomic torch saves: a crash never leaves a half-written model or checkpoint."""

from __future__ import annotations

import io
from pathlib import Path

import torch

from gpc_planner.atomic import write_atomic


def save_atomic(obj: object, path: str | Path) -> None:
    """``torch.save`` to memory, then an atomic write (fsync + rename) to ``path``."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_atomic(path, buffer.getvalue())
