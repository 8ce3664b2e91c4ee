"""Finding documents and getting their text out.

Inputs are files, folders (searched recursively) and glob patterns. Documents are
.txt/.md (any encoding, UTF-8 expected), .html, .pdf (pypdf, page offsets kept) and
.docx (python-docx, tables included); tables (.csv, .tsv, .jsonl, .parquet) hold one
document per row. Discovery is cheap and lazy (`find_sources`); extraction
(`extract`) happens only for the sources a job still has to label, and each problem
with one source becomes an `ExtractionError` naming it, never a stopped job.
"""

from __future__ import annotations

import glob
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from framing.errors import FramingError

DOCUMENT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl", ".parquet"}
_BLOCK_TAGS = [
    "p",
    "div",
    "section",
    "article",
    "li",
    "tr",
    "table",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "dd",
    "dt",
]


class ExtractionError(FramingError):
    """A single document could not be read; the job records it and goes on."""


@dataclass(frozen=True)
class Source:
    """One document to label: a file, or one row of a table (``text`` already known)."""

    doc_id: str
    path: str
    text: str | None = None
    problem: str | None = None  # known before extraction, e.g. a table row without text


@dataclass
class Document:
    doc_id: str
    path: str
    text: str
    page_starts: list[int] = field(default_factory=list)
    warning: str | None = None


def find_sources(
    inputs: Sequence[str | Path], *, text_column: str = "text", id_column: str | None = None
) -> Iterator[Source]:
    """Yield documents in a stable order: each input in turn, folders sorted, table rows in order."""
    seen: set[str] = set()
    for item in inputs:
        spec = str(item)
        paths: list[tuple[Path, Path | None]]
        root: Path | None
        if any(ch in spec for ch in "*?["):
            matches = sorted(glob.glob(spec, recursive=True))
            if not matches:
                raise FramingError(f"{spec}: no files match this pattern")
            paths = [(Path(m), None) for m in matches if Path(m).is_file()]
        elif Path(spec).is_dir():
            root = Path(spec)
            paths = [
                (p, root)
                for p in sorted(root.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in DOCUMENT_SUFFIXES | TABLE_SUFFIXES
                and not _hidden(p, root)
            ]
        elif Path(spec).is_file():
            paths = [(Path(spec), None)]
        else:
            raise FramingError(f"{spec}: no such file or folder")
        for path, root in paths:
            suffix = path.suffix.lower()
            base_id = str(path.relative_to(root)) if root else str(path)
            if suffix in TABLE_SUFFIXES:
                for source in _table_rows(path, base_id, text_column, id_column):
                    yield _unique(source, seen)
            elif suffix in DOCUMENT_SUFFIXES:
                yield _unique(Source(doc_id=base_id, path=str(path)), seen)
            else:
                yield _unique(
                    Source(
                        doc_id=base_id,
                        path=str(path),
                        problem=f"unsupported file type {suffix or '(none)'}",
                    ),
                    seen,
                )


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _unique(source: Source, seen: set[str]) -> Source:
    doc_id, n = source.doc_id, 1
    while doc_id in seen:
        n += 1
        doc_id = f"{source.doc_id}~{n}"
    seen.add(doc_id)
    return (
        source
        if doc_id == source.doc_id
        else Source(doc_id, source.path, source.text, source.problem)
    )


def _table_rows(
    path: Path, base_id: str, text_column: str, id_column: str | None
) -> Iterator[Source]:
    """Stream a table's rows (never the whole file in memory) as sources."""
    try:
        for number, row in enumerate(_iter_records(path), 1):
            if text_column not in row:
                yield Source(
                    doc_id=f"{base_id}#row{number}",
                    path=str(path),
                    problem=f"row {number}: no column {text_column!r}; columns are {sorted(row)}",
                )
                continue
            raw_id = row.get(id_column) if id_column else None
            doc_id = f"{base_id}#{raw_id}" if raw_id not in (None, "") else f"{base_id}#row{number}"
            text = row[text_column]
            if not isinstance(text, str) or not text.strip():
                yield Source(doc_id=doc_id, path=str(path), problem=f"row {number}: empty text")
            else:
                yield Source(doc_id=doc_id, path=str(path), text=text)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        yield Source(
            doc_id=base_id,
            path=str(path),
            problem=f"unreadable table ({str(exc).splitlines()[0][:200]})",
        )


def _iter_records(path: Path) -> Iterator[dict[str, object]]:
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv"}:
        import pandas as pd

        for chunk in pd.read_csv(
            path,
            sep="\t" if suffix == ".tsv" else ",",
            dtype=str,
            keep_default_na=False,
            chunksize=2000,
            encoding="utf-8",
        ):
            yield from chunk.to_dict("records")
    elif suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for lineno, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ValueError(f"line {lineno}: not valid JSON ({exc.msg})") from None
                    yield record if isinstance(record, dict) else {}
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=2000):
            yield from batch.to_pylist()


