"""Fine-tuning: config in, complete model folder out.

`train` reads the annotated passages named by the config, splits them (or uses the
committed splits), fine-tunes the encoder with Hugging Face's `Trainer` (class-weighted
loss, early stopping on validation macro-F1, full or LoRA), fits a calibration
temperature on the validation split, scores validation and test, and writes the model
folder atomically: a crash never leaves a half-written folder where a complete one stood.
Checkpoints live beside the output (``<output>.work/``) so an interrupted run resumes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from transformers import (
    AutoTokenizer,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    Trainer,
    TrainingArguments,
    set_seed,
)

from framing.calibration import expected_calibration_error, fit_temperature
from framing.config import Config, dump_config
from framing.data import assign_splits, load_annotated
from framing.errors import FramingError
from framing.labels import LabelScheme, get_scheme
from framing.metrics import classification_metrics
from framing.modeling import (
    FramingClassifier,
    MeanPoolingClassifier,
    add_lora,
    build_model,
    resolve_base,
)

SPLITS = ("train", "validation", "test")


def load_splits(config: Config, scheme: LabelScheme) -> pd.DataFrame:
    """The annotated passages with a ``split`` column (committed, or made here, seeded).

    With several training files each keeps its own committed splits (or gets its own
    seeded ones), so adding your hand-coded passages never reshuffles the corpus's test
    split; ids are prefixed with their file's name so that they stay unique.
    """
    data = config.data
    files = data.train_files
    if not files:
        raise FramingError("data.train names no file")
    frames = [
        load_annotated(
            path,
            scheme,
            text_column=data.text_column,
            label_column=data.label_column,
            id_column=data.id_column,
            skip_invalid=data.skip_invalid,
        )
        for path in files
    ]
    where = " + ".join(files)
    present = set().union(*(set(part["label"]) for part in frames))
    missing = [label for label in scheme.labels if label not in present]
    if missing:
        raise FramingError(
            f"{where}: labels {missing} of scheme {scheme.name!r} have no training passages; "
            f"the data's labels are {sorted(present)}"
        )
    for path, part in zip(files, frames, strict=True):
        part["split"] = _splits(part, path, config)
        if len(files) > 1:
            part["id"] = Path(path).stem + ":" + part["id"].astype(str)
    frame = pd.concat(frames, ignore_index=True)
    if not frame["id"].is_unique:
        raise FramingError(
            f"{where}: passage ids repeat across files; give the files different names"
        )
    train_labels = set(frame.loc[frame["split"] == "train", "label"])
    if set(scheme.labels) - train_labels:
        raise FramingError(
            f"{where}: labels {sorted(set(scheme.labels) - train_labels)} have no passages in the train split"
        )
    if not (frame["split"] == "validation").any():
        raise FramingError(
            f"{where}: no validation passages (needed for early stopping and calibration)"
        )
    return frame


def _splits(frame: pd.DataFrame, path: str, config: Config) -> pd.Series:
    """One file's split per passage: its committed column, or seeded and stratified by label."""
    data = config.data
    if data.split_column and data.split_column in frame.columns:
        split = frame[data.split_column].astype(str).str.strip().str.lower()
        bad = sorted(set(split) - set(SPLITS))
        if bad:
            raise FramingError(
                f"{path}: column {data.split_column!r} has values {bad}; allowed: {list(SPLITS)}"
            )
        return split
    try:
        return assign_splits(
            frame,
            validation_size=data.validation_size,
            test_size=data.test_size,
            seed=data.seed,
            stratify_columns=("label",),
            group_column=data.group_column,
        )
    except ValueError as exc:
        raise FramingError(
            f"{path}: cannot split {len(frame)} passages by label ({exc}); add more passages or a split column"
        ) from None


