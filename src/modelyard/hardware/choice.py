"""Which number format to use for what, given measured speeds: pure, no torch.

Per kind of work the faster format wins, by at least ``MARGIN``; a closer call goes to
float32, whose results are exact. Serving holds one copy of a model's weights for
prefill and for decoding alike, so it takes the format that makes a typical request
fastest end to end: ``PROMPT_TOKENS`` of prefill, then ``NEW_TOKENS`` decoded, half of
them alone and half in the batcher's full batches. Training loads its own copy and takes
the format measured faster for training.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FormatChoice", "choose", "MARGIN"]

EXACT, FAST = "float32", "bfloat16"
MARGIN = 1.10  # bf16 must be at least 10% faster to be preferred
PROMPT_TOKENS = 128
NEW_TOKENS = 128
BATCH_ROWS = 8  # backends.transformers.batcher.MAX_BATCH_ROWS
_KINDS = ("decode", "batched_decode", "prefill", "train")

Figures = Mapping[str, Mapping[str, float]]  # kind -> format -> seconds per token


@dataclass(frozen=True, slots=True)
class FormatChoice:
    serve: str
    train: str
    fastest: dict[str, str]  # kind of work -> the faster format
    request_seconds: dict[str, float]  # format -> modelled time of a typical request
    figures: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def serve_reason(self) -> str:
        other = EXACT if self.serve == FAST else FAST
        ratio = self.request_seconds[other] / self.request_seconds[self.serve]
        return (
            f"one copy of the weights serves prefill and decoding: a request of {PROMPT_TOKENS} prompt "
            f"+ {NEW_TOKENS} new tokens is modelled {ratio:.2f}x faster in {self.serve} than in {other}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "serve": self.serve,
            "train": self.train,
            "fastest": dict(self.fastest),
            "request_seconds": dict(self.request_seconds),
            "figures": {kind: dict(v) for kind, v in self.figures.items()},
            "serve_reason": self.serve_reason,
        }

    @classmethod
    def from_figures(cls, figures: Figures) -> FormatChoice:
        return choose(figures)


def _faster(seconds: Mapping[str, float]) -> str:
    return FAST if seconds[FAST] * MARGIN <= seconds[EXACT] else EXACT


def _request_seconds(figures: Figures, fmt: str) -> float:
    decode_alone = figures["decode"][fmt]
    decode_batched = figures["batched_decode"][fmt] / BATCH_ROWS
    return PROMPT_TOKENS * figures["prefill"][fmt] + NEW_TOKENS * (decode_alone + decode_batched) / 2


def choose(figures: Figures) -> FormatChoice:
    """``figures[kind][format]``: seconds per token (``batched_decode``: per step of 8 rows)."""
    missing = [k for k in _KINDS if not {EXACT, FAST} <= set(figures.get(k, {}))]
    if missing:
        raise ValueError(f"no figures for {', '.join(missing)}")
    request = {fmt: _request_seconds(figures, fmt) for fmt in (EXACT, FAST)}
    return FormatChoice(
        serve=_faster(request),
        train=_faster(figures["train"]),
        fastest={kind: _faster(figures[kind]) for kind in _KINDS},
        request_seconds=request,
        figures={kind: dict(figures[kind]) for kind in _KINDS},
    )
