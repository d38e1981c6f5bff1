#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install the project with
# its dev extra against the pinned, tested set in constraints.txt. Idempotent: a stamp of the
# install inputs skips the install when nothing changed. Source it or run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MM_ENV_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
EXTRAS="${MM_ENV_EXTRAS:-dev}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.mm_env_install_stamp"
want="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" | sha256sum | cut -d' ' -f1)-$EXTRAS"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "[setup] installing mm-env[$EXTRAS] (pinned by constraints.txt)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c "$ROOT/constraints.txt" -e "$ROOT[$EXTRAS]"
    echo "$want" > "$stamp"
else
    echo "[setup] environment up to date ($VENV)"
fi
