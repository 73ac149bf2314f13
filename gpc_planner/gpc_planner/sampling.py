"""How a proposal model is best sampled, per method: a setting that lives with the model.

How wide to start the flow (``flow_noise``) and how many Euler steps to take
(``flow_steps``) are properties of a trained model as much as its weights: the
shipped Push-T models score below CEM at the paper's noise 1 and best at 2 (GPC-CEM)
or 2.5 (GPC-Shoot). So a model file carries its recommendations in a ``sampling``
entry, {key: {"flow_noise": float, "flow_steps": int}}, shown in its model card and
set by ``gpc model set-sampling`` (``proposals.model_card.set_model_sampling``);
``gpc train`` leaves it empty. A key is a method (``gpc_cem``), or a method on one task
(``gpc_cem@spot_chair_avoid``, ``sampling_key``): one model can serve several tasks
(the chair push's models serve the push with the avoidance term too) and be best
sampled differently on each, without a copy of its weights per task. A run that is
given no flow setting takes the model's recommendation for its method on its task,
else for its method, else the paper's (noise 1, 10 steps). This module does not import
torch (the classical methods start without it); reading a model file's entry is
``gpc_planner.methods.model_sampling``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from gpc_sim.errors import ConfigError

SAMPLING_KEYS = ("flow_noise", "flow_steps")
TASK_SEPARATOR = "@"  # sampling key of a method on one task: "gpc_cem@spot_chair_avoid"


@dataclass(frozen=True)
class SamplingSettings:
    """The flow's sampling settings; the defaults are the paper's."""

    flow_noise: float = 1.0  # std of the flow's initial noise, x0 ~ N(0, noise^2 I)
    flow_steps: int = 10  # Euler steps of the flow ODE

    def __post_init__(self) -> None:
        check_flow_steps(self.flow_steps)
        check_flow_noise(self.flow_noise)

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def check_flow_steps(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"flow_steps must be an integer of at least 1, got {value!r}",
                          setting="flow_steps")


def check_flow_noise(value: object) -> None:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not (math.isfinite(value) and value > 0.0)):
        raise ConfigError(f"flow_noise must be a positive number, got {value!r}",
                          setting="flow_noise")


PAPER_SAMPLING = SamplingSettings()


def sampling_key(method: str, task: str | None = None) -> str:
    """The ``sampling`` entry's key for ``method``, on ``task`` only when one is given."""
    return method if task is None else f"{method}{TASK_SEPARATOR}{task}"


def split_sampling_key(key: str) -> tuple[str, str | None]:
    """(method, task or None) of a ``sampling`` key (``sampling_key``'s inverse)."""
    method, _, task = key.partition(TASK_SEPARATOR)
    return method, (task or None)


def _valid_key(key: object) -> bool:
    """A method name, or method@task with neither part empty."""
    if not isinstance(key, str):
        return False
    method, separator, task = key.partition(TASK_SEPARATOR)
    return bool(method) and (not separator or (bool(task) and TASK_SEPARATOR not in task))


def check_sampling_entry(value: object, source: str) -> dict[str, dict[str, float | int]]:
    """A model file's ``sampling`` entry, normalised ({key: {"flow_noise": float,
    "flow_steps": int}}, each key a method or ``method@task``); ConfigError naming
    ``source`` if it is malformed."""
    if not isinstance(value, dict):
        raise ConfigError(f"proposal model {source}: sampling must be a dict of methods, got "
                          f"{type(value).__name__}")
    out: dict[str, dict[str, float | int]] = {}
    for key, settings in value.items():
        if not _valid_key(key):
            raise ConfigError(f"proposal model {source}: sampling key {key!r} is neither "
                              f"a method nor method{TASK_SEPARATOR}task")
        if not isinstance(settings, dict):
            raise ConfigError(f"proposal model {source}: sampling[{key!r}] must be a dict "
                              f"of {' and '.join(SAMPLING_KEYS)}")
        unknown = set(settings) - set(SAMPLING_KEYS)
        if unknown:
            raise ConfigError(f"proposal model {source}: sampling[{key!r}] has unknown "
                              f"keys {', '.join(sorted(map(str, unknown)))}")
        try:
            merged = SamplingSettings(**settings)
        except ConfigError as err:
            raise ConfigError(f"proposal model {source}: sampling[{key!r}]: {err}") from None
        out[key] = {"flow_noise": float(merged.flow_noise),
                    "flow_steps": int(merged.flow_steps)}
    return out


def recommended_sampling(sampling: dict, method: str,
                         task: str | None = None) -> SamplingSettings:
    """A model's recommendation (its ``sampling`` entry) for ``method`` on ``task``, else
    for ``method`` on any task, else the paper's."""
    for key in ((sampling_key(method, task),) if task else ()) + (method,):
        if key in sampling:
            return SamplingSettings(**sampling[key])
    return PAPER_SAMPLING


def agreed_sampling(method: str, recommendations: Sequence[tuple[str, SamplingSettings]],
                    flow_noise: float | None = None,
                    flow_steps: int | None = None) -> SamplingSettings:
    """The settings a run of ``method`` samples with: ``flow_noise`` / ``flow_steps`` where
    given, else what every model recommends (``recommendations``: (file, its settings)).

    Several model files (model seeds of one evaluation) must agree on a setting that is
    not given: one run, one setting; a ConfigError names the files and values otherwise.
    """
    chosen: dict[str, float | int] = {}
    for key, given in (("flow_noise", flow_noise), ("flow_steps", flow_steps)):
        if given is not None:
            chosen[key] = given
            continue
        values = {source: getattr(s, key) for source, s in recommendations}
        distinct = sorted(set(values.values()))
        if len(distinct) > 1:
            shown = ", ".join(f"{source}: {value:g}" for source, value in values.items())
            raise ConfigError(f"the models of this {method} run recommend different {key} "
                              f"({shown}); give {key} explicitly, or make their model cards "
                              "agree (gpc model set-sampling)", setting=key)
        chosen[key] = distinct[0] if distinct else getattr(PAPER_SAMPLING, key)
    return SamplingSettings(**chosen)  # type: ignore[arg-type]


__all__ = ["PAPER_SAMPLING", "SAMPLING_KEYS", "TASK_SEPARATOR", "SamplingSettings",
           "agreed_sampling", "check_sampling_entry", "recommended_sampling", "sampling_key",
           "split_sampling_key"]
