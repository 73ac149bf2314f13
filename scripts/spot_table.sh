#!/usr/bin/env bash
# The Spot chair-push baselines of the paper's Table II: CEM and MPPI at the paper's settings
# (32 rollouts, 4 s horizon, 5 Hz, 2,500 steps of 0.02 s), the 3 s horizon ablation, and
# the task variant with the obstacle-avoidance cost; 50 trials each, seed 0.
# One trial is ~250 plans of 32 rollouts x 4 s: ~10 min of one core of the 2-core dev
# machine (581-588 s mean over the first two rows), so the six rows are ~50 core-hours;
# run it on a many-core machine. Each run resumes from its journal if interrupted.
# `--status` only prints the table of what has finished so far (journals of runs still
# going are marked "k of 50 (in progress)").
# The rows were measured in the original world (judo's physics), before `balanced` became the
# default (issue 18): WORLD (default original) says which world plant and rollouts run;
# another world or cost writes under results/spot/WORLD_GOALDISTANCE unless OUT_DIR is given.
# They were also planned on the paper's straight-line goal distance, before the geodesic one
# became the Spot tasks' default: GOAL_DISTANCE (default euclidean) says which.
# Usage: bash scripts/spot_table.sh [--status] [OUT_DIR]   (default results/spot)
#        WORKERS=N (default: all cores, one trial per core), WORLD=NAME (default original),
#        GOAL_DISTANCE=euclidean|geodesic (default euclidean)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STATUS=0
if [ "${1:-}" = "--status" ]; then STATUS=1; shift; fi
WORLD="${WORLD:-original}"
GOAL_DISTANCE="${GOAL_DISTANCE:-euclidean}"
if [ "$WORLD/$GOAL_DISTANCE" = original/euclidean ]; then OUT="${1:-results/spot}"
else OUT="${1:-results/spot/${WORLD}_$GOAL_DISTANCE}"; fi
if [ "$STATUS" = 0 ]; then bash scripts/setup.sh; fi
# shellcheck disable=SC1091
source env.sh
WORKERS="${WORKERS:-$(nproc)}"
ROWS=(cem mppi cem_h3 mppi_h3 avoid_cem avoid_mppi)
args_of() {
  case "$1" in
    cem) echo "--task spot_chair --method cem" ;;
    mppi) echo "--task spot_chair --method mppi" ;;
    cem_h3) echo "--task spot_chair --method cem --horizon 3" ;;
    mppi_h3) echo "--task spot_chair --method mppi --horizon 3" ;;
    avoid_cem) echo "--task spot_chair_avoid --method cem" ;;
    avoid_mppi) echo "--task spot_chair_avoid --method mppi" ;;
  esac
}
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
      --world "$WORLD" --task-option "goal_distance=$GOAL_DISTANCE" --out "$(file_of "$row")"
  done
fi
files=()
for row in "${ROWS[@]}"; do
  f="$(file_of "$row")"
  if [ -f "$f" ]; then files+=("$f"); elif [ -f "$f.partial.jsonl" ]; then files+=("$f.partial.jsonl"); fi
done
if [ "${#files[@]}" = 0 ]; then echo "spot_table: no results under $OUT yet" >&2; exit 1; fi
gpc report "${files[@]}"
