"""Cutting documents into passages, the codebook's unit of coding.

Paragraphs (blank-line separated) are the natural unit. Short ones, usually headings,
join the paragraph after them; long ones are cut at sentence boundaries so that each
passage fits the model's window. Every passage keeps its character offsets (and page)
in the extracted text, so a reader can find it in the source.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# a sentence ends at . ! ? (optionally followed by a closing quote or bracket) before a
# space and a capital, digit, quote or bullet: good enough for policy prose, and it never
# needs a model download
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[A-Z0-9\"'“‘(\[•\-])")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Passage:
    index: int
    start: int
    end: int
    text: str
    page: int | None = None


def segment(
    text: str, *, max_words: int = 180, min_words: int = 12, page_starts: Sequence[int] = ()
) -> list[Passage]:
    """Split ``text`` into passages of at most ``max_words`` words.

    ``page_starts`` holds the offset where each page begins (PDFs); a passage's page is the
    page of its first character, counted from 1.
    """
    spans: list[tuple[int, int]] = []
    for start, end in _paragraphs(text):
        if _count_words(text, start, end) <= max_words:
            spans.append((start, end))
        else:
            spans.extend(_pack(_sentences(text, start, end), text, max_words))
    merged = _merge_short(spans, text, min_words, max_words)
    passages = []
    for i, (start, end) in enumerate(merged):
        page = bisect.bisect_right(page_starts, start) if page_starts else None
        passages.append(
            Passage(
                index=i, start=start, end=end, text=" ".join(text[start:end].split()), page=page
            )
        )
    return passages


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for brk in _PARAGRAPH_BREAK.finditer(text):
        spans.append((pos, brk.start()))
        pos = brk.end()
    spans.append((pos, len(text)))
    return [_strip(text, s, e) for s, e in spans if text[s:e].strip()]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _count_words(text: str, start: int, end: int) -> int:
    return len(_WORD.findall(text, start, end))


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, pos = [], start
    for brk in _SENTENCE_END.finditer(text, start, end):
        spans.append(_strip(text, pos, brk.start() + len(brk.group(0).rstrip())))
        pos = brk.end()
    spans.append(_strip(text, pos, end))
    return [s for s in spans if s[1] > s[0]]


def _pack(sentences: list[tuple[int, int]], text: str, max_words: int) -> list[tuple[int, int]]:
    """Greedily group consecutive sentences into spans of at most ``max_words`` words."""
    out: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    cur_words = 0
    for start, end in sentences:
        words = _count_words(text, start, end)
        if words > max_words:  # one very long "sentence" (a list, a table): cut on words
            if cur:
                out.append(cur)
                cur, cur_words = None, 0
            out.extend(_cut_words(text, start, end, max_words))
            continue
        if cur and cur_words + words > max_words:
            out.append(cur)
            cur, cur_words = None, 0
        cur = (cur[0], end) if cur else (start, end)
        cur_words += words
    if cur:
        out.append(cur)
    return out


def _cut_words(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    words = list(_WORD.finditer(text, start, end))
    return [
        (words[i].start(), words[min(i + max_words, len(words)) - 1].end())
        for i in range(0, len(words), max_words)
    ]


def _merge_short(
    spans: list[tuple[int, int]], text: str, min_words: int, max_words: int
) -> list[tuple[int, int]]:
    """Join spans under ``min_words`` (headings, list stubs) to the next span, or else the previous."""
    out: list[tuple[int, int]] = []
    carry: tuple[int, int] | None = None
    for start, end in spans:
        if carry is not None:
            if _count_words(text, carry[0], end) <= max_words:
                start = carry[0]
            else:
                out.append(carry)
            carry = None
        if _count_words(text, start, end) < min_words:
            carry = (start, end)
        else:
            out.append((start, end))
    if carry is not None:
        if out and _count_words(text, out[-1][0], carry[1]) <= max_words:
            out[-1] = (out[-1][0], carry[1])
        else:
            out.append(carry)
    return out
