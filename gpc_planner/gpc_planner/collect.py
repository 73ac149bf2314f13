"""``gpc collect``: offline data collection for the proposal model (paper section IV-A).

CEM runs closed-loop episodes at settings freed from real time (more rollouts,
more iterations per planning step) from seeded random initial states. At each
replanning step it records (x_t, h_t, U*_t); only successful episodes are kept.

Dataset format (a folder OUT)::

    OUT/meta.json              what produced the data (see ``dataset_meta``)
    OUT/episodes/ep_000123.npz one file per successful episode, T replanning steps:
        obs    (T, d) float32  observation x_t (``Task.observation``, world frame)
        hist   (T, d) float32  observation at the previous replanning step (h_0 = x_0)
        knots  (T, K, m) float32  the CEM mean knot sequence after the planning step (U*_t),
                               world units, valid from the replanning time on
        step   (T,) int64      control step of each replanning
        cem_sample_ratio (T,) float32  share of Gaussian elites (NaN for plain CEM)
        object_xy (T, 2) float32  the pushed object's position (``Task.object_position``)
        steps  () int64        control steps the episode took to succeed
        wall_s, cpu_s () float64  what the episode cost (CPU: its process, all threads)
    OUT/failed.jsonl           one JSON line per failed episode: {"episode", "steps",
                               "stopped" (why it was ended early, or null), "wall_s", ...}
    OUT/card.md, card.json     the data card: settings, counts, cost (``data_card``)

Older folders hold float64 arrays and no cost fields; they load all the same.

Episode i of a collection seeded s starts from
``initial_state_rng(s + COLLECT_SEED_OFFSET, i)``, a stream evaluation never
uses for small seeds, so training data never shares initial states with the
evaluation trials of the same seed. A restart skips every episode that has a
file or a failure line; ``meta.json`` pins the settings, and a restart with
other settings is refused. ``--episodes`` may grow between runs (it is not a
setting): the collection then continues with the next episode ids.
"""

from __future__ import annotations

import math
import re
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gpc_planner.atomic import JsonlLog, warn, write_atomic, write_json_atomic
from gpc_planner.early_stop import StallRule
from gpc_planner.episode import run_episode
from gpc_planner.methods import build_planner
from gpc_planner.outputs import check_output_dir, exclusive_output
from gpc_planner.plan_stats import episode_means, stat_names
from gpc_planner.planner import check_planning_sizes, task_spline
from gpc_planner.workers import TaskJob, TaskJobSetup, run_jobs
from gpc_sim.errors import ConfigError
from gpc_sim.limits import check_at_most, check_parallel, check_seed
from gpc_sim.spot.worlds import DEFAULT_WORLD
from gpc_sim.task import Task, initial_state_rng
from gpc_sim.tasks import (
    TASKS,
    has_setting,
    make_task,
    task_method_settings,
    task_options,
    with_old_defaults,
    with_recorded_defaults,
    without_old_defaults,
)

if TYPE_CHECKING:
    from gpc_planner.ray_backend import RayBackend

DATASET_FORMAT_VERSION = 1
COLLECT_SEED_OFFSET = 1_000_000  # initial states: initial_state_rng(seed + offset, episode)
EPISODE_FILE = re.compile(r"^ep_(\d{6,})\.npz$")
MAX_EPISODES = 1_000_000
MAX_EPISODE_STEPS = 10_000_000  # as gpc eval's
# What training reads from meta.json (``proposals.train.model_info``, ``load_dataset``).
TRAINING_META_KEYS = ("task", "observation_names", "knot_shape", "knot_times", "interpolation",
                      "action_low", "action_high")


