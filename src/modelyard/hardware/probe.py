"""Micro-benchmarks of the four kinds of work, in float32 and bfloat16 (imports torch).

Each probe runs matrices of the built-in model's shapes (Gemma 3 270M: hidden 640, MLP
2048, 18 layers, a 262k-token vocabulary) and is scaled to seconds per token of that
model, so that prefill and decode can be added up into the time of a whole request:

- ``decode``: one row through 42M parameters (MLP pairs and a slice of the vocabulary
  projection): a matrix-vector product, bound by memory reads, as single-stream decoding.
- ``batched_decode``: the batcher's 8 rows through the MLP pairs: one step for 8 streams.
- ``prefill``: 64 prompt positions through one MLP pair: compute-bound, like a prompt.
- ``train``: 64 positions forward and backward through an MLP pair with rank-16 LoRA
  adapters (the base frozen, gradients flowing to the input), like a LoRA training step.

The whole run takes about a second where both formats are fast. Where bfloat16 is
emulated (about 0.5 GFLOP/s), each bf16 probe is timed once, not repeated: a call that
slow has already answered the question.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["FORMATS", "KINDS", "measure"]

KINDS = ("decode", "batched_decode", "prefill", "train")
FORMATS = ("float32", "bfloat16")

_HIDDEN, _MLP, _LAYERS, _VOCAB = 640, 2048, 18, 262_144
_LAYER_PARAMS = 640 * 1024 + 2 * 640 * 256 + 1024 * 640 + 3 * 640 * 2048  # attention + MLP
_MODEL_LAYER_PARAMS = _LAYER_PARAMS * _LAYERS
_MODEL_PARAMS = _MODEL_LAYER_PARAMS + _HIDDEN * _VOCAB
_PAIRS = 8  # MLP pairs in the decode probes: 84 MB in float32, more than a CPU cache holds
_HEAD_SLICE = 32_768
_PROMPT_ROWS = 64
_BATCH_ROWS = 8  # backends.transformers.batcher.MAX_BATCH_ROWS
_MIN_TIME_S = 0.08
_MAX_REPEATS = 50
_SLOW_CALL_S = 0.25


def _time_pair(runs: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Seconds per call of each format: the fastest of interleaved calls (A B A B ...), so
    that a burst of load elsewhere slows both alike; a slow format is timed once."""
    best: dict[str, float] = {}
    spent = dict.fromkeys(runs, 0.0)
    for name, run in runs.items():  # warm-up: oneDNN builds its kernels on the first call
        best[name] = spent[name] = _once(run)
    for _ in range(_MAX_REPEATS):
        active = [n for n in runs if best[n] <= _SLOW_CALL_S and spent[n] < _MIN_TIME_S]
        if not active:
            break
        for name in active:
            elapsed = _once(runs[name])
            best[name], spent[name] = min(best[name], elapsed), spent[name] + elapsed
    return best


def _once(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


class _Weights:
    """Random weights in one format; values don't change speed, shapes and bytes do."""

    def __init__(self, dtype: Any) -> None:
        import torch

        def weight(out_features: int, in_features: int) -> Any:
            return (torch.rand(out_features, in_features) * 0.02).to(dtype)

        self.dtype = dtype
        self.pairs = [(weight(_MLP, _HIDDEN), weight(_HIDDEN, _MLP)) for _ in range(_PAIRS)]
        self.head = weight(_HEAD_SLICE, _HIDDEN)
        self.lora = [
            (weight(16, _HIDDEN).requires_grad_(), weight(_MLP, 16).requires_grad_()),
            (weight(16, _MLP).requires_grad_(), weight(_HIDDEN, 16).requires_grad_()),
        ]

    def rows(self, n: int) -> Any:
        import torch

        return (torch.rand(n, _HIDDEN) * 0.1).to(self.dtype)


def _through_pairs(weights: _Weights, x: Any, pairs: int) -> Any:
    from torch.nn.functional import linear

    for up, down in weights.pairs[:pairs]:
        x = linear(linear(x, up), down)
    return x


_Probe = tuple[Callable[[], None], float]  # one call, and its seconds -> per-token factor


def _decode(weights: _Weights) -> _Probe:
    import torch
    from torch.nn.functional import linear

    x = weights.rows(1)

    def run() -> None:
        with torch.inference_mode():
            _through_pairs(weights, x, _PAIRS)
            linear(x, weights.head)

    params = _PAIRS * 2 * _HIDDEN * _MLP + _HEAD_SLICE * _HIDDEN
    return run, _MODEL_PARAMS / params


def _batched_decode(weights: _Weights) -> _Probe:
    import torch

    x = weights.rows(_BATCH_ROWS)

    def run() -> None:
        with torch.inference_mode():
            _through_pairs(weights, x, _PAIRS)

    # Seconds of one step for all 8 rows, as the batcher runs them.
    return run, _MODEL_PARAMS / (_PAIRS * 2 * _HIDDEN * _MLP)


def _prefill(weights: _Weights) -> _Probe:
    import torch

    x = weights.rows(_PROMPT_ROWS)

    def run() -> None:
        with torch.inference_mode():
            _through_pairs(weights, x, 1)

    return run, _MODEL_LAYER_PARAMS / (2 * _HIDDEN * _MLP) / _PROMPT_ROWS


def _train(weights: _Weights) -> _Probe:
    from torch.nn.functional import linear

    (up, down), lora = weights.pairs[0], weights.lora

    def run() -> None:
        x = weights.rows(_PROMPT_ROWS).requires_grad_()
        h = linear(x, up) + linear(linear(x, lora[0][0]), lora[0][1])
        y = linear(h, down) + linear(linear(h, lora[1][0]), lora[1][1])
        y.float().square().mean().backward()

    return run, _MODEL_PARAMS / (2 * _HIDDEN * _MLP) / _PROMPT_ROWS


_PROBES: dict[str, Callable[[_Weights], _Probe]] = {
    "decode": _decode,
    "batched_decode": _batched_decode,
    "prefill": _prefill,
    "train": _train,
}


def measure() -> dict[str, dict[str, float]]:
    """Seconds per token of the reference model, per kind of work and number format
    (``batched_decode``: seconds per step of 8 rows)."""
    import torch

    weights = {name: _Weights(getattr(torch, name)) for name in FORMATS}
    figures: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        probes = {name: _PROBES[kind](weights[name]) for name in FORMATS}
        seconds = _time_pair({name: run for name, (run, _) in probes.items()})
        figures[kind] = {name: seconds[name] * probes[name][1] for name in FORMATS}
    return figures
