"""Batch labelling of document corpora: resumable, streaming, nothing lost.

The job walks the sources in a fixed order and cuts them into parts of
``documents_per_part`` documents. Each part is extracted, segmented and labelled as one
unit, and its three files (passages, documents, errors) are written to ``.parts/`` under
temporary names and renamed into place, the documents file last: a part whose documents
file exists is complete. A re-run with the same ``--out`` skips complete parts, so a
job killed at any moment (kill -9 included) resumes and ends with every document once
and the same labels as an uninterrupted run (parts are the same, so batches are the
same). At the end the parts are streamed into ``passages.<fmt>``, ``documents.<fmt>``,
``errors.csv`` and a summary; memory stays flat however large the corpus.
"""

from __future__ import annotations

import csv
import ctypes
import itertools
import json
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from framing.errors import FramingError
from framing.extract import ExtractionError, Source, extract, find_sources
from framing.labels import LabelScheme
from framing.report import figure_png, markdown_to_html
from framing.segment import Passage, segment

FORMATS = ("csv", "jsonl", "parquet")
PARTS = ".parts"
JOB_FILE = "job.json"
EVIDENCE_PASSAGES = 3
NONE_WEIGHT = 0.1  # a passage whose most likely label is none weighs a tenth (codebook: "little")


@dataclass
class JobResult:
    out_dir: Path
    documents: int
    passages: int
    failed: int
    warnings: int
    files: dict[str, Path]


def label_corpus(
    classifier: Any,
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    text_column: str = "text",
    id_column: str | None = None,
    fmt: str = "csv",
    overwrite: bool = False,
    quiet: bool = False,
    batch_size: int = 32,
    review_threshold: float | None = None,
    max_words: int | None = None,
    min_words: int | None = None,
    documents_per_part: int = 64,
    max_file_mb: float = 50,
    stderr: IO[str] | None = None,
) -> JobResult:
    """Label every document under ``inputs`` into ``out_dir``; see the module docstring."""
    if fmt not in FORMATS:
        raise FramingError(f"--format {fmt!r}: choose one of {list(FORMATS)}")
    err = stderr or sys.stderr
    out = Path(out_dir)
    segmenter = classifier.settings.get("segmenter", {})
    job = {
        "model": classifier.source,
        "format": fmt,
        "text_column": text_column,
        "id_column": id_column,
        "max_words": max_words or int(segmenter.get("max_words", 180)),
        "min_words": min_words or int(segmenter.get("min_words", 12)),
        "review_threshold": review_threshold
        if review_threshold is not None
        else float(classifier.settings.get("review_threshold", 0.6)),
        "documents_per_part": documents_per_part,
        "batch_size": batch_size,
        "backend": classifier.backend,
    }
    parts = _open_job(out, job, overwrite)
    sources = find_sources(inputs, text_column=text_column, id_column=id_column)
    done = {p.name.split(".")[0] for p in parts.glob("*.documents.jsonl")}
    progress = _progress(quiet)
    totals = {"documents": 0, "passages": 0}
    started = time.time()
    for number, chunk in enumerate(_chunks(sources, documents_per_part)):
        name = f"part-{number:06d}"
        if name in done:
            progress.update(len(chunk))
            continue
        passages, documents, errors = _label_part(
            classifier, chunk, job, max_bytes=int(max_file_mb * 1e6)
        )
        for row in errors:
            progress.write(f"{row['severity']}: {row['path']}: {row['problem']}", file=err)
        _commit_part(parts, name, passages, documents, errors)
        _release_memory()
        totals["documents"] += len(chunk)
        totals["passages"] += len(passages)
        elapsed = max(time.time() - started, 1e-9)
        progress.update(len(chunk))
        progress.set_postfix(
            docs_s=f"{totals['documents'] / elapsed:.1f}",
            passages_s=f"{totals['passages'] / elapsed:.1f}",
        )
    progress.close()
    return _finish(out, parts, fmt, classifier.scheme)


def _release_memory() -> None:
    """Hand freed heap pages back to the operating system (glibc only; elsewhere a no-op).

    Batches of different shapes leave glibc's heap fragmented, so without this the
    process grows part after part although nothing is kept; with it, memory stays flat.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> Any:
    """glibc, when this process runs on it and it has ``malloc_trim``; otherwise None."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


