#!/usr/bin/env bash
# Set up a virtual environment in .venv with advshape and every extra the tests and the
# main job use. Safe to rerun. CPU torch first, pinned, so nothing pulls a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[dev,surrogates,bandit,lm,trl,verl,jax]"
echo "advshape is set up in .venv ($(.venv/bin/python -c 'import advshape; print(advshape.__version__)'))"
