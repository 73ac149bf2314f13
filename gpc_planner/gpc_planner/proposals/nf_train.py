"""``gpc train --method nfmpc|flow_mppi``: episodic training of a sampling flow (Sec. 3.4).

No data set: the controller learns from its own episodes. Episode d starts from a seeded
random initial state (a stream apart from evaluation's) and runs closed-loop, plant and
all, through ``run_episode`` with the planner built from the current weights (Eq. 11:
the outer expectation is the current policy's); the optimizer records every planning
step (``StepTrace``), NFMPC's with a second batch from the updated distribution (Eq. 12,
rolled out here: twice the rollouts of evaluation); the loss of ``nf_loss`` on that
record is backpropagated (through time, for NFMPC's latent recursion and shift model)
and Adam takes one step. The
controller's settings (rollouts, temperature, step size, latent std) are the method's
config (``registry``), the same that evaluation plans with, and go into the model file.

Resumable: ``OUT/checkpoint.pt`` (weights, Adam's state, episode count, history) is
written atomically every ``checkpoint_every`` episodes; a rerun with the same settings
continues from it and ends with the weights of an uninterrupted run (episode d's start
and the optimizer's noise are seeded by (seed, d)). At the end ``OUT/model.pt``,
``training.png`` and the model card (``model_card.md`` + ``.json``) are written. The run's
bookkeeping (checkpoint, resume, progress, model file and card) is ``training_run``'s,
shared with GPC's ``train``; this file holds the episodic maths.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from gpc_planner.control import SHIFT_TAILS, time_shift_matrix
from gpc_planner.episode import replan_every, run_episode
from gpc_planner.optimizers.base import softmax_weights
from gpc_planner.optimizers.nfmpc import NFMPC
from gpc_planner.planner import SamplingPlanner, task_spline
from gpc_planner.proposals.flow_model import ModelInfo
from gpc_planner.proposals.model_card import render_nf_model_card
from gpc_planner.proposals.nf_loss import flow_mppi_episode_loss, nfmpc_episode_loss
from gpc_planner.proposals.nf_model import (
    NF_KINDS,
    ContextNormalization,
    NormalizingFlowModel,
    build_nf_model,
)
from gpc_planner.proposals.realnvp import RealNVPConfig, ShiftConfig
from gpc_planner.proposals.training_run import TrainingRun, card_provenance, training_folder
from gpc_planner.registry import make_optimizer, method_spec
from gpc_sim.errors import ConfigError
from gpc_sim.limits import check_seed
from gpc_sim.task import Task
from gpc_sim.tasks import make_task

# The state a checkpoint holds (``checkpoint`` has the format and ``training_run`` the loop).
CHECKPOINT_KEYS = ("header", "flow", "shift", "optimizer", "episode", "history", "wall_s",
                   "best")
TRAINING_SALT = 0x7EA1  # initial states of training episodes: never evaluation's (0x5EED)


@dataclass
class NFTrainConfig:
    """Settings of an episodic flow training (sized for a few CPU hours on nav_dyn)."""

    method: str = "nfmpc"  # nfmpc | flow_mppi
    task: str = "nav_dyn"
    # ~1.3 s per episode on this (loaded) 2-core machine at 128 rollouts: about 1.5-3 h.
    episodes: int = 4000
    rollouts: int = 128  # samples per planning step while training
    lr: float = 3e-4  # Adam
    couplings: int = 6  # affine coupling layers
    hidden: int = 128  # units per hidden layer (coupling networks and shift model)
    layers: int = 2  # hidden layers (coupling networks and shift model)
    grad_clip: float = 10.0  # max gradient norm per step
    seed: int = 0
    checkpoint_every: int = 25  # episodes
    max_steps: int | None = None  # episode limit in control steps (None: the task's)
    # NFMPC: train the latent shift model with the flow (the paper's method), or keep it at
    # its initial value, the plain time shift of the plan (the paper's ablation, App. A.4).
    learn_shift: bool = True
    # NFMPC: the shift model's start (and the ablation's fixed shift): the time shift of the
    # plan with a zero appended (the paper's normal shift; training success on nav_dyn 0.84
    # from the first episodes) or with the last knot held (0.60; docs/NFMPC.md).
    shift_tail: str = "zero"
    # NFMPC: backpropagation through the latent recursion is cut every this many steps
    # (0: the whole episode; ``nf_loss.nfmpc_episode_loss`` says why).
    bptt_steps: int = 5
    # NFMPC: weight of a penalty sum((theta - theta_0)^2) over the shift model's weights,
    # keeping the learnt shift near the time shift it starts as (0: none, the paper's
    # method). Why: the learnt shift makes training success rise and then fall on nav_dyn
    # while the loss falls (docs/NFMPC.md); the fixed shift does not.
    shift_anchor: float = 0.0
    # The model file holds the weights at the end of the window of this many training
    # episodes with the highest success (0: the last weights). Training success on nav_dyn
    # rises and then falls while the loss keeps falling (docs/NFMPC.md), so the last
    # weights are not the best; the choice uses training starts only, never evaluation's.
    select_window: int = 100


def check_nf_train_config(config: NFTrainConfig) -> None:
    """ConfigError naming the first setting no training can run with, before any work."""
    if config.method not in NF_KINDS:
        raise ConfigError(f"method must be one of {', '.join(NF_KINDS)}, got "
                          f"{config.method!r}", setting="method")
    for name in ("episodes", "rollouts", "couplings", "hidden", "layers", "checkpoint_every"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}",
                              setting=name)
    if config.rollouts < 2:
        raise ConfigError(f"rollouts must be at least 2, got {config.rollouts}",
                          setting="rollouts")
    if config.max_steps is not None and (not isinstance(config.max_steps, int)
                                         or config.max_steps < 1):
        raise ConfigError(f"max_steps must be a positive integer, got {config.max_steps!r}",
                          setting="max_steps")
    for name in ("lr", "grad_clip"):
        value = getattr(config, name)
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ConfigError(f"{name} must be a positive number, got {value!r}", setting=name)
    if isinstance(config.select_window, bool) or not isinstance(config.select_window, int) \
            or config.select_window < 0:
        raise ConfigError(f"select_window must be a whole number of episodes >= 0, got "
                          f"{config.select_window!r}", setting="select_window")
    if not isinstance(config.learn_shift, bool):
        raise ConfigError(f"learn_shift must be true or false, got {config.learn_shift!r}",
                          setting="learn_shift")
    if isinstance(config.bptt_steps, bool) or not isinstance(config.bptt_steps, int) \
            or config.bptt_steps < 0:
        raise ConfigError(f"bptt_steps must be a whole number of steps >= 0, got "
                          f"{config.bptt_steps!r}", setting="bptt_steps")
    if not (isinstance(config.shift_anchor, int | float)
            and not isinstance(config.shift_anchor, bool)
            and math.isfinite(config.shift_anchor) and config.shift_anchor >= 0):
        raise ConfigError(f"shift_anchor must be a number >= 0, got "
                          f"{config.shift_anchor!r}", setting="shift_anchor")
    if config.shift_anchor and (config.method != "nfmpc" or not config.learn_shift):
        raise ConfigError("shift_anchor needs a learnt latent shift (nfmpc without "
                          "--fixed-shift)", setting="shift_anchor")
    if config.shift_tail not in SHIFT_TAILS:
        raise ConfigError(f"shift_tail must be one of {', '.join(SHIFT_TAILS)}, got "
                          f"{config.shift_tail!r}", setting="shift_tail")
    if config.method != "nfmpc" and not config.learn_shift:
        raise ConfigError(f"{config.method} has no latent shift model to keep fixed "
                          "(only nfmpc learns one)", setting="learn_shift")
    check_seed(config.seed)


def training_rng(seed: int, episode: int) -> np.random.Generator:
    """The generator of training episode ``episode``'s initial state."""
    return np.random.default_rng(np.random.SeedSequence([seed, episode, TRAINING_SALT]))