def train(config: Config, *, resume: bool = True, log: Callable[[str], None] = print) -> Path:
    """Fine-tune per ``config`` and return the finished model folder."""
    started = time.time()
    scheme = get_scheme(config.label_scheme)
    base_folder = resolve_base(config.base_model)
    frame = load_splits(config, scheme)
    counts = frame.groupby(["split", "label"]).size().unstack(fill_value=0)
    log("passages by split and label:\n" + counts.to_string())
    set_seed(config.train.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base_folder))
    tc = config.train

    def windows(part: pd.DataFrame) -> tuple[Any, int]:
        import datasets

        enc = tokenizer(
            list(part["text"]),
            truncation=True,
            max_length=tc.max_length,
            stride=tc.stride,
            return_overflowing_tokens=True,
        )
        owners = enc.pop("overflow_to_sample_mapping")
        label_ids = [scheme.label2id[label] for label in part["label"]]
        enc["labels"] = [label_ids[i] for i in owners]
        return datasets.Dataset.from_dict(dict(enc)), len(owners) - len(part)

    train_ds, extra_train = windows(frame[frame["split"] == "train"])
    val_ds, _ = windows(frame[frame["split"] == "validation"])
    if extra_train:
        log(
            f"long passages: {extra_train} extra windows of {tc.max_length} tokens (stride {tc.stride}); nothing truncated"
        )

    settings: dict[str, Any] = {
        "format": 1,
        "method": tc.method,
        "base_model": config.base_model,
        "lora": tc.lora.model_dump(),
        "segmenter": {"max_words": config.label.max_words, "min_words": config.label.min_words},
        "review_threshold": config.label.review_threshold,
    }
    model: Any = build_model(config.base_model, scheme)
    if tc.linear_probe:
        train_part = frame[frame["split"] == "train"]
        fit_linear_probe(
            model,
            tokenizer,
            list(train_part["text"]),
            list(train_part["label"]),
            scheme,
            c=tc.probe_c,
            max_length=tc.max_length,
            balanced=tc.class_weights == "balanced",
        )
        log("linear probe fitted on frozen embeddings; fine-tuning from it")
    if tc.method == "lora":
        model = add_lora(model, settings["lora"])
    weights = (
        _class_weights(train_ds["labels"], len(scheme.labels))
        if tc.class_weights == "balanced"
        else None
    )
    output = Path(config.output_dir)
    work = output.with_name(output.name + ".work")
    _prepare_work_dir(work, config, resume, log)
    use_cuda = torch.cuda.is_available()
    bf16 = use_bfloat16(tc.precision, use_cuda)
    args = TrainingArguments(
        output_dir=str(work),
        num_train_epochs=tc.epochs,
        learning_rate=tc.learning_rate,
        per_device_train_batch_size=tc.batch_size,
        per_device_eval_batch_size=max(32, tc.batch_size),
        warmup_steps=tc.warmup_ratio,  # a float below 1 is a share of all steps
        weight_decay=tc.weight_decay,
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        seed=tc.seed,
        data_seed=tc.seed,
        bf16=bf16,
        use_cpu=not use_cuda,
        report_to=[],
        label_names=["labels"],
        logging_strategy="epoch",
        disable_tqdm=True,
        dataloader_num_workers=0,
        train_sampling_strategy="group_by_length",  # batches of similar length: little padding
    )

    def compute_metrics(pred: Any) -> dict[str, float]:
        predicted = np.asarray(pred.predictions).argmax(-1)
        m = classification_metrics(
            [scheme.labels[i] for i in pred.label_ids],
            [scheme.labels[i] for i in predicted],
            scheme.labels,
        )
        return {"macro_f1": float(m["macro_f1"]), "accuracy": float(m["accuracy"])}

    callbacks = (
        [EarlyStoppingCallback(early_stopping_patience=tc.early_stopping_patience)]
        if tc.early_stopping_patience
        else []
    )
    trainer = WeightedTrainer(
        class_weights=weights,
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=val_ds,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics,
        callbacks=callbacks,
    )
    checkpoint = _last_checkpoint(work) if resume else None
    if checkpoint:
        log(f"resuming from {checkpoint}")
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)

    assert trainer.model is not None  # the Trainer was given a model
    classifier = FramingClassifier(
        model=trainer.model.eval(),
        tokenizer=tokenizer,
        scheme=scheme,
        max_length=tc.max_length,
        stride=tc.stride,
        settings=settings,
    )
    metrics = _score(classifier, frame)
    metrics["training"] = {
        "seconds": round(time.time() - started, 1),
        "epochs_run": float(trainer.state.epoch or 0),
        "best_validation_macro_f1": trainer.state.best_metric,
        "extra_windows": extra_train,
        "device": "cuda" if use_cuda else "cpu",
        "precision": "bfloat16" if bf16 else "float32",
    }
    log(
        f"validation macro-F1 {metrics['validation']['macro_f1']:.3f}, temperature {classifier.temperature:.2f}, "
        f"ECE {metrics['calibration']['ece_before']:.3f} -> {metrics['calibration']['ece_after']:.3f}"
    )
    _write_atomically(output, lambda folder: _save(classifier, folder, config, metrics))
    shutil.rmtree(work, ignore_errors=True)
    log(f"model written to {output}")
    return output


