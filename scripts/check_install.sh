#!/usr/bin/env bash
# Does `pip install 'advshape[trl]'` then `'advshape[verl]'`, the reverse, and both at once,
# each in a fresh virtual environment, give a working environment? For each: CPU torch 2.13.0
# first, the extras from this checkout in that order with pip's own resolution (no
# constraints, as a user's install), `pip check`, TRL's and verl's imports, then the
# integration tests (not the slow ones). Slow (three environments): not part of CI.
#   bash scripts/check_install.sh [WORKDIR]     (default: a temporary directory, removed after)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
PY=${PYTHON:-python3}
WORK=${1:-$(mktemp -d)}
[ -n "${1:-}" ] || trap 'rm -rf "$WORK"' EXIT

check() {  # check NAME EXTRAS-IN-ORDER...
  local name=$1 env="$WORK/$1"
  shift
  echo "== $name: $*"
  "$PY" -m venv "$env"
  "$env/bin/python" -m pip install -q --upgrade pip
  "$env/bin/python" -m pip install -q "torch==2.13.0" "pytest>=8"
  for extras in "$@"; do
    "$env/bin/python" -m pip install -q "$REPO[$extras]"
  done
  "$env/bin/python" -m pip check
  "$env/bin/python" -m pip list 2>/dev/null | grep -i -E '^(trl|verl|transformers|kernels) '
  "$env/bin/python" -c "from advshape.integrations.trl import GRPOTrainer; print('TRL imports')"
  "$env/bin/python" -c "
import verl
from verl.trainer.ppo.core_algos import get_adv_estimator_fn
print('verl imports;', get_adv_estimator_fn('advshape_grpo_k').advshape_shaper, 'registered')"
  # from a copy of the tests, so that the installed advshape (not the checkout's src/) is tested
  mkdir -p "$WORK/$name-tests"
  cp -r "$REPO/tests" "$REPO/examples" "$WORK/$name-tests/"
  (cd "$WORK/$name-tests" && "$env/bin/python" -m pytest -q -p no:cacheprovider -m "not slow" \
    tests/test_integrations_trl.py tests/test_integrations_verl.py)
}

check trl-then-verl trl verl
check verl-then-trl verl trl
check both "trl,verl"
echo "all three installs work"
