"""Agreement with human coders, the way a methods reviewer would ask for it.

`evaluate` scores a model (or any earlier predictions) against hand-coded units and
writes metrics.json, report.md, a self-contained report.html (confusion matrices and a
reliability diagram), and disagreements.csv for coders to revisit. Every statistic has
a seeded bootstrap 95% interval over units; a TF-IDF + logistic-regression baseline,
trained on the same training data, is scored on the same units beside the model.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from framing.baseline import baseline_proba, fit_baseline
from framing.calibration import expected_calibration_error, reliability_table
from framing.data import load_annotated, read_table
from framing.errors import FramingError
from framing.labels import DEFAULT_SCHEME, LabelScheme
from framing.metrics import classification_metrics, cohen_kappa, krippendorff_alpha
from framing.report import figure_png, markdown_to_html

PREDICTION_ID_COLUMNS = ("id", "passage_id", "unit", "doc_id")


def bootstrap_ci(
    stat: Callable[[np.ndarray], float], n_units: int, *, resamples: int, seed: int
) -> tuple[float, float]:
    """Percentile 95% interval of ``stat(indices)`` over units resampled with replacement."""
    if n_units < 2 or resamples <= 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    values = np.array(
        [stat(rng.integers(0, n_units, n_units)) for _ in range(resamples)], dtype=float
    )
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return (float("nan"), float("nan"))
    return (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5)))


def agreement_statistics(
    gold: np.ndarray, predicted: np.ndarray, scheme: LabelScheme
) -> dict[str, Callable[[np.ndarray], float]]:
    """Accuracy, macro-F1, kappa and alpha as functions of unit indices, for the bootstrap."""
    g, p = gold, predicted
    return {
        "accuracy": lambda i: float(np.mean(g[i] == p[i])),
        "macro_f1": lambda i: float(classification_metrics(g[i], p[i], scheme.labels)["macro_f1"]),
        "kappa": lambda i: cohen_kappa(g[i], p[i]),
        "alpha": lambda i: krippendorff_alpha([g[i], p[i]], scheme.labels),
    }


def agreement(
    gold: Sequence[str], predicted: Sequence[str], scheme: LabelScheme, *, resamples: int, seed: int
) -> dict[str, Any]:
    """Accuracy, macro-F1, Cohen's kappa and Krippendorff's alpha of predictions vs gold, with CIs."""
    g, p = np.asarray(gold, dtype=object), np.asarray(predicted, dtype=object)
    base = classification_metrics(g, p, scheme.labels)
    stats = agreement_statistics(g, p, scheme)
    out: dict[str, Any] = dict(base)
    out["kappa"] = cohen_kappa(g, p)
    out["alpha"] = krippendorff_alpha([g, p], scheme.labels)
    out["ci95"] = {
        name: bootstrap_ci(fn, len(g), resamples=resamples, seed=seed) for name, fn in stats.items()
    }
    return out


def evaluate(
    gold_path: str | Path,
    out_dir: str | Path,
    *,
    model: str | None = None,
    predictions: str | Path | None = None,
    text_column: str = "text",
    label_column: str = "label",
    id_column: str = "id",
    coders: Sequence[str] | None = None,
    long_format: tuple[str, str] | None = None,
    baseline_train: str | Path | None = "data/corpus/corpus.jsonl",
    resamples: int = 1000,
    seed: int = 13,
    split: str | None = None,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> dict[str, Any]:
    """Score ``model`` (default: the shipped one) or ``predictions`` against ``gold_path``; write the report."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    classifier = None
    scheme = DEFAULT_SCHEME
    if predictions is None:
        from framing.modeling import FramingClassifier

        # full precision: int8 activations are scaled per batch, so scores would depend on batch-mates
        classifier = FramingClassifier.from_pretrained(model, backend="float32")
        scheme = classifier.scheme
    table = read_table(gold_path)
    gold = load_annotated(
        gold_path,
        scheme,
        text_column=text_column,
        label_column=label_column if label_column in table.columns else None,
        id_column=id_column,
        coders=coders,
        long_format=long_format,
        skip_invalid=True,
        require_text=predictions is None or text_column in table.columns,
    )
    notes: list[str] = []
    skipped = len(table) - len(gold) if long_format is None else 0
    if split is not None:
        if "split" not in gold.columns:
            raise FramingError(f"{gold_path}: --split {split} needs a 'split' column")
        gold = gold[gold["split"] == split].reset_index(drop=True)
    if skipped:
        notes.append(
            f"{skipped} unit(s) without a usable code were left out (see the first on stderr)"
        )
    if gold["label"].nunique() < 2:
        notes.append(
            f"the gold labels hold a single class ({gold['label'].iloc[0]}): kappa and alpha are undefined"
        )

    probs: np.ndarray | None = None
    if classifier is not None:
        probs = classifier.predict_proba(list(gold["text"]))
        predicted = [scheme.labels[i] for i in probs.argmax(axis=1)]
        source = str(model or "shipped default model")
    else:
        predicted, probs, gold, join_notes = _join_predictions(gold, Path(predictions), scheme)  # type: ignore[arg-type]
        notes += join_notes
        source = str(predictions)
    if gold.empty:
        raise FramingError(f"{gold_path}: no gold unit could be scored")

    metrics: dict[str, Any] = {
        "gold": str(gold_path),
        "predictions": source,
        "n_units": len(gold),
        "notes": notes,
    }
    metrics["model"] = agreement(gold["label"], predicted, scheme, resamples=resamples, seed=seed)
    if probs is not None:
        y = np.array([scheme.label2id[label] for label in gold["label"]])
        metrics["model"]["ece"] = expected_calibration_error(probs, y)
        metrics["model"]["reliability"] = reliability_table(probs, y)
    if probs is not None and scheme.positions:
        position = position_agreement(gold, probs, scheme, coders, resamples=resamples, seed=seed)
        if position is not None:
            metrics["model"]["position"] = position
    if coders:
        metrics["coders"] = _coder_statistics(
            gold, list(coders), predicted, scheme, resamples, seed, notes
        )
    if (
        baseline_train
        and str(baseline_train) != "none"
        and "text" in gold
        and gold["text"].astype(bool).all()
    ):
        metrics["baseline"] = _baseline(Path(baseline_train), gold, scheme, resamples, seed)
    for note in notes:
        log(f"note: {note}")
    _write_outputs(out, metrics, gold, predicted, probs, scheme, coders)
    return metrics