@dataclass(frozen=True)
class CollectSpec:
    """Everything that determines the collected data (except how many episodes)."""

    task: str
    episodes: int = 100
    seed: int = 0
    rollouts: int = 128
    horizon: float = 3.0  # s
    iterations: int = 2  # CEM iterations per planning step
    max_steps: int | None = None  # episode limit in control steps (default: the task's)
    proposal: str | None = None  # a model file: collect with GPC-CEM (iterative training)
    flow_steps: int = 10
    flow_noise: float = 1.0  # std of the flow's initial noise (GPC-CEM collection only)
    # End an episode as hopeless once its object moved less than stall_distance (m) in the
    # last stall_window s (``early_stop.StallRule``); None: episodes run to their limit.
    stall_window: float | None = None
    stall_distance: float = 0.15
    # Task settings other than the defaults, as (name, value) pairs (e.g. the Spot world
    # or the chair's start range): ``make_task(task, **dict(task_options))``.
    task_options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        options = dict(task_options(self.task_options))
        if has_setting(self.task, "world"):
            # Always named in meta.json: a folder never grows in other physics than it was
            # started in, whatever the default world is by then.
            options.setdefault("world", DEFAULT_WORLD)
        options = with_recorded_defaults(self.task, options)  # the cost, default or not
        object.__setattr__(self, "task_options", task_options(options))

    @property
    def method(self) -> str:
        return "cem" if self.proposal is None else "gpc_cem"

    @property
    def stall(self) -> StallRule | None:
        if self.stall_window is None:
            return None
        return StallRule(window=self.stall_window, distance=self.stall_distance)

    def make_task(self, nthread: int | None = 1) -> Task:
        return make_task(self.task, nthread=nthread, **dict(self.task_options))

    def settings(self) -> dict:
        """What meta.json pins: all but ``episodes``, plus the proposal file's digest.
        Settings at their 'off' value are left out, so folders written before they existed
        resume."""
        s = asdict(self)
        s.pop("episodes")
        if self.stall_window is None:
            s.pop("stall_window")
            s.pop("stall_distance")
        options = without_old_defaults(dict(self.task_options))
        if options:
            s["task_options"] = {k: list(v) if isinstance(v, tuple) else v
                                 for k, v in options.items()}
        else:
            s.pop("task_options")
        tuned = task_method_settings(self.task, self.method)  # the task's, when any
        if tuned:
            s["method_settings"] = tuned
        if self.proposal is None:
            s.pop("flow_noise")  # CEM does not sample a flow (older datasets lack the key)
        else:
            from gpc_planner.evaluation import file_digest

            s["proposal_sha256"] = file_digest(self.proposal)
        return s


def check_collect_spec(spec: CollectSpec) -> None:
    """ConfigError naming the first setting of ``spec`` no collection can run with (before
    any work; rollouts, horizon and the flow's settings are checked with the planner)."""
    if not _is_int(spec.episodes) or spec.episodes < 1:
        raise ConfigError(f"episodes must be a positive integer, got {spec.episodes!r}")
    check_at_most(spec.episodes, MAX_EPISODES, "episodes",
                  "every episode is a file and a line of the folder's listing")
    check_seed(spec.seed)
    spec.stall  # noqa: B018 - StallRule checks its numbers
    if not _is_int(spec.iterations) or spec.iterations < 1:
        raise ConfigError(f"iterations must be a positive integer, got {spec.iterations!r}")
    if spec.max_steps is not None:
        if not _is_int(spec.max_steps) or spec.max_steps < 1:
            raise ConfigError(f"max_steps must be a positive integer, got {spec.max_steps!r}")
        check_at_most(spec.max_steps, MAX_EPISODE_STEPS, "max_steps",
                      "an episode keeps a record per replanning step")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class Dataset:
    """Training tuples (x, h, U*) from one or more collection folders."""

    obs: np.ndarray  # (N, d)
    hist: np.ndarray  # (N, d)
    knots: np.ndarray  # (N, K, m)
    episode: np.ndarray  # (N,) episode id of each sample
    meta: dict  # meta.json of the first folder
    sources: list[str] = field(default_factory=list)
    episodes: int = 0  # episodes in it: the successes, and the failures it was asked for
    # Failed episodes included (``load_dataset(failures_within=...)``), and that radius (m).
    failures: int = 0
    failures_within: float | None = None

    def __len__(self) -> int:
        return len(self.obs)


def episode_path(out: str | Path, episode: int) -> Path:
    return Path(out) / "episodes" / f"ep_{episode:06d}.npz"


def failed_episode_path(out: str | Path, episode: int) -> Path:
    """Where a failed episode's arrays go: apart from ``episodes/`` (what training reads,
    the paper's successes only), kept because they cost as much compute as a success and
    may hold most of one (a chair brought around the obstacle, then not turned)."""
    return Path(out) / "failed" / f"ep_{episode:06d}.npz"


