"""``gpc eval``: closed-loop success statistics over a fixed set of initial states.

Trial i of a run seeded s always starts from the same state (``initial_state_rng``),
whatever the method or the number of workers, so methods are compared on
identical problems. Each finished trial is journaled to ``OUT.partial.jsonl``;
an interrupted run resumes from it, and the final JSON is written atomically. The
final JSON carries the journal's header (settings, model digests): the same evaluation
run again into the same file is read back, not repeated.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gpc_planner.atomic import EVAL_JOURNAL_SUFFIX, JsonlLog, warn, write_json_atomic
from gpc_planner.episode import run_episode
from gpc_planner.eval_journal import header_difference, read_journal, trial_records
from gpc_planner.methods import build_planner, model_variant, resolve_model_path, sampling_for
from gpc_planner.outputs import check_output_file, exclusive_output
from gpc_planner.plan_stats import episode_means, over_episodes, stat_names
from gpc_planner.planner import check_planning_sizes
from gpc_planner.registry import method_spec, needs_model
from gpc_planner.sampling import PAPER_SAMPLING
from gpc_planner.stats import mean_std, wilson_interval
from gpc_planner.workers import TaskJob, TaskJobSetup, run_jobs
from gpc_sim.errors import ConfigError
from gpc_sim.limits import check_at_most, check_parallel, check_seed
from gpc_sim.spot.worlds import DEFAULT_WORLD, REFERENCE_WORLD
from gpc_sim.task import Task, initial_state_rng
from gpc_sim.tasks import (
    has_setting,
    make_task,
    task_method_settings,
    task_options,
    with_recorded_defaults,
    without_old_defaults,
)

if TYPE_CHECKING:
    from gpc_planner.ray_backend import RayBackend



@dataclass(frozen=True)
class EvalSpec:
    """Everything that determines an evaluation's results (workers and output do not)."""

    task: str
    method: str
    trials: int = 200
    seed: int = 0
    rollouts: int | None = None
    horizon: float | None = None
    shape: str | None = None
    max_steps: int | None = None  # episode limit in control steps (default: the task's)
    model: tuple[str, ...] | None = None  # proposal model file(s) of the GPC methods
    # Euler steps and std of the initial noise when sampling the proposal model; None: the
    # model files' recommendation for the method (``with_sampling``), else the paper's
    # (10, 1). ``evaluate`` resolves them first, so results record the values used.
    flow_steps: int | None = None
    flow_noise: float | None = None
    # Spot tasks: the world preset of the rollouts and of the simulated robot (plant_world
    # None: the same as world); resolved to names for tasks with worlds, None for others.
    world: str | None = None
    plant_world: str | None = None
    # Other task settings, as (name, value) pairs (``make_task(task, **dict(...))``), e.g. a
    # Spot cost variant (goal_distance=euclidean) on the same starts. A Spot spec always
    # records its goal_distance (``RECORDED_SETTINGS``), defaulted or not.
    task_options: tuple[tuple[str, Any], ...] = ()
    # Optimizer settings other than the method's (and the task's tuned ones), as (name,
    # value) pairs, e.g. NFMPC's execute="best": so that a probe of a planner setting is a
    # command line with a journal of its own, not a one-off script. Those with a flag of
    # their own (``FLAG_SETTINGS``) are refused here.
    method_options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        # The result says which cost it used, default or not (``RECORDED_SETTINGS``).
        options = with_recorded_defaults(self.task, dict(task_options(self.task_options)))
        object.__setattr__(self, "task_options", task_options(options))
        object.__setattr__(self, "method_options", task_options(self.method_options))
        if isinstance(self.model, str):  # one file given as a plain string
            object.__setattr__(self, "model", (self.model,))
        if self.model is not None and len(self.model) == 0:
            object.__setattr__(self, "model", None)
        if has_setting(self.task, "world"):
            world = self.world or DEFAULT_WORLD
            object.__setattr__(self, "world", world)
            object.__setattr__(self, "plant_world", self.plant_world or world)

    def task_overrides(self) -> dict:
        overrides: dict = {"shape": self.shape} if self.shape else {}
        if self.world is not None:
            overrides["world"] = self.world
        if self.plant_world is not None:
            overrides["plant_world"] = self.plant_world
        return {**dict(self.task_options), **overrides}

    def settings_record(self) -> dict:
        """The spec as the result JSON's ``settings`` records it (JSON-ready)."""
        record = {**asdict(self), "task_options": dict(self.task_options),
                  "method_options": dict(self.method_options)}
        if not self.method_options:  # only when any, as results before them read
            record.pop("method_options")
        return json.loads(json.dumps(record))

    def uses_model(self) -> bool:
        return needs_model(self.method)

    def with_sampling(self, task_name: str) -> EvalSpec:
        """This spec with the flow settings its trials sample with: those given, else what
        its model files recommend for the method on the task (they must agree), else the
        paper's.

        Methods without a model get the paper's values, recorded but unused.
        """
        if self.flow_steps is not None and self.flow_noise is not None:
            return self
        if not self.uses_model():
            settings = PAPER_SAMPLING
            return replace(self, flow_steps=self.flow_steps or settings.flow_steps,
                           flow_noise=self.flow_noise or settings.flow_noise)
        settings = sampling_for(self.method, self.model_paths(task_name),
                                flow_noise=self.flow_noise, flow_steps=self.flow_steps,
                                task=task_name)
        return replace(self, flow_steps=settings.flow_steps, flow_noise=settings.flow_noise)

    def model_paths(self, task_name: str) -> list[str]:
        """The model files the trials rotate over (the shipped one when none is given)."""
        if self.model is None:
            return [resolve_model_path(task_name, self.method, None)]
        return [resolve_model_path(task_name, self.method, m) for m in self.model]

    def model_index(self, trial: int) -> int | None:
        """Trial i uses model i mod n: every model seed sees a share of the same states."""
        return None if self.model is None else trial % len(self.model)

    def model_for_trial(self, trial: int) -> str | None:
        index = self.model_index(trial)
        return None if index is None else self.model[index]  # type: ignore[index]

    def header(self, task_name: str) -> dict:
        """The journal's first line: what a resumed run must match.

        Model fields appear only for the GPC methods (so journals of classical
        methods written before they existed still resume), with the model
        file's digest, so a retrained model at the same path is not mixed in.
        World fields likewise appear only when a world other than the original
        is simulated (rollouts or plant; a header without them means the original,
        ``REFERENCE_WORLD``, whatever the default is now), so a run never resumes in
        other physics.
        Task options likewise leave out the values every older header meant
        (``RECORDED_SETTINGS``: the straight-line Spot cost).
        Flow settings are the ones used (``with_sampling``).
        """
        spec = asdict(self.with_sampling(task_name))
        if (spec["world"], spec["plant_world"]) in ((None, None),
                                                    (REFERENCE_WORLD, REFERENCE_WORLD)):
            spec.pop("world")
            spec.pop("plant_world")
        options = without_old_defaults(dict(self.task_options))
        if options:  # only when any: older journals resume
            spec["task_options"] = options
        else:
            spec.pop("task_options")
        if self.method_options:  # only when any: older journals resume
            spec["method_options"] = dict(self.method_options)
        else:
            spec.pop("method_options")
        tuned = task_method_settings(task_name, self.method)  # the task's, when any
        if tuned:
            spec["method_settings"] = tuned
        if not self.uses_model():
            spec.pop("model")
            spec.pop("flow_steps")
            spec.pop("flow_noise")
            return json.loads(json.dumps({"spec": spec}))
        paths = self.model_paths(task_name)
        digests = [file_digest(p) for p in paths]
        # A model variant (NFMPC's fixed-shift ablation) only when there is one, so that
        # older journals resume; results copy it for their labels.
        variants = sorted({v for v in map(model_variant, paths) if v})
        extra = {"model_variant": ", ".join(variants)} if variants else {}
        # As it reads back from the journal (tuples become lists).
        return json.loads(json.dumps({"spec": spec, "model_sha256": digests, **extra}))


