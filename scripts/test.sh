#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the whole test suite, lint included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy --config-file pyproject.toml  # src/advshape: strict for advshape._src
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
