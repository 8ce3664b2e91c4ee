import json

import pandas as pd
import pytest

from framing.data import assign_splits, load_annotated, majority_label, read_table
from framing.errors import FramingError
from framing.labels import DEFAULT_SCHEME

ROWS = [
    {"id": "a", "text": "The board requires every ward to comply.", "label": "Managerial"},
    {"id": "b", "text": "Nurses started their own huddle.", "label": " grassroots"},
    {"id": "c", "text": "The trust funds teams who design their own changes.", "label": "HYBRID"},
]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet", ".json"])
def test_every_table_format_loads_with_normalised_labels(tmp_path, suffix):
    path = tmp_path / f"gold{suffix}"
    frame = pd.DataFrame(ROWS)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif suffix == ".json":
        frame.to_json(path, orient="records")
    else:
        frame.to_parquet(path)
    out = load_annotated(path, DEFAULT_SCHEME)
    assert list(out["label"]) == ["managerial", "grassroots", "hybrid"]
    assert list(out["id"]) == ["a", "b", "c"]


def test_datasets_folder_loads(tmp_path):
    import datasets

    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "ds"))
    out = load_annotated(tmp_path / "ds", DEFAULT_SCHEME)
    assert len(out) == 3


def test_configurable_columns(tmp_path):
    path = tmp_path / "x.csv"
    pd.DataFrame([{"uid": r["id"], "body": r["text"], "code": r["label"]} for r in ROWS]).to_csv(
        path, index=False
    )
    out = load_annotated(
        path, DEFAULT_SCHEME, text_column="body", label_column="code", id_column="uid"
    )
    assert list(out["label"]) == ["managerial", "grassroots", "hybrid"]


def _write(tmp_path, rows, name="bad.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [{"id": "1", "text": "x", "label": "top-down"}],
            r"row 1: unknown label 'top-down'; allowed: \['managerial'",
        ),
        ([{"id": "1", "text": "  ", "label": "hybrid"}], "row 1: empty text"),
        (
            [
                {"id": "1", "text": "a", "label": "hybrid"},
                {"id": "1", "text": "b", "label": "none"},
            ],
            "row 2: duplicate id '1'",
        ),
        ([{"id": "1", "body": "a", "label": "hybrid"}], r"missing column\(s\) \['text'\]"),
    ],
)
def test_bad_rows_name_file_row_and_problem(tmp_path, rows, message):
    path = _write(tmp_path, rows)
    with pytest.raises(FramingError, match=message) as info:
        load_annotated(path, DEFAULT_SCHEME)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_skip_invalid_drops_and_counts(tmp_path, capsys):
    path = _write(
        tmp_path,
        [
            *ROWS,
            {"id": "d", "text": "", "label": "hybrid"},
            {"id": "e", "text": "t", "label": "??"},
        ],
    )
    out = load_annotated(path, DEFAULT_SCHEME, skip_invalid=True)
    assert len(out) == 3
    assert "skipped 2 invalid row(s)" in capsys.readouterr().err


def test_non_utf8_and_bad_json_are_one_line_errors(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("id,text,label\n1,caf\xe9 staff,hybrid\n".encode("latin-1"))
    with pytest.raises(FramingError, match="not UTF-8"):
        read_table(path)
    path = tmp_path / "broken.jsonl"
    path.write_text('{"id": 1, "text": "a", "label": "none"}\n{"id": 2,\n')
    with pytest.raises(FramingError, match="line 2: not valid JSON"):
        read_table(path)
    other = tmp_path / "x.xlsx"
    other.write_text("")
    with pytest.raises(FramingError, match="unsupported table format"):
        read_table(other)


def test_wide_coders_majority_adjudication_and_ties(tmp_path):
    rows = [
        {"id": "1", "text": "t1", "a": "managerial", "b": "managerial", "c": "hybrid"},
        {
            "id": "2",
            "text": "t2",
            "a": "grassroots",
            "b": "hybrid",
            "c": "",
        },  # tie, no adjudication
        {"id": "3", "text": "t3", "a": "hybrid", "b": "Hybrid", "c": "grassroots"},
    ]
    path = _write(tmp_path, rows, "coders.csv")
    with pytest.raises(FramingError, match="row 2: coders tie"):
        load_annotated(path, DEFAULT_SCHEME, coders=["a", "b", "c"], label_column=None)
    out = load_annotated(
        path, DEFAULT_SCHEME, coders=["a", "b", "c"], label_column=None, skip_invalid=True
    )
    assert list(out["label"]) == ["managerial", "hybrid"]
    assert out["codes"].iloc[1] == {"a": "hybrid", "b": "hybrid", "c": "grassroots"}
    rows[1]["label"] = "grassroots"  # adjudicated label settles the tie
    for r in (rows[0], rows[2]):
        r["label"] = ""
    path = _write(tmp_path, rows, "adjudicated.csv")
    out = load_annotated(path, DEFAULT_SCHEME, coders=["a", "b", "c"])
    assert list(out["label"]) == ["managerial", "grassroots", "hybrid"]


def test_codes_dict_column_from_jsonl(tmp_path):
    path = tmp_path / "dev.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {
                    "id": "p1",
                    "text": "x",
                    "label": "hybrid",
                    "codes": {"A": "hybrid", "B": "managerial", "C": "hybrid"},
                },
                {
                    "id": "p2",
                    "text": "y",
                    "label": "managerial",
                    "codes": {"A": "managerial", "B": "managerial", "C": "managerial"},
                },
            ]
        )
    )
    out = load_annotated(path, DEFAULT_SCHEME, coders=["A", "B", "C"])
    assert out["codes"].iloc[0] == {"A": "hybrid", "B": "managerial", "C": "hybrid"}