def observation_statistics(task: Task, rng: np.random.Generator, episodes: int = 32,
                           steps: int = 50) -> ContextNormalization:
    """The context's normalisation from the plant driven by random controls: initial
    states alone would give velocities no spread at all."""
    obs = []
    for _ in range(episodes):
        state = task.sample_initial_state(rng)
        plant = task.make_plant(state)
        obs.append(task.observation(state))
        for _ in range(steps):
            plant.step(rng.uniform(task.action_low, task.action_high))
            obs.append(task.observation(plant.state()))
    return ContextNormalization.fit(np.asarray(obs))


def new_model(task: Task, config: NFTrainConfig) -> NormalizingFlowModel:
    """The untrained model (identity flow, time-shift warm start) for ``task``."""
    spline = task_spline(task)
    period = replan_every(task) * task.dt
    info = ModelInfo(task=task.name, task_family=task.family,
                     observation_names=list(task.observation_names),
                     knot_times=[float(t) for t in spline.knot_times],
                     interpolation=spline.kind, action_low=list(map(float, task.action_low)),
                     action_high=list(map(float, task.action_high)))
    norm = observation_statistics(task, np.random.default_rng(config.seed))
    shape = (spline.num_knots, task.action_dim)
    controller = asdict(method_spec(config.method).make_config(
        **task.method_settings.get(config.method, {}), num_rollouts=config.rollouts))
    return build_nf_model(
        config.method, len(task.observation_names), shape, info, norm,
        RealNVPConfig(couplings=config.couplings, hidden=config.hidden, layers=config.layers),
        ShiftConfig(hidden=config.hidden, layers=config.layers, learnt=config.learn_shift),
        shift_initial=time_shift_matrix(spline.knot_times, period, spline.kind,
                                        task.action_dim, config.shift_tail),
        shift_period=period, controller=controller, seed=config.seed)


