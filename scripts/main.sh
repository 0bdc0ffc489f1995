#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the main job: the default `advshape compare`, RLVR of a
# small language model with several shapers on the CPU, writing a comparison report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/advshape compare "$@"