def dataset_meta(task: Task, spec: CollectSpec, horizon: float) -> dict:
    """meta.json: format, settings, the control parametrisation and provenance."""
    cfg = task.config
    spline = task_spline(task, horizon)
    return {
        "format_version": DATASET_FORMAT_VERSION,
        "task": task.name,
        "task_family": task.family,
        "settings": spec.settings(),
        "method": spec.method,
        "initial_states": f"initial_state_rng(seed + {COLLECT_SEED_OFFSET}, episode)",
        "knot_shape": [cfg.num_knots, task.action_dim],
        "knot_times": [float(t) for t in spline.knot_times],
        "interpolation": cfg.interpolation,
        "dt": task.dt,
        "replan_hz": cfg.replan_hz,
        "observation_names": list(task.observation_names),
        "action_low": [float(v) for v in task.action_low],
        "action_high": [float(v) for v in task.action_high],
        "versions": {name: _version(name) for name in ("numpy", "mujoco", "torch")},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def collect_episode(task: Task, spec: CollectSpec, episode: int) -> dict:
    """Run episode ``episode`` and return what was recorded: its record and its arrays
    (``arrays``), for a failure as for a success (the caller files them apart)."""
    state = task.sample_initial_state(initial_state_rng(spec.seed + COLLECT_SEED_OFFSET, episode))
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, episode, 2]))
    planner = build_planner(task, spec.method, rng, spec.horizon, spec.rollouts,
                            model=spec.proposal, flow_steps=spec.flow_steps,
                            flow_noise=spec.flow_noise,
                            iterations=spec.iterations)
    stats = stat_names(spec.method)  # method-specific figures, one per replanning step
    rows: dict[str, list] = {"obs": [], "hist": [], "knots": [], "step": [],
                             **{name: [] for name in stats}, "object_xy": []}

    def record(step: int, state: np.ndarray, plan) -> None:
        obs = task.observation(state)
        rows["hist"].append(rows["obs"][-1] if rows["obs"] else obs)
        rows["obs"].append(obs)
        rows["knots"].append(planner.optimizer.mean.copy())  # U*: the mean after the step
        rows["step"].append(step)
        rows["object_xy"].append(task.object_position(state))
        for name in stats:
            rows[name].append(plan.stats.get(name, np.nan))

    result = run_episode(planner, state, max_steps=spec.max_steps, on_plan=record,
                         stall=spec.stall)
    out = {"episode": episode, "success": bool(result.success), "steps": int(result.steps),
           "stopped": result.stopped, "wall_s": round(result.wall_s, 3),
           "cpu_s": round(result.cpu_s, 3),
           **{k: float(v) for k, v in result.final_metrics.items()}}
    out.update(episode_means({name: [v for v in rows[name] if np.isfinite(v)]
                              for name in stats}, stats))
    if result.success or rows["obs"]:
        # float32: the model trains in float32, and the committed data stays small.
        out["arrays"] = {
            "obs": np.asarray(rows["obs"], dtype=np.float32),
            "hist": np.asarray(rows["hist"], dtype=np.float32),
            "knots": np.asarray(rows["knots"], dtype=np.float32),
            "step": np.asarray(rows["step"], dtype=np.int64),
            **{name: np.asarray(rows[name], dtype=np.float32) for name in stats},
            "object_xy": np.asarray(rows["object_xy"], dtype=np.float32).reshape(-1, 2),
            "steps": np.asarray(result.steps, dtype=np.int64),
            "wall_s": np.asarray(result.wall_s, dtype=np.float64),
            "cpu_s": np.asarray(result.cpu_s, dtype=np.float64),
        }
    return out


def write_episode(out: str | Path, episode: int, arrays: dict[str, np.ndarray],
                  failed: bool = False) -> Path:
    """One episode's arrays as an .npz, written atomically (a failed one in ``failed/``)."""
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    path = (failed_episode_path if failed else episode_path)(out, episode)
    write_atomic(path, buffer.getvalue())
    return path


def successful_episodes(out: str | Path) -> set[int]:
    """Ids of the successful episodes in ``out`` (their files in ``episodes/``)."""
    return {int(m.group(1)) for p in (Path(out) / "episodes").glob("ep_*.npz")
            if (m := EPISODE_FILE.match(p.name))}


