#!/usr/bin/env bash
# Set up the environments (idempotent), then run the linters, the type checker and the tests.
#
# 1. .venv (constraints.txt, the newest gymnasium): ruff, mypy, import-linter (the layer
#    contracts), the suite without the Ray tests.
# 2. .venv-ray (constraints-ray.txt: Ray RLlib 2.60, gymnasium 1.2.2): mypy (against Ray's and
#    gymnasium 1.2's type hints) and the whole suite again, Ray RLlib tests included, which
#    also proves the package on gymnasium 1.2.x.
#    MM_ENV_TEST_RAY=0 skips this stage (it installs Ray, about 2 GB).
# Extra arguments go to pytest in both stages, e.g. `bash scripts/test.sh -k config`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export MPLBACKEND=Agg
# one BLAS/torch thread per pytest worker: two workers on two cores, no oversubscription
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
WORKERS="${MM_ENV_TEST_WORKERS:-2}"

MM_ENV_STACK=main bash "$ROOT/scripts/setup.sh"
PY="${MM_ENV_VENV:-$ROOT/.venv}/bin/python"
echo "[test] ruff"
"$PY" -m ruff check .
echo "[test] mypy"
"$PY" -m mypy
echo "[test] import-linter (layer contracts in pyproject.toml)"
"$(dirname "$PY")/lint-imports"
echo "[test] pytest ($("$PY" -c 'import gymnasium; print("gymnasium", gymnasium.__version__)'))"
"$PY" -m pytest -n "$WORKERS" -m "not ray" "$@"

if [ "${MM_ENV_TEST_RAY:-1}" != "0" ]; then
    MM_ENV_STACK=ray MM_ENV_VENV="$ROOT/.venv-ray" bash "$ROOT/scripts/setup.sh"
    PY="$ROOT/.venv-ray/bin/python"
    echo "[test] mypy with Ray RLlib and gymnasium 1.2 (their own type hints)"
    "$PY" -m mypy
    echo "[test] pytest with Ray RLlib ($("$PY" -c 'import gymnasium, ray; print("gymnasium", gymnasium.__version__, "ray", ray.__version__)'))"
    # --dist loadgroup: the Ray tests share one worker (one Ray instance), the rest balance
    "$PY" -m pytest -n "$WORKERS" --dist loadgroup "$@"
fi
