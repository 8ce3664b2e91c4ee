"""Is model A really better than model B on hand-coded passages? A paired comparison.

Scored separately, two models' intervals on 60 passages overlap even when one is better,
because most of each interval is the sample's own luck. Resampling the same units for
both models cancels that luck: the interval of the *difference* is much narrower. Use it
before replacing the shipped model.

    python scripts/compare_models.py ../shared/eval/dev.jsonl --a /tmp/new-model [--b default] [--coders A,B,C]

Prints, for A, B and A - B: accuracy, macro-F1, Krippendorff's alpha against the gold
label and the Pearson correlation of each passage's position with its gold label's, with
paired bootstrap 95% intervals.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from framing.data import load_annotated
from framing.errors import FramingError
from framing.evaluate import (
    agreement_statistics,
    bootstrap_ci,
    passage_positions,
    position_statistics,
)
from framing.labels import LabelScheme
from framing.modeling import FramingClassifier


def statistics(
    gold: np.ndarray, probs: np.ndarray, scheme: LabelScheme
) -> dict[str, Callable[[np.ndarray], float]]:
    """Each statistic as a function of the resampled unit indices."""
    predicted = np.array([scheme.labels[k] for k in probs.argmax(axis=1)], dtype=object)
    agree = agreement_statistics(gold, predicted, scheme)
    gold_position = np.array([scheme.positions.get(label, np.nan) for label in gold])
    position = position_statistics(passage_positions(probs, scheme), gold_position)
    return {
        "accuracy": agree["accuracy"],
        "macro-F1": agree["macro_f1"],
        "alpha": agree["alpha"],
        "position r": position["pearson"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("gold", help="hand-coded passages (id, text, label; codes optional)")
    parser.add_argument("--a", required=True, help="model folder A (the candidate)")
    parser.add_argument(
        "--b", default="default", help="model folder B (default: the shipped model)"
    )
    parser.add_argument("--coders", default=None, help="coder names, to use only units they coded")
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    models = {
        name: FramingClassifier.from_pretrained(path, backend="float32")
        for name, path in (("A", args.a), ("B", args.b))
    }
    scheme = models["A"].scheme
    if models["B"].scheme.labels != scheme.labels:
        raise SystemExit("the two models use different label schemes; nothing to compare")
    frame = load_annotated(
        args.gold, scheme, coders=args.coders.split(",") if args.coders else None, skip_invalid=True
    )
    gold = frame["label"].to_numpy(dtype=object)
    stats = {
        name: statistics(gold, model.predict_proba(list(frame["text"])), scheme)
        for name, model in models.items()
    }
    n = len(gold)
    everyone = np.arange(n)
    ci = lambda fn: bootstrap_ci(fn, n, resamples=args.bootstrap, seed=args.seed)  # noqa: E731
    print(f"{n} units; A = {args.a}; B = {args.b}; paired bootstrap, {args.bootstrap} resamples\n")
    print("| statistic | A | B | A - B |\n|---|---|---|---|")
    for key in stats["A"]:
        a, b = stats["A"][key], stats["B"][key]
        diff = lambda i, a=a, b=b: a(i) - b(i)  # noqa: E731
        cells = [
            f"{fn(everyone):.3f} [{low:.3f}, {high:.3f}]"
            for fn in (a, b, diff)
            for low, high in [ci(fn)]
        ]
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    try:
        main()
    except FramingError as exc:
        raise SystemExit(f"compare_models: error: {exc}") from None
