import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from framing.cli import build_parser, main

from .conftest import PASSAGES, write_corpus

ROOT = Path(__file__).resolve().parents[1]


def _tiny_training(encoder: Path, corpus: Path, out: Path, *settings: str) -> list[str]:
    """`framing train` arguments for a one-epoch run of the tiny test encoder."""
    pairs = [
        f"base_model={encoder}",
        f"data.train={corpus}",
        f"output_dir={out}",
        "train.epochs=1",
        "train.max_length=32",
        "train.stride=8",
        *settings,
    ]
    return ["train", *[arg for pair in pairs for arg in ("--set", pair)]]


@pytest.mark.parametrize("command", [["train"], ["label"], ["evaluate"], ["corpus", "check"]])
def test_every_command_explains_itself(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "example" in text
    assert len(text.splitlines()) > 5


def test_user_errors_are_one_line_with_exit_2(tmp_path, capsys):
    assert (
        main(
            [
                "label",
                str(tmp_path / "missing"),
                "--out",
                str(tmp_path / "o"),
                "--model",
                str(tmp_path / "nomodel"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("framing: error: ") and "model folder not found" in err
    assert len(err.splitlines()) == 1
    assert main(["train", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err
    assert main(["train", "--set", "train.epoch=3"]) == 2
    assert "train.epoch: unknown key" in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path):
    from framing.errors import FramingError

    with pytest.raises(FramingError):
        main(["--debug", "train", "--config", str(tmp_path / "nope.yaml")])


def test_label_command_end_to_end_and_exit_code(tmp_path, tiny_model, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "The board requires every ward to report monthly.\n\nNurses changed the rota themselves."
    )
    command = ["label", str(folder), "--model", str(tiny_model), "--quiet", "--out"]
    assert main([*command, str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "labelled 1 documents" in out and str(tmp_path / "out" / "documents.csv") in out
    (folder / "broken.docx").write_bytes(b"not a docx")
    assert main([*command, str(tmp_path / "out2"), "--format", "jsonl"]) == 1
    assert "1 could not be read" in capsys.readouterr().out
    assert (tmp_path / "out2" / "documents.jsonl").is_file()
    threads = torch.get_num_threads()
    try:
        assert main([*command, str(tmp_path / "out3"), "--threads", "1"]) == 1  # broken.docx
        assert torch.get_num_threads() == 1
        assert main([*command, str(tmp_path / "out4"), "--threads", "0"]) == 2
        assert "--threads 0: give at least 1" in capsys.readouterr().err
    finally:
        torch.set_num_threads(threads)


def test_evaluate_and_train_commands(tmp_path, tiny_encoder, capsys):
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    assert main(_tiny_training(tiny_encoder, corpus, tmp_path / "m", "train.method=full")) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                "--gold",
                str(corpus),
                "--split",
                "test",
                "--model",
                str(tmp_path / "m"),
                "--out",
                str(tmp_path / "ev"),
                "--baseline-train",
                str(corpus),
                "--bootstrap",
                "20",
            ]
        )
        == 0
    )
    assert "12 units:" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["n_units"] == 12 and "baseline" in metrics
    assert (
        main(["evaluate", "--gold", str(corpus), "--long", "a,b,c", "--out", str(tmp_path / "x")])
        == 2
    )


def test_corpus_check_command(tmp_path, capsys):
    rows = [
        {
            "id": str(i),
            "text": text,
            "label": label,
            "genre": "news_opinion",
            "topic": "schools",
            "hard": False,
            "rationale": "test",
            "split": ["train", "validation", "test"][i % 3],
        }
        for i, (text, label) in enumerate(PASSAGES)
    ]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows))
    assert main(["corpus", "check", str(corpus), "--no-floors"]) == 0
    assert "PASSED" in capsys.readouterr().out
    assert main(["corpus", "check", str(corpus)]) == 1  # far below the project corpus's floors
    out = capsys.readouterr().out
    assert (
        "framing passages; at least 1000 needed" in out and "hard cases; at least 200 needed" in out
    )


def test_corpus_check_catches_bad_records(tmp_path, capsys):
    rows = [
        {"id": str(i), "text": text, "label": label} for i, (text, label) in enumerate(PASSAGES)
    ]
    rows.append(
        {"id": "0", "text": "Something else entirely about parking permits.", "label": "none"}
    )
    rows.append({"id": "dup", "text": PASSAGES[0][0].upper(), "label": "managerial"})
    rows.append(
        {
            "id": "near",
            "text": PASSAGES[3][0].replace("Nobody asked them to.", "Nobody asked them."),
            "label": "grassroots",
        }
    )
    rows.append(
        {"id": "odd", "text": "A passage with a label outside the scheme.", "label": "sideways"}
    )
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows))
    assert main(["corpus", "check", str(corpus), "--no-floors"]) == 1
    out = capsys.readouterr().out
    assert "id '0' appears 2 times" in out
    assert "duplicate text (2 times)" in out
    assert "near-duplicates (cosine" in out and "3 ~ near" in out
    assert "unknown label 'sideways'" in out


def test_corpus_check_against_a_held_out_file(tmp_path, capsys):
    rows = [
        {"id": f"c{i}", "text": text, "label": label} for i, (text, label) in enumerate(PASSAGES)
    ]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows))
    held = tmp_path / "held.csv"
    paraphrase = PASSAGES[2][0].replace("will", "shall")  # a light edit of corpus passage c2
    pd.DataFrame(
        {"id": ["h1", "h2"], "text": [paraphrase, "Parking permits are renewed each April."]}
    ).to_csv(held, index=False)
    assert main(["corpus", "check", str(corpus), "--no-floors", "--against", str(held)]) == 1
    out = capsys.readouterr().out
    assert "overlaps the held-out file (cosine" in out and "c2 ~ h1" in out
    assert out.count("overlaps the held-out file") == 1  # the unrelated passage is not flagged
    # listed, but passing, when the threshold is above every pair
    assert (
        main(
            [
                "corpus",
                "check",
                str(corpus),
                "--no-floors",
                "--against",
                str(held),
                "--overlap",
                "1.01",
            ]
        )
        == 0
    )
    assert "c2 ~ h1" in capsys.readouterr().out


