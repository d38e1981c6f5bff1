#!/usr/bin/env bash
# Set up the environment (idempotent), then run the main job: see `python scripts/main_job.py --help`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MM_ENV_STACK=main bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
export MPLBACKEND=Agg
exec "${MM_ENV_VENV:-$ROOT/.venv}/bin/python" "$ROOT/scripts/main_job.py" "$@"
