"""The `framing` command: train, label, evaluate, corpus check.

Every user mistake ends as one line on stderr and a non-zero exit (2); ``--debug``
shows the traceback instead. `framing label` exits 1 when the job finished but some
documents could not be read (they are listed in errors.csv).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import framing
from framing.errors import FramingError

EXAMPLES = {
    "train": "example:\n  framing train --config configs/default.yaml --set train.epochs=4 --set output_dir=models/mine",
    "label": "examples:\n  framing label examples/ --out runs/examples\n  framing label papers/*.pdf board/ --model models/mine --out runs/board --format parquet\n"
    "  framing label posts.csv --text-column body --id-column post_id --out runs/posts",
    "evaluate": "examples:\n  framing evaluate --gold coded.csv --out runs/eval\n  framing evaluate --gold coded.csv --coders coder_a,coder_b --out runs/eval\n"
    "  framing evaluate --gold long.csv --long coder,code --id-column unit --predictions other_labels.csv --out runs/eval",
    "corpus": "examples:\n  framing corpus check data/corpus/corpus.jsonl\n"
    "  framing corpus check data/corpus/corpus.jsonl --against my_hand_coded_sample.csv",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="framing",
        description="Label how documents frame change: managerial (top-down), grassroots (bottom-up) or hybrid; "
        "passages with no framing of change are labelled none and set aside.",
    )
    parser.add_argument("--version", action="version", version=f"framing {framing.__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks instead of one-line errors"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser(
        "train",
        help="fine-tune a model from a YAML config",
        epilog=EXAMPLES["train"],
        formatter_class=fmt,
        description="Fine-tune a transformer on annotated passages. The output folder is a Hugging Face model "
        "folder with metrics.json and a model card. An interrupted run resumes from its last checkpoint.",
    )
    p.add_argument(
        "--config", default="configs/default.yaml", help="YAML config (default: %(default)s)"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. train.epochs=4 (repeatable)",
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="ignore checkpoints of an interrupted run and start again",
    )

    p = sub.add_parser(
        "label",
        help="label documents, passage by passage",
        epilog=EXAMPLES["label"],
        formatter_class=fmt,
        description="Label files (.txt .md .html .pdf .docx), folders (recursive), globs, or tables (.csv .tsv .jsonl "
        ".parquet, one document per row). Writes passages, documents, errors.csv and summary.md/html to --out. "
        "Re-running with the same --out resumes where a stopped job left off.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders or glob patterns")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    p.add_argument(
        "--format",
        default="csv",
        choices=["csv", "jsonl", "parquet"],
        help="output format (default: %(default)s)",
    )
    p.add_argument(
        "--text-column", default="text", help="text column of table inputs (default: %(default)s)"
    )
    p.add_argument(
        "--id-column", default=None, help="id column of table inputs (default: row numbers)"
    )
    p.add_argument(
        "--backend",
        default="auto",
        choices=["auto", "float32", "bfloat16", "int8"],
        help="auto: bfloat16 on a CPU that has it natively (about 2x faster than float32, "
        "over 99%% of labels agree), else float32; int8: a little faster on CPU but only ~98%% of "
        "labels agree (default: %(default)s)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="passages per forward pass (default: %(default)s)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for the model (default: the cores this process may use)",
    )
    p.add_argument(
        "--review-threshold",
        type=float,
        default=None,
        help="flag passages whose confidence is below this (default: the model's, 0.6)",
    )
    p.add_argument(
        "--max-file-mb",
        type=float,
        default=50,
        help="skip (and report) files larger than this (default: %(default)s)",
    )
    p.add_argument(
        "--documents-per-part",
        type=int,
        default=64,
        help="documents committed to disk together (default: %(default)s)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="discard earlier results in --out and start afresh"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser(
        "evaluate",
        help="score a model or predictions against hand-coded units",
        epilog=EXAMPLES["evaluate"],
        formatter_class=fmt,
        description="Agreement with human coders: accuracy, macro-F1, per-class P/R/F1, confusion matrix, Cohen's kappa, "
        "Krippendorff's alpha with bootstrap 95% CIs, position on the top-down .. bottom-up line, calibration, "
        "and a TF-IDF + logistic regression baseline side by side. "
        "Writes metrics.json, report.md, report.html and disagreements.csv.",
    )
    p.add_argument("--gold", required=True, help="hand-coded units (CSV, TSV, JSONL, Parquet)")
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--model",
        default=None,
        help="model folder that labels the gold texts (default: the shipped model)",
    )
    src.add_argument(
        "--predictions",
        default=None,
        help="earlier predictions to score, joined on id (needs columns id/passage_id and label)",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--text-column", default="text")
    p.add_argument(
        "--label-column",
        default="label",
        help="gold (adjudicated) label column (default: %(default)s)",
    )
    p.add_argument("--id-column", default="id")
    p.add_argument(
        "--split",
        default=None,
        help="score only the units whose 'split' column has this value (e.g. test)",
    )
    p.add_argument("--coders", default=None, help="comma-separated coder columns, e.g. a,b,c")
    p.add_argument(
        "--long",
        default=None,
        metavar="CODER_COL,LABEL_COL",
        help="long format: one row per (unit, coder, label)",
    )
    p.add_argument(
        "--baseline-train",
        default="data/corpus/corpus.jsonl",
        help="training data of the TF-IDF baseline (train split used; default: %(default)s); 'none' to skip",
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        help="bootstrap resamples for confidence intervals (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=13)

    p = sub.add_parser(
        "corpus",
        help="check an annotated corpus",
        epilog=EXAMPLES["corpus"],
        formatter_class=fmt,
        description="Validate an annotated corpus: schema, labels, empty and duplicate texts, near-duplicates (TF-IDF cosine), "
        "label shares and genre/topic floors. Prints the counts; exits 1 when a check fails.",
    )
    corpus_sub = p.add_subparsers(dest="corpus_command", required=True, metavar="ACTION")
    c = corpus_sub.add_parser(
        "check",
        help="validate a corpus file and print its counts",
        description="Validate an annotated corpus (one record per passage: id, text, label, genre, topic, hard, "
        "rationale, split) and print counts by label, split, genre and topic. Exits 1 when a check fails.",
        epilog=EXAMPLES["corpus"],
        formatter_class=fmt,
    )
    c.add_argument("path", nargs="?", default="data/corpus/corpus.jsonl")
    c.add_argument(
        "--no-floors",
        action="store_true",
        help="skip the project corpus's size floors (for your own corpora)",
    )
    c.add_argument(
        "--near-duplicate",
        type=float,
        default=0.8,
        help="TF-IDF cosine at or above which two passages are near-duplicates (default: %(default)s)",
    )
    c.add_argument(
        "--against",
        default=None,
        help="a held-out evaluation table (text column, id if present): fail if a corpus passage "
        "copies or closely paraphrases one of its passages, and list the closest pairs",
    )
    c.add_argument(
        "--overlap",
        type=float,
        default=0.5,
        help="TF-IDF cosine with a held-out passage at which --against fails (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except FramingError as exc:
        if args.debug:
            raise
        print(f"framing: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("framing: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


def _available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "train":
        from framing.config import load_config
        from framing.train import train

        config = load_config(args.config, args.overrides)
        train(config, resume=not args.fresh)
        return 0
    if args.command == "label":
        import torch

        from framing.modeling import FramingClassifier

        if args.threads is not None and args.threads < 1:
            raise FramingError(f"--threads {args.threads}: give at least 1")
        torch.set_num_threads(args.threads or _available_cores())
        classifier = FramingClassifier.from_pretrained(args.model, backend=args.backend)
        result = classifier.label_documents(
            args.inputs,
            args.out,
            text_column=args.text_column,
            id_column=args.id_column,
            fmt=args.format,
            overwrite=args.overwrite,
            quiet=args.quiet,
            batch_size=args.batch_size,
            review_threshold=args.review_threshold,
            documents_per_part=args.documents_per_part,
            max_file_mb=args.max_file_mb,
        )
        print(
            f"labelled {result.documents} documents ({result.passages} passages); {result.failed} could not be read"
        )
        for name in ("documents", "passages", "errors", "summary"):
            print(f"  {name}: {result.files[name]}")
        return 1 if result.failed else 0
    if args.command == "evaluate":
        from framing.evaluate import evaluate

        long_format = tuple(args.long.split(",")) if args.long else None
        if long_format is not None and len(long_format) != 2:
            raise FramingError(f"--long {args.long!r}: expected CODER_COLUMN,LABEL_COLUMN")
        metrics = evaluate(
            args.gold,
            args.out,
            model=args.model,
            predictions=args.predictions,
            text_column=args.text_column,
            label_column=args.label_column,
            id_column=args.id_column,
            coders=[c.strip() for c in args.coders.split(",")] if args.coders else None,
            long_format=long_format,
            baseline_train=None if args.baseline_train == "none" else args.baseline_train,
            resamples=args.bootstrap,
            split=args.split,
            seed=args.seed,
        )
        m = metrics["model"]
        print(
            f"{metrics['n_units']} units: accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}, "
            f"kappa {m['kappa']:.3f}, alpha {m['alpha']:.3f}"
        )
        print(
            f"report: {Path(args.out) / 'report.md'} (and report.html, metrics.json, disagreements.csv)"
        )
        return 0
    if args.command == "corpus":
        from framing.corpus import check_corpus

        ok, text = check_corpus(
            Path(args.path),
            floors=not args.no_floors,
            near_duplicate=args.near_duplicate,
            against=Path(args.against) if args.against else None,
            overlap=args.overlap,
        )
        print(text)
        return 0 if ok else 1
    raise AssertionError(args.command)  # argparse only lets known commands through


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