def passage_positions(probs: np.ndarray, scheme: LabelScheme) -> np.ndarray:
    """Each unit's position on the -1..+1 line: its probabilities renormalised over the framing labels."""
    framing = scheme.framing_labels
    return np.array(
        [
            scheme.position_of(dict(zip(framing, row, strict=True)))
            for row in scheme.framing_shares(probs)
        ]
    )


def position_statistics(
    model: np.ndarray, human: np.ndarray
) -> dict[str, Callable[[np.ndarray], float]]:
    """Pearson, Spearman and mean absolute difference of positions, as functions of unit
    indices for the bootstrap; units whose human position is NaN (nobody placed them) are
    skipped, and a correlation is NaN when either side does not vary."""
    from scipy.stats import pearsonr, spearmanr

    def placed(i: np.ndarray) -> np.ndarray:
        return i[~np.isnan(human[i])]

    def corr(fn: Callable[..., Any], i: np.ndarray) -> float:
        i = placed(i)
        if len(i) < 2 or np.ptp(human[i]) == 0 or np.ptp(model[i]) == 0:
            return float("nan")
        return float(fn(model[i], human[i])[0])

    return {
        "pearson": lambda i: corr(pearsonr, i),
        "spearman": lambda i: corr(spearmanr, i),
        "mae": lambda i: float(np.mean(np.abs(model[placed(i)] - human[placed(i)]))),
    }


