"""`framing corpus check`: the gate every annotated corpus passes before training.

It catches what silently spoils a fine-tuned model: schema slips, unknown labels, empty
or duplicated texts, near-duplicates (which inflate test scores when they straddle
splits), and, for the project's own corpus, too few passages, a label below its share,
or too little variety of genre and topic. With ``--against``, it also screens the corpus
against a held-out evaluation file: a training passage that copies or closely
paraphrases an evaluation passage would make the evaluation measure memory.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framing.data import read_table
from framing.errors import FramingError
from framing.labels import DEFAULT_SCHEME, LabelScheme

FIELDS = {
    "id": str,
    "text": str,
    "label": str,
    "genre": str,
    "topic": str,
    "hard": bool,
    "rationale": str,
    "split": str,
}
SPLITS = {"train", "validation", "test"}


@dataclass(frozen=True)
class Floors:
    """The project corpus's minimums (issue: annotated framing corpus)."""

    framing_passages: int = 1000
    none_passages: int = 150
    label_share: float = 0.28
    genres: int = 8
    topics: int = 20
    hard: int = 200
    min_per_genre: int = 10
    min_per_topic: int = 5
    min_words: int = 20
    max_words: int = 250


def check_corpus(
    path: Path,
    *,
    scheme: LabelScheme = DEFAULT_SCHEME,
    floors: bool = True,
    near_duplicate: float = 0.8,
    limits: Floors = Floors(),
    against: Path | None = None,
    overlap: float = 0.5,
) -> tuple[bool, str]:
    """Run every check; return (passed, report text with the counts and each failure).

    ``against``: a held-out table (a ``text`` column, ``id`` if present); corpus passages
    whose TF-IDF cosine with one of its passages reaches ``overlap`` fail the check, and
    the closest pairs are listed either way so that a reader can judge paraphrases too.
    """
    frame = read_table(path)
    problems: list[str] = []
    missing = [f for f in FIELDS if f not in frame.columns]
    required = ["id", "text", "label"] if not floors else list(FIELDS)
    if [f for f in missing if f in required]:
        raise FramingError(
            f"{path}: missing field(s) {[f for f in missing if f in required]}; records need {required}"
        )
    for i, row in enumerate(frame.to_dict("records"), 1):
        for name, kind in FIELDS.items():
            if name in row and not isinstance(row[name], kind):
                problems.append(
                    f"row {i} ({row.get('id')}): field {name!r} should be {kind.__name__}, got {type(row[name]).__name__}"
                )
        if scheme.normalise(row["label"]) != row["label"]:
            problems.append(
                f"row {i} ({row['id']}): unknown label {row['label']!r}; allowed: {list(scheme.labels)}"
            )
        if not str(row["text"]).strip():
            problems.append(f"row {i} ({row['id']}): empty text")
        if "split" in row and row["split"] not in SPLITS:
            problems.append(
                f"row {i} ({row['id']}): split {row['split']!r} is not one of {sorted(SPLITS)}"
            )
        words = len(str(row["text"]).split())
        if floors and not limits.min_words <= words <= limits.max_words:
            problems.append(
                f"row {i} ({row['id']}): {words} words, outside {limits.min_words}-{limits.max_words}"
            )
    for value, n in Counter(frame["id"]).items():
        if n > 1:
            problems.append(f"id {value!r} appears {n} times")
    normalised = frame["text"].astype(str).str.lower().str.split().str.join(" ")
    for value, n in Counter(normalised).items():
        if n > 1:
            problems.append(f"duplicate text ({n} times): {value[:80]!r}")
    pairs = near_duplicates(list(frame["text"].astype(str)), near_duplicate)
    for i, j, score in pairs:
        across = (
            " across splits"
            if "split" in frame.columns and frame["split"].iloc[i] != frame["split"].iloc[j]
            else ""
        )
        problems.append(
            f"near-duplicates{across} (cosine {score:.2f}): {frame['id'].iloc[i]} ~ {frame['id'].iloc[j]}"
        )

    labels = Counter(frame["label"])
    framing_total = sum(n for label, n in labels.items() if label != scheme.none_label)
    lines = [
        f"{path}: {len(frame)} passages ({framing_total} framing, {labels.get(scheme.none_label, 0)} none)",
        "",
        "labels:",
    ]
    for label in scheme.labels:
        share = (
            labels.get(label, 0) / framing_total
            if framing_total and label != scheme.none_label
            else None
        )
        lines.append(
            f"  {label:<12} {labels.get(label, 0):>5}"
            + (f"  {share:.1%} of framing passages" if share is not None else "")
        )
    if "split" in frame.columns:
        table = frame.groupby(["split", "label"]).size().unstack(fill_value=0)
        lines += ["", "split x label:", *("  " + line for line in table.to_string().splitlines())]
    for column in ("genre", "topic"):
        if column in frame.columns:
            counts = Counter(frame[column])
            lines += [
                "",
                f"{column}s ({len(counts)}): "
                + ", ".join(f"{k} {v}" for k, v in counts.most_common()),
            ]
    if "hard" in frame.columns:
        lines.append(f"\nhard cases: {int(frame['hard'].astype(bool).sum())}")
        if "genre" in frame.columns:
            by = frame.groupby(["genre", "label"]).size().unstack(fill_value=0)
            lines += ["", "genre x label:", *("  " + line for line in by.to_string().splitlines())]
    words = frame["text"].astype(str).str.split().str.len()
    lines.append(
        f"\nwords per passage: min {words.min()}, median {int(words.median())}, max {words.max()}"
    )

    if floors:
        if framing_total < limits.framing_passages:
            problems.append(
                f"{framing_total} framing passages; at least {limits.framing_passages} needed"
            )
        if labels.get(scheme.none_label, 0) < limits.none_passages:
            problems.append(
                f"{labels.get(scheme.none_label, 0)} none passages; at least {limits.none_passages} needed"
            )
        for label in scheme.framing_labels:
            if framing_total and labels.get(label, 0) / framing_total < limits.label_share:
                problems.append(
                    f"label {label} is {labels.get(label, 0) / framing_total:.1%} of framing passages; at least {limits.label_share:.0%} needed"
                )
        genres = Counter(frame["genre"])
        topics = Counter(frame["topic"])
        if sum(n >= limits.min_per_genre for n in genres.values()) < limits.genres:
            problems.append(
                f"only {sum(n >= limits.min_per_genre for n in genres.values())} genres with at least {limits.min_per_genre} passages; {limits.genres} needed"
            )
        if sum(n >= limits.min_per_topic for n in topics.values()) < limits.topics:
            problems.append(
                f"only {sum(n >= limits.min_per_topic for n in topics.values())} topics with at least {limits.min_per_topic} passages; {limits.topics} needed"
            )
        if int(frame["hard"].astype(bool).sum()) < limits.hard:
            problems.append(
                f"{int(frame['hard'].astype(bool).sum())} hard cases; at least {limits.hard} needed"
            )
    lines += [
        "",
        f"near-duplicate threshold: TF-IDF cosine >= {near_duplicate}; pairs found: {len(pairs)}",
    ]
    if against is not None:
        held = read_table(against)
        if "text" not in held.columns:
            raise FramingError(f"{against}: no 'text' column to screen the corpus against")
        held_ids = (
            list(held["id"].astype(str))
            if "id" in held.columns
            else [f"row {i}" for i in range(1, len(held) + 1)]
        )
        closest = closest_matches(list(frame["text"].astype(str)), list(held["text"].astype(str)))
        ranked = sorted(enumerate(closest), key=lambda t: -t[1][1])
        for i, (j, score) in ranked:
            if score < overlap:
                break
            problems.append(
                f"overlaps the held-out file (cosine {score:.2f}): {frame['id'].iloc[i]} ~ {held_ids[j]}"
            )
        lines += ["", f"closest to {against} (TF-IDF cosine; fails at >= {overlap}):"]
        lines += [
            f"  {score:.2f}  {frame['id'].iloc[i]} ~ {held_ids[j]}" for i, (j, score) in ranked[:10]
        ]
    lines += [
        "",
        "PASSED" if not problems else f"FAILED: {len(problems)} problem(s)",
        *(f"  - {p}" for p in problems[:50]),
    ]
    if len(problems) > 50:
        lines.append(f"  ... and {len(problems) - 50} more")
    return not problems, "\n".join(lines)


