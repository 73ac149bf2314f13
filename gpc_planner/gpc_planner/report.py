"""Tables and plots of ``gpc eval`` results, laid out like the paper's tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gpc_planner.atomic import EVAL_JOURNAL_SUFFIX
from gpc_planner.outputs import check_output_file
from gpc_planner.registry import METHODS, needs_model
from gpc_planner.sampling import PAPER_SAMPLING
from gpc_sim.errors import ConfigError
from gpc_sim.tasks import TASKS, has_setting, setting_default, with_old_defaults

REQUIRED = ("task", "method", "trials", "success_rate", "ci_low", "ci_high")


def load_results(paths: list[str]) -> list[dict]:
    """Read evaluation JSON files; a bad file is a one-line error naming it.

    A journal of a run still going (``OUT.partial.jsonl``) is read too: its summary so far,
    marked ``in_progress`` (``evaluation.summarize_journal``).
    """
    results = []
    for p in paths:
        if str(p).endswith(EVAL_JOURNAL_SUFFIX):
            from gpc_planner.evaluation import summarize_journal  # heavier imports

            data = summarize_journal(p)
            data["_path"] = str(p)
            results.append(data)
            continue
        data = _read_json(Path(p))
        if not isinstance(data, dict):
            raise ConfigError(f"{p}: not a gpc eval result (a JSON {type(data).__name__}, not "
                              "an object)")
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise ConfigError(f"{p}: not a gpc eval result (missing {', '.join(missing)})")
        problem = result_problem(data)
        if problem is not None:
            raise ConfigError(f"{p}: not a gpc eval result ({problem})")
        data["_path"] = str(p)
        results.append(data)
    return results


def _read_json(path: Path) -> object:
    """The JSON value in ``path``; whatever is wrong with the file is a ConfigError naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not valid JSON ({err.msg}, line {err.lineno})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid JSON (not a text file)") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror})") from None


NUMBER = (int, float)
# The fields the table and the plot format, with the types they need (None: "-").
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "task": (str,), "method": (str,), "trials": (int,), "success_rate": NUMBER,
    "ci_low": NUMBER, "ci_high": NUMBER, "steps_mean": (*NUMBER, type(None)),
    "steps_std": (*NUMBER, type(None)), "cem_sample_ratio_mean": (*NUMBER, type(None)),
    "cem_sample_ratio_std": (*NUMBER, type(None)), "plan_time_ms_median": (*NUMBER, type(None)),
    "trial_time_s_mean": (*NUMBER, type(None)), "settings": (dict,),
}


def result_problem(result: dict) -> str | None:
    """Which field of an evaluation result has a type the report cannot show, in words."""
    for key, types in FIELD_TYPES.items():
        if key in result and (not isinstance(result[key], types)
                              or (isinstance(result[key], bool) and bool not in types)):
            return f"{key} is {result[key]!r}"
    if result.get("cem_sample_ratio_mean") is not None and not isinstance(
            result.get("cem_sample_ratio_std"), NUMBER):
        return "cem_sample_ratio_std is missing"
    if result.get("steps_mean") is not None and not isinstance(result.get("steps_std"), NUMBER):
        return "steps_std is missing"
    horizon = result.get("settings", {}).get("horizon")
    if horizon is not None and not isinstance(horizon, NUMBER):
        return f"settings.horizon is {horizon!r}"
    return None


def label(result: dict) -> str:
    """Row label as in the paper's tables: the method (with its Euler steps for the GPC
    methods), then the settings that differ from the defaults and the model seeds."""
    settings = result.get("settings", {})
    spec = METHODS.get(result["method"])
    name = spec.label if spec is not None and spec.label else result["method"]
    if (needs_model(result["method"]) and spec.takes("flow_steps")
            and settings.get("flow_steps") is not None):
        name += f" ({settings['flow_steps']})"
    if result.get("model_variant"):  # e.g. NFMPC (fixed shift), the paper's ablation
        name += f" ({result['model_variant']})"
    parts = [name]
    noise = settings.get("flow_noise")
    if (needs_model(result["method"]) and spec.takes("flow_noise")
            and isinstance(noise, NUMBER) and noise != PAPER_SAMPLING.flow_noise):
        parts.append(f"flow noise {noise:g}")
    if settings.get("horizon") is not None:
        parts.append(f"H={settings['horizon']:g} s")
    if settings.get("rollouts") is not None:
        parts.append(f"N={settings['rollouts']}")
    task = result.get("task")
    options = dict(settings.get("task_options") or {})
    if task in TASKS:  # what a result that names no recorded setting meant (the old value)
        options = with_old_defaults(task, options)
    if task in TASKS and has_setting(task, "goal_distance"):
        parts.append(f"{options.pop('goal_distance')} cost")  # Spot rows differ by their cost
    # Other task settings only where they are off the task's default of today, so that a
    # plain run reads plain and one from before a default changed says what it ran with.
    parts += [f"{key}={value}" for key, value in sorted(options.items())
              if not (task in TASKS and has_setting(task, key)
                      and value == setting_default(task, key))]
    parts += [f"{key}={value}" for key, value in
              sorted(dict(settings.get("method_options") or {}).items())]
    models = settings.get("model")
    if isinstance(models, list | tuple) and len(models) > 1:
        parts.append(f"{len(models)} model seeds")
    return ", ".join(parts)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _cost(result: dict) -> str:
    if result.get("cost_median") is None:
        return "–"
    return (f"{result['cost_median']:.4g} ({result['cost_q1']:.4g}, "
            f"{result['cost_q3']:.4g})")


