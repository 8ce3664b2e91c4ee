"""Merge written batches into data/corpus/corpus.jsonl and give new passages a split.

Passages that already have a split keep it (splits are fixed once committed); new ones
are assigned train/validation/test (70/15/15), stratified by label and genre, seeded.

    python scripts/build_corpus.py [BATCH.jsonl ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from framing.data import assign_splits

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus" / "corpus.jsonl"
FIELDS = ["id", "text", "label", "genre", "topic", "hard", "rationale", "split"]


def main(batches: list[str]) -> None:
    rows = (
        [
            json.loads(line)
            for line in CORPUS.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        if CORPUS.is_file()
        else []
    )
    known = {r["id"] for r in rows}
    for batch in batches:
        for line in Path(batch).read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if record["id"] not in known:
                    rows.append(record)
                    known.add(record["id"])
    frame = pd.DataFrame(rows)
    if "split" not in frame.columns:
        frame["split"] = None
    new = frame["split"].isna()
    if new.any():
        frame.loc[new, "split"] = assign_splits(
            frame[new],
            validation_size=0.15,
            test_size=0.15,
            seed=13,
            stratify_columns=("label", "genre"),
        )
    with CORPUS.open("w", encoding="utf-8") as handle:
        for record in frame[FIELDS].to_dict("records"):
            record["hard"] = bool(record["hard"])
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"{CORPUS}: {len(frame)} passages ({int(new.sum())} new)")


if __name__ == "__main__":
    main(sys.argv[1:])
