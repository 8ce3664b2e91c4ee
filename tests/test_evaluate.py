import json

import numpy as np
import pandas as pd
import pytest

from framing.calibration import expected_calibration_error, fit_temperature
from framing.errors import FramingError
from framing.evaluate import bootstrap_ci, evaluate, position_agreement
from framing.labels import DEFAULT_SCHEME
from framing.metrics import classification_metrics, cohen_kappa, krippendorff_alpha

from .conftest import PASSAGES, write_corpus

LABELS = ["managerial", "grassroots", "hybrid", "none"]


def test_classification_metrics_by_hand():
    gold = ["managerial", "managerial", "grassroots", "hybrid", "hybrid"]
    pred = ["managerial", "hybrid", "grassroots", "hybrid", "managerial"]
    m = classification_metrics(gold, pred, LABELS)
    assert m["accuracy"] == pytest.approx(3 / 5)
    # managerial P=1/2 R=1/2 F=1/2; grassroots 1,1,1; hybrid P=1/2 R=1/2 F=1/2; none absent from both
    assert m["per_class"]["managerial"]["f1"] == pytest.approx(0.5)
    assert m["macro_f1"] == pytest.approx((0.5 + 1 + 0.5) / 3)
    assert "none" not in m["per_class"]
    assert m["confusion_matrix"]["matrix"][0] == [1, 0, 1, 0]


def test_cohen_kappa_by_hand():
    # 10 units, 2 categories, each coder says Y five times; they agree on 7 units.
    a = list("YYYYYNNNNN")
    b = list("YYYYNYNNYN")
    po = 7 / 10
    pe = (5 / 10) * (5 / 10) + (5 / 10) * (5 / 10)  # both coders say Y half the time
    assert sum(x == y for x, y in zip(a, b, strict=True)) == 7
    assert cohen_kappa(a, b) == pytest.approx((po - pe) / (1 - pe))


def test_krippendorff_alpha_known_value():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example with
    # missing data: 4 coders, 12 units; the published alpha is 0.743.
    nan = None
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
    labels = ["1", "2", "3", "4", "5"]
    codes = [[None if v is None else str(v) for v in row] for row in data]
    assert krippendorff_alpha(codes, labels) == pytest.approx(0.743, abs=5e-4)


def test_alpha_two_coders_by_hand():
    # pairable values a:5 b:3; one disagreeing unit -> Do = 2/8, De = 2*5*3/(8*7)
    assert krippendorff_alpha(
        [["a", "a", "b", "b"], ["a", "a", "b", "a"]], ["a", "b"]
    ) == pytest.approx(1 - (2 / 8) / (30 / 56))


def test_bootstrap_interval_brackets_the_estimate_and_is_seeded():
    values = np.array([1.0] * 70 + [0.0] * 30)
    low, high = bootstrap_ci(lambda i: float(values[i].mean()), len(values), resamples=500, seed=1)
    assert low < 0.7 < high and high - low < 0.25
    assert (low, high) == bootstrap_ci(
        lambda i: float(values[i].mean()), len(values), resamples=500, seed=1
    )


def test_temperature_scaling_reduces_calibration_error():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 2000)
    logits = rng.normal(0, 1, (2000, 3))
    logits[np.arange(2000), labels] += 1.0
    logits *= 4  # over-confident
    from framing.modeling import softmax

    before = expected_calibration_error(softmax(logits), labels)
    t = fit_temperature(logits, labels)
    after = expected_calibration_error(softmax(logits / t), labels)
    assert t > 2 and after < before / 2


def _gold(tmp_path, rows=None):
    rows = rows or [
        {"id": str(i), "text": t, "a": label, "b": label if i % 4 else "hybrid", "c": label}
        for i, (t, label) in enumerate(PASSAGES)
        if label != "none"
    ]
    path = tmp_path / "gold.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_model_report_with_coders_and_baseline(tmp_path, tiny_model):
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    metrics = evaluate(
        _gold(tmp_path),
        tmp_path / "out",
        model=str(tiny_model),
        coders=["a", "b", "c"],
        baseline_train=corpus,
        resamples=50,
    )
    out = tmp_path / "out"
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["n_units"] == 9
    for key in (
        "accuracy",
        "macro_f1",
        "kappa",
        "alpha",
        "ci95",
        "ece",
        "per_class",
        "confusion_matrix",
        "position",
    ):
        assert key in saved["model"]
    assert saved["model"]["position"]["n"] == 9 and -1 <= saved["model"]["position"]["pearson"] <= 1
    assert set(saved["coders"]["kappa_model_vs"]) == {"a", "b", "c"}
    assert saved["coders"]["alpha_coders"] == pytest.approx(metrics["coders"]["alpha_coders"])
    assert "alpha_coders_plus_model" in saved["coders"]
    assert saved["baseline"]["accuracy"] == pytest.approx(
        1.0
    )  # the baseline was trained on these very texts
    report = (out / "report.md").read_text()
    assert "TF-IDF + LR baseline" in report and "Krippendorff's alpha among coders" in report
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    disagreements = pd.read_csv(out / "disagreements.csv")
    assert list(disagreements.columns[:5]) == ["id", "gold", "coder_a", "coder_b", "coder_c"]
    assert (disagreements["confidence"].diff().dropna() <= 0).all()


