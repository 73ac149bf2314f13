"""What a soak run comes to: memory growth per node, the faults' figures, the picture.

Memory growth is measured per process (a restarted node is a new process that loads its
libraries again): from its first sample at least ``warmup_s`` into its life (5 minutes by
default: imports, the planner's rollout buffers and DDS discovery settle by then) to its
largest later sample, so a leak that a restart would hide is still counted in the
processes that lived long enough. A node's growth is the largest over its processes;
``measured_s`` says over how long the longest was watched.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from gpc_planner.soak.samples import Sample

WARMUP_S = 300.0
NODE_COLOURS = {"gpc_planner": "tab:blue", "gpc_sim": "tab:green", "spot_bridge": "black"}
FAULT_COLOURS = {"kill_planner": "tab:red", "kill_bridge": "tab:purple",
                 "kill_sim": "tab:brown", "freeze_planner": "tab:orange",
                 "mocap_dropout": "tab:cyan"}


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def memory_growth(samples: Sequence[Sample], warmup_s: float = WARMUP_S) -> dict[str, dict]:
    """Per node: ``growth_mb`` (largest RSS after the baseline minus the baseline, the
    largest over the node's processes; None if no process lived past ``warmup_s``),
    ``end_growth_mb`` (last minus baseline, same process), ``baseline_mb``, ``max_mb``,
    ``measured_s``, ``processes``."""
    by_process: dict[tuple[str, int], list[Sample]] = defaultdict(list)
    for s in samples:
        if not math.isnan(s.rss_mb):
            by_process[(s.node, s.pid)].append(s)
    out: dict[str, dict] = {}
    for (node, _pid), rows in sorted(by_process.items()):
        rows.sort(key=lambda r: r.t_s)
        entry = out.setdefault(node, {"growth_mb": None, "end_growth_mb": None,
                                      "baseline_mb": None, "max_mb": 0.0, "measured_s": 0.0,
                                      "processes": 0})
        entry["processes"] += 1
        entry["max_mb"] = max(entry["max_mb"], max(r.rss_mb for r in rows))
        later = [r for r in rows if r.t_s >= rows[0].t_s + warmup_s]
        if not later:
            continue
        base = later[0]
        growth = max(r.rss_mb for r in later) - base.rss_mb
        measured = later[-1].t_s - base.t_s
        if entry["growth_mb"] is None or growth > entry["growth_mb"]:
            entry.update(growth_mb=growth, end_growth_mb=later[-1].rss_mb - base.rss_mb,
                         baseline_mb=base.rss_mb)
        entry["measured_s"] = max(entry["measured_s"], measured)
    for entry in out.values():
        for key in ("growth_mb", "end_growth_mb", "baseline_mb", "max_mb", "measured_s"):
            entry[key] = _round(entry[key], 1)
    return out


def cpu_usage(samples: Sequence[Sample], warmup_s: float = 0.0) -> dict[str, dict]:
    """Per node: mean and largest CPU% (100: one core) of the samples after ``warmup_s``."""
    values: dict[str, list[float]] = defaultdict(list)
    for s in samples:
        if s.t_s >= warmup_s and not math.isnan(s.cpu_percent):
            values[s.node].append(s.cpu_percent)
    return {node: {"mean_percent": round(statistics.fmean(v), 1),
                   "max_percent": round(max(v), 1)} for node, v in sorted(values.items())}


def _stats(values: list[float], name: str) -> dict:
    return {f"{name}_max": _round(max(values)) if values else None,
            f"{name}_median": _round(statistics.median(values)) if values else None}


def fault_figures(records: Sequence[dict]) -> dict:
    """Counts and times over the judged faults (``records``: one dict per fault with
    ``kind``, ``survived``, ``stop_s``, ``stop_wall_s``, ``resume_s``), overall and by
    kind. Sim kills have no time to stop of their own (the robot dies with its process):
    they are left out of the stop times."""
    def figures(rows: Sequence[dict]) -> dict:
        stops = [r["stop_s"] for r in rows if r["stop_s"] is not None and not r["robot_killed"]]
        walls = [r["stop_wall_s"] for r in rows
                 if r["stop_wall_s"] is not None and not r["robot_killed"]]
        resumes = [r["resume_s"] for r in rows if r["resume_s"] is not None]
        return {"injected": len(rows), "survived": sum(bool(r["survived"]) for r in rows),
                **_stats(stops, "stop_s"), **_stats(walls, "stop_wall_s"),
                **_stats(resumes, "resume_s")}

    kinds = sorted({r["kind"] for r in records})
    return {**figures(records),
            "by_kind": {k: figures([r for r in records if r["kind"] == k]) for k in kinds}}


def plot_memory(samples: Sequence[Sample], faults: Sequence[dict], path: Path,
                title: str) -> Path:
    """RSS and CPU% of every node over the run, one line per process, the faults marked
    (a dashed vertical line in the kind's colour when it was injected; dotted: failed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_mem, ax_cpu) = plt.subplots(2, 1, figsize=(11, 7), sharex=True,
                                         gridspec_kw={"height_ratios": [3, 2]})
    for node in sorted({s.node for s in samples}):
        colour = NODE_COLOURS.get(node, "black")
        pids = sorted({s.pid for s in samples if s.node == node},
                      key=lambda p: min(s.t_s for s in samples if s.pid == p))
        for j, pid in enumerate(pids):
            rows = sorted((s for s in samples if s.node == node and s.pid == pid),
                          key=lambda s: s.t_s)
            minutes = [s.t_s / 60.0 for s in rows]
            ax_mem.plot(minutes, [s.rss_mb for s in rows], color=colour, lw=1.6,
                        label=node if j == 0 else None)
            ax_cpu.plot(minutes, [s.cpu_percent for s in rows], color=colour, lw=0.8)
    seen = set()
    for fault in faults:
        kind = fault["kind"]
        style = {"color": FAULT_COLOURS.get(kind, "gray"), "lw": 0.9,
                 "ls": "--" if fault.get("survived", True) else ":"}
        label = None if kind in seen else kind
        ax_mem.axvline(fault["injected_s"] / 60.0, label=label, **style)
        ax_cpu.axvline(fault["injected_s"] / 60.0, **style)
        seen.add(kind)
    ax_mem.set_ylabel("RSS (MB)")
    ax_cpu.set_ylabel("CPU (% of a core)")
    ax_cpu.set_xlabel("minutes since the start")
    ax_mem.set_title(title, fontsize=10)
    ax_mem.legend(fontsize=8, ncol=2, loc="upper left")
    ax_mem.grid(alpha=0.3)
    ax_cpu.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
