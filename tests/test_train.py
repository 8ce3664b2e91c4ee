import json

import numpy as np
import pandas as pd
import pytest

from framing.config import load_config
from framing.errors import FramingError
from framing.modeling import FramingClassifier
from framing.train import _write_atomically, train

from .conftest import PASSAGES, write_corpus


def _config(tmp_path, encoder, *extra):
    corpus = tmp_path / "corpus.jsonl"
    if not corpus.exists():
        write_corpus(corpus)
    return load_config(
        None,
        [
            f"base_model={encoder}",
            f"data.train={corpus}",
            f"output_dir={tmp_path / 'model'}",
            "train.epochs=2",
            "train.batch_size=8",
            "train.max_length=32",
            "train.stride=8",
            *extra,
        ],
    )


def test_full_model_folder_is_complete_and_reloads_identically(tiny_model):
    files = {p.name for p in tiny_model.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "framing.json",
        "metrics.json",
        "README.md",
        "training_config.yaml",
        "tokenizer.json",
    } <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["id2label"] == {"0": "managerial", "1": "grassroots", "2": "hybrid", "3": "none"}
    metrics = json.loads((tiny_model / "metrics.json").read_text())
    for split in ("validation", "test"):
        assert {"accuracy", "macro_f1", "per_class", "confusion_matrix"} <= set(metrics[split])
    assert metrics["calibration"]["temperature"] > 0
    card = (tiny_model / "README.md").read_text()
    assert "## Intended use" in card and "## Limits" in card and "codebook" in card


def test_lora_trains_saves_small_and_predicts_the_same_after_reload(tmp_path, tiny_encoder):
    config = _config(tmp_path, tiny_encoder, "train.method=lora", "train.lora.r=4")
    seen = []
    folder = train(config, log=seen.append)
    assert (folder / "adapter_model.safetensors").is_file()
    assert not (folder / "model.safetensors").exists()
    settings = json.loads((folder / "framing.json").read_text())
    assert settings["method"] == "lora" and settings["base_model"] == str(tiny_encoder)
    texts = [t for t, _ in PASSAGES]
    reloaded = FramingClassifier.from_pretrained(folder, backend="float32")
    again = FramingClassifier.from_pretrained(folder, backend="float32")
    np.testing.assert_allclose(reloaded.predict_proba(texts), again.predict_proba(texts), atol=1e-6)
    assert any("passages by split" in line for line in seen)


def test_saved_model_predicts_what_the_trained_one_did(tmp_path, tiny_encoder):
    from transformers import AutoTokenizer

    from framing.labels import DEFAULT_SCHEME
    from framing.modeling import build_model

    settings = {"method": "full", "base_model": str(tiny_encoder)}
    model = build_model(str(tiny_encoder), DEFAULT_SCHEME).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_encoder))
    before = FramingClassifier(
        model=model,
        tokenizer=tokenizer,
        scheme=DEFAULT_SCHEME,
        temperature=1.7,
        max_length=32,
        stride=8,
        settings=settings,
    )
    before.save_pretrained(tmp_path / "saved")
    after = FramingClassifier.from_pretrained(tmp_path / "saved", backend="float32")
    texts = [t for t, _ in PASSAGES] + ["a long passage " * 40]
    np.testing.assert_allclose(before.predict_proba(texts), after.predict_proba(texts), atol=1e-5)
    assert after.temperature == pytest.approx(1.7)


def test_same_config_and_seed_give_the_same_metrics(tmp_path, tiny_encoder):
    runs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        folder = train(_config(tmp_path / name, tiny_encoder), log=lambda _: None)
        runs.append(json.loads((folder / "metrics.json").read_text()))
    first, second = runs
    for split in ("validation", "test"):
        assert first[split] == second[split]
    assert first["calibration"] == second["calibration"]


def test_resume_from_last_checkpoint(tmp_path, tiny_encoder, monkeypatch):
    import framing.train as train_module

    config = _config(tmp_path, tiny_encoder, "train.epochs=3", "train.early_stopping_patience=null")

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(
        train_module, "_score", crash
    )  # dies after the epochs, before the model is written
    with pytest.raises(RuntimeError, match="power cut"):
        train(config, log=lambda _: None)
    work = tmp_path / "model.work"
    assert any(work.glob("checkpoint-*"))
    assert not (tmp_path / "model").exists()
    monkeypatch.undo()
    seen = []
    folder = train(config, log=seen.append)
    assert any(line.startswith("resuming from") for line in seen)
    assert (folder / "framing.json").is_file() and not work.exists()


