"""What every ``gpc train`` does around its own maths: one implementation for both trainers.

GPC's flow matching (``train``, units: epochs) and the NFMPC/FlowMPPI episodic training
(``nf_train``, units: episodes) differ in their loss and their data, not in how a run is
kept: the output folder is checked and locked (``training_folder``); a checkpoint is
resumed only with the same settings; after each unit the checkpoint is written every
``every`` units (and after the last), the progress bar moves and the caller's hook runs,
in that order; a non-finite loss or weight stops the run without a model
(``TrainingDiverged``); at the end the model file and its card (JSON and Markdown) are
written, the card's wall time counting every resumed part. Keeping this in one place is
what keeps the two trainers' checkpoints, resumes and cards alike.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Protocol

import torch

from gpc_planner.atomic import write_atomic, write_json_atomic
from gpc_planner.outputs import check_output_dir, exclusive_output
from gpc_planner.proposals.checkpoint import resume_checkpoint, save_checkpoint
from gpc_sim.errors import ConfigError


class TrainingDiverged(ConfigError):
    """The loss became NaN or infinite: the model is lost, so none is written."""


class SavableModel(Protocol):
    """A model a training writes: it names its file (``source``) and saves itself."""

    source: str

    def save(self, path: str | Path) -> None: ...


@contextmanager
def training_folder(out: str | Path) -> Iterator[Path]:
    """``out`` checked as a folder to train into and locked for the block: two runs in
    one folder would overwrite each other's checkpoint."""
    folder = check_output_dir(out, "training folder")
    with exclusive_output(folder, folder / "train.lock"):
        yield folder


def package_versions(names: Iterable[str]) -> dict[str, str | None]:
    """Installed versions of ``names`` (None for one that is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def card_provenance(packages: Iterable[str]) -> dict:
    """The card entries that say what made a model: package versions, Python, date."""
    return {"versions": package_versions(packages), "python": platform.python_version(),
            "created": datetime.now(UTC).isoformat(timespec="seconds")}


class TrainingRun:
    """One training into ``out``: its checkpoint, its clock, its loop and its files.

    ``header`` is what a checkpoint must match to be resumed (``made_from`` says what it
    holds, for the message); ``keys`` the checkpoint keys of this training's state, of
    which ``unit`` ("epoch", "episode") counts the finished units; ``advice`` ends every
    divergence message. ``started`` (``time.perf_counter``; default: now) is when the
    training began, so that the wall time counts its set-up (data, normalisation) too.
    """

    def __init__(self, out: Path, header: dict, keys: tuple[str, ...], unit: str,
                 total: int, every: int, advice: str, made_from: str = "settings",
                 started: float | None = None) -> None:
        self.start = time.perf_counter() if started is None else started
        self.out = out
        self.checkpoint = out / "checkpoint.pt"
        self.header = header
        self.keys = keys
        self.unit = unit
        self.total = total
        self.every = every
        self.advice = advice
        self.made_from = made_from
        self.done = 0
        self.wall_before = 0.0

    @property
    def wall_s(self) -> float:
        """Seconds of training, over every resumed part of this run."""
        return self.wall_before + time.perf_counter() - self.start

    def resume(self) -> dict | None:
        """The checkpoint to continue from (the caller restores its own state from it;
        the unit count and the clock are restored here), or None to start afresh."""
        ckpt = resume_checkpoint(self.checkpoint, self.keys, self.header, self.made_from)
        if ckpt is not None:
            self.done = int(ckpt[self.unit])
            self.wall_before = float(ckpt["wall_s"])
        return ckpt

    def run(self, one: Callable[[int], dict[str, str]], state: Callable[[], dict],
            progress: bool, desc: str, after: Callable[[int], None] | None = None) -> None:
        """Run the units left: ``one(i)`` trains unit i (from 0) and returns the progress
        bar's postfix; ``state()`` is the checkpoint's state once it is done; ``after(n)``
        runs with n units done, after the checkpoint (a hook for displays and tests)."""
        bar = None
        if progress and self.done < self.total:
            from tqdm import tqdm

            bar = tqdm(total=self.total, initial=self.done, unit=self.unit,
                       dynamic_ncols=True, desc=desc)
        try:
            while self.done < self.total:
                postfix = one(self.done)
                self.done += 1
                if self.done % self.every == 0 or self.done == self.total:
                    save_checkpoint(self.checkpoint, self.header, state(), self.wall_s)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(**postfix)
                if after is not None:
                    after(self.done)
        finally:
            if bar is not None:
                bar.close()

    def diverged(self, loss: float, where: str) -> TrainingDiverged:
        """The error for a non-finite ``loss`` at ``where`` (raised before the step that
        would spoil the weights, so the checkpoint keeps the last finite ones)."""
        return TrainingDiverged(
            f"training diverged: the loss became {loss} at {where}; no model was written "
            f"(checkpoint.pt keeps the last finite weights): {self.advice}")

    def finish(self, model: SavableModel, parameters: Iterable[torch.Tensor],
               render: Callable[[dict], str], card: Callable[[float], dict]) -> dict:
        """Write ``OUT/model.pt`` and its card (``card(wall_s)`` as ``model_card.json``,
        rendered by ``render`` as ``model_card.md``) and return the card;
        TrainingDiverged, and no file, when a weight is not finite (a finite loss can hide
        it)."""
        if not all(torch.isfinite(p).all() for p in parameters):
            raise TrainingDiverged("training diverged: the weights hold NaN or inf values; "
                                   f"no model was written: {self.advice}")
        path = self.out / "model.pt"
        model.source = str(path)
        model.save(path)
        contents = card(self.wall_s)
        write_json_atomic(self.out / "model_card.json", contents)
        write_atomic(self.out / "model_card.md", render(contents).encode())
        return contents


__all__ = ["TrainingDiverged", "TrainingRun", "card_provenance", "package_versions",
           "training_folder"]
