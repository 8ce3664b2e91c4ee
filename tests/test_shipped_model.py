"""The shipped default model, with the real packaged encoder: behaviour, not plumbing."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from framing.modeling import DEFAULT_MODEL, FramingClassifier, native_bfloat16

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped():
    return FramingClassifier.from_pretrained(None, backend="float32")


def test_the_shipped_folder_is_small_and_pickle_free():
    files = [p for p in DEFAULT_MODEL.iterdir() if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 10 * 2**20
    assert not [p.name for p in files if p.suffix in {".bin", ".pt", ".pth", ".pkl", ".ckpt"}]
    settings = json.loads((DEFAULT_MODEL / "framing.json").read_text())
    assert settings["method"] == "lora" and settings["base_model"] == "default"


def test_codebook_illustrations(shipped):
    """The three short illustrations of the codebook (written for it, not in the corpus)."""
    passages = {
        "managerial": "From April every ward must complete the falls-risk checklist within six hours of admission. "
        "Compliance will be reported monthly to the quality committee, and divisions below 90 per cent will submit a recovery plan.",
        "grassroots": "A few of us on the night shift got fed up with patients waiting for pain relief, so we started our own huddle "
        "at 2am. Nobody asked us to. Now three other wards have copied it, and we share what works on a group chat.",
        "hybrid": "The trust's board has backed the campaign and funded release time, but the ideas come from the staff themselves: "
        "each team picks one change it cares about, and our clinical champions carry what they learn back to the executive.",
    }
    predicted = [p.label for p in shipped.predict(list(passages.values()))]
    assert predicted == list(passages)


def test_out_of_scope_text_is_set_aside(shipped):
    """Job-advert terms, trial methods, finance figures and committee housekeeping: none."""
    texts = [
        "Band 6 Staff Nurse. Salary £37,338 to £44,962 per annum pro rata, 37.5 hours per week. Closing date 12 January. "
        "Interviews will be held in the week commencing 22 January. Please note that a DBS check is required for this post.",
        "Participants will be randomised 1:1 using computer-generated permuted blocks stratified by site. The primary outcome is "
        "length of stay at 30 days; secondary outcomes include readmission and mortality at 90 days.",
    ]
    texts += [
        "At month 8 the Trust reports a year-to-date deficit of £4.2m against a planned deficit of £3.1m, an adverse "
        "variance of £1.1m driven mainly by pay overspends in medicine. Capital expenditure to date is £11.7m against a plan of £14.0m.",
        "The meeting was quorate. Apologies were received from the Chief Finance Officer and two non-executive directors. "
        "No new declarations of interest were made. The minutes of the meeting held on 14 March were approved as an accurate record.",
    ]
    assert [p.label for p in shipped.predict(texts)] == ["none"] * 4


def test_fast_backends_against_full_precision(shipped):
    """bfloat16 (the CPU default where native) keeps labels; int8 is close, hence opt-in."""
    corpus = pd.read_json(ROOT / "data" / "corpus" / "corpus.jsonl", lines=True)
    texts = list(corpus.loc[corpus["split"] == "test", "text"])
    reference = shipped.predict_proba(texts).argmax(axis=1)
    expected_default = "bfloat16" if native_bfloat16() else "float32"
    assert FramingClassifier.from_pretrained(None).backend == expected_default
    agreement = {}
    for backend in ("bfloat16", "int8"):
        fast = FramingClassifier.from_pretrained(None, backend=backend)
        agreement[backend] = (fast.predict_proba(texts).argmax(axis=1) == reference).mean()
    assert agreement["bfloat16"] >= 0.99, agreement
    assert agreement["int8"] >= 0.95, agreement  # measured 0.97-0.98: short of 99%, so opt-in


def test_probabilities_are_calibrated_distributions(shipped):
    probs = shipped.predict_proba(
        ["The council will fund residents' panels that decide which repairs come first."]
    )
    assert probs.shape == (1, 4)
    np.testing.assert_allclose(probs.sum(), 1.0, atol=1e-5)
    assert shipped.temperature > 0


def test_examples_are_labelled_as_a_careful_coder_would(tmp_path, shipped):
    """The bundled examples (docs/examples.md gives each one's intended label)."""
    intended = {}
    for line in (ROOT / "docs" / "examples.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if (
            len(cells) == 5
            and cells[0].startswith("`")
            and cells[3] in {"managerial", "grassroots", "hybrid"}
        ):
            intended[cells[0].strip("`")] = cells[3]
    assert len(intended) == 14
    result = shipped.label_documents(
        [ROOT / "examples"], tmp_path / "out", quiet=True, id_column="id"
    )
    docs = pd.read_csv(result.files["documents"]).set_index("doc_id")
    assert result.failed == 0
    right = sum(docs.loc[name, "label"] == label for name, label in intended.items())
    assert right >= 11, f"only {right} of 14 example documents labelled as intended"
