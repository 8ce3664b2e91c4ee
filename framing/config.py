"""Configuration: one YAML file, validated, with ``--set key=value`` overrides.

The config is a tree of pydantic models that forbid unknown keys, so a typo such as
``train.epoch`` or a string where a number belongs is rejected with the key named,
before any slow work starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from framing.errors import FramingError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Section):
    """Where the annotated passages are and how to read them."""

    train: str | list[str] = Field(
        "data/corpus/corpus.jsonl",
        description="an annotated file, or a list of files trained on together "
        "(for example the project corpus and your own hand-coded passages)",
    )
    text_column: str = "text"
    label_column: str = "label"
    id_column: str | None = "id"
    split_column: str | None = Field(
        "split", description="use committed splits when the column exists"
    )
    group_column: str | None = Field("doc_id", description="keep one source document in one split")
    validation_size: float = Field(0.15, gt=0, lt=0.5)
    test_size: float = Field(0.15, ge=0, lt=0.5)
    seed: int = 13
    skip_invalid: bool = False

    @property
    def train_files(self) -> list[str]:
        return [self.train] if isinstance(self.train, str) else list(self.train)


class LoraConfig(_Section):
    r: int = Field(16, gt=0)
    alpha: int = Field(32, gt=0)
    dropout: float = Field(0.1, ge=0, lt=1)
    target_modules: list[str] = ["query", "key", "value", "dense"]


class TrainConfig(_Section):
    """Fine-tuning settings (Hugging Face Trainer)."""

    method: Literal["full", "lora"] = "lora"
    linear_probe: bool = Field(
        True, description="fit the head on frozen embeddings before fine-tuning (LP-FT)"
    )
    probe_c: float = Field(0.5, gt=0, description="inverse regularisation of the linear probe")
    max_length: int = Field(256, ge=16, le=512)
    stride: int = Field(
        64, ge=0, description="tokens shared by consecutive windows of a long passage"
    )
    epochs: float = Field(2, gt=0)
    learning_rate: float = Field(1e-4, gt=0)
    batch_size: int = Field(16, gt=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    weight_decay: float = Field(0.01, ge=0)
    class_weights: Literal["balanced", "none"] = "balanced"
    early_stopping_patience: int | None = Field(3, ge=1)
    precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="auto: bfloat16 mixed precision on a GPU that supports it, float32 on CPU",
    )
    seed: int = 13
    lora: LoraConfig = LoraConfig()

    @model_validator(mode="after")
    def _stride_fits_window(self) -> TrainConfig:
        if self.stride >= self.max_length // 2:
            raise ValueError(
                f"stride ({self.stride}) must be less than half of max_length ({self.max_length})"
            )
        return self


class LabelConfig(_Section):
    """Labelling settings saved into the trained model's ``framing.json``.

    `framing label` reads them from the model, so a model always segments and flags
    passages the way it was trained to; its flags set the rest (batch size, backend).
    """

    max_words: int = Field(180, ge=10, description="longest passage the segmenter makes")
    min_words: int = Field(12, ge=1, description="shorter paragraphs (headings) join the next one")
    review_threshold: float = Field(
        0.6, ge=0, le=1, description="needs_review when confidence is below"
    )


class Config(_Section):
    base_model: str = Field(
        "default", description="'default' (packaged all-MiniLM-L6-v2) or a local model folder"
    )
    label_scheme: str | dict[str, Any] = "framing"
    output_dir: str = "models/framing-minilm"
    data: DataConfig = DataConfig()
    train: TrainConfig = TrainConfig()
    label: LabelConfig = LabelConfig()


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read a YAML config (or the defaults when ``path`` is None) and apply ``key=value`` overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FramingError(f"{path}: config file not found")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise FramingError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise FramingError(f"{path}: a config must be a mapping of keys to values")
        raw = loaded or {}
    for item in overrides or []:
        _apply_override(raw, item)
    where = str(path) if path is not None else "config"
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        msg = (
            "unknown key"
            if first["type"] == "extra_forbidden"
            else first["msg"].removeprefix("Value error, ")
        )
        raise FramingError(f"{where}: {key}: {msg}") from None


def _apply_override(raw: dict[str, Any], item: str) -> None:
    """Set ``a.b.c=value`` in the nested mapping; the value is read as YAML (numbers, lists)."""
    if "=" not in item:
        raise FramingError(f"--set {item!r}: expected key=value")
    key, value = item.split("=", 1)
    parts = key.strip().split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise FramingError(f"--set {key}: {part} is not a section")
    node[parts[-1]] = yaml.safe_load(value)


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.model_dump(), sort_keys=False)