def test_predictions_file_long_format_and_join_problems(tmp_path, capsys):
    long_rows = []
    for unit, gold in (
        ("u1", "managerial"),
        ("u2", "grassroots"),
        ("u3", "hybrid"),
        ("u4", "grassroots"),
    ):
        for coder in ("x", "y"):
            long_rows.append({"unit": unit, "coder": coder, "code": gold})
    gold = tmp_path / "long.csv"
    pd.DataFrame(long_rows).to_csv(gold, index=False)
    preds = tmp_path / "preds.csv"
    pd.DataFrame(
        {
            "id": ["u1", "u2", "u3", "zz"],
            "label": ["managerial", "grassroots", "managerial", "none"],
        }
    ).to_csv(preds, index=False)
    metrics = evaluate(
        gold,
        tmp_path / "out",
        predictions=preds,
        id_column="unit",
        long_format=("coder", "code"),
        coders=None,
        baseline_train=None,
        resamples=20,
    )
    assert metrics["n_units"] == 3
    assert metrics["model"]["accuracy"] == pytest.approx(2 / 3)
    assert any("1 gold unit(s) have no prediction" in n and "u4" in n for n in metrics["notes"])
    assert "note: 1 gold unit(s) have no prediction" in capsys.readouterr().err


def test_bad_gold_inputs_still_give_a_report(tmp_path):
    rows = [
        {"id": "1", "text": "t1", "label": "managerial"},
        {"id": "2", "text": "t2", "label": "sideways"},
        {"id": "3", "text": "t3", "label": "managerial"},
    ]
    preds = tmp_path / "p.csv"
    pd.DataFrame({"id": ["1", "3"], "label": ["managerial", "hybrid"]}).to_csv(preds, index=False)
    metrics = evaluate(
        _gold(tmp_path, rows),
        tmp_path / "out",
        predictions=preds,
        coders=None,
        baseline_train=None,
        resamples=20,
    )
    notes = " ".join(metrics["notes"])
    assert "1 unit(s) without a usable code" in notes
    assert "single class (managerial)" in notes
    assert np.isnan(metrics["model"]["alpha"]) or metrics["model"]["alpha"] <= 0
    assert (tmp_path / "out" / "report.md").is_file()


def test_one_coder_and_unknown_predicted_labels(tmp_path):
    rows = [
        {"id": str(i), "text": f"t{i}", "a": label}
        for i, label in enumerate(["managerial", "hybrid", "grassroots"])
    ]
    preds = tmp_path / "p.csv"
    pd.DataFrame({"id": ["0", "1", "2"], "label": ["managerial", "hybrid", "hybrid"]}).to_csv(
        preds, index=False
    )
    metrics = evaluate(
        _gold(tmp_path, rows),
        tmp_path / "out",
        predictions=preds,
        coders=["a"],
        baseline_train=None,
        resamples=20,
    )
    assert any("fewer than two coders" in n for n in metrics["notes"])
    assert "alpha_coders" not in metrics["coders"]
    pd.DataFrame({"id": ["0"], "label": ["sideways"]}).to_csv(preds, index=False)
    with pytest.raises(FramingError, match=r"unknown predicted label\(s\) \['sideways'\]"):
        evaluate(
            _gold(tmp_path, rows),
            tmp_path / "out2",
            predictions=preds,
            coders=["a"],
            baseline_train=None,
        )


def test_position_agreement_by_hand():
    # columns in scheme order: managerial, grassroots, hybrid, none
    probs = np.array(
        [
            [0.9, 0.0, 0.1, 0.0],  # model -0.9; coders M, M, H -> -2/3
            [0.1, 0.1, 0.8, 0.0],  # model 0.0; coders H, H, H -> 0
            [
                0.0,
                0.6,
                0.2,
                0.2,
            ],  # model +0.75 (none share renormalised away); coders G, G, H -> +2/3
            [0.2, 0.2, 0.2, 0.4],  # gold none from every coder: not placed on the line
        ]
    )
    gold = pd.DataFrame(
        {
            "label": ["managerial", "hybrid", "grassroots", "none"],
            "codes": [
                {"a": "managerial", "b": "managerial", "c": "hybrid"},
                {"a": "hybrid", "b": "hybrid", "c": "hybrid"},
                {"a": "grassroots", "b": "grassroots", "c": "hybrid"},
                {"a": "none", "b": "none", "c": None},
            ],
        }
    )
    out = position_agreement(gold, probs, DEFAULT_SCHEME, ["a", "b", "c"], resamples=20, seed=1)
    assert out is not None and out["n"] == 3
    assert out["spearman"] == pytest.approx(1.0)
    assert out["mae"] == pytest.approx((abs(-0.9 + 2 / 3) + 0 + abs(0.75 - 2 / 3)) / 3)
    # without coders the gold label's own position is used; reversing the model reverses r
    flipped = probs[:, [1, 0, 2, 3]]
    out = position_agreement(gold, flipped, DEFAULT_SCHEME, None, resamples=0, seed=1)
    assert out is not None and out["pearson"] < -0.9
    # all gold on one point: a correlation is undefined, so nothing is reported
    same = gold.assign(label="hybrid")
    assert position_agreement(same, probs, DEFAULT_SCHEME, None, resamples=0, seed=1) is None


def test_compare_models_script_pairs_the_bootstrap(tmp_path, tiny_model):
    """A model compared with itself differs by exactly zero in every resample."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "compare_models.py"
    gold = _gold(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            str(gold),
            "--a",
            str(tiny_model),
            "--b",
            str(tiny_model),
            "--coders",
            "a,b,c",
            "--bootstrap",
            "50",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("| ") and "statistic" not in line
    ]
    assert [row.split(" | ")[0] for row in rows] == [
        "| accuracy",
        "| macro-F1",
        "| alpha",
        "| position r",
    ]
    for row in rows:
        a, b, diff = row.strip("| ").split(" | ")[1:]
        assert a == b
        # a tiny model may predict one class, leaving alpha or a correlation undefined
        undefined = row.startswith(("| alpha", "| position")) and a.startswith("nan")
        assert diff == "0.000 [0.000, 0.000]" or undefined