def finished_episodes(out: str | Path) -> tuple[set[int], set[int]]:
    """Ids of (successful, failed) episodes already in ``out``."""
    ok = successful_episodes(out)
    failed = {r["episode"] for r in failed_records(out)}
    return ok, failed - ok


def failed_records(out: str | Path) -> list[dict]:
    """The valid lines of ``OUT/failed.jsonl`` (a dict with an integer episode >= 0).

    Others (torn by a crash, edited by hand) are skipped with one warning line: their
    episodes then count as not run, and a resumed collection runs them again.
    """
    path = Path(out) / "failed.jsonl"
    lines, not_json = JsonlLog(path).read_numbered()
    good, bad = [], list(not_json)
    for number, record in lines:
        if isinstance(record, dict) and _is_int(record.get("episode")) and record["episode"] >= 0:
            good.append(record)
        else:
            bad.append(number)
    if bad:
        shown = ", ".join(map(str, sorted(bad)[:8])) + (" ..." if len(bad) > 8 else "")
        warn(f"{path}: skipped {len(bad)} invalid line{'s' * (len(bad) > 1)} (line "
             f"{shown}: not a record of a failed episode); their episodes will run again")
    return good


def read_episode(path: str | Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Arrays ``keys`` of an episode file; a truncated, corrupt or incomplete one is a
    ConfigError naming it (numpy and zipfile raise half a dozen unrelated types)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: np.asarray(f[k]) for k in keys}
    except KeyError as err:
        raise ConfigError(f"{path} is not an episode file of gpc collect (no array "
                          f"{err.args[0] if err.args else '?'}); delete it") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        why = (str(err).splitlines() or [""])[0][:120] or type(err).__name__
        raise ConfigError(f"{path} is not a readable episode file (truncated or corrupt: "
                          f"{why}); delete it and rerun gpc collect to redo the episode") from None


def check_or_write_meta(out: Path, meta: dict) -> None:
    """Write meta.json, or refuse to mix with data of other settings."""
    path = out / "meta.json"
    if not path.exists():
        write_json_atomic(path, meta)
        return
    old = read_meta(out)
    if old.get("task") != meta["task"] or old.get("settings") != meta["settings"]:
        theirs, ours = old.get("settings", {}), meta["settings"]
        diff = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        if old.get("task") != meta["task"]:
            diff.insert(0, "task")
        raise ConfigError(f"{path} was written with other settings (differ: "
                          f"{', '.join(diff)}); collect into another folder or with the "
                          "same settings", setting="out")


def read_meta(out: str | Path) -> dict:
    import json

    path = Path(out) / "meta.json"
    if not path.is_file():
        raise ConfigError(f"{path} not found: not a gpc collect folder")
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as err:  # ValueError: not JSON, or not text at all
        raise ConfigError(f"{path} is not valid JSON: {str(err)[:200]}") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"{path} is not a gpc collect meta.json (not a JSON object)")
    if meta.get("format_version") != DATASET_FORMAT_VERSION:
        raise ConfigError(f"{path} has dataset format {meta.get('format_version')}; "
                          f"this gpc reads {DATASET_FORMAT_VERSION}")
    return meta


def _episode_job(job: TaskJob, episode: int) -> dict:
    return collect_episode(job.task, job.spec, episode)


def collect(spec: CollectSpec, out: str | Path, workers: int = 1, progress: bool = True,
            backend: RayBackend | None = None) -> dict:
    """Run (or resume) a collection into ``out``; returns ``collection_stats(out)``.

    Settings, the output folder and its lock (``OUT/collect.lock``: one run writes a
    folder at a time) are checked before the first episode. Episodes run in ``workers``
    processes here, or as tasks of a Ray cluster (``backend``): the same data either way,
    and a folder started under one grows under the other.
    """
    check_collect_spec(spec)
    check_parallel(workers, "workers")
    if backend is not None:  # before the folder is made
        from gpc_planner.ray_backend import check_backend

        check_backend(backend)
    out = check_output_dir(out, "dataset folder")
    task = spec.make_task(nthread=1)
    # Build once up front so that bad settings or a bad model fail before any work.
    planner = build_planner(task, spec.method, np.random.default_rng(0), spec.horizon,
                            spec.rollouts, model=spec.proposal, flow_steps=spec.flow_steps,
                            flow_noise=spec.flow_noise, iterations=spec.iterations)
    if workers > 1:  # each worker process plans with a batch of its own
        check_planning_sizes(task, planner.optimizer.config.num_rollouts, spec.horizon,
                             processes=workers)
    task.sample_initial_state(initial_state_rng(spec.seed + COLLECT_SEED_OFFSET, 0))
    with exclusive_output(out, out / "collect.lock"):
        return _collect(spec, task, out, workers, progress, backend)


