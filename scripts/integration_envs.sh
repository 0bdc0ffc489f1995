#!/usr/bin/env bash
# The trainer integration tests on the versions the main environment (.venv, the newest
# supported TRL 1.16.0 and verl 0.9.1) does not hold, each in its own virtual environment:
#   .venv-lowest  the lowest supported TRL and verl (trl 1.0.0, verl 0.9.0);
#   .venv-skyrl   SkyRL 0.3.0, whose transformers <= 5.8 pin clashes with verl's and the lm
#                 extra's, so it cannot share .venv (skyrl 0.4 needs Python >= 3.12); pinned
#                 by constraints-skyrl.txt (scripts/update_constraints.py --skyrl).
# Each is made once (kept and reused when present), CPU torch 2.13.0 first, then advshape
# (editable) with its extra and pip's own resolution of the rest, as a user's install would.
# scripts/test.sh runs this after the main suite; run it alone with: bash scripts/integration_envs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LOWEST_TRL=1.0.0
LOWEST_VERL=0.9.0
SKYRL=0.3.0

make_env() {  # make_env DIR PIP-ARGS...
  local dir=$1
  shift
  if [ ! -x "$dir/bin/python" ]; then
    "$PY" -m venv "$dir"
  fi
  "$dir/bin/python" -m pip install -q --upgrade pip
  "$dir/bin/python" -m pip install -q "torch==2.13.0"  # the CPU build, before anything else
  "$dir/bin/python" -m pip install -q "$@" "pytest>=8"
}

make_env .venv-lowest -e ".[trl,verl]" "trl==$LOWEST_TRL" "verl==$LOWEST_VERL"
echo "lowest: $(.venv-lowest/bin/python -c 'import trl, verl; print("trl", trl.__version__, "verl", verl.__version__)')"
# the slow multi-process and Ray tests run in the main environment only
.venv-lowest/bin/python -m pytest -q -p no:cacheprovider -m "not slow" \
  tests/test_integrations_checks.py tests/test_integrations_trl.py tests/test_integrations_verl.py

# griffelib (pinned as in constraints.txt): the docstring test reads the reference with it
make_env .venv-skyrl -c constraints-skyrl.txt -e ".[skyrl]" "skyrl==$SKYRL" "griffelib==2.4.1"
echo "skyrl: $(.venv-skyrl/bin/python -c 'import skyrl; print("skyrl", skyrl.__version__)')"
.venv-skyrl/bin/python -m pytest -q -p no:cacheprovider tests/test_integrations_skyrl.py \
  "tests/test_integrations_trainers.py::test_installed_packages_match_their_transcription"
# SkyRL's docstrings (sections, place in the reference, running examples): .venv lacks SkyRL
.venv-skyrl/bin/python -m pytest -q -p no:cacheprovider -p tests._skyrl_shim -k skyrl \
  tests/test_docstrings.py tests/test_docstring_examples.py
