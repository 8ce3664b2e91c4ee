import re
from pathlib import Path

import pytest

from framing.config import load_config
from framing.errors import FramingError
from framing.labels import DEFAULT_SCHEME, LabelScheme, get_scheme

ROOT = Path(__file__).resolve().parents[1]


def test_default_config_file_matches_built_in_defaults():
    assert load_config(ROOT / "configs" / "default.yaml") == load_config(None)


def test_override_sets_nested_keys_with_yaml_types():
    config = load_config(
        None,
        ["train.epochs=3", "train.lora.target_modules=[query, value]", "data.skip_invalid=true"],
    )
    assert config.train.epochs == 3
    assert config.train.lora.target_modules == ["query", "value"]
    assert config.data.skip_invalid is True


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.epoch=3", "train.epoch: unknown key"),
        ("train.epochs=many", "train.epochs:"),
        ("train.method=adapter", "train.method:"),
        ("label.review_threshold=2", "label.review_threshold:"),
        ("colour=blue", "colour: unknown key"),
        ("train.stride=200", "train: stride (200) must be less than half of max_length"),
    ],
)
def test_bad_keys_and_types_are_named(override, message):
    with pytest.raises(FramingError, match=re.escape(message)):
        load_config(None, [override])


def test_bad_yaml_and_missing_file(tmp_path):
    with pytest.raises(FramingError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(FramingError, match="not valid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(FramingError, match="mapping"):
        load_config(listy)


def test_override_needs_equals():
    with pytest.raises(FramingError, match="key=value"):
        load_config(None, ["train.epochs"])


def test_label_normalisation():
    assert DEFAULT_SCHEME.normalise(" Grassroots ") == "grassroots"
    assert DEFAULT_SCHEME.normalise("GRASS-ROOTS") == "grassroots"
    assert DEFAULT_SCHEME.normalise("Managerial") == "managerial"
    assert DEFAULT_SCHEME.normalise("top-down") is None
    assert DEFAULT_SCHEME.normalise(None) is None
    assert DEFAULT_SCHEME.normalise(float("nan")) is None


def test_scheme_ids_and_framing_labels():
    assert DEFAULT_SCHEME.id2label == {0: "managerial", 1: "grassroots", 2: "hybrid", 3: "none"}
    assert DEFAULT_SCHEME.label2id["none"] == 3
    assert DEFAULT_SCHEME.framing_labels == ("managerial", "grassroots", "hybrid")


def test_custom_scheme_round_trip_and_errors():
    scheme = get_scheme(
        {
            "name": "stance",
            "labels": ["for", "against", "neutral"],
            "positions": {"for": 1, "against": -1},
        }
    )
    assert isinstance(scheme, LabelScheme)
    assert LabelScheme.from_dict(scheme.to_dict()) == scheme
    assert scheme.none_label is None
    with pytest.raises(FramingError, match="unknown label scheme"):
        get_scheme("nonexistent")
    with pytest.raises(FramingError, match="repeats"):
        LabelScheme("x", ("a", "a"))
    with pytest.raises(FramingError, match="none_label"):
        LabelScheme("x", ("a", "b"), none_label="c")
    with pytest.raises(FramingError, match="malformed"):
        get_scheme({"name": "x"})