def _collect(spec: CollectSpec, task: Task, out: Path, workers: int, progress: bool,
             backend: RayBackend | None = None) -> dict:
    """The run of ``collect`` once everything is checked (and ``out`` is locked)."""
    check_or_write_meta(out, dataset_meta(task, spec, spec.horizon))
    ok, failed = finished_episodes(out)
    todo = [e for e in range(spec.episodes) if e not in ok and e not in failed]
    failed_log = JsonlLog(out / "failed.jsonl")
    done = spec.episodes - len(todo)
    wins = len([e for e in ok if e < spec.episodes])
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=spec.episodes, initial=done, unit="episode", dynamic_ncols=True,
                   desc=f"collect {spec.task}/{spec.method}")
        bar.set_postfix(success=f"{wins}/{done}")
    # The card is rewritten however the run ends: an interrupted collection (the usual end
    # of a long one) must not leave a card that counts an earlier stop's episodes.
    try:
        for record in run_jobs(
                TaskJobSetup(spec, spec.task, spec.task_options),
                _episode_job, todo, workers, backend):
            arrays = record.pop("arrays", None)
            if record["success"]:
                write_episode(out, record["episode"], arrays)
                wins += 1
            else:
                if arrays is not None:  # first the data, then the line that says it is done
                    write_episode(out, record["episode"], arrays, failed=True)
                failed_log.append(record)
            done += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(success=f"{wins}/{done}")
    finally:
        if bar is not None:
            bar.close()
        stats = collection_stats(out)
        write_data_card(out, stats)
    return stats


def collection_stats(out: str | Path) -> dict:
    """Episodes, successes, samples, mean CEM sample ratio and cost of a collection folder.

    Cost: wall and CPU seconds summed over the episodes that recorded them (``costed``;
    folders written before costs were recorded have none), and core-hours (CPU / 3600).
    """
    out = Path(out)
    ok, failed = finished_episodes(out)
    samples, ratios, wall, cpu, costed, success_steps = 0, [], 0.0, 0.0, 0, []
    for e in sorted(ok):
        arrays = read_episode_optional(episode_path(out, e),
                                       ("obs", "cem_sample_ratio", "steps", "wall_s", "cpu_s"))
        samples += len(arrays["obs"])
        r = arrays["cem_sample_ratio"]
        if np.isfinite(r).any():
            ratios.append(float(np.nanmean(r)))
        if "steps" in arrays:
            success_steps.append(int(arrays["steps"]))
        if "wall_s" in arrays and "cpu_s" in arrays:
            wall, cpu, costed = wall + float(arrays["wall_s"]), cpu + float(arrays["cpu_s"]), \
                costed + 1
    stopped = 0
    for r in failed_records(out):
        if r["episode"] not in failed:
            continue
        ratio = r.get("cem_sample_ratio")
        if isinstance(ratio, int | float):
            ratios.append(float(ratio))
        stopped += bool(r.get("stopped"))
        w, c = r.get("wall_s"), r.get("cpu_s")
        if isinstance(w, int | float) and isinstance(c, int | float):
            wall, cpu, costed = wall + float(w), cpu + float(c), costed + 1
    n = len(ok) + len(failed)
    return {
        "episodes": n,
        "successes": len(ok),
        "success_rate": len(ok) / n if n else 0.0,
        "samples": samples,
        "cem_sample_ratio_mean": float(np.mean(ratios)) if ratios else None,
        "stopped_early": stopped,
        "success_steps_mean": float(np.mean(success_steps)) if success_steps else None,
        "costed_episodes": costed,
        "wall_hours": wall / 3600.0,
        "core_hours": cpu / 3600.0,
    }


def read_episode_optional(path: str | Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``read_episode`` for ``obs`` and ``cem_sample_ratio``, plus those of the other
    ``keys`` the file has (fields added after its folder was written)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            present = tuple(k for k in keys if k in f.files)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error):
        present = keys  # read_episode names the problem
    required = tuple(k for k in ("obs", "cem_sample_ratio") if k in keys)
    return read_episode(path, tuple(dict.fromkeys(required + present)))