def test_console_script_is_installed():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "framing"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("framing ")


def test_no_code_path_reaches_the_network(tmp_path, tiny_encoder, monkeypatch):
    """Training, labelling and evaluation run with every outbound connection refused."""
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError(f"network disabled in tests: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    assert main(_tiny_training(tiny_encoder, corpus, tmp_path / "m")) == 0
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("Staff decided to change it themselves.")
    assert (
        main(
            [
                "label",
                str(tmp_path / "d"),
                "--model",
                str(tmp_path / "m"),
                "--out",
                str(tmp_path / "o"),
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "evaluate",
                "--gold",
                str(corpus),
                "--model",
                str(tmp_path / "m"),
                "--out",
                str(tmp_path / "e"),
                "--baseline-train",
                str(corpus),
                "--bootstrap",
                "5",
            ]
        )
        == 0
    )
    assert attempts == []


def test_the_package_sets_offline_mode_before_transformers_loads():
    code = "import os; import framing, transformers; print(os.environ['HF_HUB_OFFLINE'], os.environ['TRANSFORMERS_OFFLINE'])"
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.split() == ["1", "1"]


def test_parser_lists_the_commands():
    text = build_parser().format_help()
    for command in ("train", "label", "evaluate", "corpus"):
        assert command in text
    assert ROOT.joinpath("configs", "default.yaml").is_file()


def test_the_project_corpus_passes_its_check(capsys):
    assert main(["corpus", "check", str(ROOT / "data" / "corpus" / "corpus.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and "pairs found: 0" in out


def test_the_corpus_second_coding_covers_it_and_agrees():
    """The dataset card reports a blind second coding of every passage; keep it true."""
    from framing.labels import DEFAULT_SCHEME
    from framing.metrics import krippendorff_alpha

    corpus = pd.read_json(ROOT / "data" / "corpus" / "corpus.jsonl", lines=True)
    second = pd.read_json(ROOT / "data" / "corpus" / "second_coding.jsonl", lines=True)
    assert sorted(second["id"]) == sorted(corpus["id"])
    joined = corpus.merge(second, on="id")
    assert set(joined["code"]) <= set(DEFAULT_SCHEME.labels)
    alpha = krippendorff_alpha([list(joined["label"]), list(joined["code"])], DEFAULT_SCHEME.labels)
    assert alpha > 0.99  # the card: 2,907 of 2,918 agree, alpha 0.995
    assert (joined["label"] != joined["code"]).sum() == 11
