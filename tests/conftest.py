"""Shared fixtures: tiny random models for plumbing tests, small annotated files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import framing  # noqa: F401  (sets the offline environment before transformers loads)

SHARED = Path(__file__).resolve().parents[2] / "shared"

# Short passages, written for the tests, three or so per label.
PASSAGES = [
    (
        "From April every ward must complete the falls checklist; compliance is reported monthly to the board.",
        "managerial",
    ),
    (
        "The executive team has set a target of 95 per cent and divisions below it will submit recovery plans.",
        "managerial",
    ),
    (
        "National guidance requires all providers to adopt the new discharge standard by the end of the quarter.",
        "managerial",
    ),
    (
        "Nurses on the night shift started their own huddle because patients waited too long. Nobody asked them to.",
        "grassroots",
    ),
    (
        "Parents and carers organised a petition and ran their own meetings to save the respite centre.",
        "grassroots",
    ),
    (
        "We got fed up and changed the rota ourselves; three other wards copied it through our group chat.",
        "grassroots",
    ),
    (
        "The board funds release time while each team picks the change it cares about and champions report back.",
        "hybrid",
    ),
    (
        "The council will fund community organisers, but residents decide which projects go ahead.",
        "hybrid",
    ),
    (
        "A national programme sets direction and resources while local teams own and design the improvements.",
        "hybrid",
    ),
    ("Salary 28,407 to 34,581 per annum; 37.5 hours a week; closing date 14 March.", "none"),
    (
        "Apologies were received from the finance director. The minutes of the last meeting were approved.",
        "none",
    ),
    (
        "Participants were randomised 1:1 and the primary outcome was length of stay at 30 days.",
        "none",
    ),
]


def make_tiny_encoder(folder: Path) -> Path:
    """A random two-layer BERT with the packaged tokenizer: fast, and only good for plumbing."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from framing.modeling import packaged_encoder_path

    tokenizer = AutoTokenizer.from_pretrained(str(packaged_encoder_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_encoder(tmp_path_factory.mktemp("tiny-encoder"))


def write_corpus(path: Path, repeat: int = 3) -> Path:
    """A small corpus with committed splits: every passage in train, copies in validation and test."""
    rows = []
    for copy in range(repeat):
        split = ["train", "validation", "test"][copy % 3]
        for i, (text, label) in enumerate(PASSAGES):
            rows.append(
                {
                    "id": f"{copy}-{i}",
                    "text": text if copy == 0 else f"{text} ({copy})",
                    "label": label,
                    "split": split,
                }
            )
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, tiny_encoder: Path) -> Path:
    """A tiny trained framing model folder (full fine-tuning, one epoch)."""
    from framing.config import load_config
    from framing.train import train

    root = tmp_path_factory.mktemp("tiny-model")
    corpus = write_corpus(root / "corpus.jsonl")
    config = load_config(
        None,
        [
            f"base_model={tiny_encoder}",
            f"data.train={corpus}",
            f"output_dir={root / 'model'}",
            "train.method=full",
            "train.epochs=1",
            "train.batch_size=8",
            "train.max_length=64",
            "train.stride=16",
        ],
    )
    return train(config, log=lambda _: None)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this checkout")
    return SHARED


def copy_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
