"""Fine-tune a framing model from a YAML config: a thin wrapper over `framing train`.

python scripts/train.py --config configs/default.yaml [--set key=value ...] [--fresh]
"""

import sys

from framing.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
