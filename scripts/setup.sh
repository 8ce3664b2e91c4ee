#!/usr/bin/env bash
# Install framing into ./.venv (created when missing). Safe to run again: pip skips what is there.
#   bash scripts/setup.sh          # the tool
#   bash scripts/setup.sh --dev    # the tool plus pytest, ruff, mypy
# torch==2.13.0 goes in first: it is the CPU build this kind of machine keeps on disk, and
# with it installed the project's looser `torch>=2.4` pulls nothing more (any other
# order would fetch a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
python_bin=${PYTHON:-python3}
extra=""
[ "${1:-}" = "--dev" ] && extra="[dev]"
[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0" 2>&1 | grep -v "is ignored: it is neither" || true
.venv/bin/python -c "import torch" 
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extra}" 2>&1 | grep -v "is ignored: it is neither" || true
.venv/bin/python -c "import framing, torch, transformers; print(f'framing {framing.__version__} installed (torch {torch.__version__}, transformers {transformers.__version__})')"