def data_card(out: str | Path, stats: dict | None = None) -> dict:
    """What a dataset is and what it cost: its meta.json's settings and task, and
    ``collection_stats`` (the folder's own figures, so the card of a folder grown over
    several sessions counts them all)."""
    out = Path(out)
    meta = read_meta(out)
    stats = stats if stats is not None else collection_stats(out)
    return {"task": meta.get("task"), "method": meta.get("method"),
            "settings": meta.get("settings"), "initial_states": meta.get("initial_states"),
            "observation_names": meta.get("observation_names"),
            "knot_shape": meta.get("knot_shape"), "versions": meta.get("versions"),
            "created": meta.get("created"), **stats}


def write_data_card(out: str | Path, stats: dict | None = None) -> dict:
    """``OUT/card.json`` and a readable ``OUT/card.md`` (both atomic), from ``data_card``."""
    out = Path(out)
    card = data_card(out, stats)
    write_json_atomic(out / "card.json", card)
    write_atomic(out / "card.md", render_data_card(card, out.name).encode())
    return card


def render_data_card(card: dict, name: str) -> str:
    """The data card as Markdown: what a reader of a committed dataset needs first."""
    settings = card.get("settings") or {}
    command = ["gpc collect", f"--task {card.get('task')}", f"--episodes {card['episodes']}"]
    flags = {"seed": "--seed", "rollouts": "--rollouts", "horizon": "--horizon",
             "iterations": "--iterations", "max_steps": "--max-steps",
             "proposal": "--proposal", "flow_steps": "--flow-steps",
             "flow_noise": "--flow-noise", "stall_window": "--stall",
             "stall_distance": "--stall-distance"}
    for key, flag in flags.items():
        value = settings.get(key)
        if value is not None and not (key in ("flow_steps",) and settings.get("proposal")
                                      is None):
            command.append(f"{flag} {value}")
    options = settings.get("task_options") or {}
    if card.get("task") in TASKS:  # say the cost a record meant by not naming it
        options = with_old_defaults(card["task"], options)
    for key, value in options.items():
        command.append(f"--task-option {key}={json_value(value)}")
    command.append(f"--out {name}")
    ratio = card.get("cem_sample_ratio_mean")
    steps = card.get("success_steps_mean")
    lines = [
        f"# Data card: {name}",
        "",
        f"- Task: `{card.get('task')}`, collected with `{card.get('method')}`; initial "
        f"states {card.get('initial_states')}.",
        f"- Episodes: {card['episodes']} run, {card['successes']} kept (successes, "
        f"{card['success_rate']:.2f}); {card['stopped_early']} ended early as hopeless; "
        f"{card['samples']} training tuples (x, h, U*)"
        + (f"; successes took {steps:.0f} control steps on average" if steps else "") + ".",
        f"- Cost: {card['core_hours']:.2f} core-hours (CPU time of the episode processes, "
        f"all threads), {card['wall_hours']:.2f} h of episode wall time, over "
        f"{card['costed_episodes']} of {card['episodes']} episodes that recorded it.",
        f"- Settings: `{json_value(settings)}`.",
        "- CEM sample ratio (GPC-CEM collection): "
        + (f"{ratio:.3f}." if ratio is not None else "n/a."),
        f"- Versions: `{json_value(card.get('versions'))}`; created {card.get('created')}.",
        "",
        "Rebuild (resumes; the same settings give the same episodes):",
        "",
        "    " + " ".join(command),
        "",
    ]
    return "\n".join(lines)


def json_value(value: object) -> str:
    import json

    return json.dumps(value, separators=(",", ":")) if not isinstance(value, str) else value


