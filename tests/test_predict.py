import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from framing.errors import FramingError
from framing.labels import DEFAULT_SCHEME
from framing.modeling import FramingClassifier
from framing.predict import aggregate_document, label_corpus

from .conftest import PASSAGES


@pytest.fixture(scope="module")
def classifier(tiny_model):
    return FramingClassifier.from_pretrained(tiny_model, backend="float32")


def _corpus(folder, n=6):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = "\n\n".join(PASSAGES[(i + k) % len(PASSAGES)][0] for k in range(4))
        (folder / f"doc{i:02d}.txt").write_text(body, encoding="utf-8")
    return folder


def test_outputs_in_every_format(tmp_path, classifier):
    corpus = _corpus(tmp_path / "in")
    for fmt in ("csv", "jsonl", "parquet"):
        result = label_corpus(classifier, [corpus], tmp_path / fmt, fmt=fmt, quiet=True)
        read = {
            "csv": pd.read_csv,
            "jsonl": lambda p: pd.read_json(p, lines=True),
            "parquet": pd.read_parquet,
        }[fmt]
        docs = read(result.files["documents"])
        passages = read(result.files["passages"])
        assert sorted(docs["doc_id"]) == [f"doc{i:02d}.txt" for i in range(6)]
        assert len(passages) == result.passages == docs["n_passages"].sum()
        for column in (
            "doc_id",
            "passage_id",
            "start",
            "end",
            "text",
            "label",
            "p_managerial",
            "p_grassroots",
            "p_hybrid",
            "p_none",
            "confidence",
            "needs_review",
        ):
            assert column in passages.columns
        for column in (
            "doc_id",
            "source",
            "n_passages",
            "label",
            "share_managerial",
            "share_grassroots",
            "share_hybrid",
            "position",
            "mean_confidence",
            "evidence_passages",
            "problem",
        ):
            assert column in docs.columns
        assert docs["n_needs_review"].sum() == passages["needs_review"].astype(bool).sum()
        summary = (tmp_path / fmt / "summary.md").read_text()
        assert f"({passages['needs_review'].astype(bool).sum()} flagged needs_review)" in summary
        probs = passages[["p_managerial", "p_grassroots", "p_hybrid", "p_none"]].to_numpy()
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-3)
        assert (tmp_path / fmt / "summary.md").read_text().startswith("# Labelling summary")
        assert (tmp_path / fmt / "summary.html").read_text().count("data:image/png;base64,") == 1
        assert (tmp_path / fmt / "positions.png").read_bytes()[:4] == b"\x89PNG"


def test_passage_offsets_find_the_text_in_the_source(tmp_path, classifier):
    corpus = _corpus(tmp_path / "in", n=2)
    result = label_corpus(classifier, [corpus], tmp_path / "out", quiet=True)
    passages = pd.read_csv(result.files["passages"])
    for row in passages.itertuples():
        source = (corpus / row.doc_id).read_text(encoding="utf-8")
        assert " ".join(source[row.start : row.end].split()) == row.text


def test_bad_inputs_are_listed_and_the_rest_is_labelled(tmp_path, classifier, capsys):
    corpus = _corpus(tmp_path / "in", n=3)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(b"\x00\xff\x00")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7 broken")
    (corpus / "latin1.txt").write_bytes(
        "Les équipes ont décidé elles-mêmes de changer la rota du service.".encode("latin-1")
    )
    pd.DataFrame({"text": ["We organised it ourselves.", ""]}).to_csv(
        corpus / "posts.csv", index=False
    )
    result = label_corpus(classifier, [corpus], tmp_path / "out", quiet=True)
    errors = pd.read_csv(result.files["errors"])
    problems = dict(zip(errors["doc_id"], errors["problem"], strict=True))
    assert problems["empty.txt"] == "empty file"
    assert problems["binary.txt"] == "binary file, not text"
    assert problems["broken.pdf"].startswith("corrupt or unreadable PDF")
    assert problems["posts.csv#row2"] == "row 2: empty text"
    assert problems["latin1.txt"].startswith("not UTF-8")
    assert result.failed == 4 and result.warnings == 1
    docs = pd.read_csv(result.files["documents"], keep_default_na=False)
    assert len(docs) == result.documents == 3 + 5 + 1
    assert set(docs.loc[docs["problem"] == "", "doc_id"]) == {
        "doc00.txt",
        "doc01.txt",
        "doc02.txt",
        "latin1.txt",
        "posts.csv#row1",
    }
    err = capsys.readouterr().err
    assert "error: " in err and "binary.txt: binary file, not text" in err