def test_crash_while_writing_keeps_the_old_folder(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "weights").write_text("old")

    def half_write(folder):
        folder.mkdir()
        (folder / "weights").write_text("new, half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        _write_atomically(target, half_write)
    assert (target / "weights").read_text() == "old"
    _write_atomically(
        target, lambda folder: (folder.mkdir(), (folder / "weights").write_text("new"))
    )
    assert (target / "weights").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_config_problems_are_named(tmp_path, tiny_encoder):
    config = _config(tmp_path, tiny_encoder, f"data.train={tmp_path / 'missing.csv'}")
    with pytest.raises(FramingError, match=r"missing\.csv: file not found"):
        train(config)
    not_model = tmp_path / "not-a-model"
    not_model.mkdir()
    with pytest.raises(FramingError, match="not a model folder"):
        train(_config(tmp_path, not_model))
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text("{}")
    (pickled / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(FramingError, match="pickled weights are never loaded"):
        train(_config(tmp_path, pickled))
    bad = tmp_path / "bad_labels.jsonl"
    bad.write_text(json.dumps({"id": "1", "text": "x", "label": "top-down"}) + "\n")
    with pytest.raises(FramingError, match="unknown label 'top-down'"):
        train(_config(tmp_path, tiny_encoder, f"data.train={bad}"))
    partial = tmp_path / "three_labels.jsonl"
    partial.write_text(
        "\n".join(
            json.dumps({"id": str(i), "text": t, "label": label})
            for i, (t, label) in enumerate(PASSAGES)
            if label != "none"
        )
    )
    with pytest.raises(FramingError, match=r"labels \['none'\] .* have no training passages"):
        train(_config(tmp_path, tiny_encoder, f"data.train={partial}"))
    lora = _config(
        tmp_path, tiny_encoder, "train.method=lora", "train.lora.target_modules=[nonexistent]"
    )
    with pytest.raises(FramingError, match="none of the LoRA target modules"):
        train(lora)


def test_long_passages_are_windowed_not_truncated(tmp_path, tiny_encoder):
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    rows = [json.loads(line) for line in corpus.read_text().splitlines()]
    rows[0]["text"] = " ".join([rows[0]["text"]] * 12)
    corpus.write_text("\n".join(json.dumps(r) for r in rows))
    seen = []
    train(_config(tmp_path, tiny_encoder), log=seen.append)
    assert any("extra windows" in line for line in seen)


def test_several_training_files_keep_their_splits(tmp_path, tiny_encoder):
    from framing.labels import DEFAULT_SCHEME
    from framing.train import load_splits

    corpus = write_corpus(tmp_path / "corpus.jsonl")
    # a researcher's own coded passages: no split column, no `none` passages, ids that
    # collide with the corpus's
    own = tmp_path / "my_coding.csv"
    rows = [(t, label) for t, label in PASSAGES if label != "none"] * 4
    pd.DataFrame(
        {
            "id": [f"0-{i}" for i in range(len(rows))],
            "text": [f"{t} [{i}]" for i, (t, _) in enumerate(rows)],
            "label": [label for _, label in rows],
        }
    ).to_csv(own, index=False)
    config = _config(tmp_path, tiny_encoder, f"data.train=[{corpus}, {own}]")
    frame = load_splits(config, DEFAULT_SCHEME)
    corpus_rows = frame[frame["id"].str.startswith("corpus:")]
    own_rows = frame[frame["id"].str.startswith("my_coding:")]
    assert len(corpus_rows) == 3 * len(PASSAGES) and len(own_rows) == len(rows)
    assert frame["id"].is_unique
    # the corpus keeps its committed splits; the new file is split on its own
    expected = json.loads((tmp_path / "corpus.jsonl").read_text().splitlines()[-1])["split"]
    assert corpus_rows["split"].iloc[-1] == expected
    assert set(own_rows["split"]) == {"train", "validation", "test"}
    # and training on both runs end to end, naming both files in the model card
    folder = train(config, log=lambda _: None)
    card = (folder / "README.md").read_text()
    assert "corpus.jsonl" in card and "my_coding.csv" in card
