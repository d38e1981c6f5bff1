#!/usr/bin/env bash
# Create (or reuse) a virtual environment and install the project into it against a pinned,
# tested set. Idempotent: a stamp of the install inputs skips the install when nothing changed.
#
#   bash scripts/setup.sh                    # .venv: mm-env[dev], constraints.txt (newest gymnasium)
#   MM_ENV_STACK=ray bash scripts/setup.sh   # .venv-ray: mm-env[dev,ray], constraints-ray.txt
#                                            # (Ray RLlib 2.60, which pins gymnasium 1.2.2)
# MM_ENV_VENV and MM_ENV_EXTRAS override the stack's venv path and extras.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${MM_ENV_STACK:-main}"
case "$STACK" in
    main) venv_default="$ROOT/.venv"; extras_default="dev"; CONSTRAINTS="$ROOT/constraints.txt" ;;
    ray)  venv_default="$ROOT/.venv-ray"; extras_default="dev,ray"
          CONSTRAINTS="$ROOT/constraints-ray.txt" ;;
    *) echo "scripts/setup.sh: MM_ENV_STACK must be 'main' or 'ray', got '$STACK'" >&2; exit 2 ;;
esac
VENV="${MM_ENV_VENV:-$venv_default}"
EXTRAS="${MM_ENV_EXTRAS:-$extras_default}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.mm_env_install_stamp"
want="$(cat "$ROOT/pyproject.toml" "$CONSTRAINTS" | sha256sum | cut -d' ' -f1)-$EXTRAS"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "[setup] installing mm-env[$EXTRAS] into $VENV (pinned by $(basename "$CONSTRAINTS"))"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c "$CONSTRAINTS" -e "$ROOT[$EXTRAS]"
    echo "$want" > "$stamp"
else
    echo "[setup] environment up to date ($VENV)"
fi