def file_digest(path: str | Path) -> str:
    """sha256 of a file (hex), or a ConfigError naming it when it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from None


def state_digest(state: np.ndarray) -> str:
    """A short fingerprint of an initial state, to check that methods share them."""
    return hashlib.sha1(np.ascontiguousarray(state, dtype=np.float64).tobytes()).hexdigest()[:12]


def run_trial(task: Task, spec: EvalSpec, trial: int) -> dict:
    """One episode of the evaluation, as a JSON-ready record."""
    state = task.sample_initial_state(initial_state_rng(spec.seed, trial))
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, trial, 1]))
    planner = build_planner(task, spec.method, rng, spec.horizon, spec.rollouts,
                            model=spec.model_for_trial(trial), flow_steps=spec.flow_steps,
                            flow_noise=spec.flow_noise, **dict(spec.method_options))
    start = time.perf_counter()
    result = run_episode(planner, state, max_steps=spec.max_steps)
    return {
        "trial": trial,
        "success": bool(result.success),
        "steps": int(result.steps),
        "final_error": result.final_metrics.get("position_error"),
        "trajectory_cost": result.trajectory_cost,
        **{k: float(v) for k, v in result.final_metrics.items()},
        **episode_means(result.stats, stat_names(spec.method)),
        "plan_time_ms": [round(t * 1e3, 3) for t in result.plan_times],
        "wall_time_s": round(time.perf_counter() - start, 3),
        "initial_state": state_digest(state),
        **({"diverged": True} if result.diverged else {}),
        **({"failed": True} if result.failed else {}),
        **({"model_index": spec.model_index(trial)} if spec.uses_model() and spec.model
           else {}),
    }


def _trial_job(job: TaskJob, trial: int) -> dict:
    return run_trial(job.task, job.spec, trial)


def summarize(spec: EvalSpec, records: list[dict], header: dict | None = None) -> dict:
    """The evaluation JSON (the keys README.md's "Command line" lists, which
    ``test_evaluation.CONTRACT`` holds to) from per-trial records.

    ``header`` (``EvalSpec.header``) is stored too: a rerun into the same file finds there
    whether it is the same evaluation, model digests included.
    """
    records = sorted(records, key=lambda r: r["trial"])
    n = len(records)
    successes = sum(r["success"] for r in records)
    lo, hi = wilson_interval(successes, n)
    steps_mean, steps_std = mean_std([r["steps"] for r in records if r["success"]])
    cost_q1, cost_median, cost_q3 = success_cost_quartiles(records)
    plan_times = [t for r in records for t in r["plan_time_ms"]]
    # Seconds of wall time per trial in its worker (one core each with --workers > 1).
    trial_time_mean, trial_time_std = mean_std([r["wall_time_s"] for r in records])
    per_trial = [{k: v for k, v in r.items() if k != "plan_time_ms"} for r in records]
    for row, r in zip(per_trial, records, strict=True):
        times = r["plan_time_ms"]
        row["plan_time_ms_median"] = float(np.median(times)) if times else None
    return {
        "task": spec.task,
        "method": spec.method,
        "trials": n,
        "seed": spec.seed,
        "successes": successes,
        "success_rate": successes / n if n else 0.0,
        "ci_low": lo,
        "ci_high": hi,
        "steps_mean": steps_mean,
        "steps_std": steps_std,
        "cost_median": cost_median,
        "cost_q1": cost_q1,
        "cost_q3": cost_q3,
        **over_episodes(records, stat_names(spec.method)),
        "plan_time_ms_median": float(np.median(plan_times)) if plan_times else None,
        "trial_time_s_mean": trial_time_mean,
        "trial_time_s_std": trial_time_std,
        "settings": spec.settings_record(),
        **({"model_variant": header["model_variant"]}
           if header is not None and header.get("model_variant") else {}),
        **({"header": header} if header is not None else {}),
        **({"per_model": per_model_summary(spec, records)} if spec.uses_model() else {}),
        "platform": {"python": platform.python_version(), "machine": platform.machine()},
        "per_trial": per_trial,
    }


def success_cost_quartiles(records: list[dict]) -> tuple[float | None, ...]:
    """First quartile, median and third quartile of the trajectory cost of the successful
    trials (the NFMPC paper's box plots: "the cost of trajectories which successfully
    completed the task"); Nones when none has one (journals from before it was recorded)."""
    costs = [r["trajectory_cost"] for r in records
             if r["success"] and r.get("trajectory_cost") is not None]
    if not costs:
        return None, None, None
    return tuple(float(q) for q in np.percentile(costs, [25, 50, 75]))


# Optimizer settings an evaluation sets with a field of its own (recorded as such), never
# as a method option.
FLAG_SETTINGS = {"num_rollouts": "--rollouts", "flow_steps": "--flow-steps",
                 "flow_noise": "--flow-noise"}

MAX_TRIALS = 1_000_000  # every trial's record is held in memory and written in one JSON
MAX_EPISODE_STEPS = 10_000_000  # 28 h of Push-T time; a plan time is kept per replanning


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_spec(spec: EvalSpec) -> None:
    """ConfigError naming the first setting of ``spec`` that no evaluation can run with.

    Checked before any work (and on a journal's header), so that an absurd size is a line
    now, not a MemoryError or a hang later. Rollouts, horizon and the flow's settings are
    checked where the planner is built (``methods.build_planner``).
    """
    if not _is_int(spec.trials) or spec.trials < 1:
        raise ConfigError(f"trials must be a positive integer, got {spec.trials!r}",
                          setting="trials")
    check_at_most(spec.trials, MAX_TRIALS, "trials",
                  "every trial's record is kept in memory and in one JSON file")
    check_seed(spec.seed)
    if spec.max_steps is not None:
        if not _is_int(spec.max_steps) or spec.max_steps < 1:
            raise ConfigError(f"max_steps must be a positive integer, got {spec.max_steps!r}",
                              setting="max_steps")
        check_at_most(spec.max_steps, MAX_EPISODE_STEPS, "max_steps",
                      "an episode keeps a record per replanning step")
    if spec.rollouts is not None and not _is_int(spec.rollouts):
        raise ConfigError(f"rollouts must be an integer, got {spec.rollouts!r}",
                          setting="rollouts")
    if spec.horizon is not None and not isinstance(spec.horizon, int | float):
        raise ConfigError(f"horizon must be a number of seconds, got {spec.horizon!r}",
                          setting="horizon")
    options = dict(spec.method_options)
    for key, flag in FLAG_SETTINGS.items():
        if key in options:
            raise ConfigError(f"method option {key} has a setting of its own: use {flag}",
                              setting=key)
    if options:
        method_spec(spec.method).check_settings(options)


def summarize_journal(path: str | Path) -> dict:
    """The summary of an unfinished evaluation from its journal (``OUT.partial.jsonl``).

    The same figures as the final JSON, over the trials finished so far, plus
    ``in_progress: True`` and ``trials_planned`` (the run's ``--trials``): so the state of a
    long run is reported by the code that reports finished ones, not worked out by hand.
    A journal that is missing, empty or has no evaluation header is a one-line error.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    head, lines, not_json = read_journal(path)
    spec_fields = head.get("spec") if isinstance(head, dict) else None
    if not isinstance(spec_fields, dict):
        raise ConfigError(f"{path}: not a gpc eval journal (no header line)")
    fields = {k: v for k, v in spec_fields.items() if k in EvalSpec.__dataclass_fields__}
    if isinstance(fields.get("model"), list):
        fields["model"] = tuple(fields["model"])
    try:
        spec = EvalSpec(**fields)
        check_spec(spec)
    except (TypeError, ConfigError) as err:
        raise ConfigError(f"{path}: not a gpc eval journal ({err})") from None
    found = trial_records(lines, not_json, spec.trials)
    note = found.describe(path, spec.trials)
    if note is not None:
        warn(note)
    if not found.records:
        raise ConfigError(f"{path}: no finished trial yet")
    summary = summarize(spec, found.records, head)  # type: ignore[arg-type]
    summary.update(in_progress=True, trials_planned=spec.trials)
    return summary


def per_model_summary(spec: EvalSpec, records: list[dict]) -> list[dict]:
    """Success of each model seed on its share of the trials (spread across seeds)."""
    models = list(spec.model) if spec.model else [None]
    rows = []
    for i, model in enumerate(models):
        mine = [r for r in records if r.get("model_index", 0) == i]
        wins = sum(r["success"] for r in mine)
        rows.append({"model": model, "trials": len(mine), "successes": wins,
                     "success_rate": wins / len(mine) if mine else None})
    return rows


def evaluate(spec: EvalSpec, workers: int = 1, out: str | Path | None = None,
             progress: bool = True, backend: RayBackend | None = None) -> dict:
    """Run (or resume) an evaluation; returns the summary and writes it to ``out``.

    Whatever can be checked is checked before the first trial: the settings, that ``out``
    can be written, and that no other run is writing it (``out``.lock is held to the end).
    Trials run in ``workers`` processes here, or as tasks of a Ray cluster (``backend``):
    the same records either way, and a journal of one resumes under the other.
    """
    check_spec(spec)
    check_parallel(workers, "workers")
    if out is not None:
        check_output_file(out, "evaluation output")
    # Build once up front so that a bad task, method or shape fails before any work.
    task = make_task(spec.task, nthread=1, **spec.task_overrides())
    spec = spec.with_sampling(task.name)  # the flow settings used, for the trials and JSON
    for model in spec.model or (None,):
        planner = build_planner(task, spec.method, np.random.default_rng(0), spec.horizon,
                                spec.rollouts, model=model, flow_steps=spec.flow_steps,
                                flow_noise=spec.flow_noise, **dict(spec.method_options))
    if workers > 1:  # each worker process plans with a batch of its own
        check_planning_sizes(task, planner.optimizer.config.num_rollouts, spec.horizon,
                             processes=workers)
    task.sample_initial_state(initial_state_rng(spec.seed, 0))  # a shape that cannot spawn
    header = spec.header(task.name)
    if backend is not None:
        from gpc_planner.ray_backend import check_backend

        check_backend(backend)
    if out is None:
        return _evaluate(spec, header, workers, None, progress, backend)
    with exclusive_output(out, f"{out}.lock"):
        return _evaluate(spec, header, workers, out, progress, backend)


def _evaluate(spec: EvalSpec, header: dict, workers: int, out: str | Path | None,
              progress: bool, backend: RayBackend | None = None) -> dict:
    """The run of ``evaluate`` once everything is checked (and ``out`` is locked)."""
    finished = _finished_summary(out, header)
    if finished is not None:
        print(f"gpc eval: {out} already holds this evaluation (same settings and models); "
              "showing it (delete the file to run it again)", file=sys.stderr)
        return finished
    journal = JsonlLog(f"{out}{EVAL_JOURNAL_SUFFIX}") if out else None
    records: list[dict] = []
    if journal is not None:
        head, lines, not_json = read_journal(journal.path)
        if head is None and not lines and not not_json:
            journal.append(header)
        elif (difference := header_difference(head, header)) is not None:
            raise ConfigError(f"{journal.path} belongs to a different evaluation "
                              f"({difference}); delete it or write the evaluation elsewhere")
        found = trial_records(lines, not_json, spec.trials)
        note = found.describe(journal.path, spec.trials)
        if note is not None:
            warn(note)
        records = found.records
    done = {r["trial"] for r in records}
    todo = [t for t in range(spec.trials) if t not in done]
    bar = _progress_bar(spec, len(done), progress)
    wins = sum(r["success"] for r in records)
    if bar is None and done:
        _log(f"{spec.task}/{spec.method}: resuming from {journal.path}, "  # type: ignore[union-attr]
             f"{len(done)} of {spec.trials} trials done ({wins} successes)")
    setup = TaskJobSetup(spec, spec.task, tuple(spec.task_overrides().items()))
    for record in run_jobs(setup, _trial_job, todo, workers, backend):
        records.append(record)
        if journal is not None:
            journal.append(record)
        wins += record["success"]
        if bar is not None:
            bar.update(1)
            bar.set_postfix(success=f"{wins}/{len(records)}")
        else:  # a log line per trial instead of the bar (long runs in the background)
            _log(f"{spec.task}/{spec.method}: {trial_line(record)}; "
                 f"{len(records)} of {spec.trials} done, {wins} successes")
    if bar is not None:
        bar.close()
    summary = summarize(spec, records, header)
    if out:
        write_json_atomic(out, summary)
        journal.path.unlink(missing_ok=True)  # type: ignore[union-attr]
    return summary


def trial_line(record: dict) -> str:
    """One finished trial in words: outcome, steps, final error, wall time."""
    outcome = "success" if record["success"] else "failure"
    error = record.get("final_error")
    error_text = "" if error is None else f", final error {error:.3f}"
    return (f"trial {record['trial']}: {outcome} after {record['steps']} steps{error_text}, "
            f"{record['wall_time_s']:.1f} s")


def _log(message: str) -> None:
    print(f"gpc eval: {message}", file=sys.stderr, flush=True)


def _finished_summary(out: str | Path | None, header: dict) -> dict | None:
    """The summary in ``out`` if it is a finished run of the evaluation ``header`` names.

    None when there is no such file, it cannot be read as JSON, or it was written before
    summaries carried their header: the run then goes ahead and replaces it. A finished
    evaluation with other settings (a task default changed since, a flag left out) is
    refused rather than overwritten hours later: it is a result, not a scratch file.
    """
    if not out or not Path(out).is_file():
        return None
    try:
        summary = json.loads(Path(out).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict) or summary.get("header") is None:
        return None
    difference = header_difference(summary["header"], json.loads(json.dumps(header)))
    if difference is not None:
        raise ConfigError(f"{out} holds a finished evaluation with other settings "
                          f"({difference}); delete it or write this one elsewhere")
    return summary


def _progress_bar(spec: EvalSpec, initial: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=spec.trials, initial=initial, desc=f"{spec.task}/{spec.method}",
                unit="trial", dynamic_ncols=True)


def format_summary(summary: dict) -> str:
    """A short human-readable table of one evaluation."""
    def fmt(v: float | None, spec: str) -> str:
        return "-" if v is None else format(v, spec)

    return "\n".join([
        f"{'task':<10} {'method':<10} {'success':>8} {'95% CI':>16} {'steps (succ.)':>18} "
        f"{'CEM ratio':>10} {'plan ms':>8}",
        f"{summary['task']:<10} {summary['method']:<10} {summary['success_rate']:>8.3f} "
        f"{'(' + fmt(summary['ci_low'], '.3f') + ', ' + fmt(summary['ci_high'], '.3f') + ')':>16} "
        f"{fmt(summary['steps_mean'], '.1f') + ' +- ' + fmt(summary['steps_std'], '.1f'):>18} "
        f"{fmt(summary['cem_sample_ratio_mean'], '.2f'):>10} "
        f"{fmt(summary['plan_time_ms_median'], '.1f'):>8}",
        f"{summary['successes']}/{summary['trials']} successes, seed {summary['seed']}; "
        f"{fmt(summary.get('trial_time_s_mean'), '.1f')} s wall per trial",
    ])