def _objective_batches(planner: SamplingPlanner, config: NFTrainConfig, episode: int
                       ) -> Callable[[int, np.ndarray, object], None] | None:
    """For NFMPC, an ``on_plan`` hook that adds Eq. 12's batch to each step's trace: N
    samples of the updated latent distribution, rolled out from the step's state, with
    their MPPI weights (``nf_loss`` says why a second batch). None for FlowMPPI."""
    optimizer = planner.optimizer
    if not isinstance(optimizer, NFMPC):
        return None
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, episode, 2]))

    def add(step: int, state: np.ndarray, plan: object) -> None:
        _, y, knots = optimizer.draw(config.rollouts, rng)
        costs = planner.evaluate(state, knots)
        last = optimizer.trace[-1]
        last.objective_outputs = y
        last.objective_weights = softmax_weights(costs, optimizer.config.temperature)

    return add


def episode_loss(model: NormalizingFlowModel, optimizer, trace, bptt_steps: int = 0
                 ) -> torch.Tensor:
    """The method's loss (``nf_loss``) of one recorded episode."""
    cfg = optimizer.config
    if model.kind == "nfmpc":
        return nfmpc_episode_loss(model, trace, cfg.step_size, cfg.flow_noise, bptt_steps)
    return flow_mppi_episode_loss(model, trace, cfg.flow_noise)


def train_nf(config: NFTrainConfig, out: str | Path, progress: bool = True,
             on_episode: Callable[[int, dict], None] | None = None) -> dict:
    """Train (or resume) into ``out``; returns the model card's dict.

    ``on_episode(episode, record)`` runs after each finished episode (and its checkpoint).
    """
    check_nf_train_config(config)
    task = make_task(config.task, nthread=1)  # an unknown task fails before any output
    with training_folder(out) as folder:
        return _train(task, config, folder, progress, on_episode)