def _open_job(out: Path, job: dict[str, Any], overwrite: bool) -> Path:
    """Create the output folder, or check that an existing one belongs to the same job."""
    parts = out / PARTS
    job_path = out / JOB_FILE
    if overwrite and job_path.is_file():
        # only what a job writes is removed: a researcher's own files in --out are never touched
        shutil.rmtree(parts, ignore_errors=True)
        for name in (JOB_FILE, "errors.csv", "summary.md", "summary.html", "positions.png"):
            (out / name).unlink(missing_ok=True)
        for fmt in FORMATS:
            for kind in ("passages", "documents"):
                (out / f"{kind}.{fmt}").unlink(missing_ok=True)
    if job_path.is_file():
        previous = json.loads(job_path.read_text(encoding="utf-8"))
        changed = sorted(k for k in job if previous.get(k) != job[k])
        if changed:
            raise FramingError(
                f"{out}: holds a job run with other settings ({', '.join(changed)}); use --overwrite to start afresh or another --out"
            )
    elif out.exists() and any(out.iterdir()):
        raise FramingError(
            f"{out}: folder exists and is not a framing output; choose another --out"
        )
    parts.mkdir(parents=True, exist_ok=True)
    _write_atomic(job_path, json.dumps(job, indent=2))
    for stale in parts.glob("*.tmp"):
        stale.unlink()
    return parts


