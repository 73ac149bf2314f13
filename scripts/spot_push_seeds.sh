#!/usr/bin/env bash
# The Spot chair push in the loop over five seeds: `gpc launch spot_push --lockstep
# --headless --duration 60 seed:=S` for S = 0..4 (trial 0 of each seed, CEM from
# config/spot_push.yaml), then a table of the chair's start and final distance to the goal.
# Run folders (logs, states, pictures) in runs/spot_push_seeds/seedS; the summaries are
# copied to results/spot/launch/. A finished seed is not run again. 3-4.5 min a seed on 2 cores.
# Usage: bash scripts/spot_push_seeds.sh [extra gpc launch arguments, e.g. method:=mppi]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
# shellcheck disable=SC1091
source env.sh
mkdir -p results/spot/launch
for s in 0 1 2 3 4; do
  run="runs/spot_push_seeds/seed$s"
  if [ ! -f "$run/summary.json" ] || grep -q '"interrupted": true' "$run/summary.json"; then
    rm -rf "$run"
    gpc launch spot_push --lockstep --headless --duration 60 --no-progress --out "$run" \
      "seed:=$s" "$@"
  fi
  cp "$run/summary.json" "results/spot/launch/seed$s.json"
done
python - <<'PY'
import json
rows = [json.load(open(f"results/spot/launch/seed{s}.json")) for s in range(5)]
print("| seed | chair start -> final distance (m) | yaw error start -> final (deg) | goal reached | plans | plan ms (median) |")
print("|---|---|---|---|---|---|")
for r in rows:
    reached = f"at {r['success_time_s']} s" if r["success"] else "no"
    print(f"| {r['seed']} | {r['chair_start_distance']:.2f} -> {r['chair_final_distance']:.2f} | "
          f"{r['chair_start_yaw_error_deg']:.0f} -> {r['chair_final_yaw_error_deg']:.0f} | {reached} | "
          f"{r['planning_cycles']} | {r['plan_time_ms_median']} |")
closer = sum(r["chair_final_distance"] < r["chair_start_distance"] for r in rows)
print(f"\nchair closer to the goal at the end in {closer} of {len(rows)} seeds")
PY
