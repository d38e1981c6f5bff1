#!/usr/bin/env bash
# Set up the environment (idempotent), then run the linters, the type checker and the tests.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k config`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
PY="${MM_ENV_VENV:-$ROOT/.venv}/bin/python"
cd "$ROOT"
echo "[test] ruff"
"$PY" -m ruff check .
echo "[test] mypy"
"$PY" -m mypy
echo "[test] pytest"
export MPLBACKEND=Agg
# one BLAS/torch thread per pytest worker: two workers on two cores, no oversubscription
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
"$PY" -m pytest -n "${MM_ENV_TEST_WORKERS:-2}" "$@"
