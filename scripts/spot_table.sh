#!/usr/bin/env bash
# The Spot chair-push rows of the paper's Table II, 50 trials each, seed 0, at the paper's
# settings (32 rollouts, 4 s horizon, 5 Hz, 2,500 steps of 0.02 s): the baselines CEM and
# MPPI, the 3 s horizon ablation and the task variant with the obstacle-avoidance cost
# (the default ROWS), and the GPC rows with the three shipped Spot models sampled at their
# cards' settings (ROWS="gpc_cem_2 gpc_cem_10 gpc_shoot_2 gpc_shoot_10 gpc_cem_2_h3
# avoid_gpc_cem_2", or ROWS=all for every row).
# One CEM trial is ~250 plans of 32 rollouts x 4 s: ~10 min of one core of the 2-core dev
# machine in the original world (581-588 s mean over the first two rows), 1-2 min in the
# balanced one (76-128 s per trial, two workers on the 2 cores, 2026-12-06). Each run
# resumes from its journal if interrupted.
# `--status` only prints the table of what has finished so far (journals of runs still
# going are marked "k of 50 (in progress)").
# The baseline rows were measured in the original world (judo's physics), before `balanced`
# became the default (issue 18): WORLD (default original) says which world plant and
# rollouts run; another world, cost or yaw weight writes under
# results/spot/WORLD_GOALDISTANCE[_wyawW] unless OUT_DIR is given.
# They were also planned on the paper's straight-line goal distance, before the geodesic one
# became the Spot tasks' default: GOAL_DISTANCE (default euclidean) says which; and with the
# yaw weighed 6, the tasks' weight until 2026-12-07 (15 since): W_YAW (default 6) says which
# (docs/SPOT_DATA.md, "A stronger yaw term").
# Usage: bash scripts/spot_table.sh [--status] [OUT_DIR]   (default results/spot)
#        WORKERS=N (default: all cores, one trial per core), WORLD=NAME (default original),
#        GOAL_DISTANCE=euclidean|geodesic (default euclidean), W_YAW=W (default 6), ROWS="row ..."
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STATUS=0
if [ "${1:-}" = "--status" ]; then STATUS=1; shift; fi
WORLD="${WORLD:-original}"
GOAL_DISTANCE="${GOAL_DISTANCE:-euclidean}"
OLD_W_YAW=6  # the weight of the baseline rows in results/spot (the tasks' until 2026-12-07)
W_YAW="${W_YAW:-$OLD_W_YAW}"
WYAW_SUFFIX=""
if [ "$W_YAW" != "$OLD_W_YAW" ]; then WYAW_SUFFIX="_wyaw$W_YAW"; fi
if [ "$WORLD/$GOAL_DISTANCE$WYAW_SUFFIX" = original/euclidean ]; then OUT="${1:-results/spot}"
else OUT="${1:-results/spot/${WORLD}_$GOAL_DISTANCE$WYAW_SUFFIX}"; fi
BASELINES="cem mppi cem_h3 mppi_h3 avoid_cem avoid_mppi"
GPC_ROWS="gpc_cem_2 gpc_cem_10 gpc_shoot_2 gpc_shoot_10 gpc_cem_2_h3 avoid_gpc_cem_2"
ROWS_WANTED="${ROWS:-$BASELINES}"
if [ "$ROWS_WANTED" = all ]; then ROWS_WANTED="$BASELINES $GPC_ROWS"; fi
read -r -a ROWS <<< "$ROWS_WANTED"
MODELS="gpc_planner/gpc_planner/models/spot_chair.pt gpc_planner/gpc_planner/models/spot_chair_seed1.pt gpc_planner/gpc_planner/models/spot_chair_seed2.pt"
args_of() {
  case "$1" in
    cem) echo "--task spot_chair --method cem" ;;
    mppi) echo "--task spot_chair --method mppi" ;;
    cem_h3) echo "--task spot_chair --method cem --horizon 3" ;;
    mppi_h3) echo "--task spot_chair --method mppi --horizon 3" ;;
    avoid_cem) echo "--task spot_chair_avoid --method cem" ;;
    avoid_mppi) echo "--task spot_chair_avoid --method mppi" ;;
    gpc_cem_2) echo "--task spot_chair --method gpc_cem --flow-steps 2 --model $MODELS" ;;
    gpc_cem_10) echo "--task spot_chair --method gpc_cem --flow-steps 10 --model $MODELS" ;;
    gpc_shoot_2) echo "--task spot_chair --method gpc_shoot --flow-steps 2 --model $MODELS" ;;
    gpc_shoot_10) echo "--task spot_chair --method gpc_shoot --flow-steps 10 --model $MODELS" ;;
    gpc_cem_2_h3) echo "--task spot_chair --method gpc_cem --flow-steps 2 --horizon 3 --model $MODELS" ;;
    avoid_gpc_cem_2) echo "--task spot_chair_avoid --method gpc_cem --flow-steps 2 --model $MODELS" ;;
    *) echo "spot_table: no row $1 (rows: $BASELINES $GPC_ROWS)" >&2; return 1 ;;
  esac
}
for row in "${ROWS[@]}"; do args_of "$row" > /dev/null; done  # an unknown row fails first
if [ "$STATUS" = 0 ]; then bash scripts/setup.sh; fi
# shellcheck disable=SC1091
source env.sh
WORKERS="${WORKERS:-$(nproc)}"
OPTIONS=(--task-option "goal_distance=$GOAL_DISTANCE" --task-option "w_yaw=$W_YAW")
file_of() {
  case "$1" in
    avoid_*) echo "$OUT/spot_chair_avoid_${1#avoid_}.json" ;;
    *) echo "$OUT/spot_chair_$1.json" ;;
  esac
}
if [ "$STATUS" = 0 ]; then
  mkdir -p "$OUT"
  for row in "${ROWS[@]}"; do
    echo "== gpc eval $(args_of "$row")"
    # shellcheck disable=SC2046
    gpc eval $(args_of "$row") --trials 50 --seed 0 --workers "$WORKERS" --no-progress \
      --world "$WORLD" "${OPTIONS[@]}" --out "$(file_of "$row")"
  done
fi
files=()
for row in "${ROWS[@]}"; do
  f="$(file_of "$row")"
  if [ -f "$f" ]; then files+=("$f"); elif [ -f "$f.partial.jsonl" ]; then files+=("$f.partial.jsonl"); fi
done
if [ "${#files[@]}" = 0 ]; then echo "spot_table: no results under $OUT yet" >&2; exit 1; fi
gpc report "${files[@]}"
