"""Agreement metrics shared by training (model card) and evaluation (reports)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

Codes: TypeAlias = Sequence[Any] | np.ndarray  # one label per unit; None where a coder gave no code


def classification_metrics(gold: Codes, predicted: Codes, labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the labels present in gold or predictions, per-class P/R/F1, confusion matrix.

    Macro-F1 averages over the labels that occur in either column, so a scheme label
    that a sample never uses (often ``none`` in hand-coded samples) does not count as a
    zero.
    """
    gold = list(gold)
    predicted = list(predicted)
    present = [label for label in labels if label in set(gold) | set(predicted)]
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=present, zero_division=0
    )
    return {
        "n": len(gold),
        "accuracy": float(accuracy_score(gold, predicted)) if gold else float("nan"),
        "macro_f1": float(
            f1_score(gold, predicted, labels=present, average="macro", zero_division=0)
        )
        if gold
        else float("nan"),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(present, precision, recall, f1, support, strict=True)
        },
        "confusion_matrix": {
            "labels": list(labels),
            "matrix": confusion_matrix(gold, predicted, labels=list(labels)).tolist()
            if gold
            else [],
        },
    }


def cohen_kappa(a: Codes, b: Codes) -> float:
    """Cohen's kappa of two coders over the units both coded."""
    if len(a) == 0:
        return float("nan")
    if len(set(a) | set(b)) < 2:
        return float("nan")
    return float(cohen_kappa_score(list(a), list(b)))


def krippendorff_alpha(codes: np.ndarray | Sequence[Codes], labels: Sequence[str]) -> float:
    """Nominal Krippendorff's alpha; ``codes`` is coders x units, with None for a missing code."""
    import krippendorff

    index = {label: float(i) for i, label in enumerate(labels)}
    matrix = np.array(
        [[np.nan if c is None else index[str(c)] for c in row] for row in codes], dtype=float
    )
    pairable = (~np.isnan(matrix)).sum(axis=0) >= 2
    if pairable.sum() == 0:
        return float("nan")
    values = np.unique(matrix[:, pairable][~np.isnan(matrix[:, pairable])])
    if len(values) < 2:
        return float("nan")
    return float(
        krippendorff.alpha(
            reliability_data=matrix,
            level_of_measurement="nominal",
            value_domain=[float(i) for i in range(len(labels))],
        )
    )