def use_bfloat16(precision: str, use_cuda: bool) -> bool:
    """Whether to train in bfloat16 mixed precision ("auto": on a GPU that supports it).

    On CPU, "auto" keeps float32: on this project's AVX512-BF16 machine the first bfloat16
    epoch of the default run had not finished after 10 minutes, against about 4 in float32.
    """
    if precision != "auto":
        return precision == "bfloat16"
    return use_cuda and torch.cuda.is_bf16_supported()


def fit_linear_probe(
    model: MeanPoolingClassifier,
    tokenizer: Any,
    texts: list[str],
    labels: list[str],
    scheme: LabelScheme,
    *,
    c: float,
    max_length: int,
    balanced: bool,
    batch_size: int = 32,
) -> None:
    """Initialise the head with a logistic regression on the frozen encoder's embeddings.

    Fine-tuning from a random head distorts the pretrained features most in the first
    steps; starting from a fitted linear probe (LP-FT, Kumar et al. 2022) keeps them, which
    matters here because the training passages are written for the project while the
    model is used on real documents.
    """
    from sklearn.linear_model import LogisticRegression

    model.eval()
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                texts[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            chunks.append(model.embed(**batch).numpy() / model.scale)
    probe = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=3000)
    probe.fit(np.vstack(chunks), labels)
    order = [list(probe.classes_).index(label) for label in scheme.labels]
    with torch.no_grad():
        model.classifier.weight.copy_(
            torch.tensor(probe.coef_[order] / model.scale, dtype=torch.float32)
        )
        model.classifier.bias.copy_(torch.tensor(probe.intercept_[order], dtype=torch.float32))
    model.train()


def _score(classifier: FramingClassifier, frame: pd.DataFrame) -> dict[str, Any]:
    """Fit the temperature on validation, then score validation and test with it."""
    scheme = classifier.scheme
    val = frame[frame["split"] == "validation"]
    val_logits = classifier.predict_logits(list(val["text"]))
    val_ids = np.array([scheme.label2id[x] for x in val["label"]])
    from framing.modeling import softmax

    ece_before = expected_calibration_error(softmax(val_logits), val_ids)
    classifier.temperature = fit_temperature(val_logits, val_ids)
    ece_after = expected_calibration_error(softmax(val_logits / classifier.temperature), val_ids)
    metrics: dict[str, Any] = {
        "calibration": {
            "temperature": classifier.temperature,
            "ece_before": ece_before,
            "ece_after": ece_after,
        }
    }
    for split in ("validation", "test"):
        part = frame[frame["split"] == split]
        if part.empty:
            continue
        predicted = [p.label for p in classifier.predict(list(part["text"]))]
        metrics[split] = classification_metrics(list(part["label"]), predicted, scheme.labels)
    return metrics


def _save(
    classifier: FramingClassifier, folder: Path, config: Config, metrics: dict[str, Any]
) -> None:
    classifier.save_pretrained(folder)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    (folder / "training_config.yaml").write_text(dump_config(config), encoding="utf-8")
    (folder / "README.md").write_text(model_card(config, metrics), encoding="utf-8")


