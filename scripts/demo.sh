#!/usr/bin/env bash
# Set up (idempotent), then the main job: the simulated Spot chair push in the loop, headless.
# The ROS 2 graph (sim node, Spot bridge, planner with GPC-CEM and the shipped Spot model)
# lock-stepped on sim time for 60 s of the episode from trial 0 of seed 0, with a progress
# bar, the summary at the end and pictures in runs/launch/<date-time>/. Extra arguments go
# to `gpc launch spot_push` (e.g. `bash scripts/demo.sh method:=cem trial:=3`;
# `--duration 20` for a shorter run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
# shellcheck disable=SC1091
source env.sh
exec gpc launch spot_push --lockstep --headless --duration 60 "$@"
