"""The simple baseline every report shows beside the transformer: TF-IDF + logistic regression."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from framing.labels import LabelScheme


def fit_baseline(texts: Sequence[str], labels: Sequence[str], *, seed: int = 13) -> Pipeline:
    """Word 1-2 gram TF-IDF (sublinear) into a class-balanced logistic regression."""
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, strip_accents="unicode"),
        LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000, random_state=seed),
    )
    return model.fit(list(texts), list(labels))


def baseline_proba(model: Pipeline, texts: Sequence[str], scheme: LabelScheme) -> np.ndarray:
    """Probabilities in scheme order (a label absent from the training data gets 0)."""
    raw = model.predict_proba(list(texts))
    out = np.zeros((len(texts), len(scheme.labels)))
    for j, label in enumerate(model.classes_):
        out[:, scheme.label2id[str(label)]] = raw[:, j]
    return out