def near_duplicates(texts: list[str], threshold: float) -> list[tuple[int, int, float]]:
    """Pairs (i, j, cosine), i < j, most similar first, whose TF-IDF cosine is at least ``threshold``."""
    if len(texts) < 2:
        return []
    matrix = _tfidf(texts).transform(texts)
    sims = (matrix @ matrix.T).tocoo()
    keep = (sims.data >= threshold) & (sims.row < sims.col)
    pairs = zip(
        sims.row[keep].tolist(), sims.col[keep].tolist(), sims.data[keep].tolist(), strict=True
    )
    return sorted(((int(i), int(j), float(s)) for i, j, s in pairs), key=lambda t: -t[2])


def closest_matches(texts: list[str], others: list[str]) -> list[tuple[int, float]]:
    """For each of ``texts``, the index of its most similar text in ``others`` and their cosine.

    Both sides share one TF-IDF vocabulary, so a held-out file of any size is screened
    with one sparse product and a row-wise maximum.
    """
    if not texts or not others:
        return []
    vectoriser = _tfidf(texts + others)
    sims = (vectoriser.transform(texts) @ vectoriser.transform(others).T).tocsr()
    best = sims.argmax(axis=1).A1
    scores = sims.max(axis=1).toarray().ravel()
    return [(int(j), float(s)) for j, s in zip(best, scores, strict=True)]


def _tfidf(texts: list[str]) -> Any:
    """The one TF-IDF space (word 1-2 grams, sublinear counts) both screens use."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)