def position_agreement(
    gold: pd.DataFrame,
    probs: np.ndarray,
    scheme: LabelScheme,
    coders: Sequence[str] | None,
    *,
    resamples: int,
    seed: int,
) -> dict[str, Any] | None:
    """How well the model places units on the -1 (top-down) .. +1 (bottom-up) line.

    A unit's model position comes from its probabilities renormalised over the framing
    labels (the rule documents use); its coders' position is the mean position of their
    framing codes (of the gold label when there are no coders). Units nobody placed on the
    line (gold ``none``) are left out. Pearson and Spearman correlations and the mean
    absolute difference, with bootstrap intervals; None when fewer than 3 units are placed.
    """
    model = passage_positions(probs, scheme)
    if coders:
        placed = [
            [scheme.positions[c] for c in (codes.get(k) for k in coders) if c in scheme.positions]
            for codes in gold["codes"]
        ]
    else:
        placed = [[scheme.positions[g]] if g in scheme.positions else [] for g in gold["label"]]
    keep = np.array([bool(p) for p in placed])
    human = np.array([float(np.mean(p)) if p else np.nan for p in placed])[keep]
    model = model[keep]
    if len(human) < 3 or np.ptp(human) == 0:
        return None

    stats = position_statistics(model, human)
    everyone = np.arange(len(human))
    out: dict[str, Any] = {"n": len(human), "against": "coders' mean" if coders else "gold label"}
    out.update({name: fn(everyone) for name, fn in stats.items()})
    out["ci95"] = {
        name: bootstrap_ci(fn, len(human), resamples=resamples, seed=seed)
        for name, fn in stats.items()
    }
    return out


def _join_predictions(
    gold: pd.DataFrame, path: Path, scheme: LabelScheme
) -> tuple[list[str], np.ndarray | None, pd.DataFrame, list[str]]:
    """Join earlier predictions to the gold units on id; report ids that do not join."""
    preds = read_table(path)
    id_col = next((c for c in PREDICTION_ID_COLUMNS if c in preds.columns), None)
    if id_col is None or "label" not in preds.columns:
        raise FramingError(
            f"{path}: predictions need an id column (one of {list(PREDICTION_ID_COLUMNS)}) and a label column; it has {list(preds.columns)}"
        )
    preds = preds.assign(_id=preds[id_col].astype(str)).drop_duplicates("_id").set_index("_id")
    unknown = sorted({str(v) for v in preds["label"] if scheme.normalise(v) is None})
    if unknown:
        raise FramingError(
            f"{path}: unknown predicted label(s) {unknown[:5]}; allowed: {list(scheme.labels)}"
        )
    notes = []
    joined = gold["id"].astype(str).isin(preds.index)
    if not joined.all():
        missing = list(gold.loc[~joined, "id"].astype(str))
        notes.append(
            f"{len(missing)} gold unit(s) have no prediction and were left out (first: {', '.join(missing[:5])})"
        )
    gold = gold[joined].reset_index(drop=True)
    rows = preds.loc[gold["id"].astype(str)]
    predicted = [str(scheme.normalise(v)) for v in rows["label"]]
    prob_cols = [f"p_{label}" for label in scheme.labels]
    probs = (
        rows[prob_cols].astype(float).to_numpy()
        if all(c in rows.columns for c in prob_cols)
        else None
    )
    return predicted, probs, gold, notes


def _coder_statistics(
    gold: pd.DataFrame,
    coders: list[str],
    predicted: list[str],
    scheme: LabelScheme,
    resamples: int,
    seed: int,
    notes: list[str],
) -> dict[str, Any]:
    """Kappa of the model against each coder; alpha among coders, and with the model as one more coder."""
    codes = [[row.get(c) for row in gold["codes"]] for c in coders]
    stats: dict[str, Any] = {"kappa_model_vs": {}}
    for coder, column in zip(coders, codes, strict=True):
        pairs = [(a, b) for a, b in zip(column, predicted, strict=True) if a is not None]
        stats["kappa_model_vs"][coder] = cohen_kappa([a for a, _ in pairs], [b for _, b in pairs])
    if len(coders) < 2:
        notes.append("fewer than two coders: inter-coder statistics are not computed")
        return stats
    matrix = np.array(codes, dtype=object)
    with_model = np.vstack([matrix, np.array(predicted, dtype=object)])
    stats["alpha_coders"] = krippendorff_alpha(matrix, scheme.labels)
    stats["alpha_coders_plus_model"] = krippendorff_alpha(with_model, scheme.labels)
    n = matrix.shape[1]
    stats["ci95"] = {
        "alpha_coders": bootstrap_ci(
            lambda i: krippendorff_alpha(matrix[:, i], scheme.labels),
            n,
            resamples=resamples,
            seed=seed,
        ),
        "alpha_coders_plus_model": bootstrap_ci(
            lambda i: krippendorff_alpha(with_model[:, i], scheme.labels),
            n,
            resamples=resamples,
            seed=seed,
        ),
    }
    stats["kappa_between_coders"] = {
        f"{a}~{b}": cohen_kappa(
            *zip(
                *[
                    (x, y)
                    for x, y in zip(codes[i], codes[j], strict=True)
                    if x is not None and y is not None
                ],
                strict=True,
            )
        )
        for i, a in enumerate(coders)
        for j, b in enumerate(coders)
        if i < j
    }
    return stats


