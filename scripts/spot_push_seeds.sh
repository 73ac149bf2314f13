#!/usr/bin/env bash
# The Spot chair push in the loop over five seeds: `gpc launch spot_push --lockstep
# --headless --duration 60 seed:=S` for S = 0..4 (trial 0 of each seed, the method of
# config/spot_push.yaml unless given), then a table of the chair's start and final distance
# to the goal, the planner's deadline misses and candidates per plan.
# --realtime: the same in real time (no --lockstep): the planner keeps to its 0.2 s period
# with the anytime budget (plan_budget), the sim does not wait for it.
# Run folders (logs, states, pictures) in runs/spot_push_seeds[/realtime]/[method[_goal][_TAG]/]seedS;
# the summaries are copied to results/spot/launch[/realtime]/[method[_goal][_TAG]/]seedS.json. A finished
# seed is not run again. Lock-step: 3-4.5 min a seed on 2 cores; real time: ~70 s.
# TAG=NAME (optional) adds _NAME to the folder names: for what the arguments do not show, e.g. a
# task default changed since the older folders were written (TAG=wyaw15: the yaw weight).
# Usage: [TAG=NAME] bash scripts/spot_push_seeds.sh [--realtime] [extra gpc launch arguments,
#        e.g. method:=gpc_cem goal_distance:=geodesic]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mode=(--lockstep)
sub=""
if [ "${1:-}" = "--realtime" ]; then
  mode=()
  sub="/realtime"
  shift
fi
method=""
goal=""
for arg in "$@"; do
  case "$arg" in
    method:=?*) method="${arg#method:=}" ;;
    goal_distance:=?*) goal="${arg#goal_distance:=}" ;;
  esac
done
# Folders name what differs from the parameter file: the method, then the goal distance,
# then the TAG.
TAG="${TAG:-}"
if [ -n "$method" ] || [ -n "$goal" ] || [ -n "$TAG" ]; then
  sub="$sub/${method:-default}${goal:+_$goal}${TAG:+_$TAG}"
fi
bash scripts/setup.sh
# shellcheck disable=SC1091
source env.sh
results="results/spot/launch$sub"
mkdir -p "$results"
for s in 0 1 2 3 4; do
  run="runs/spot_push_seeds$sub/seed$s"
  if [ ! -f "$run/summary.json" ] || grep -q '"interrupted": true' "$run/summary.json"; then
    rm -rf "$run"
    gpc launch spot_push "${mode[@]}" --headless --duration 60 --no-progress --out "$run" \
      "seed:=$s" "$@"
  fi
  cp "$run/summary.json" "$results/seed$s.json"
done
RESULTS="$results" python - <<'PY'
import json
import os

folder = os.environ["RESULTS"]
rows = [json.load(open(f"{folder}/seed{s}.json")) for s in range(5)]
print(f"{folder}: {rows[0].get('method')}, "
      f"{'lock-step' if rows[0]['arguments']['lockstep'] == 'true' else 'real time'}")
print("| seed | chair start -> final distance (m) | yaw error start -> final (deg) | goal "
      "reached | plans | deadline misses | candidates per plan (median, min) | plan ms "
      "(median) |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    reached = f"at {r['success_time_s']} s" if r["success"] else "no"
    print(f"| {r['seed']} | {r['chair_start_distance']:.2f} -> {r['chair_final_distance']:.2f} | "
          f"{r['chair_start_yaw_error_deg']:.0f} -> {r['chair_final_yaw_error_deg']:.0f} | "
          f"{reached} | {r['planning_cycles']} | {r['deadline_misses']} | "
          f"{r.get('samples_per_plan_median')}, {r.get('samples_per_plan_min')} | "
          f"{r['plan_time_ms_median']} |")
closer = sum(r["chair_final_distance"] < r["chair_start_distance"] for r in rows)
cycles = sum(r["planning_cycles"] for r in rows)
misses = sum(r["deadline_misses"] for r in rows)
print(f"\nchair closer to the goal at the end in {closer} of {len(rows)} seeds; "
      f"{cycles - misses} of {cycles} plans on time ({100 * (cycles - misses) / cycles:.1f} %)")
PY