def _header(task: Task, config: NFTrainConfig) -> dict:
    """What a checkpoint must match to be resumed (as it reads back: JSON types). The
    shift setting appears only for the ablation, so runs from before it existed resume;
    the shift's tail for NFMPC always (runs from before it held the last knot); the
    shift's bound always (a checkpoint from before it trained an unbounded shift,
    which diverged: it is not continued under other dynamics)."""
    settings = asdict(config)
    if settings["learn_shift"]:
        settings.pop("learn_shift")
    if not settings["shift_anchor"]:  # runs from before the anchor existed resume
        settings.pop("shift_anchor")
    if config.method != "nfmpc":  # no shift model: FlowMPPI runs from before it resume
        settings.pop("shift_tail")
        settings.pop("bptt_steps")
    bound = ShiftConfig()
    tuned = dict(task.method_settings.get(config.method, {}))  # only when any
    return json.loads(json.dumps({"config": settings, "task": asdict(task.config),
                                  "shift_bound": [bound.knee, bound.limit],
                                  **({"method_settings": tuned} if tuned else {})}))


def _train(task: Task, config: NFTrainConfig, out: Path, progress: bool,
           on_episode: Callable[[int, dict], None] | None) -> dict:
    started = time.perf_counter()
    model = new_model(task, config)
    # The ablation trains the flow only; the shift stays the time shift it starts as.
    params = (model.parameters() if config.learn_shift or model.shift is None
              else list(model.flow.parameters()))
    adam = torch.optim.Adam(params, lr=config.lr)
    # The anchor's reference: the shift as ``new_model`` makes it (before any resume).
    shift_start = (None if model.shift is None or not config.shift_anchor else
                   [p.detach().clone() for p in model.shift.parameters()])
    run = TrainingRun(out, _header(task, config), CHECKPOINT_KEYS, "episode", config.episodes,
                      config.checkpoint_every, advice="lower lr", started=started)
    history: list[dict] = []
    best: dict | None = None  # the weights of the best window so far (select_window)
    ckpt = run.resume()
    if ckpt is not None:
        model.flow.load_state_dict(ckpt["flow"])
        if model.shift is not None:
            model.shift.load_state_dict(ckpt["shift"])
        adam.load_state_dict(ckpt["optimizer"])
        history = list(ckpt["history"])
        best = ckpt["best"]
    # The controller the model file records (``new_model``: the method's config with the
    # task's settings and the training rollouts) is the one training plans with.
    optimizer = make_optimizer(config.method, task_spline(task), task.action_low,
                               task.action_high, np.random.default_rng(config.seed),
                               proposal=model, **model.controller)
    planner = SamplingPlanner(task, optimizer)

    def one_episode(episode: int) -> dict[str, str]:
        nonlocal best
        state = task.sample_initial_state(training_rng(config.seed, episode))
        optimizer.reseed(np.random.SeedSequence([config.seed, episode, 1]))
        optimizer.trace = []
        result = run_episode(planner, state, max_steps=config.max_steps,
                             on_plan=_objective_batches(planner, config, episode))
        loss = episode_loss(model, optimizer, optimizer.trace, config.bptt_steps)
        value = float(loss.item())
        if not math.isfinite(value):  # before the step: the checkpoint stays finite
            raise run.diverged(value, f"episode {episode + 1}")
        if shift_start is not None:  # the history keeps the method's loss, without it
            loss = loss + config.shift_anchor * anchor_penalty(model.shift, shift_start)
        adam.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        adam.step()
        history.append({"loss": value, "success": bool(result.success),
                        "failed": bool(result.failed), "steps": int(result.steps),
                        "final_error": result.final_metrics.get("position_error"),
                        "wall_s": round(result.wall_s, 3)})
        best = better_window(best, history, config.select_window, model)
        recent = history[-50:]
        return {"loss": f"{value:.3f}",
                "success": f"{np.mean([r['success'] for r in recent]):.2f}"}

    def checkpoint_state() -> dict:
        return {"flow": model.flow.state_dict(),
                "shift": model.shift.state_dict() if model.shift is not None else None,
                "optimizer": adam.state_dict(), "episode": run.done, "history": history,
                "best": best}

    run.run(one_episode, checkpoint_state, progress, f"train {config.method}",
            None if on_episode is None else lambda episode: on_episode(episode, history[-1]))
    optimizer.trace = None
    if best is not None:  # the model file holds the selected weights (the checkpoint the last)
        model.flow.load_state_dict(best["flow"])
        if model.shift is not None:
            model.shift.load_state_dict(best["shift"])
    selected = (None if best is None else
                {"episode": best["episode"], "window": config.select_window,
                 "success_rate": best["success_rate"]})
    card = run.finish(model, params, render_nf_model_card,
                      lambda wall: _model_card(task, config, model, history, wall, selected))
    plot_training(history, out / "training.png")
    return card


