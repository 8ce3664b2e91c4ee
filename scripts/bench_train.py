"""Training cost and quality: the default LoRA run, full fine-tuning, and a TF-IDF baseline.

Runs `framing train` with the default config (LoRA) and with full fine-tuning on the same
committed splits, measuring wall time and peak RSS of each, and fits the TF-IDF +
logistic-regression baseline on the same train split; all are scored on the corpus test
split. Results go to docs/benchmarks.md.

    python scripts/bench_train.py [--skip-full]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmarks import ROOT, machine, run_measured, table, write_section

from framing.baseline import baseline_proba, fit_baseline
from framing.data import load_annotated
from framing.labels import DEFAULT_SCHEME
from framing.metrics import classification_metrics

RUNS = {
    "LoRA (default config)": [],
    "full fine-tuning": ["--set", "train.method=full", "--set", "train.learning_rate=0.00005"],
}


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--skip-full", action="store_true", help="only the default LoRA run and the baseline"
    )
    args = parser.parse_args()
    rows = []
    framing_cmd = str(Path(sys.executable).parent / "framing")
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in RUNS.items():
            if args.skip_full and name != "LoRA (default config)":
                continue
            out = Path(tmp) / name.split()[0]
            seconds, peak = run_measured(
                [
                    framing_cmd,
                    "train",
                    "--config",
                    str(ROOT / "configs" / "default.yaml"),
                    "--set",
                    f"output_dir={out}",
                    *extra,
                ],
                log=Path(tmp) / f"{out.name}.log",
            )
            metrics = json.loads((out / "metrics.json").read_text())
            test = metrics["test"]
            rows.append(
                [
                    name,
                    f"{seconds / 60:.1f}",
                    f"{peak:.0f}",
                    f"{metrics['training']['epochs_run']:.0f}",
                    f"{test['accuracy']:.3f}",
                    f"{test['macro_f1']:.3f}",
                    f"{folder_mb(out):.1f}",
                ]
            )
            print(rows[-1], flush=True)
    corpus = load_annotated(ROOT / "data" / "corpus" / "corpus.jsonl", DEFAULT_SCHEME)
    train, test = corpus[corpus["split"] == "train"], corpus[corpus["split"] == "test"]
    model = fit_baseline(train["text"], train["label"])
    predicted = [
        DEFAULT_SCHEME.labels[i]
        for i in baseline_proba(model, list(test["text"]), DEFAULT_SCHEME).argmax(axis=1)
    ]
    m = classification_metrics(list(test["label"]), predicted, DEFAULT_SCHEME.labels)
    rows.append(
        [
            "TF-IDF + logistic regression",
            "<0.1",
            "-",
            "-",
            f"{m['accuracy']:.3f}",
            f"{m['macro_f1']:.3f}",
            "-",
        ]
    )
    header = [
        "method",
        "wall time (min)",
        "peak RSS (MB)",
        "epochs",
        "test accuracy",
        "test macro-F1",
        "model folder (MB)",
    ]
    print(table(header, rows))
    write_section(
        "train",
        "## Training (`scripts/bench_train.py`)\n\n"
        f"Machine: {machine()}. Corpus: {len(train)} train, {len(test)} test passages (committed splits); "
        "all methods scored on the same test split. Target for the default run: under 10 minutes.\n\n"
        + table(header, rows),
    )
    print("written to docs/benchmarks.md")


if __name__ == "__main__":
    main()