def test_long_format(tmp_path):
    rows = [
        {"unit": "u1", "coder": "ann", "code": "managerial", "text": "t1"},
        {"unit": "u1", "coder": "bob", "code": "managerial", "text": "t1"},
        {"unit": "u2", "coder": "ann", "code": "grassroots", "text": "t2"},
        {"unit": "u2", "coder": "bob", "code": "grassroots", "text": "t2"},
        {"unit": "u2", "coder": "cat", "code": "hybrid", "text": "t2"},
    ]
    path = _write(tmp_path, rows, "long.csv")
    out = load_annotated(
        path, DEFAULT_SCHEME, id_column="unit", long_format=("coder", "code"), label_column=None
    )
    assert list(out["id"]) == ["u1", "u2"]
    assert list(out["label"]) == ["managerial", "grassroots"]
    assert out["codes"].iloc[0] == {"ann": "managerial", "bob": "managerial"}
    path = _write(tmp_path, [*rows, rows[0]], "twice.csv")
    with pytest.raises(FramingError, match="coded unit 'u1' twice"):
        load_annotated(path, DEFAULT_SCHEME, id_column="unit", long_format=("coder", "code"))


def test_majority_label():
    assert majority_label(["a", "a", "b"], DEFAULT_SCHEME) == "a"
    assert majority_label(["a", "b"], DEFAULT_SCHEME) is None
    assert majority_label([], DEFAULT_SCHEME) is None


def _frame(n=300, groups=False):
    labels = ["managerial", "grassroots", "hybrid", "none"]
    frame = pd.DataFrame(
        {"label": [labels[i % 4] for i in range(n)], "genre": [f"g{i % 3}" for i in range(n)]}
    )
    if groups:
        frame["doc_id"] = [f"d{i // 5}" for i in range(n)]
    return frame


def test_splits_are_stratified_seeded_and_sized():
    frame = _frame()
    a = assign_splits(
        frame, validation_size=0.15, test_size=0.15, seed=1, stratify_columns=("label", "genre")
    )
    b = assign_splits(
        frame, validation_size=0.15, test_size=0.15, seed=1, stratify_columns=("label", "genre")
    )
    assert (a == b).all()
    assert abs((a == "test").mean() - 0.15) < 0.02
    assert abs((a == "validation").mean() - 0.15) < 0.02
    shares = pd.crosstab(a, frame["label"], normalize="index")
    assert (shares.sub(0.25).abs() < 0.05).all().all()


def test_grouped_splits_keep_documents_whole():
    frame = _frame(groups=True)
    split = assign_splits(
        frame, validation_size=0.15, test_size=0.15, seed=3, group_column="doc_id"
    )
    per_doc = (
        pd.DataFrame({"doc": frame["doc_id"], "split": split}).groupby("doc")["split"].nunique()
    )
    assert (per_doc == 1).all()
    assert set(split) == {"train", "validation", "test"}


def test_an_unknown_code_from_one_coder_drops_only_that_code(tmp_path, capsys):
    rows = [{"id": "1", "text": "t1", "a": "hybrid", "b": "hybrid", "c": "out_of_scope"}]
    path = _write(tmp_path, rows, "codes.csv")
    with pytest.raises(FramingError, match="coder 'c' gave unknown label 'out_of_scope'"):
        load_annotated(path, DEFAULT_SCHEME, coders=["a", "b", "c"], label_column=None)
    out = load_annotated(
        path, DEFAULT_SCHEME, coders=["a", "b", "c"], label_column=None, skip_invalid=True
    )
    assert out["codes"].iloc[0] == {"a": "hybrid", "b": "hybrid"}
    assert "ignored 1 unknown code(s)" in capsys.readouterr().err