def anchor_penalty(module: torch.nn.Module, start: list[torch.Tensor]) -> torch.Tensor:
    """sum((theta - theta_0)^2) over ``module``'s weights: the pull back toward ``start``
    (weight decay toward the initial weights, not toward zero, which for the shift would
    pull toward no warm start at all)."""
    return sum(((p - p0) ** 2).sum() for p, p0 in zip(module.parameters(), start,
                                                       strict=True))


def better_window(best: dict | None, history: list[dict], window: int,
                  model: NormalizingFlowModel) -> dict | None:
    """``best``, or the model's current weights if the last ``window`` episodes of
    ``history`` succeeded more often than any earlier full window (the first best wins
    ties); None while no window is full or with ``window`` 0."""
    if window <= 0 or len(history) < window:
        return best
    rate = float(np.mean([r["success"] for r in history[-window:]]))
    if best is not None and rate <= best["success_rate"]:
        return best
    copy = {k: v.detach().clone() for k, v in model.flow.state_dict().items()}
    shift = (None if model.shift is None else
             {k: v.detach().clone() for k, v in model.shift.state_dict().items()})
    return {"episode": len(history), "success_rate": rate, "flow": copy, "shift": shift}


def _recent(history: list[dict], key: str, n: int = 100) -> float | None:
    values = [float(r[key]) for r in history[-n:] if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def _model_card(task: Task, config: NFTrainConfig, model: NormalizingFlowModel,
                history: list[dict], wall: float, selected: dict | None = None) -> dict:
    return {
        "task": task.name,
        "method": config.method,
        "settings": asdict(config),
        "controller": model.controller,
        "episodes": len(history),
        "recent": {"episodes": min(100, len(history)), "loss": _recent(history, "loss"),
                   "success_rate": _recent(history, "success"),
                   "collision_rate": _recent(history, "failed")},
        "seconds_per_episode": (round(wall / len(history), 3) if history else None),
        # Which weights the model file holds: those after ``episode`` (the best window of
        # training success), or None: the last.
        "selected": selected,
        "seed": config.seed,
        "wall_time_s": round(wall, 1),
        **card_provenance(("torch", "numpy")),
        "files": {"model": "model.pt", "plot": "training.png", "checkpoint": "checkpoint.pt"},
        "sampling": {},
    }


def plot_training(history: list[dict], path: str | Path, window: int = 50) -> Path:
    """Loss and success rate per episode (moving averages over ``window``) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def smooth(values: np.ndarray) -> np.ndarray:
        k = max(1, min(window, len(values)))
        return np.convolve(values, np.ones(k) / k, mode="valid") if len(values) else values

    x = np.arange(1, len(history) + 1)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(5, 5), dpi=120, sharex=True)
    for ax, key, label in ((ax1, "loss", "loss"), (ax2, "success", "success rate")):
        values = np.array([float(r[key]) for r in history])
        smoothed = smooth(values)
        ax.plot(x[len(x) - len(smoothed):], smoothed)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    ax2.set_xlabel("episode")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


__all__ = ["NFTrainConfig", "check_nf_train_config", "new_model", "observation_statistics",
           "plot_training", "train_nf", "training_rng"]
