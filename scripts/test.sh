#!/usr/bin/env bash
# Install with the dev extras, then lint, type-check and run the whole test suite.
# pytest's own exit status is returned: 5 ("no tests ran") fails like any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check framing tests scripts
.venv/bin/mypy
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