def extract(source: Source, *, max_bytes: int) -> Document:
    """The text of one source; raises `ExtractionError` with a short reason on any problem."""
    if source.problem:
        raise ExtractionError(source.problem)
    if source.text is not None:
        return Document(source.doc_id, source.path, _clean(source.text))
    path = Path(source.path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractionError(f"cannot read file ({exc.strerror})") from None
    if size == 0:
        raise ExtractionError("empty file")
    if size > max_bytes:
        raise ExtractionError(
            f"file too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB, see --max-file-mb)"
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            doc = _pdf(path)
        elif suffix == ".docx":
            doc = Document(source.doc_id, source.path, _docx(path))
        elif suffix in {".html", ".htm"}:
            text, warning = _decode(path.read_bytes())
            doc = Document(source.doc_id, source.path, _html(text), warning=warning)
        else:
            text, warning = _decode(path.read_bytes())
            doc = Document(source.doc_id, source.path, _clean(text), warning=warning)
    except ExtractionError:
        raise
    except PermissionError:
        raise ExtractionError("permission denied") from None
    except Exception as exc:
        kind = {".pdf": "PDF", ".docx": "DOCX"}.get(suffix, "file")
        raise ExtractionError(
            f"corrupt or unreadable {kind} ({type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''})"
        ) from None
    doc.doc_id, doc.path = source.doc_id, source.path
    if not doc.text.strip():
        raise ExtractionError(
            "no text found" + (" (a scanned PDF needs OCR first)" if suffix == ".pdf" else "")
        )
    return doc


def _decode(data: bytes) -> tuple[str, str | None]:
    """UTF-8 text, or the best guess with a warning; binary data is refused."""
    if b"\x00" in data[:8192]:
        raise ExtractionError("binary file, not text")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise ExtractionError("not text in any known encoding") from None
        return str(best), f"not UTF-8; read as {best.encoding}"


def _clean(text: str) -> str:
    """NFKC (ligatures like 'ﬁ' become 'fi') and unified newlines."""
    return unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")


def _html(markup: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "template", "svg", "form"]):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_after("\n\n")
    return _clean(soup.get_text())


def _pdf(path: Path) -> Document:
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(
        logging.ERROR
    )  # its repair notices are not the user's problem

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        from pypdf import PasswordType

        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except Exception:
            opened = False
        if not opened:
            raise ExtractionError("encrypted PDF (a password is needed)")
    pages = _drop_running_lines([page.extract_text() or "" for page in reader.pages])
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page_text in pages:
        text = _rejoin_hyphens(_clean(page_text))
        starts.append(offset)
        parts.append(text)
        offset += len(text) + 2
    return Document("", str(path), "\n\n".join(parts), page_starts=starts)


def _drop_running_lines(pages: list[str], *, edge: int = 3, share: float = 0.4) -> list[str]:
    """Remove running headers and footers: edge lines that recur on many pages.

    A published PDF repeats its title, a page number or a printer's line at the top or
    bottom of every page; left in, they glue onto passages and tilt their labels. A line
    among the first or last ``edge`` lines of a page is dropped when the same words, in
    any order and ignoring numbers, sit at a page edge on at least ``share`` of the
    pages (and on 3 pages or more). Documents under 3 pages are returned as they are.
    """
    if len(pages) < 3:
        return pages
    lines = [page.splitlines() for page in pages]

    def key(line: str) -> str:
        return " ".join(sorted(re.findall(r"[^\W\d_]+", line.lower())))

    def edges(page: list[str]) -> list[int]:
        filled = [i for i, line in enumerate(page) if line.strip()]
        return sorted(set(filled[:edge] + filled[-edge:]))

    marks = [{i: key(page[i]) for i in edges(page)} for page in lines]
    seen = Counter(k for mark in marks for k in set(mark.values()))
    threshold = max(3, share * len(pages))
    running = {k for k, n in seen.items() if n >= threshold}
    return [
        "\n".join(line for i, line in enumerate(page) if mark.get(i) not in running)
        for page, mark in zip(lines, marks, strict=True)
    ]


def _rejoin_hyphens(text: str) -> str:
    """Join words a PDF line break split at a hyphen ("improve-\nment")."""
    return re.sub(r"(?<=[a-z])-\n(?=[a-z])", "", text)


def _docx(path: Path) -> str:
    import docx
    from docx.table import Table

    document = docx.Document(str(path))
    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = [c.text.strip() for c in row.cells if c.text.strip()]
                if cells:
                    blocks.append(" | ".join(dict.fromkeys(cells)))
        elif item.text.strip():
            blocks.append(item.text.strip())
    return _clean("\n\n".join(blocks))
