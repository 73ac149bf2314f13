"""``gpc iterate``: the iterative training of Kurtz & Burdick, as a comparison mode.

Iteration 0 collects with CEM and trains a model; iteration i > 0 collects
with GPC-CEM using the model of iteration i - 1 and retrains on all data so
far (aggregated, DAgger-style). Per iteration, the collection's success rate
and mean CEM sample ratio go to ``OUT/iterations.json`` and
``OUT/iterations.png``; the paper reports that this loop degrades.

Layout: ``OUT/iter_00/data`` (a ``gpc collect`` folder), ``OUT/iter_00/model``
(a ``gpc train`` folder), ... Each step is resumable on its own, so rerunning
the same command continues where it stopped. Iteration i collects with seed
``seed + i`` so that its initial states differ from the previous ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

from gpc_planner.atomic import write_json_atomic
from gpc_planner.collect import CollectSpec, collect, load_dataset


def iterate(spec: CollectSpec, iterations: int, config, out: str | Path, workers: int = 1,
            progress: bool = True) -> dict:
    """Run (or resume) ``iterations`` rounds of collect + train into ``out``."""
    from gpc_planner.proposals.train import train

    out = Path(out)
    rows: list[dict] = []
    data_dirs: list[Path] = []
    model: Path | None = None
    for i in range(iterations):
        folder = out / f"iter_{i:02d}"
        cspec = replace(spec, seed=spec.seed + i, proposal=None if model is None else str(model))
        stats = collect(cspec, folder / "data", workers=workers, progress=progress)
        data_dirs.append(folder / "data")
        model_dir = folder / "model"
        card_path = model_dir / "model_card.json"
        if (model_dir / "model.pt").is_file() and card_path.is_file():
            card = json.loads(card_path.read_text())
        else:
            card = train(load_dataset(data_dirs), config, model_dir, progress=progress)
        rows.append({"iteration": i, "method": cspec.method,
                     "proposal": cspec.proposal, **stats,
                     "train_samples": card["dataset"]["samples"],
                     "final_loss": card["final_loss"]})
        model = model_dir / "model.pt"
        summary = {"settings": {**asdict(spec), "iterations": iterations,
                                "train": asdict(config)}, "iterations": rows}
        write_json_atomic(out / "iterations.json", summary)
    plot_iterations(rows, out / "iterations.png")
    return summary


def plot_iterations(rows: list[dict], path: str | Path) -> Path:
    """Success rate and CEM sample ratio of each iteration's collection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    it = [r["iteration"] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    ax.plot(it, [r["success_rate"] for r in rows], "o-", label="success rate")
    ratio = [r["cem_sample_ratio_mean"] for r in rows]
    ax.plot([i for i, r in zip(it, ratio, strict=True) if r is not None],
            [r for r in ratio if r is not None], "s--", label="CEM sample ratio")
    ax.set_xlabel("iteration (0: CEM, then GPC-CEM with the previous model)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(it)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
