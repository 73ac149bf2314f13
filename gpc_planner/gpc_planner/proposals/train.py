"""``gpc train``: fit the flow-matching proposal model to collected data.

Adam with a linear warm-up then a cosine decay (paper: lr 1e-4, 500 warm-up
steps). Every ``checkpoint_every`` epochs, ``OUT/checkpoint.pt`` is written
atomically with the weights, the optimizer and scheduler states, the loss
history and the RNG state; a rerun with the same settings continues from it
and ends with the same weights as an uninterrupted run. At the end
``OUT/model.pt`` (the model file, see ``flow_model``), ``loss.png`` and a model
card (``model_card.md`` + ``model_card.json``) are written beside it. The run's
bookkeeping (checkpoint, resume, progress, model file and card) is ``training_run``'s,
shared with ``nf_train``; this file holds the flow-matching maths and data.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from gpc_planner.collect import Dataset, load_dataset
from gpc_planner.outputs import check_output_dir
from gpc_planner.proposals.flow_model import (
    FlowConfig,
    ModelInfo,
    Normalization,
    ProposalModel,
    build_model,
    flow_matching_loss,
    parameter_count,
)
from gpc_planner.proposals.model_card import render_model_card
from gpc_planner.proposals.training_run import (
    TrainingDiverged,
    TrainingRun,
    card_provenance,
    training_folder,
)
from gpc_sim.errors import ConfigError
from gpc_sim.limits import check_seed, require_memory

# The state a checkpoint holds (``checkpoint`` has the format and ``training_run`` the loop).
CHECKPOINT_KEYS = ("header", "state_dict", "optimizer", "scheduler", "generator", "epoch", "step",
                   "losses", "wall_s")


@dataclass
class TrainConfig:
    """Training settings (CPU-sized defaults; the paper: batch 40,000, 1,000 epochs)."""

    epochs: int = 200
    batch_size: int = 2048
    lr: float = 1e-4
    warmup_steps: int = 500
    hidden: int = 256
    layers: int = 3
    time_features: int = 16
    seed: int = 0
    checkpoint_every: int = 10  # epochs
    mirror: bool = False  # add every sample's mirror image (tasks with a Reflection only)

    def flow_config(self) -> FlowConfig:
        return FlowConfig(hidden=self.hidden, layers=self.layers,
                          time_features=self.time_features)


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up to 1 over ``warmup`` steps, then cosine decay to 0 at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    span = max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / span)))


def model_info(data: Dataset) -> ModelInfo:
    m = data.meta
    return ModelInfo(task=m["task"], task_family=m.get("task_family", ""),
                     observation_names=list(m["observation_names"]),
                     knot_times=list(m["knot_times"]), interpolation=m["interpolation"],
                     action_low=list(m["action_low"]), action_high=list(m["action_high"]))


def mirrored(data: Dataset) -> Dataset:
    """``data`` plus the mirror image of every sample, under the task's reflection.

    The reflected tuple (S x, S h, S U*) is what the collection would have recorded from
    the reflected start, because the task maps onto itself under the reflection
    (``Task.reflection``, checked by the task's tests); so the model sees twice the
    data and learns a symmetric proposal. Tasks without a reflection are refused.
    """
    from gpc_sim.tasks import make_task

    task_name = data.meta["task"]
    reflection = make_task(task_name, nthread=1).reflection()
    if reflection is None:
        raise ConfigError(f"mirror: task {task_name} has no mirror symmetry "
                          "(Task.reflection is None)", setting="mirror")
    return replace(
        data,
        obs=np.concatenate([data.obs, data.obs * reflection.observation]),
        hist=np.concatenate([data.hist, data.hist * reflection.observation]),
        knots=np.concatenate([data.knots, data.knots * reflection.action]),
        episode=np.concatenate([data.episode, data.episode]),
    )


def _data_fingerprint(data: Dataset) -> dict:
    fingerprint = {"sources": [str(Path(s).resolve()) for s in data.sources],
                   "samples": len(data), "episodes": data.episodes}
    if data.failures_within is not None:  # only then: older checkpoints still resume
        fingerprint.update(failures=data.failures, failures_within=data.failures_within)
    return fingerprint


def train(data: Dataset, config: TrainConfig, out: str | Path, progress: bool = True,
          on_epoch: Callable[[int, float], None] | None = None) -> dict:
    """Train (or resume) into ``out``; returns the model card's dict.

    ``on_epoch(epoch, mean_loss)`` runs after each finished epoch (and its
    checkpoint), for progress displays and tests.
    """
    check_train_config(config)
    check_network_memory(data, config, min(config.batch_size, 2 * len(data)))
    with training_folder(out) as folder:
        return _train(data, config, folder, progress, on_epoch)


def check_train_config(config: TrainConfig) -> None:
    """ConfigError naming the first setting no training can run with, before any work."""
    for name in ("epochs", "batch_size", "hidden", "layers", "time_features",
                 "checkpoint_every"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if not (isinstance(config.warmup_steps, int) and config.warmup_steps >= 0):
        raise ConfigError(f"warmup_steps must be an integer >= 0, got {config.warmup_steps!r}")
    if not (math.isfinite(config.lr) and config.lr > 0):
        raise ConfigError(f"lr must be a positive number, got {config.lr}")
    check_seed(config.seed)


def check_network_memory(data: Dataset, config: TrainConfig, batch: int) -> None:
    """ConfigError when the network and its training state cannot fit in memory.

    Weights, gradients and Adam's two moments are four float32 copies of the
    parameters; a batch keeps about three activations per hidden unit for backward.
    """
    knot_dim = int(np.prod(data.knots.shape[1:]))
    params = parameter_count(knot_dim, data.obs.shape[1], config.flow_config())
    activations = 3 * batch * config.hidden * config.layers
    require_memory(4 * (4 * params + activations),
                   f"a {config.layers} x {config.hidden} network trained in batches of {batch}")


def _train(data: Dataset, config: TrainConfig, out: Path, progress: bool,
           on_epoch: Callable[[int, float], None] | None) -> dict:
    """The training of ``train`` once everything is checked (and ``out`` is locked)."""
    started = time.perf_counter()
    if config.mirror:
        data = mirrored(data)
    norm = Normalization.fit(data.obs, data.knots)
    shape = (int(data.knots.shape[1]), int(data.knots.shape[2]))
    model = build_model(data.obs.shape[1], shape, config.flow_config(), norm, model_info(data),
                        seed=config.seed)
    net = model.net.float().train()
    obs = torch.as_tensor(norm.obs(data.obs), dtype=torch.float32)
    hist = torch.as_tensor(norm.obs(data.hist), dtype=torch.float32)
    u1 = torch.as_tensor(norm.knots(data.knots), dtype=torch.float32)
    n = len(u1)
    batch = min(config.batch_size, n)
    steps_per_epoch = math.ceil(n / batch)
    total = config.epochs * steps_per_epoch
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(s, config.warmup_steps, total))
    gen = torch.Generator().manual_seed(config.seed)
    run = TrainingRun(out, {"config": asdict(config), "data": _data_fingerprint(data)},
                      CHECKPOINT_KEYS, "epoch", config.epochs, config.checkpoint_every,
                      advice="lower lr, or check the data", made_from="settings or data",
                      started=started)
    step = 0
    losses: list[float] = []
    ckpt = run.resume()
    if ckpt is not None:
        net.load_state_dict(ckpt["state_dict"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        gen.set_state(ckpt["generator"])
        step, losses = ckpt["step"], list(ckpt["losses"])

    def one_epoch(epoch: int) -> dict[str, str]:
        nonlocal step
        perm = torch.randperm(n, generator=gen)
        total_loss = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * batch:(i + 1) * batch]
            loss = flow_matching_loss(net, u1[idx], obs[idx], hist[idx], gen)
            value = loss.item()
            if not math.isfinite(value):  # before the step: the checkpoint stays finite
                raise run.diverged(value, f"epoch {epoch + 1}, step {step + 1} (learning "
                                   f"rate {sched.get_last_lr()[0]:g})")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            total_loss += value * len(idx)
        losses.append(total_loss / n)
        return {"loss": f"{losses[-1]:.4f}", "lr": f"{sched.get_last_lr()[0]:.2e}"}

    def state() -> dict:
        return {"state_dict": net.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "generator": gen.get_state(),
                "epoch": run.done, "step": step, "losses": losses}

    run.run(one_epoch, state, progress, "train",
            None if on_epoch is None else lambda epoch: on_epoch(epoch, losses[-1]))
    net.eval()
    card = run.finish(model, net.parameters(), render_model_card,
                      lambda wall: _model_card(data, config, losses, step, wall))
    plot_losses(losses, out / "loss.png")
    return card


def _model_card(data: Dataset, config: TrainConfig, losses: list[float], steps: int,
                wall: float) -> dict:
    return {
        "task": data.meta["task"],
        "data": data.sources,
        "dataset": {"samples": len(data), "episodes": data.episodes,
                    "failed_episodes": data.failures,
                    "failures_within_m": data.failures_within,
                    "collection_settings": data.meta.get("settings")},
        "settings": asdict(config),
        "steps": steps,
        "final_loss": losses[-1] if losses else None,
        "min_loss": min(losses) if losses else None,
        "seed": config.seed,
        "wall_time_s": round(wall, 1),
        **card_provenance(("torch", "numpy", "mujoco")),
        "files": {"model": "model.pt", "loss_plot": "loss.png", "checkpoint": "checkpoint.pt"},
        # Recommended sampling per method, as in the model file: none (the paper's) until
        # ``gpc model set-sampling`` records some.
        "sampling": {},
    }


def plot_losses(losses: list[float], path: str | Path) -> Path:
    """The per-epoch training loss as a PNG (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    ax.plot(np.arange(1, len(losses) + 1), losses)
    ax.set_xlabel("epoch")
    ax.set_ylabel("flow-matching loss")
    if losses and min(losses) > 0:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def train_from_dirs(dirs: list[str | Path], config: TrainConfig, out: str | Path,
                    progress: bool = True, failures_within: float | None = None) -> dict:
    """``gpc train``: load the data folders and train (the output is checked first: loading
    a large dataset takes a while). ``failures_within``: ``load_dataset``'s."""
    check_train_config(config)
    check_output_dir(out, "training folder")
    return train(load_dataset(dirs, failures_within), config, out, progress)


__all__ = ["ProposalModel", "TrainConfig", "TrainingDiverged", "lr_factor", "plot_losses",
           "train", "train_from_dirs"]