def test_rerun_skips_finished_work_and_overwrite_starts_afresh(tmp_path, classifier):
    corpus = _corpus(tmp_path / "in")
    out = tmp_path / "out"
    first = label_corpus(classifier, [corpus], out, quiet=True, documents_per_part=2)
    parts = sorted((out / ".parts").glob("*.documents.jsonl"))
    stamps = [p.stat().st_mtime_ns for p in parts]
    second = label_corpus(classifier, [corpus], out, quiet=True, documents_per_part=2)
    assert [p.stat().st_mtime_ns for p in parts] == stamps
    assert pd.read_csv(first.files["documents"]).equals(pd.read_csv(second.files["documents"]))
    label_corpus(classifier, [corpus], out, quiet=True, documents_per_part=2, overwrite=True)
    assert [
        p.stat().st_mtime_ns for p in sorted((out / ".parts").glob("*.documents.jsonl"))
    ] != stamps
    with pytest.raises(FramingError, match="other settings"):
        label_corpus(classifier, [corpus], out, quiet=True, documents_per_part=3)
    (tmp_path / "stranger").mkdir()
    (tmp_path / "stranger" / "notes.txt").write_text("mine")
    with pytest.raises(FramingError, match="not a framing output"):
        label_corpus(classifier, [corpus], tmp_path / "stranger", quiet=True)


KILL_SCRIPT = """
import sys, time
import framing.predict as predict
from framing.modeling import FramingClassifier
original = predict._commit_part
def slow_commit(*args, **kwargs):
    original(*args, **kwargs)
    time.sleep(0.3)
predict._commit_part = slow_commit
classifier = FramingClassifier.from_pretrained(sys.argv[1], backend="int8")
predict.label_corpus(classifier, [sys.argv[2]], sys.argv[3], quiet=True, documents_per_part=1)
"""


def test_kill_minus_nine_then_resume_equals_an_uninterrupted_run(tmp_path, tiny_model):
    corpus = _corpus(tmp_path / "in", n=12)
    script = tmp_path / "job.py"
    script.write_text(KILL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    whole = tmp_path / "whole"
    subprocess.run(
        [sys.executable, str(script), str(tiny_model), str(corpus), str(whole)],
        check=True,
        env=env,
        timeout=300,
    )
    killed = tmp_path / "killed"
    job = subprocess.Popen(
        [sys.executable, str(script), str(tiny_model), str(corpus), str(killed)], env=env
    )
    deadline = time.time() + 240
    while len(list((killed / ".parts").glob("*.documents.jsonl"))) < 4 and time.time() < deadline:
        time.sleep(0.05)
    job.send_signal(signal.SIGKILL)
    job.wait()
    done = len(list((killed / ".parts").glob("*.documents.jsonl")))
    assert 4 <= done < 12, "the kill should land mid-run"
    assert not (killed / "documents.csv").exists()
    subprocess.run(
        [sys.executable, str(script), str(tiny_model), str(corpus), str(killed)],
        check=True,
        env=env,
        timeout=300,
    )
    a = pd.read_csv(whole / "documents.csv")
    b = pd.read_csv(killed / "documents.csv")
    assert list(b["doc_id"]) == [f"doc{i:02d}.txt" for i in range(12)]
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(
        pd.read_csv(whole / "passages.csv"), pd.read_csv(killed / "passages.csv")
    )


def _probs(rows):
    return np.array(rows, dtype=float)


def test_document_aggregation_rule_by_hand():
    # columns: managerial, grassroots, hybrid, none
    probs = _probs(
        [
            [0.7, 0.1, 0.1, 0.1],  # framing: weight 0.9, q = (7/9, 1/9, 1/9)
            [0.1, 0.5, 0.2, 0.2],  # framing: weight 0.8, q = (1/8, 5/8, 2/8)
            [0.05, 0.05, 0.0, 0.9],  # none: weight 0.1 * 0.1 = 0.01, q = (0.5, 0.5, 0)
        ]
    )
    result = aggregate_document(probs, DEFAULT_SCHEME)
    total = 0.9 + 0.8 + 0.01
    expected_m = (0.9 * 7 / 9 + 0.8 * 1 / 8 + 0.01 * 0.5) / total
    expected_g = (0.9 * 1 / 9 + 0.8 * 5 / 8 + 0.01 * 0.5) / total
    assert result["shares"]["managerial"] == pytest.approx(expected_m)
    assert result["shares"]["grassroots"] == pytest.approx(expected_g)
    assert result["position"] == pytest.approx(expected_g - expected_m)
    assert result["label"] == "hybrid"  # both sides hold at least 0.3
    assert result["ranking"][0] == 1  # the hybrid-leaning passage is the best evidence for hybrid


def test_document_labels_follow_the_majority_and_none_is_set_aside():
    managerial = aggregate_document(
        _probs([[0.8, 0.1, 0.05, 0.05], [0.6, 0.1, 0.2, 0.1], [0.0, 0.05, 0.05, 0.9]]),
        DEFAULT_SCHEME,
    )
    assert managerial["label"] == "managerial" and managerial["position"] < -0.5
    only_none = aggregate_document(
        _probs([[0.1, 0.1, 0.1, 0.7], [0.0, 0.2, 0.0, 0.8]]), DEFAULT_SCHEME
    )
    assert only_none["label"] == "none" and only_none["ranking"] == []
    empty = aggregate_document(np.zeros((0, 4)), DEFAULT_SCHEME)
    assert empty["label"] == "none"