def _chunks(items: Iterable[Source], size: int) -> Iterator[list[Source]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _label_part(
    classifier: Any, chunk: list[Source], job: dict[str, Any], *, max_bytes: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    scheme: LabelScheme = classifier.scheme
    errors: list[dict[str, Any]] = []
    per_doc: list[tuple[Source, list[Passage], str | None]] = []
    for source in chunk:
        try:
            document = extract(source, max_bytes=max_bytes)
        except ExtractionError as exc:
            errors.append(
                {
                    "doc_id": source.doc_id,
                    "path": source.path,
                    "problem": str(exc),
                    "severity": "error",
                }
            )
            per_doc.append((source, [], str(exc)))
            continue
        if document.warning:
            errors.append(
                {
                    "doc_id": source.doc_id,
                    "path": source.path,
                    "problem": document.warning,
                    "severity": "warning",
                }
            )
        passages = segment(
            document.text,
            max_words=job["max_words"],
            min_words=job["min_words"],
            page_starts=document.page_starts,
        )
        per_doc.append((source, passages, None))
    texts = [p.text for _, passages, _ in per_doc for p in passages]
    probs = (
        classifier.predict_proba(texts, batch_size=job["batch_size"])
        if texts
        else np.zeros((0, len(scheme.labels)))
    )
    passage_rows, document_rows = [], []
    cursor = 0
    for source, passages, problem in per_doc:
        doc_probs = probs[cursor : cursor + len(passages)]
        cursor += len(passages)
        rows = [
            _passage_row(source, passage, row, scheme, job["review_threshold"])
            for passage, row in zip(passages, doc_probs, strict=True)
        ]
        passage_rows += rows
        n_review = sum(row["needs_review"] for row in rows)
        document_rows.append(_document_row(source, passages, doc_probs, scheme, problem, n_review))
    return passage_rows, document_rows, errors


def _passage_row(
    source: Source, passage: Passage, probs: np.ndarray, scheme: LabelScheme, threshold: float
) -> dict[str, Any]:
    best = int(probs.argmax())
    row: dict[str, Any] = {
        "doc_id": source.doc_id,
        "passage_id": f"{source.doc_id}#p{passage.index + 1}",
        "start": passage.start,
        "end": passage.end,
        "page": passage.page,
        "text": passage.text,
        "label": scheme.labels[best],
    }
    row.update(
        {f"p_{label}": round(float(p), 5) for label, p in zip(scheme.labels, probs, strict=True)}
    )
    row["confidence"] = round(float(probs[best]), 5)
    row["needs_review"] = bool(probs[best] < threshold)
    return row


def aggregate_document(probs: np.ndarray, scheme: LabelScheme) -> dict[str, Any]:
    """A document's label, shares, position and evidence order from its passages' probabilities.

    The rule of docs/codebook.md ("Documents"): each passage weighs its probability of
    framing change, 1 - P(none), and a tenth of that when its most likely label is none;
    the shares are the weighted mean of the framing probabilities renormalised over the
    framing labels; the position is the share-weighted mean of the labels' positions
    (grassroots share minus managerial share for the default scheme). The label is the
    mixed label (hybrid) when its share is largest or both sides hold at least 0.3 each,
    otherwise the largest share; ``none`` when no passage is most likely a framing one.
    """
    framing = [scheme.label2id[label] for label in scheme.framing_labels]
    none_id = scheme.label2id.get(scheme.none_label) if scheme.none_label else None
    if len(probs) == 0:
        return {
            "label": scheme.none_label or "",
            "shares": dict.fromkeys(scheme.framing_labels, 0.0),
            "position": 0.0,
            "ranking": [],
        }
    weight = probs[:, framing].sum(axis=1)
    if none_id is not None:
        weight = np.where(probs.argmax(axis=1) == none_id, weight * NONE_WEIGHT, weight)
    q = scheme.framing_shares(probs)
    shares_arr = (weight[:, None] * q).sum(axis=0) / max(weight.sum(), 1e-12)
    shares = {label: float(s) for label, s in zip(scheme.framing_labels, shares_arr, strict=True)}
    position = scheme.position_of(shares)
    has_framing = none_id is None or bool((probs.argmax(axis=1) != none_id).any())
    if not has_framing:
        label = scheme.none_label or ""
        ranking: list[int] = []
    else:
        label = max(shares, key=shares.__getitem__)
        mixed = [lab for lab in shares if scheme.positions.get(lab) == 0.0]
        low = [shares[lab] for lab in shares if scheme.positions.get(lab, 0.0) < 0]
        high = [shares[lab] for lab in shares if scheme.positions.get(lab, 0.0) > 0]
        if mixed and low and high and sum(low) >= 0.3 and sum(high) >= 0.3:
            label = mixed[0]
        column = scheme.framing_labels.index(label)
        ranking = [int(i) for i in np.argsort(-(weight * q[:, column]), kind="stable")]
    return {"label": label, "shares": shares, "position": position, "ranking": ranking}


def _document_row(
    source: Source,
    passages: list[Passage],
    probs: np.ndarray,
    scheme: LabelScheme,
    problem: str | None,
    n_needs_review: int,
) -> dict[str, Any]:
    summary = aggregate_document(probs, scheme)
    framing_ids = [scheme.label2id[label] for label in scheme.framing_labels]
    is_framing = (
        np.isin(probs.argmax(axis=1), framing_ids) if len(probs) else np.zeros(0, dtype=bool)
    )
    evidence = [passages[i] for i in summary["ranking"][:EVIDENCE_PASSAGES]]
    row: dict[str, Any] = {
        "doc_id": source.doc_id,
        "source": source.path,
        "n_passages": len(passages),
        "n_framing_passages": int(is_framing.sum()),
        "n_needs_review": n_needs_review,
        "label": "" if problem else summary["label"],
        "position": round(summary["position"], 4)
        if not problem and summary["label"] != scheme.none_label
        else None,
    }
    row.update({f"share_{label}": round(v, 4) for label, v in summary["shares"].items()})
    row["mean_confidence"] = round(float(probs.max(axis=1).mean()), 4) if len(probs) else None
    row["evidence_passages"] = ";".join(f"{source.doc_id}#p{p.index + 1}" for p in evidence)
    row["evidence_text"] = evidence[0].text[:400] if evidence else ""
    row["problem"] = problem or ""
    return row


# ---------------------------------------------------------------------------- files
def _commit_part(
    parts: Path,
    name: str,
    passages: list[dict[str, Any]],
    documents: list[dict[str, Any]],
    errors: list[dict[str, Any]],
) -> None:
    """Write a part's files; the documents file is renamed last and marks the part complete."""
    for kind, rows in (("passages", passages), ("errors", errors), ("documents", documents)):
        body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        _write_atomic(parts / f"{name}.{kind}.jsonl", body)


def _write_atomic(path: Path, body: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _part_rows(parts: Path, kind: str) -> Iterator[list[dict[str, Any]]]:
    """Rows of each complete part, part by part (orphans of an interrupted commit are ignored)."""
    for doc_file in sorted(parts.glob("*.documents.jsonl")):
        name = doc_file.name.split(".")[0]
        path = parts / f"{name}.{kind}.jsonl"
        with path.open(encoding="utf-8") as handle:
            yield [json.loads(line) for line in handle if line.strip()]


def _finish(out: Path, parts: Path, fmt: str, scheme: LabelScheme) -> JobResult:
    files = {
        "passages": _consolidate(parts, "passages", out / f"passages.{fmt}", fmt),
        "documents": _consolidate(parts, "documents", out / f"documents.{fmt}", fmt),
        "errors": _consolidate(
            parts,
            "errors",
            out / "errors.csv",
            "csv",
            columns=["doc_id", "path", "severity", "problem"],
        ),
    }
    counts = _summarise(out, parts, scheme)
    files.update(
        {
            "summary": out / "summary.md",
            "summary_html": out / "summary.html",
            "histogram": out / "positions.png",
        }
    )
    return JobResult(
        out, counts["documents"], counts["passages"], counts["failed"], counts["warnings"], files
    )


def _consolidate(
    parts: Path, kind: str, target: Path, fmt: str, columns: list[str] | None = None
) -> Path:
    """Stream the parts of one kind into one file, written to a temporary name and renamed."""
    tmp = target.with_name(target.name + ".tmp")
    try:
        if fmt == "parquet":
            _write_parquet(_part_rows(parts, kind), tmp)
        else:
            with tmp.open("w", encoding="utf-8", newline="") as handle:
                if fmt == "jsonl":
                    for rows in _part_rows(parts, kind):
                        handle.write(
                            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
                        )
                else:
                    _write_csv(_part_rows(parts, kind), handle, columns)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _write_csv(
    parts: Iterator[list[dict[str, Any]]], handle: IO[str], columns: list[str] | None
) -> None:
    writer: csv.DictWriter[str] | None = None
    for rows in parts:
        if rows and writer is None:
            writer = csv.DictWriter(
                handle, fieldnames=columns or list(rows[0]), extrasaction="ignore"
            )
            writer.writeheader()
        if writer is not None:
            writer.writerows(rows)
    if writer is None:
        csv.writer(handle).writerow(columns or ["doc_id"])


def _write_parquet(parts: Iterator[list[dict[str, Any]]], path: Path) -> None:
    """One Parquet file, part by part; a column that is empty in the first part becomes float or string."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None
    for rows in parts:
        if not rows:
            continue
        table = pa.Table.from_pylist(rows)
        if writer is None:
            fields = [
                pa.field(
                    f.name,
                    (pa.float64() if f.name in _NUMERIC else pa.string())
                    if pa.types.is_null(f.type)
                    else pa.float64()
                    if f.name in _NUMERIC
                    else f.type,
                )
                for f in table.schema
            ]
            writer = pq.ParquetWriter(str(path), pa.schema(fields))
        writer.write_table(table.cast(writer.schema))
    if writer is None:
        pq.write_table(pa.table({"doc_id": pa.array([], pa.string())}), str(path))
    else:
        writer.close()


_NUMERIC = {"page", "position", "mean_confidence"}


def _summarise(out: Path, parts: Path, scheme: LabelScheme) -> dict[str, int]:
    """counts, label distribution and a position histogram: summary.md, summary.html, positions.png."""
    labels: dict[str, int] = {}
    positions: list[float] = []
    counts = {"documents": 0, "passages": 0, "failed": 0, "warnings": 0, "review": 0}
    for rows in _part_rows(parts, "documents"):
        for row in rows:
            counts["documents"] += 1
            counts["passages"] += row["n_passages"]
            counts["review"] += row["n_needs_review"]
            if row["problem"]:
                counts["failed"] += 1
                continue
            labels[row["label"]] = labels.get(row["label"], 0) + 1
            if row["position"] is not None:
                positions.append(row["position"])
    for rows in _part_rows(parts, "errors"):
        counts["warnings"] += sum(1 for r in rows if r["severity"] == "warning")
    png = _histogram(positions)
    (out / "positions.png").write_bytes(png)
    ordered = [label for label in scheme.labels if label in labels]
    labelled = max(1, counts["documents"] - counts["failed"])
    table = "\n".join(
        f"| {label} | {labels[label]} | {100 * labels[label] / labelled:.1f}% |"
        for label in ordered
    )
    lines = [
        "# Labelling summary",
        "",
        f"- documents: {counts['documents']} ({counts['failed']} could not be read: see errors.csv)",
        f"- passages: {counts['passages']} ({counts['review']} flagged needs_review)",
        f"- warnings: {counts['warnings']}",
    ]
    if positions:
        lines.append(
            f"- mean position of framing documents (-1 top-down .. +1 bottom-up): {np.mean(positions):.3f}"
        )
    md = "\n".join(lines) + "\n\n"
    md += (
        "## Documents by label\n\n| label | documents | share |\n|---|---|---|\n"
        + table
        + "\n\n## Positions\n\n![position histogram](positions.png)\n"
    )
    _write_atomic(out / "summary.md", md)
    _write_atomic(
        out / "summary.html", markdown_to_html("Labelling summary", md, {"positions": png})
    )
    return counts


def _histogram(positions: list[float]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.hist(positions, bins=[i / 10 for i in range(-10, 11)], color="#4c72b0", edgecolor="white")
    ax.set_xlabel("position: -1 top-down (managerial) .. +1 bottom-up (grassroots)")
    ax.set_ylabel("documents")
    ax.set_xlim(-1, 1)
    fig.tight_layout()
    return figure_png(fig)


class _Quiet:
    def update(self, n: int = 1) -> None: ...
    def set_postfix(self, **_: Any) -> None: ...
    def close(self) -> None: ...

    @staticmethod
    def write(text: str, file: IO[str] | None = None) -> None:
        print(text, file=file or sys.stderr)


def _progress(quiet: bool) -> Any:
    if quiet:
        return _Quiet()
    from tqdm import tqdm

    return tqdm(unit="doc", desc="labelling", dynamic_ncols=True)
