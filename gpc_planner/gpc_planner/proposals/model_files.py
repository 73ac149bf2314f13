"""Any model file, by its kind: GPC's flow-matching models and the NFMPC/FlowMPPI flows.

A file's ``kind`` says which training made it (the ``gpc train --method``); GPC's files,
older than the others, have none and are "gpc". A method's registry entry names the kind
it samples (``MethodSpec.model_kind``), so a file of another kind is a one-line error
before any planning.

Every loader reads and checks its file through the functions here, so that a missing
file, a file that is no model, a model of another kind or format version, a malformed or
a corrupt (NaN) one is the same one-line ConfigError naming the file, whichever model it
was meant to be. ``where`` in their arguments is how the message names the file
("proposal model PATH", "flow model PATH"). The two model modules are imported only when
a file is built (``model_from_file_dict``): they read their files through this one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from gpc_sim.errors import ConfigError

GPC_KIND = "gpc"
NF_KINDS = ("nfmpc", "flow_mppi")  # NFMPC's and FlowMPPI's flows (``nf_model``)
MODEL_KINDS = (GPC_KIND, *NF_KINDS)

# What building a model from wrong contents raises (a bad config, a short list, a weight
# of another shape): all mean the same thing to the user, a malformed file.
MALFORMED_ERRORS = (TypeError, KeyError, ValueError, IndexError, RuntimeError)


def read_model_file(path: str | Path) -> dict:
    """The raw contents of a model file; ConfigError naming the file when it is missing or
    not a torch file holding a dict (read with ``weights_only=True``: no code runs)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"proposal model {path} not found")
    try:
        d = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - whatever the unpickler trips on, same user error
        first = (str(err).splitlines() or [""])[0].strip() or type(err).__name__
        raise ConfigError(f"proposal model {path} is not a readable model file (truncated, "
                          f"corrupt or not written by gpc train; torch.load said: "
                          f"{type(err).__name__}: {first[:200]})") from None
    if not isinstance(d, dict):
        raise ConfigError(f"proposal model {path} is not a model file (no dict inside)")
    return d


def file_kind(contents: dict) -> str:
    """The kind of a model file's contents ("gpc" when it names none)."""
    return contents.get("kind", GPC_KIND)


def unknown_kind(where: str, kind: object, known: Iterable[str]) -> ConfigError:
    """The error for a file whose ``kind`` no loader here knows."""
    return ConfigError(f"{where} is of unknown kind {kind!r}; known: {', '.join(known)}")


def check_header(contents: dict, where: str, required: Iterable[str], version: int) -> None:
    """ConfigError unless ``contents`` has every ``required`` key and format ``version``:
    before anything is built from it, so the message names what is wrong, not a KeyError."""
    missing = [k for k in required if k not in contents]
    if missing:
        raise ConfigError(f"{where} lacks {', '.join(missing)}")
    if contents["format_version"] != version:
        raise ConfigError(f"{where} has format version {contents['format_version']}; "
                          f"this version of gpc reads {version}")


@contextmanager
def building(where: str) -> Iterator[None]:
    """Build a model from file contents inside this: what a malformed file makes the
    constructors raise (``MALFORMED_ERRORS``) becomes one line naming the file."""
    try:
        yield
    except MALFORMED_ERRORS as err:
        raise ConfigError(f"{where} is malformed: "
                          f"{(str(err).splitlines() or [''])[0]}") from None


def check_normalization(where: str, obs_dim: int, *arrays: np.ndarray) -> None:
    """ConfigError unless every observation normalisation array has ``obs_dim`` values."""
    if any(len(a) != obs_dim for a in arrays):
        raise ConfigError(f"{where}: normalization does not match obs_dim")


def check_finite(where: str, tensors: Iterable[torch.Tensor],
                 arrays: Iterable[np.ndarray]) -> None:
    """ConfigError when weights (``tensors``) or normalisation values (``arrays``) hold NaN
    or inf: such a model can only sample NaN, so it is refused when loaded, before any
    planning."""
    bad = sum(int((~torch.isfinite(t)).sum()) for t in tensors)
    bad += sum(int((~np.isfinite(a)).sum()) for a in arrays)
    if bad:
        raise ConfigError(f"{where} holds {bad} non-finite weights or normalization values "
                          "(NaN or inf): a diverged or corrupt training")


def check_fits_task(where: str, info, obs_dim: int, knot_shape: tuple[int, int],
                    task) -> None:
    """ConfigError unless a model of ``info`` (``ModelInfo``), observation size and knot
    shape serves ``task``: the same task, or one of the same family with the same
    observation layout; the same observation size and knot shape. (The horizon is each
    model's own rule.)"""
    same_family = (info.task_family and info.task_family == task.family
                   and list(info.observation_names) == list(task.observation_names))
    if info.task != task.name and not same_family:
        raise ConfigError(f"{where} was trained on task {info.task!r}, not {task.name!r}")
    task_obs = len(task.observation_names)
    if obs_dim != task_obs:
        raise ConfigError(f"{where} takes observations of size {obs_dim}, task {task.name} "
                          f"gives {task_obs}")
    shape = (task.config.num_knots, task.action_dim)
    if tuple(knot_shape) != shape:
        raise ConfigError(f"{where} has knot shape {tuple(knot_shape)}, task {task.name} "
                          f"plans with {shape}")


def model_from_file_dict(contents: dict, source: str = "<memory>"):
    """The model a file's contents hold, built by its kind; ConfigError naming ``source``."""
    kind = file_kind(contents)
    if kind == GPC_KIND:
        from gpc_planner.proposals.flow_model import model_from_dict

        return model_from_dict(contents, source=source)
    if kind in NF_KINDS:
        from gpc_planner.proposals.nf_model import nf_model_from_dict

        return nf_model_from_dict(contents, source=source)
    raise unknown_kind(f"model {source}", kind, MODEL_KINDS)


def load_model_file(path: str | Path):
    """The model in the file at ``path``, whatever its kind (see ``model_from_file_dict``)."""
    return model_from_file_dict(read_model_file(path), source=str(path))


__all__ = ["GPC_KIND", "MODEL_KINDS", "NF_KINDS", "building", "check_finite",
           "check_fits_task", "check_header", "check_normalization", "file_kind",
           "load_model_file", "model_from_file_dict", "read_model_file", "unknown_kind"]
