#!/usr/bin/env bash
# Reproduce the README's Push-T/Push-K baseline table (about 80 min on 2 cores).
# Usage: bash scripts/push_table.sh [OUT_DIR]   (default results/push)
# Each run resumes from its journal if interrupted; `gpc report` then prints the table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
# shellcheck disable=SC1091
source env.sh
OUT="${1:-results/push}"
mkdir -p "$OUT"
run() { echo "== gpc eval $*"; gpc eval --no-progress --workers 2 --seed 0 --trials 200 "$@"; }
run --task push_t --method cem  --out "$OUT/push_t_cem.json"
run --task push_t --method cem  --horizon 1 --out "$OUT/push_t_cem_h1.json"
run --task push_k --method cem  --out "$OUT/push_k_cem.json"
run --task push_t --method mppi --out "$OUT/push_t_mppi.json"
run --task push_t --method dial --out "$OUT/push_t_dial.json"
run --task push_t --method ps   --out "$OUT/push_t_ps.json"
gpc report "$OUT"/*.json --plot "$OUT/success.png"