def _baseline(
    train_path: Path, gold: pd.DataFrame, scheme: LabelScheme, resamples: int, seed: int
) -> dict[str, Any]:
    data = load_annotated(train_path, scheme)
    if "split" in data.columns:
        data = data[data["split"] == "train"]
    model = fit_baseline(data["text"], data["label"], seed=seed)
    probs = baseline_proba(model, list(gold["text"]), scheme)
    predicted = [scheme.labels[i] for i in probs.argmax(axis=1)]
    result = agreement(gold["label"], predicted, scheme, resamples=resamples, seed=seed)
    result["trained_on"] = f"{train_path} ({len(data)} passages)"
    result["predicted"] = predicted
    return result


# --------------------------------------------------------------------------- output
def _write_outputs(
    out: Path,
    metrics: dict[str, Any],
    gold: pd.DataFrame,
    predicted: list[str],
    probs: np.ndarray | None,
    scheme: LabelScheme,
    coders: Sequence[str] | None,
) -> None:
    baseline_pred = metrics.get("baseline", {}).pop("predicted", None)
    (out / "metrics.json").write_text(
        json.dumps(metrics, indent=2, default=float), encoding="utf-8"
    )
    _disagreements(gold, predicted, probs, coders, baseline_pred).to_csv(
        out / "disagreements.csv", index=False
    )
    pictures = {"confusion": _confusion_png(metrics, scheme)}
    if probs is not None:
        pictures["reliability"] = _reliability_png(metrics["model"]["reliability"])
    md = report_markdown(metrics, scheme, pictures)
    for name, png in pictures.items():
        (out / f"{name}.png").write_bytes(png)
    (out / "report.md").write_text(md, encoding="utf-8")
    (out / "report.html").write_text(
        markdown_to_html("Evaluation report", md, pictures), encoding="utf-8"
    )


def _disagreements(
    gold: pd.DataFrame,
    predicted: list[str],
    probs: np.ndarray | None,
    coders: Sequence[str] | None,
    baseline_pred: list[str] | None,
) -> pd.DataFrame:
    """Units where the model and gold (or the coders) disagree, the most confident errors first."""
    frame = pd.DataFrame({"id": gold["id"], "gold": gold["label"]})
    for coder in coders or []:
        frame[f"coder_{coder}"] = [codes.get(coder, "") for codes in gold["codes"]]
    frame["prediction"] = predicted
    if baseline_pred is not None:
        frame["baseline"] = baseline_pred
    frame["confidence"] = probs.max(axis=1).round(4) if probs is not None else np.nan
    frame["text"] = gold.get("text", "")
    coder_split = (
        frame[[f"coder_{c}" for c in coders or []]].nunique(axis=1) > 1 if coders else False
    )
    frame = frame[(frame["gold"] != frame["prediction"]) | coder_split]
    return frame.sort_values("confidence", ascending=False, na_position="last")


def _fmt(value: float | None, ci: Sequence[float] | None = None) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    text = f"{value:.3f}"
    if ci and not np.isnan(ci[0]):
        text += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
    return text


