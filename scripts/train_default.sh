#!/usr/bin/env bash
# Train the shipped default model (models/framing-minilm) from the committed corpus and
# configs/default.yaml: LoRA on the pip-installed all-MiniLM-L6-v2, seed 13, CPU or GPU.
# The same command gives the same metrics on CPU. Afterwards, refresh the benchmarks:
#   .venv/bin/python scripts/bench_real.py ../shared/eval/dev.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/framing corpus check data/corpus/corpus.jsonl > /dev/null
.venv/bin/framing train --config configs/default.yaml --fresh "$@"
du -sh models/framing-minilm
