"""``gpc iterate``: the iterative training of Kurtz & Burdick, as a comparison mode.

Iteration 0 collects with CEM and trains a model; iteration i > 0 collects
with GPC-CEM using the model of iteration i - 1 and retrains on all data so
far (aggregated, DAgger-style). Per iteration, the collection's success rate
and mean CEM sample ratio go to ``OUT/iterations.json`` and
``OUT/iterations.png``. With an ``evaluation`` spec, each iteration's model is
also evaluated online (GPC-CEM at the planner's real-time settings, as the
paper's Fig. 4 does, over the initial states of ``gpc eval``), and that success
rate and CEM sample ratio are plotted too. The paper reports that this loop
degrades.

Layout: ``OUT/iter_00/data`` (a ``gpc collect`` folder), ``OUT/iter_00/model``
(a ``gpc train`` folder), ``OUT/iter_00/eval.json`` (a ``gpc eval`` result),
... Each step is resumable on its own, so rerunning the same command continues
where it stopped. Iteration i collects with seed
``seed + i`` so that its initial states differ from the previous ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

from gpc_planner.atomic import write_json_atomic
from gpc_planner.collect import CollectSpec, check_collect_spec, collect, load_dataset
from gpc_planner.evaluation import EvalSpec, check_spec
from gpc_planner.outputs import check_output_dir, exclusive_output
from gpc_sim.errors import ConfigError
from gpc_sim.limits import check_parallel

if TYPE_CHECKING:
    from gpc_planner.ray_backend import RayBackend


def iterate(spec: CollectSpec, iterations: int, config, out: str | Path, workers: int = 1,
            progress: bool = True, evaluation: EvalSpec | None = None,
            backend: RayBackend | None = None) -> dict:
    """Run (or resume) ``iterations`` rounds of collect + train (+ evaluate) into ``out``.

    ``evaluation`` is the ``gpc eval`` spec each round's model is evaluated
    with (its ``model`` is replaced by the round's); None skips evaluation. With a
    ``backend``, collections and evaluations run on Ray (training stays here).
    """
    from gpc_planner.proposals.train import check_train_config

    check_collect_spec(spec)  # every round's settings, before round 0's collection
    check_train_config(config)
    check_parallel(workers, "workers")
    if evaluation is not None:
        check_spec(evaluation)
    if backend is not None:
        from gpc_planner.ray_backend import check_backend

        check_backend(backend)
    out = check_output_dir(out, "iteration folder")
    with exclusive_output(out, out / "iterate.lock"):
        return _iterate(spec, iterations, config, out, workers, progress, evaluation, backend)


def _iterate(spec: CollectSpec, iterations: int, config, out: Path, workers: int,
             progress: bool, evaluation: EvalSpec | None,
             backend: RayBackend | None = None) -> dict:
    """The rounds of ``iterate`` once ``out`` is checked and locked."""
    from gpc_planner.proposals.train import train

    rows: list[dict] = []
    data_dirs: list[Path] = []
    model: Path | None = None
    for i in range(iterations):
        folder = out / f"iter_{i:02d}"
        cspec = replace(spec, seed=spec.seed + i, proposal=None if model is None else str(model))
        stats = collect(cspec, folder / "data", workers=workers, progress=progress,
                        backend=backend)
        data_dirs.append(folder / "data")
        model_dir = folder / "model"
        card_path = model_dir / "model_card.json"
        if (model_dir / "model.pt").is_file() and card_path.is_file():
            card = json.loads(card_path.read_text())
        else:
            card = train(load_dataset(data_dirs), config, model_dir, progress=progress)
        model = model_dir / "model.pt"
        row = {"iteration": i, "method": cspec.method, "proposal": cspec.proposal, **stats,
               "train_samples": card["dataset"]["samples"], "final_loss": card["final_loss"]}
        if evaluation is not None:
            row["eval"] = _evaluate_round(replace(evaluation, model=(str(model),)),
                                          folder / "eval.json", workers, progress, backend)
        rows.append(row)
        summary = {"settings": {**asdict(spec), "iterations": iterations,
                                "train": asdict(config),
                                "evaluation": None if evaluation is None else asdict(evaluation)},
                   "iterations": rows}
        write_json_atomic(out / "iterations.json", summary)
    plot_iterations(rows, out / "iterations.png")
    return summary


def _evaluate_round(spec: EvalSpec, out: Path, workers: int, progress: bool,
                    backend: RayBackend | None = None) -> dict:
    """One round's online evaluation (resumable; ``evaluate`` reads a finished one back).

    A finished evaluation with other settings is an error here rather than replaced: it
    belongs to another run of ``gpc iterate`` in the same folder.
    """
    from gpc_planner.evaluation import evaluate

    spec = spec.with_sampling(spec.task)  # as evaluate records it
    if out.is_file():
        summary = json.loads(out.read_text())
        if summary.get("settings") != spec.settings_record():
            raise ConfigError(f"{out} is an evaluation with other settings; delete it or "
                              "write the iterations to another folder", setting="out")
    summary = evaluate(spec, workers=workers, out=out, progress=progress, backend=backend)
    keys = ("trials", "successes", "success_rate", "ci_low", "ci_high", "steps_mean",
            "steps_std", "cem_sample_ratio_mean", "cem_sample_ratio_std")
    return {k: summary[k] for k in keys}


def plot_iterations(rows: list[dict], path: str | Path) -> Path:
    """Success rate and CEM sample ratio of each iteration (collection, and evaluation)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    it = [r["iteration"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.8), dpi=120)
    ax.plot(it, [r["success_rate"] for r in rows], "o-", color="C0",
            label="collection success (offline CEM / GPC-CEM)")
    ratio = [r["cem_sample_ratio_mean"] for r in rows]
    ax.plot([i for i, r in zip(it, ratio, strict=True) if r is not None],
            [r for r in ratio if r is not None], "s--", color="C1",
            label="collection CEM sample ratio")
    evals = [(i, r["eval"]) for i, r in zip(it, rows, strict=True) if "eval" in r]
    if evals:
        xs = [i for i, _ in evals]
        rate = [e["success_rate"] for _, e in evals]
        err = [[e["success_rate"] - e["ci_low"] for _, e in evals],
               [e["ci_high"] - e["success_rate"] for _, e in evals]]
        ax.errorbar(xs, rate, yerr=err, fmt="D-", color="C2", capsize=3,
                    label="GPC-CEM eval success (Wilson 95%)")
        ax.plot(xs, [e["cem_sample_ratio_mean"] for _, e in evals], "v:", color="C3",
                label="GPC-CEM eval CEM sample ratio")
    ax.set_xlabel("iteration (0: CEM, then GPC-CEM with the previous model)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(it)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
