"""The shipped model on real hand-coded passages, beside its corpus test-split figures.

Real passages are not part of the project (users will not have them): pass the path of a
JSONL file of passages coded by several coders (fields ``id``, ``text``, ``label``, and
``codes``: coder -> label), such as the hand-coded development sample. Writes the
"Real text" section of docs/benchmarks.md; full reports go to runs/bench_real/.

    python scripts/bench_real.py ../shared/eval/dev.jsonl [--model DIR] [--coders A,B,C]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmarks import ROOT, table, write_section

from framing.evaluate import evaluate


def fmt(value: float, ci: list[float]) -> str:
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("real", help="JSONL of real passages coded by several coders")
    parser.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    parser.add_argument("--coders", default="A,B,C", help="coder names in the 'codes' field")
    args = parser.parse_args()
    corpus = ROOT / "data" / "corpus" / "corpus.jsonl"
    out = ROOT / "runs" / "bench_real"
    quiet = lambda _: None  # noqa: E731
    test = evaluate(
        corpus,
        out / "corpus_test",
        model=args.model,
        split="test",
        baseline_train=corpus,
        log=quiet,
    )
    real = evaluate(
        args.real,
        out / "real",
        model=args.model,
        coders=args.coders.split(","),
        baseline_train=corpus,
        log=quiet,
    )
    rows = []
    for name, result in (
        ("corpus test split", test),
        (f"real passages ({Path(args.real).name})", real),
    ):
        for system in ("model", "baseline"):
            r = result[system]
            rows.append(
                [
                    name,
                    "shipped model" if system == "model" else "TF-IDF + LR",
                    result["n_units"],
                    fmt(r["accuracy"], r["ci95"]["accuracy"]),
                    fmt(r["macro_f1"], r["ci95"]["macro_f1"]),
                    fmt(r["alpha"], r["ci95"]["alpha"]),
                ]
            )
    coders = real["coders"]
    position = real["model"]["position"]
    none_share = real["model"]["confusion_matrix"]
    none_col = none_share["labels"].index("none")
    set_aside = sum(row[none_col] for row in none_share["matrix"])
    body = (
        "## Real text (`scripts/bench_real.py`)\n\n"
        "Agreement with the gold label (95% bootstrap CI over units, 1,000 resamples). The real passages carry no `none` "
        "code (coders left out-of-scope text out of the sample), so a real passage the model sets aside as `none` counts as "
        "a disagreement.\n\n"
        + table(["units", "system", "n", "accuracy", "macro-F1", "Krippendorff's alpha"], rows)
        + f"\n\nOn the real passages: alpha among the three human coders {fmt(coders['alpha_coders'], coders['ci95']['alpha_coders'])}; "
        f"coders plus the model {fmt(coders['alpha_coders_plus_model'], coders['ci95']['alpha_coders_plus_model'])}; "
        f"Cohen's kappa of the model against each coder: "
        + ", ".join(f"{c} {k:.3f}" for c, k in coders["kappa_model_vs"].items())
        + f". The model set aside {set_aside} of {real['n_units']} real passages as `none`; "
        f"calibration error (ECE) on real passages {real['model']['ece']:.3f}. "
        f"Position on the -1 (top-down) .. +1 (bottom-up) line against the mean of the coders' codes "
        f"({position['n']} passages): Pearson {fmt(position['pearson'], position['ci95']['pearson'])}, "
        f"Spearman {fmt(position['spearman'], position['ci95']['spearman'])}, "
        f"mean absolute difference {fmt(position['mae'], position['ci95']['mae'])}.\n"
    )
    write_section("real", body)
    print(body)


if __name__ == "__main__":
    main()