def _trials(result: dict) -> str:
    """Trials of a result; "k of N (in progress)" for an unfinished run's journal."""
    if result.get("in_progress"):
        return f"{result['trials']} of {result['trials_planned']} (in progress)"
    return str(result["trials"])


def markdown_table(results: list[dict]) -> str:
    """One row per result: success (Wilson 95% CI), steps of successes, CEM ratio, plan time."""
    costs = any(r.get("cost_median") is not None for r in results)  # a column if any has it
    lines = [
        "| task | method | success (95% CI) | steps (successes) | CEM sample ratio "
        "| plan ms (median) | s per trial | trials | seed |"
        + (" cost of successes, median (quartiles) |" if costs else ""),
        "|---|---|---|---|---|---|---|---|---|" + ("---|" if costs else ""),
    ]
    for r in results:
        ratio = (f"{r['cem_sample_ratio_mean']:.2f} ± {r['cem_sample_ratio_std']:.2f}"
                 if r.get("cem_sample_ratio_mean") is not None else "–")
        steps = (f"{r['steps_mean']:.1f} ± {r['steps_std']:.1f}"
                 if r.get("steps_mean") is not None else "–")
        lines.append(
            f"| {r['task']} | {label(r)} | {r['success_rate']:.3f} ({r['ci_low']:.3f}, "
            f"{r['ci_high']:.3f}) | {steps} | {ratio} | "
            f"{_fmt(r.get('plan_time_ms_median'), '.1f')} | "
            f"{_fmt(r.get('trial_time_s_mean'), '.0f')} | {_trials(r)} | {r.get('seed', '-')} |"
            + (f" {_cost(r)} |" if costs else "")
        )
    return "\n".join(lines)


def plot_success(results: list[dict], path: str | Path) -> Path:
    """Horizontal bars of success rate with Wilson intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = check_output_file(path, "plot")
    names = [f"{r['task']}: {label(r)}" for r in results]
    rates = [r["success_rate"] for r in results]
    err = [[r["success_rate"] - r["ci_low"] for r in results],
           [r["ci_high"] - r["success_rate"] for r in results]]
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(results) + 1.2))
    y = range(len(results))
    ax.barh(y, rates, xerr=err, color="tab:blue", alpha=0.8, capsize=4)
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="success rate (Wilson 95% interval)")
    for i, r in enumerate(results):
        ax.text(0.01, i, f"{r['success_rate']:.3f}  (n={_trials(r)})", va="center",
                color="white", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def samples_of(result: dict) -> int:
    """The samples per planning iteration a result was run with: ``--rollouts``, else the
    method's default."""
    rollouts = result.get("settings", {}).get("rollouts")
    if rollouts is not None:
        return int(rollouts)
    spec = METHODS.get(result["method"])
    if spec is None:
        raise ConfigError(f"{result['method']}: unknown method, and no rollouts recorded")
    return int(spec.config().num_rollouts)


def series_over_samples(results: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Results grouped as the NFMPC paper's Figs. 1 and 3 draw them: one series per task and
    method (the label without its sample count), sorted by samples; a series with two
    results at one sample count is a ConfigError (which one would the point be?)."""
    series: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        name = ", ".join(p for p in label(r).split(", ") if not p.startswith("N="))
        series.setdefault((r["task"], name), []).append(r)
    for key, rows in series.items():
        rows.sort(key=samples_of)
        counts = [samples_of(r) for r in rows]
        if len(set(counts)) != len(counts):
            raise ConfigError(f"{key[0]}: {key[1]}: two results at the same sample count")
    return series


def plot_over_samples(results: list[dict], path: str | Path) -> Path:
    """The NFMPC paper's Figs. 1 and 3: per task, the success rate (Wilson 95 % interval)
    and the trajectory cost of the successes (median, quartiles) over the samples per
    iteration, one series per method, on a log2 axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = check_output_file(path, "plot")
    series = series_over_samples(results)
    tasks = list(dict.fromkeys(task for task, _ in series))
    fig, axes = plt.subplots(2, len(tasks), figsize=(5.5 * len(tasks), 6.5), squeeze=False,
                             sharex="col")
    for column, task in enumerate(tasks):
        top, bottom = axes[0][column], axes[1][column]
        names = [name for t, name in series if t == task]
        for index, name in enumerate(names):
            rows = series[(task, name)]
            x = np.array([samples_of(r) for r in rows], dtype=float)
            shift = 2.0 ** (0.08 * (index - (len(names) - 1) / 2))  # boxes side by side
            rate = np.array([r["success_rate"] for r in rows])
            top.errorbar(x, rate, yerr=[rate - [r["ci_low"] for r in rows],
                                        np.array([r["ci_high"] for r in rows]) - rate],
                         marker="o", capsize=3, label=name)
            costed = [(xi * shift, r) for xi, r in zip(x, rows, strict=True)
                      if r.get("cost_median") is not None]
            if costed:
                xs = [xi for xi, _ in costed]
                med = np.array([r["cost_median"] for _, r in costed])
                low = med - [r["cost_q1"] for _, r in costed]
                high = np.array([r["cost_q3"] for _, r in costed]) - med
                bottom.errorbar(xs, med, yerr=[low, high], marker="s", linestyle="none",
                                capsize=4, label=name)
        top.set(xscale="log", ylim=(0, 1.02), ylabel="success rate", title=task)
        bottom.set(xscale="log", xlabel="samples per iteration",
                   ylabel="trajectory cost of successes\n(median, quartiles)")
        for ax in (top, bottom):
            ax.set_xscale("log", base=2)
            ax.grid(alpha=0.3)
        top.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
