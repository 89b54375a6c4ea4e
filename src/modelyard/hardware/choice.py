"""Which number format to use for what, given measured speeds: pure, no torch.

Per kind of work the faster format wins, by at least ``MARGIN``; a closer call goes to
float32, whose results are exact. A copy of a model's weights serves prefill and decoding
alike, so each copy takes the format that makes its typical request fastest end to end:

- ``serve`` (the gateway's copy: chat, completions): ``PROMPT_TOKENS`` of prefill, then
  ``NEW_TOKENS`` decoded, half of them alone and half in the batcher's full batches;
- ``batch`` (the job worker's copy: evaluations, which send their items together):
  ``BATCH_PROMPT_TOKENS`` of prefill and ``BATCH_NEW_TOKENS`` decoded in full batches.

Training loads its own copy and takes the format measured faster for training.
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
BATCH_PROMPT_TOKENS = 64  # an evaluation item: a short prompt and a short answer
BATCH_NEW_TOKENS = 32
_KINDS = ("decode", "batched_decode", "prefill", "train")

Figures = Mapping[str, Mapping[str, float]]  # kind -> format -> seconds per token


@dataclass(frozen=True, slots=True)
class FormatChoice:
    serve: str
    train: str
    fastest: dict[str, str]  # kind of work -> the faster format
    request_seconds: dict[str, float]  # format -> modelled time of a typical request
    batch: str = EXACT
    batch_seconds: dict[str, float] = field(default_factory=dict)  # ... of an evaluation item
    figures: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def serve_reason(self) -> str:
        what = f"one copy of the weights serves prefill and decoding: a request of {PROMPT_TOKENS} prompt"
        return _reason(f"{what} + {NEW_TOKENS} new tokens is", self.serve, self.request_seconds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "serve": self.serve,
            "train": self.train,
            "fastest": dict(self.fastest),
            "request_seconds": dict(self.request_seconds),
            "figures": {kind: dict(v) for kind, v in self.figures.items()},
            "serve_reason": self.serve_reason,
            "batch": self.batch,
            "batch_seconds": dict(self.batch_seconds),
            "batch_reason": self.batch_reason,
        }

    @property
    def batch_reason(self) -> str:
        what = f"the job worker's copy serves evaluation items sent together: {BATCH_PROMPT_TOKENS} prompt"
        return _reason(
            f"{what} + {BATCH_NEW_TOKENS} new tokens in full batches are", self.batch, self.batch_seconds
        )


def _reason(what: str, chosen: str, seconds: Mapping[str, float]) -> str:
    other = EXACT if chosen == FAST else FAST
    return f"{what} modelled {seconds[other] / seconds[chosen]:.2f}x faster in {chosen} than in {other}"


def _faster(seconds: Mapping[str, float]) -> str:
    return FAST if seconds[FAST] * MARGIN <= seconds[EXACT] else EXACT


def _request_seconds(figures: Figures, fmt: str) -> float:
    decode_alone = figures["decode"][fmt]
    decode_batched = figures["batched_decode"][fmt] / BATCH_ROWS
    return PROMPT_TOKENS * figures["prefill"][fmt] + NEW_TOKENS * (decode_alone + decode_batched) / 2


def _batch_seconds(figures: Figures, fmt: str) -> float:
    per_row_step = figures["batched_decode"][fmt] / BATCH_ROWS
    return BATCH_PROMPT_TOKENS * figures["prefill"][fmt] + BATCH_NEW_TOKENS * per_row_step


def choose(figures: Figures) -> FormatChoice:
    """``figures[kind][format]``: seconds per token (``batched_decode``: per step of 8 rows)."""
    missing = [k for k in _KINDS if not {EXACT, FAST} <= set(figures.get(k, {}))]
    if missing:
        raise ValueError(f"no figures for {', '.join(missing)}")
    request = {fmt: _request_seconds(figures, fmt) for fmt in (EXACT, FAST)}
    batch = {fmt: _batch_seconds(figures, fmt) for fmt in (EXACT, FAST)}
    return FormatChoice(
        serve=_faster(request),
        batch=_faster(batch),
        batch_seconds=batch,
        train=_faster(figures["train"]),
        fastest={kind: _faster(figures[kind]) for kind in _KINDS},
        request_seconds=request,
        figures={kind: dict(figures[kind]) for kind in _KINDS},
    )
