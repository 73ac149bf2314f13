#!/usr/bin/env bash
# Bad-input probes (issue 22): every one must end in a one-line error (exit 2) or the safe
# behaviour, never a traceback or a hang. Prints a Markdown table: probe, exit code,
# tracebacks seen, the last line printed. Usage: bash scripts/bad_input_probes.sh [DIR]
# (DIR: scratch folder, default a new temporary one). Needs `source env.sh`.
set -u
DIR="${1:-$(mktemp -d)}"
mkdir -p "$DIR" && cd "$DIR" || exit 1
printf 'name: T\n' > shape_binary.yaml; head -c 200 /dev/urandom >> shape_binary.yaml
printf 'name: tiny\nrectangles:\n  - {center: [0, 0], size: [1.0e-9, 1.0e-9]}\n' > tiny.yaml
printf 'not a model\n' > afile
probe() {
  local name="$1"; shift
  timeout 120 "$@" > out.txt 2> err.txt; local rc=$?
  local tb; tb=$(cat out.txt err.txt | grep -c Traceback)
  local last; last=$( (cat err.txt; cat out.txt) | grep -v '^\s*$' | tail -1 | cut -c1-140)
  printf '| %s | %s | %s | %s |\n' "$name" "$rc" "$tb" "$last"
}
echo "| probe | exit | tracebacks | last line |"
echo "|---|---|---|---|"
E="gpc eval --task push_t --method cem --trials 1"
probe "--out on /proc" $E --out /proc/x.json
probe "--out on /sys" $E --out /sys/x.json
probe "--out a directory" $E --out "$DIR"
probe "--out under a file" $E --out "$DIR/afile/x.json"
probe "--rollouts 1e8" $E --rollouts 100000000
probe "--horizon 1e9" $E --horizon 1e9
probe "--horizon nan" $E --horizon nan
probe "--workers 1e6" $E --workers 1000000
probe "--trials 0" gpc eval --task push_t --method cem --trials 0
probe "--seed 1e23" $E --seed 100000000000000000000000
probe "shape file not text" $E --shape "$DIR/shape_binary.yaml"
probe "shape 1e-9 m" $E --shape "$DIR/tiny.yaml"
probe "model missing" gpc eval --task push_t --method gpc_cem --trials 1 --model "$DIR/none.pt"
probe "model not a model" gpc eval --task push_t --method gpc_cem --trials 1 --model "$DIR/afile"
probe "train: not a dataset" gpc train --data "$DIR" --out "$DIR/m"
probe "report: not JSON" gpc report "$DIR/afile"
probe "unknown world" gpc eval --task spot_chair --method cem --trials 1 --world nope
probe "unknown task option" gpc collect --task spot_chair --episodes 1 --task-option colour=1 --out "$DIR/c1"
probe "chair_start_y 5" gpc collect --task spot_chair --episodes 1 --task-option chair_start_y=5 --out "$DIR/c2"
probe "launch duration:=nan" gpc launch spot_push duration:=nan
probe "launch seed:=1e23" gpc launch spot_push seed:=100000000000000000000000 --duration 1
probe "launch unknown argument" gpc launch spot_push status_rate:=inf --duration 1