def report_markdown(
    metrics: dict[str, Any], scheme: LabelScheme, pictures: dict[str, bytes] | None = None
) -> str:
    """The human-readable report: headline agreement, baseline beside it, per-class, coders."""
    m = metrics["model"]
    rows = [("model", m)] + (
        [("TF-IDF + LR baseline", metrics["baseline"])] if "baseline" in metrics else []
    )
    lines = [
        "# Evaluation report",
        "",
        f"- gold: `{metrics['gold']}` ({metrics['n_units']} units scored)",
        f"- predictions: `{metrics['predictions']}`",
        *(f"- note: {n}" for n in metrics["notes"]),
        "",
        "## Agreement with the gold labels (95% bootstrap CI)",
        "",
        "| system | accuracy | macro-F1 | Cohen's kappa | Krippendorff's alpha |",
        "|---|---|---|---|---|",
    ]
    for name, r in rows:
        ci = r["ci95"]
        lines.append(
            f"| {name} | {_fmt(r['accuracy'], ci['accuracy'])} | {_fmt(r['macro_f1'], ci['macro_f1'])} | {_fmt(r['kappa'], ci['kappa'])} | {_fmt(r['alpha'], ci['alpha'])} |"
        )
    if "ece" in m:
        lines += ["", f"Expected calibration error of the model: {_fmt(m['ece'])}."]
    if "position" in m:
        pos = m["position"]
        lines += [
            "",
            f"Position on the -1 (top-down) .. +1 (bottom-up) line, model against the {pos['against']}, {pos['n']} units: "
            f"Pearson {_fmt(pos['pearson'], pos['ci95']['pearson'])}, Spearman {_fmt(pos['spearman'], pos['ci95']['spearman'])}, "
            f"mean absolute difference {_fmt(pos['mae'], pos['ci95']['mae'])}.",
        ]
    lines += [
        "",
        "Read alpha as: >= 0.800 reliable, 0.667-0.800 tentative, below 0.667 not reliable (see docs/evaluation.md).",
        "",
        "## Per class (model)",
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for label, r in m["per_class"].items():
        lines.append(
            f"| {label} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['support']} |"
        )
    cm = m["confusion_matrix"]
    lines += [
        "",
        "## Confusion matrix (rows gold, columns model)",
        "",
        "| gold \\ model | " + " | ".join(cm["labels"]) + " |",
        "|---" * (len(cm["labels"]) + 1) + "|",
    ]
    for label, row in zip(cm["labels"], cm["matrix"], strict=True):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
    if pictures and "confusion" in pictures:
        lines += ["", "![confusion matrix](confusion.png)"]
    if pictures and "reliability" in pictures:
        lines += ["", "## Calibration", "", "![reliability diagram](reliability.png)"]
    if "coders" in metrics:
        c = metrics["coders"]
        lines += ["", "## Human coders", "", "| statistic | value |", "|---|---|"]
        for coder, k in c["kappa_model_vs"].items():
            lines.append(f"| Cohen's kappa, model vs coder {coder} | {_fmt(k)} |")
        for pair, k in c.get("kappa_between_coders", {}).items():
            lines.append(f"| Cohen's kappa, coders {pair} | {_fmt(k)} |")
        if "alpha_coders" in c:
            lines.append(
                f"| Krippendorff's alpha among coders | {_fmt(c['alpha_coders'], c['ci95']['alpha_coders'])} |"
            )
            lines.append(
                f"| Krippendorff's alpha, coders + model | {_fmt(c['alpha_coders_plus_model'], c['ci95']['alpha_coders_plus_model'])} |"
            )
    return "\n".join(lines) + "\n"


def _confusion_png(metrics: dict[str, Any], scheme: LabelScheme) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = [("model", metrics["model"])] + (
        [("baseline", metrics["baseline"])] if "baseline" in metrics else []
    )
    fig, axes = plt.subplots(
        1, len(systems), figsize=(4.6 * len(systems), 4), dpi=100, squeeze=False
    )
    for ax, (name, result) in zip(axes[0], systems, strict=True):
        cm = np.array(result["confusion_matrix"]["matrix"])
        labels = result["confusion_matrix"]["labels"]
        ax.imshow(cm, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=30)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel(name)
        ax.set_ylabel("gold")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(
                j,
                i,
                str(v),
                ha="center",
                va="center",
                color="white" if v > cm.max() / 2 else "black",
            )
    fig.tight_layout()
    return figure_png(fig)


def _reliability_png(table: list[dict[str, float]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 4), dpi=100)
    used = [r for r in table if r["count"]]
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    ax.bar(
        [(r["low"] + r["high"]) / 2 for r in used],
        [r["accuracy"] for r in used],
        width=0.09,
        alpha=0.7,
        label="accuracy in bin",
    )
    ax.plot([r["confidence"] for r in used], [r["accuracy"] for r in used], "o", color="black")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return figure_png(fig)
