#!/usr/bin/env bash
# The NFMPC paper's Figs. 1 and 3 on one task: success rate and trajectory cost (median,
# quartiles) over the samples per iteration, for MPPI, FlowMPPI and NFMPC (and NFMPC with
# its shift kept fixed, the paper's ablation), every point on the same seeded environments;
# with METHODS naming them, CEM and GPC-CEM (the head-to-head: three flow-matching model
# seeds trained on offline CEM data of the task, trial i using seed i mod 3).
# Each point is one `gpc eval --rollouts N` run that resumes from its journal if interrupted;
# the cheap sample counts run first, so the figure fills from the left. A method whose model
# file is missing is skipped with a line saying so (train it first: README, "NFMPC").
# `--status` only prints the table and draws the figure from what has finished so far; either
# way they show every finished point of the figure's methods (the paper's four and any METHODS
# adds) at every sample count.
# Usage: bash scripts/nf_figure.sh [--status] [TASK]   (default nav_dyn)
#        SAMPLES="16 32 ..." (default 16 32 64 128 256 512 1024), TRIALS (default 200),
#        SEED (default 0: the reporting seed), WORKERS (default: all cores),
#        METHODS="mppi flow_mppi nfmpc nfmpc_fixed_shift cem gpc_cem"
#          (default: the first four, the paper's figure),
#        NFMPC_MODEL, FLOW_MPPI_MODEL, FIXED_SHIFT_MODEL
#          (default runs/nfmpc/<method>_<TASK>/model.pt),
#        GPC_MODELS (default runs/nfmpc/gpc_<TASK>_seed{0,1,2}/model.pt),
#        OUT (default results/nfmpc/TASK)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STATUS=0
if [ "${1:-}" = "--status" ]; then STATUS=1; shift; fi
TASK="${1:-nav_dyn}"
ALL_SAMPLES="16 32 64 128 256 512 1024"  # the figure's sample counts
SAMPLES="${SAMPLES:-$ALL_SAMPLES}"
TRIALS="${TRIALS:-200}"
SEED="${SEED:-0}"
PAPER_METHODS="mppi flow_mppi nfmpc nfmpc_fixed_shift"  # the paper's figure
METHODS="${METHODS:-$PAPER_METHODS}"
OUT="${OUT:-results/nfmpc/$TASK}"
# shellcheck disable=SC1091
source env.sh
WORKERS="${WORKERS:-$(nproc)}"
GPC_DEFAULT="runs/nfmpc/gpc_${TASK}_seed0/model.pt runs/nfmpc/gpc_${TASK}_seed1/model.pt"
GPC_DEFAULT="$GPC_DEFAULT runs/nfmpc/gpc_${TASK}_seed2/model.pt"
model_of() {  # the model file(s) of a row, space-separated; none for the plain planners
  case "$1" in
    nfmpc) echo "${NFMPC_MODEL:-runs/nfmpc/nfmpc_$TASK/model.pt}" ;;
    flow_mppi) echo "${FLOW_MPPI_MODEL:-runs/nfmpc/flow_mppi_$TASK/model.pt}" ;;
    nfmpc_fixed_shift) echo "${FIXED_SHIFT_MODEL:-runs/nfmpc/nfmpc_fixed_shift_$TASK/model.pt}" ;;
    gpc_cem) echo "${GPC_MODELS:-$GPC_DEFAULT}" ;;
    *) echo "" ;;
  esac
}
method_of() { case "$1" in nfmpc_fixed_shift) echo nfmpc ;; *) echo "$1" ;; esac; }
if [ "$STATUS" = 0 ]; then
  mkdir -p "$OUT"
  for n in $SAMPLES; do
    for m in $METHODS; do
      read -r -a models <<< "$(model_of "$m")"
      args=(--task "$TASK" --method "$(method_of "$m")" --rollouts "$n" --trials "$TRIALS"
            --seed "$SEED" --workers "$WORKERS" --no-progress --out "$OUT/${m}_$n.json")
      missing=""
      for f in "${models[@]}"; do [ -f "$f" ] || missing="$f"; done
      if [ -n "$missing" ]; then echo "nf_figure: skip $m: no model at $missing"; continue; fi
      if [ "${#models[@]}" -gt 0 ]; then args+=(--model "${models[@]}"); fi
      echo "== gpc eval ${args[*]}"
      gpc eval "${args[@]}"
    done
  done
fi
# The table and figure show every finished point of the figure's methods (the paper's four
# and any METHODS adds) at every sample count, not only what this run was asked for: a run of
# a few points does not redraw the figure without the others.
FIG_METHODS="$PAPER_METHODS"
for m in $METHODS; do case " $FIG_METHODS " in *" $m "*) ;; *) FIG_METHODS="$FIG_METHODS $m" ;; esac; done
FIG_SAMPLES="$(printf '%s\n' $ALL_SAMPLES $SAMPLES | sort -n -u | tr '\n' ' ')"
files=()
for n in $FIG_SAMPLES; do
  for m in $FIG_METHODS; do
    f="$OUT/${m}_$n.json"
    if [ -f "$f" ]; then files+=("$f"); elif [ -f "$f.partial.jsonl" ]; then files+=("$f.partial.jsonl"); fi
  done
done
if [ "${#files[@]}" = 0 ]; then echo "nf_figure: no results under $OUT yet" >&2; exit 1; fi
gpc report "${files[@]}" --samples-plot "$OUT/samples.png"
