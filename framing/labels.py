"""The label scheme: names, ids, descriptions and positions of the labels.

One `LabelScheme` object is used everywhere (data loading, training, labelling,
evaluation) so that a label can never be spelled two ways. The default scheme follows
docs/codebook.md: three framing labels plus ``none`` for passages with no framing of
change, which batch labelling sets aside.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framing.errors import FramingError


@dataclass(frozen=True)
class LabelScheme:
    """An ordered set of labels; the order fixes the model's class ids.

    ``positions`` places each framing label on the -1 (top-down) .. +1 (bottom-up) line
    used for a document's position score. ``none_label`` (if any) marks passages that
    carry no framing and weigh little in a document's label.
    """

    name: str
    labels: tuple[str, ...]
    descriptions: dict[str, str] = field(default_factory=dict)
    positions: dict[str, float] = field(default_factory=dict)
    none_label: str | None = None

    def __post_init__(self) -> None:
        if len(self.labels) < 2:
            raise FramingError(f"label scheme {self.name!r} needs at least two labels")
        if len(set(self.labels)) != len(self.labels):
            raise FramingError(f"label scheme {self.name!r} repeats a label: {list(self.labels)}")
        if self.none_label is not None and self.none_label not in self.labels:
            raise FramingError(
                f"label scheme {self.name!r}: none_label {self.none_label!r} is not one of its labels"
            )

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.labels))

    @property
    def label2id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    @property
    def framing_labels(self) -> tuple[str, ...]:
        """The labels that say how change is framed (all but the none label)."""
        return tuple(label for label in self.labels if label != self.none_label)

    def framing_shares(self, probs: np.ndarray) -> np.ndarray:
        """Probability rows (columns in label order) renormalised over the framing labels."""
        framing = probs[:, [self.label2id[label] for label in self.framing_labels]]
        return framing / np.maximum(framing.sum(axis=1, keepdims=True), 1e-12)

    def position_of(self, shares: Mapping[str, float]) -> float:
        """Where shares of the framing labels sit on the -1 (top-down) .. +1 (bottom-up) line.

        The share-weighted mean of the labels' positions: for the default scheme, the
        grassroots share minus the managerial share. One rule for passages and documents.
        """
        return float(sum(share * self.positions.get(label, 0.0) for label, share in shares.items()))

    def normalise(self, raw: object) -> str | None:
        """Map a coder's raw label to a scheme label, or None when it is not one.

        Case, surrounding whitespace, hyphens and underscores are ignored, so that
        " Grassroots ", "GRASSROOTS" and "grass-roots" all read as ``grassroots``.
        """
        if raw is None or (isinstance(raw, float) and raw != raw):
            return None
        key = _squash(str(raw))
        for label in self.labels:
            if _squash(label) == key:
                return label
        return None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "labels": list(self.labels),
            "descriptions": dict(self.descriptions),
            "positions": dict(self.positions),
            "none_label": self.none_label,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> LabelScheme:
        try:
            labels: Any = data["labels"]
            descriptions: Any = data.get("descriptions") or {}
            positions: Any = data.get("positions") or {}
            return cls(
                name=str(data.get("name", "custom")),
                labels=tuple(str(x) for x in labels),
                descriptions={str(k): str(v) for k, v in dict(descriptions).items()},
                positions={str(k): float(v) for k, v in dict(positions).items()},
                none_label=None if data.get("none_label") is None else str(data["none_label"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FramingError(
                f"label scheme is malformed ({exc}); it needs 'labels': [..]"
            ) from exc


def _squash(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.strip().lower())


DEFAULT_SCHEME = LabelScheme(
    name="framing",
    labels=("managerial", "grassroots", "hybrid", "none"),
    descriptions={
        "managerial": "Top-down: change is owned and driven by leaders, boards, government or "
        "national bodies through targets, mandates, plans and compliance; staff are implementers.",
        "grassroots": "Bottom-up: change originates with and belongs to frontline staff, patients, "
        "communities or peers through shared purpose, collective action and local experiment.",
        "hybrid": "Both logics joined: an organisation sponsors, funds or sets direction while "
        "frontline people lead or own the action.",
        "none": "No framing of change: facts, figures, terms and conditions, methods, headings.",
    },
    positions={"managerial": -1.0, "hybrid": 0.0, "grassroots": 1.0},
    none_label="none",
)

_SCHEMES = {DEFAULT_SCHEME.name: DEFAULT_SCHEME}


def get_scheme(spec: str | dict[str, object] | LabelScheme) -> LabelScheme:
    """Resolve a scheme given by name ("framing"), as a mapping, or as an object."""
    if isinstance(spec, LabelScheme):
        return spec
    if isinstance(spec, dict):
        return LabelScheme.from_dict(spec)
    try:
        return _SCHEMES[spec]
    except KeyError:
        raise FramingError(
            f"unknown label scheme {spec!r}; known: {sorted(_SCHEMES)} (or give labels: [..] in the config)"
        ) from None