def load_dataset(dirs: str | Path | list[str | Path],
                 failures_within: float | None = None) -> Dataset:
    """All (x, h, U*) tuples of one or more collection folders, with the first's meta.

    Folders must agree on task family, observation layout and control
    parametrisation (knot shape and times, interpolation). Successful episodes only, as
    the paper trains; with ``failures_within`` (m) also the failed episodes that ended
    with the object that close to the goal position (``position_error``; a chair brought
    around the obstacle but not turned) and whose arrays were kept (``failed/``).
    """
    if failures_within is not None and not (math.isfinite(failures_within)
                                            and failures_within >= 0.0):
        raise ConfigError(f"failures_within must be a distance >= 0 m, got {failures_within}",
                          setting="failures_within")
    if isinstance(dirs, (str, Path)):
        dirs = [dirs]
    if not dirs:
        raise ConfigError("no data folder given")
    obs, hist, knots, episode = [], [], [], []
    nonfinite: list[tuple[Path, dict[str, int]]] = []
    first: dict | None = None
    keys = ("task_family", "observation_names", "knot_shape", "knot_times", "interpolation")
    n_episodes = n_failures = 0
    for d in dirs:
        meta = read_meta(d)
        if first is None:
            first = meta
        elif any(meta.get(k) != first.get(k) for k in keys):
            raise ConfigError(f"{d} does not match {dirs[0]} (task family, observations or "
                              "control parametrisation differ)")
        missing = [k for k in TRAINING_META_KEYS if k not in meta]
        if missing:
            raise ConfigError(f"{Path(d) / 'meta.json'} lacks {', '.join(missing)}")
        # failed.jsonl is read only for the failures asked for (near_goal_failures).
        paths = [(e, episode_path(d, e)) for e in sorted(successful_episodes(d))]
        if failures_within is not None:
            near = sorted(near_goal_failures(d, failures_within))
            paths += [(e, failed_episode_path(d, e)) for e in near]
            n_failures += len(near)
        for e, path in paths:
            arrays = read_episode(path, ("obs", "hist", "knots"))
            check_episode_shapes(path, arrays, meta)
            counts = {k: int(v.size - np.count_nonzero(np.isfinite(v))) for k, v in arrays.items()}
            if any(counts.values()):
                nonfinite.append((path, counts))
            obs.append(arrays["obs"])
            hist.append(arrays["hist"])
            knots.append(arrays["knots"])
            episode.append(np.full(len(obs[-1]), e))
            n_episodes += 1
    assert first is not None
    if nonfinite:
        raise ConfigError(_nonfinite_message(nonfinite))
    if not obs:
        raise ConfigError(f"no successful episodes in {', '.join(map(str, dirs))}")
    return Dataset(np.concatenate(obs), np.concatenate(hist), np.concatenate(knots),
                   np.concatenate(episode), first, [str(d) for d in dirs], n_episodes,
                   n_failures, failures_within)


def near_goal_failures(out: str | Path, within: float) -> set[int]:
    """Failed episodes of ``out`` that ended with the object within ``within`` m of the goal
    position and whose arrays were kept (``failed/``, collections since 2026-12-05)."""
    ids = set()
    for record in failed_records(out):
        error = record.get("position_error")
        if isinstance(error, (int, float)) and not isinstance(error, bool) and \
                math.isfinite(error) and error <= within and \
                failed_episode_path(out, record["episode"]).is_file():
            ids.add(record["episode"])
    return ids


def check_episode_shapes(path: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """ConfigError unless an episode's arrays have the layout its folder's meta.json says:
    (T, d) observations and history, (T, K, m) knots, all floats."""
    steps = len(arrays["obs"]) if arrays["obs"].ndim else 0
    d = len(meta["observation_names"])
    expected = {"obs": (steps, d), "hist": (steps, d), "knots": (steps, *meta["knot_shape"])}
    for name, shape in expected.items():
        a = arrays[name]
        if a.shape != tuple(shape) or not np.issubdtype(a.dtype, np.floating):
            raise ConfigError(f"{path}: {name} is {a.dtype} {a.shape}, expected float "
                              f"{tuple(shape)} (meta.json)")


def _nonfinite_message(found: list[tuple[Path, dict[str, int]]]) -> str:
    """One line naming the files and arrays with NaN or inf values, with their counts."""
    total = sum(sum(c.values()) for _, c in found)
    shown = "; ".join(f"{path}: " + ", ".join(f"{k} {n}" for k, n in counts.items() if n)
                      for path, counts in found[:3])
    more = f"; and {len(found) - 3} more files" if len(found) > 3 else ""
    return (f"the data holds {total} non-finite values (NaN or inf), which would train a "
            f"NaN model: {shown}{more}; delete those episode files")
