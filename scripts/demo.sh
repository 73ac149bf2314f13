#!/usr/bin/env bash
# Set up (idempotent), then run the demo: bash scripts/demo.sh [gpc demo options]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
# shellcheck disable=SC1091
source env.sh
exec gpc demo "$@"
