"""Learnt proposal distributions for sampling MPC (the "G" of GPC).

Importing this package imports torch; the core planners import it only when a
GPC method is asked for, so classical methods start fast.
"""

from gpc_planner.proposals.flow_model import (
    MODEL_FORMAT_VERSION,
    FlowConfig,
    ModelInfo,
    Normalization,
    ProposalModel,
    load_proposal_model,
)
from gpc_planner.proposals.shipped import default_model_path

__all__ = ["MODEL_FORMAT_VERSION", "FlowConfig", "ModelInfo", "Normalization", "ProposalModel",
           "default_model_path", "load_proposal_model"]
