"""Any model file, by its kind: GPC's flow-matching models and the NFMPC/FlowMPPI flows.

A file's ``kind`` says which training made it (the ``gpc train --method``); GPC's files,
older than the others, have none and are "gpc". A method's registry entry names the kind
it samples (``MethodSpec.model_kind``), so a file of another kind is a one-line error
before any planning.
"""

from __future__ import annotations

from pathlib import Path

from gpc_planner.proposals.flow_model import model_from_dict, read_model_file
from gpc_planner.proposals.nf_model import NF_KINDS, nf_model_from_dict
from gpc_sim.errors import ConfigError

GPC_KIND = "gpc"
MODEL_KINDS = (GPC_KIND, *NF_KINDS)


def file_kind(contents: dict) -> str:
    """The kind of a model file's contents ("gpc" when it names none)."""
    return contents.get("kind", GPC_KIND)


def model_from_file_dict(contents: dict, source: str = "<memory>"):
    """The model a file's contents hold, built by its kind; ConfigError naming ``source``."""
    kind = file_kind(contents)
    if kind == GPC_KIND:
        return model_from_dict(contents, source=source)
    if kind in NF_KINDS:
        return nf_model_from_dict(contents, source=source)
    raise ConfigError(f"model {source} is of unknown kind {kind!r}; known: "
                      f"{', '.join(MODEL_KINDS)}")


def load_model_file(path: str | Path):
    """The model in the file at ``path``, whatever its kind (see ``model_from_file_dict``)."""
    return model_from_file_dict(read_model_file(path), source=str(path))


__all__ = ["GPC_KIND", "MODEL_KINDS", "file_kind", "load_model_file", "model_from_file_dict"]
