"""Reading annotated passages: tables in, validated DataFrames out.

Researchers bring hand-coded data in many shapes: a CSV with one label column, a
spreadsheet with one column per coder, a long file of (unit, coder, label) rows, JSONL,
Parquet or a `datasets` folder. `load_annotated` turns each into the same frame
(``id``, ``text``, ``label`` plus, for multi-coder data, ``codes``: each coder's label),
and every bad row is reported as ``file: row N: problem`` instead of a traceback.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from framing.errors import FramingError
from framing.labels import LabelScheme

TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl", ".json", ".parquet"}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read CSV, TSV, JSONL, JSON, Parquet, or a `datasets` folder into a DataFrame of strings."""
    path = Path(path)
    if not path.exists():
        raise FramingError(f"{path}: file not found")
    try:
        if path.is_dir():
            import datasets

            try:
                ds = datasets.load_from_disk(str(path))
            except FileNotFoundError as exc:
                raise FramingError(f"{path}: not a dataset saved with save_to_disk") from exc
            if isinstance(ds, datasets.DatasetDict):
                frames = [d.to_pandas().assign(split=name) for name, d in ds.items()]
                return pd.concat(frames, ignore_index=True)
            return ds.to_pandas()
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        if suffix == ".tsv":
            return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding="utf-8")
        if suffix == ".jsonl":
            return pd.DataFrame(_read_jsonl(path))
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise FramingError(f"{path}: a JSON file must hold a list of records")
            return pd.DataFrame(data)
        if suffix == ".parquet":
            return pd.read_parquet(path)
    except UnicodeDecodeError as exc:
        raise FramingError(
            f"{path}: not UTF-8 text (bad byte at position {exc.start}); re-save it as UTF-8"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        if isinstance(exc, FramingError):
            raise
        raise FramingError(f"{path}: cannot read table ({str(exc).splitlines()[0]})") from None
    raise FramingError(
        f"{path}: unsupported table format {path.suffix!r}; use one of {sorted(TABLE_SUFFIXES)}"
    )


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise FramingError(f"{path}: line {lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise FramingError(f"{path}: line {lineno}: each line must be a JSON object")
            rows.append(row)
    return rows


def load_annotated(
    path: str | Path,
    scheme: LabelScheme,
    *,
    text_column: str = "text",
    label_column: str | None = "label",
    id_column: str | None = "id",
    coders: Sequence[str] | None = None,
    long_format: tuple[str, str] | None = None,
    skip_invalid: bool = False,
    require_text: bool = True,
) -> pd.DataFrame:
    """Load hand-coded units and derive one gold label per unit.

    - one label column: ``label_column``;
    - one column per coder: ``coders=["a", "b", "c"]`` (the majority label is derived, and
      ``label_column``, when present, is taken as the adjudicated label that settles ties);
    - long format: ``long_format=("coder", "label")``, one row per (unit, coder), units
      identified by ``id_column``.

    Returns columns ``id``, ``text``, ``label`` (and ``codes``, a dict coder -> label, for
    multi-coder data) plus any other columns of the file. Labels are normalised to the
    scheme (case, spaces, hyphens). With ``skip_invalid`` bad rows are dropped and
    counted on stderr; otherwise the first bad row raises a FramingError naming it.
    """
    path = Path(path)
    frame = read_table(path)
    if long_format is not None:
        frame, coders = _long_to_wide(frame, path, id_column, text_column, *long_format)
    needed = [text_column] if require_text else []
    if coders:
        needed += list(coders)
    elif label_column:
        needed.append(label_column)
    if coders and "codes" in frame.columns and any(c not in frame.columns for c in coders):
        # JSON records often keep the coders' labels together: {"codes": {"A": .., "B": ..}}
        for coder in coders:
            if coder not in frame.columns:
                frame[coder] = [
                    codes.get(coder) if isinstance(codes, dict) else None
                    for codes in frame["codes"]
                ]
    if id_column and long_format is None and id_column not in frame.columns:
        # ids are optional: row numbers stand in for them
        frame[id_column] = [str(i) for i in range(1, len(frame) + 1)]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise FramingError(
            f"{path}: missing column(s) {missing}; the file has {list(frame.columns)}"
        )

    problems: list[str] = []
    ignored_codes: list[str] = []
    keep: list[int] = []
    labels: list[str | None] = []
    codes: list[dict[str, str]] = []
    seen_ids: set[str] = set()
    allowed = list(scheme.labels)
    for row_number, (index, row) in enumerate(frame.iterrows(), 1):
        where = f"{path}: row {row_number}"
        problem = None
        unit_id = str(row[id_column]) if id_column else str(row_number)
        text = row[text_column] if require_text else ""
        if require_text and (not isinstance(text, str) or not text.strip()):
            problem = f"{where}: empty text"
        elif unit_id in seen_ids:
            problem = f"{where}: duplicate id {unit_id!r}"
        unit_codes: dict[str, str] = {}
        label: str | None = None
        if problem is None and coders:
            for coder in coders:
                raw = row[coder]
                if (
                    raw is None
                    or (isinstance(raw, str) and not raw.strip())
                    or (isinstance(raw, float) and np.isnan(raw))
                ):
                    continue
                value = scheme.normalise(raw)
                if value is None:
                    message = (
                        f"{where}: coder {coder!r} gave unknown label {raw!r}; allowed: {allowed}"
                    )
                    if not skip_invalid:
                        raise FramingError(message)
                    ignored_codes.append(message)  # that code only; the unit keeps its other codes
                    continue
                unit_codes[coder] = value
            if problem is None:
                adjudicated = (
                    scheme.normalise(row[label_column])
                    if label_column and label_column in frame.columns
                    else None
                )
                label = adjudicated or majority_label(list(unit_codes.values()), scheme)
                if label is None:
                    problem = (
                        f"{where}: no usable code"
                        if not unit_codes
                        else f"{where}: coders tie {unit_codes} and no adjudicated label"
                    )
        elif problem is None and label_column:
            label = scheme.normalise(row[label_column])
            if label is None:
                problem = f"{where}: unknown label {row[label_column]!r}; allowed: {allowed}"
        if problem is not None:
            if not skip_invalid:
                raise FramingError(problem)
            problems.append(problem)
            continue
        seen_ids.add(unit_id)
        keep.append(index)
        labels.append(label)
        codes.append(unit_codes)

    out = frame.loc[keep].copy()
    out["id"] = out[id_column].astype(str) if id_column else [str(i + 1) for i in keep]
    out["text"] = out[text_column].astype(str) if require_text else ""
    if label_column or coders:
        out["label"] = labels
    if coders:
        out["codes"] = codes
    if problems:
        print(
            f"{path}: skipped {len(problems)} invalid row(s); first: {problems[0]}", file=sys.stderr
        )
    if ignored_codes:
        print(
            f"{path}: ignored {len(ignored_codes)} unknown code(s); first: {ignored_codes[0]}",
            file=sys.stderr,
        )
    if out.empty:
        raise FramingError(f"{path}: no usable rows")
    return out.reset_index(drop=True)


def majority_label(codes: Sequence[str], scheme: LabelScheme) -> str | None:
    """The most frequent code, or None when there is none or the top codes tie."""
    if not codes:
        return None
    ranked = Counter(codes).most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def _long_to_wide(
    frame: pd.DataFrame,
    path: Path,
    id_column: str | None,
    text_column: str,
    coder_column: str,
    code_column: str,
) -> tuple[pd.DataFrame, list[str]]:
    """Pivot (unit, coder, label) rows into one row per unit with a column per coder."""
    if not id_column:
        raise FramingError(f"{path}: long format needs a unit id column")
    missing = [c for c in (id_column, coder_column, code_column) if c not in frame.columns]
    if missing:
        raise FramingError(
            f"{path}: missing column(s) {missing} for long format; the file has {list(frame.columns)}"
        )
    doubled = frame.duplicated([id_column, coder_column])
    if doubled.any():
        row = int(np.flatnonzero(doubled.to_numpy())[0]) + 1
        raise FramingError(
            f"{path}: row {row}: coder {frame[coder_column].iloc[row - 1]!r} coded unit {frame[id_column].iloc[row - 1]!r} twice"
        )
    wide = frame.pivot(index=id_column, columns=coder_column, values=code_column)
    coders = [str(c) for c in wide.columns]
    wide.columns = coders
    wide = wide.reset_index()
    if text_column in frame.columns:
        texts = frame.groupby(id_column, sort=False)[text_column].first()
        wide[text_column] = wide[id_column].map(texts)
    else:
        wide[text_column] = ""
    order = pd.unique(frame[id_column])
    wide = wide.set_index(id_column).loc[order].reset_index()
    return wide, coders


def assign_splits(
    frame: pd.DataFrame,
    *,
    validation_size: float,
    test_size: float,
    seed: int,
    stratify_columns: Sequence[str] = ("label",),
    group_column: str | None = None,
) -> pd.Series:
    """Seeded train/validation/test assignment, stratified, never splitting a group.

    Strata combine ``stratify_columns`` (label and, for the corpus, genre); strata too
    small to split fall back to the label alone. With a ``group_column`` whole groups
    (source documents) move together, so no document's passages leak across splits.
    """
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    cols = [c for c in stratify_columns if c in frame.columns]
    strata = (
        frame[cols].astype(str).agg("|".join, axis=1)
        if cols
        else pd.Series("all", index=frame.index)
    )
    counts = strata.map(strata.value_counts())
    strata = strata.where(
        counts >= 6, frame["label"].astype(str) if "label" in frame.columns else "all"
    )
    split = pd.Series("train", index=frame.index, dtype=object)
    if group_column and group_column in frame.columns and frame[group_column].notna().any():
        groups = frame[group_column].fillna(frame.index.to_series().astype(str)).astype(str)
        rest = frame.index
        for name, size, share_of_rest in (
            ("test", test_size, test_size),
            ("validation", validation_size, validation_size / max(1e-9, 1 - test_size)),
        ):
            if size <= 0:
                continue
            n_splits = max(2, round(1 / share_of_rest))
            folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
            _, held = next(folds.split(np.zeros(len(rest)), strata.loc[rest], groups.loc[rest]))
            split.loc[rest[held]] = name
            rest = rest.drop(rest[held])
        return split
    index = frame.index
    if test_size > 0:
        rest, test = train_test_split(
            index, test_size=test_size, stratify=strata, random_state=seed
        )
        split.loc[test] = "test"
    else:
        rest = index
    val_share = validation_size / (1 - test_size)
    _, val = train_test_split(
        rest, test_size=val_share, stratify=strata.loc[rest], random_state=seed
    )
    split.loc[val] = "validation"
    return split
