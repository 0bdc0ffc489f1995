#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run every check: lint, the documentation site, the wheel and
# sdist, then the whole test suite (its Python code blocks of README.md and docs/ included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests benchmarks scripts
.venv/bin/mypy --config-file pyproject.toml  # src/advshape: strict for advshape._src
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# offline and strict: a broken link, a missing page or a docstring that fails to render fails
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet --site-dir "$scratch/site"
echo "docs: mkdocs build --strict OK"
.venv/bin/python scripts/check_dist.py --outdir "$scratch/dist"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