def model_card(config: Config, metrics: dict[str, Any]) -> str:
    """The model folder's README: intended use, data, metrics, limits, citation of the codebook."""
    lines = [
        "# framing classifier",
        "",
        "Labels passages by how they frame change: **managerial** (top-down), **grassroots** (bottom-up), "
        "**hybrid**, or **none** (no framing of change), following the project's codebook (docs/codebook.md).",
        "",
        "## Intended use",
        "Batch labelling of policy papers, board papers, campaign material and posts with `framing label`, "
        "as an aid to hand coding: read the evidence passages, and review passages flagged `needs_review`. "
        "Not for judging individuals or organisations without a human reading the text.",
        "",
        "## Training",
        f"- base model: `{config.base_model}` ({config.train.method} fine-tuning"
        + (f", LoRA r={config.train.lora.r}" if config.train.method == "lora" else "")
        + ")",
        f"- data: {', '.join(f'`{f}`' for f in config.data.train_files)}; epochs run: {metrics['training']['epochs_run']:.1f}; seed {config.train.seed}",
        f"- calibration temperature {metrics['calibration']['temperature']:.3f}; validation ECE "
        f"{metrics['calibration']['ece_before']:.3f} before, {metrics['calibration']['ece_after']:.3f} after",
        "",
        "## Metrics",
        "| split | n | accuracy | macro-F1 | "
        + " | ".join(f"F1 {label}" for label in metrics["validation"]["per_class"])
        + " |",
        "|---|---|---|---|" + "---|" * len(metrics["validation"]["per_class"]),
    ]
    for split in ("validation", "test"):
        if split in metrics:
            m = metrics[split]
            per = " | ".join(
                f"{m['per_class'].get(label, {}).get('f1', float('nan')):.3f}"
                for label in metrics["validation"]["per_class"]
            )
            lines.append(
                f"| {split} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {per} |"
            )
    lines += [
        "",
        "## Limits",
        "- The project corpus is written for it, not sampled from real documents: scores on it overstate "
        "agreement on real text. See docs/benchmarks.md for the figures on real hand-coded passages.",
        "- English only; UK health and public-service registers dominate the training data.",
        "- A passage is labelled from its own words (codebook rule 4); context elsewhere in a document is not used.",
        "",
        "## Citation",
        "Cite the codebook (docs/codebook.md of the framing project) with any labels this model produced.",
        "",
    ]
    return "\n".join(lines)


class WeightedTrainer(Trainer):
    """A `Trainer` whose cross-entropy weights classes (balanced: n / (k * n_class))."""

    def __init__(
        self, *args: Any, class_weights: torch.Tensor | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        weight = (
            self.class_weights.to(outputs.logits.device) if self.class_weights is not None else None
        )
        loss = torch.nn.functional.cross_entropy(outputs.logits.float(), labels, weight=weight)
        return (loss, outputs) if return_outputs else loss


def _class_weights(label_ids: list[int], n_labels: int) -> torch.Tensor:
    counts = np.bincount(np.asarray(label_ids), minlength=n_labels).astype(float)
    weights = counts.sum() / (n_labels * np.maximum(counts, 1.0))
    return torch.tensor(weights, dtype=torch.float32)


def _config_hash(config: Config) -> str:
    return hashlib.sha256(dump_config(config).encode()).hexdigest()[:16]


def _prepare_work_dir(work: Path, config: Config, resume: bool, log: Callable[[str], None]) -> None:
    """Keep checkpoints only when they come from this very config; otherwise start clean."""
    stamp = work / "config.sha"
    if work.exists() and (
        not resume or not stamp.is_file() or stamp.read_text() != _config_hash(config)
    ):
        if resume and any(work.glob("checkpoint-*")):
            log(f"{work}: checkpoints come from another config; starting afresh")
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    stamp.write_text(_config_hash(config))


def _last_checkpoint(work: Path) -> Path | None:
    from transformers.trainer_utils import get_last_checkpoint

    found = get_last_checkpoint(str(work)) if work.is_dir() else None
    return Path(found) if found else None


def _write_atomically(output: Path, write: Callable[[Path], None]) -> None:
    """Write into a temporary sibling, then swap it in: the old folder stays whole until then."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    old = output.with_name(f".{output.name}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    if old.exists() and not output.exists():
        old.rename(output)  # a previous swap was interrupted between its two renames
    shutil.rmtree(old, ignore_errors=True)
    write(tmp)
    if output.exists():
        output.rename(old)
    tmp.rename(output)
    shutil.rmtree(old, ignore_errors=True)
