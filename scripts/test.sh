#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run every check: lint, the documentation site, the wheel and
# sdist, the whole test suite (its Python code blocks of README.md and docs/ included), then the
# trainer integration tests in their own environments (scripts/integration_envs.sh).
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
# the trainer integrations on the lowest supported TRL and verl, and on SkyRL: their own venvs
bash scripts/integration_envs.sh
