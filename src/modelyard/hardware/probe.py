"""Micro-benchmarks of the four kinds of work, in float32 and bfloat16 (imports torch).

The probes run a real two-layer transformer with the built-in model's shapes (Gemma 3
270M: hidden 640, MLP 2048, 4 query heads and 1 key/value head of 256), random weights,
through transformers, so that every kernel a real model uses is timed (attention as well
as the linear layers: where bf16 is emulated, ``attn @ v`` and the backward pass take
paths ~100x slower than float32, which matrix products alone would not show). Each figure
is scaled to seconds per token of the whole model (18 layers, a 262k-token vocabulary):

- ``decode``: one new token after a 64-token prompt (KV cache), as single-stream chat.
- ``batched_decode``: one step for the batcher's 8 rows; seconds per step.
- ``prefill``: a 64-token prompt, per token (logits of the last position only).
- ``train``: forward and backward of one 128-token example through a layer with the base
  frozen (gradients flow to the inputs, as in LoRA training), per token; the vocabulary
  projection is left out of it.

About two seconds where both formats are fast. A call slower than ``_SLOW_CALL_S`` is
timed once, not repeated: a call that slow has already answered the question.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["FORMATS", "KINDS", "VERSION", "measure"]

# Part of the cache key: figures from another version of these probes are measured again.
VERSION = 4

KINDS = ("decode", "batched_decode", "prefill", "train")
FORMATS = ("float32", "bfloat16")

_HIDDEN, _MLP, _HEADS, _KV_HEADS, _HEAD_DIM = 640, 2048, 4, 1, 256
_MODEL_LAYERS, _VOCAB = 18, 262_144
_PROBE_LAYERS = 2
_LAYER_SCALE = _MODEL_LAYERS / _PROBE_LAYERS
_HEAD_SLICE = 32_768  # the vocabulary projection is timed on 1/8 of it
_PROMPT = 64
_TRAIN_TOKENS = 128
_BATCH_ROWS = 8  # backends.transformers.batcher.MAX_BATCH_ROWS
_MIN_TIME_S = 0.05
_MAX_REPEATS = 10
_SLOW_CALL_S = 0.25

_Probe = tuple[Callable[[], Any], float]  # one call, and its seconds -> per-token factor


def _once(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


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


class _Model:
    """A two-layer decoder of the reference shapes in one number format, random weights."""

    def __init__(self, dtype: Any) -> None:
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM

        config = LlamaConfig(
            vocab_size=256,
            hidden_size=_HIDDEN,
            intermediate_size=_MLP,
            num_hidden_layers=_PROBE_LAYERS,
            num_attention_heads=_HEADS,
            num_key_value_heads=_KV_HEADS,
            head_dim=_HEAD_DIM,
            max_position_embeddings=4 * _PROMPT,
            tie_word_embeddings=True,
        )
        torch.manual_seed(0)
        self.model = LlamaForCausalLM(config).to(dtype).eval()
        self.head = (torch.rand(_HEAD_SLICE, _HIDDEN) * 0.02).to(dtype)
        self.dtype = dtype

    def ids(self, rows: int, length: int) -> Any:
        import torch

        return torch.randint(3, 256, (rows, length))

    def cache(self, rows: int) -> Any:
        import torch

        with torch.inference_mode():
            return self.model(input_ids=self.ids(rows, _PROMPT), use_cache=True, logits_to_keep=1)


def _step(model: _Model, rows: int) -> Callable[[], None]:
    """One decode step of ``rows`` rows after a prompt, and the vocabulary projection."""
    import torch
    from torch.nn.functional import linear

    prompt = model.cache(rows)
    token = model.ids(rows, 1)
    position = torch.full((rows, 1), _PROMPT)
    hidden = (torch.rand(rows, _HIDDEN) * 0.1).to(model.dtype)

    def run() -> None:
        # The cache grows by a token a call (64 -> at most 75 positions): a negligible change.
        with torch.inference_mode():
            model.model(
                input_ids=token, position_ids=position, past_key_values=prompt.past_key_values, use_cache=True
            )
            linear(hidden, model.head)

    return run


def _decode(model: _Model) -> _Probe:
    # The layers' share scales with the layer count, the projection's with the vocabulary:
    # both are inside one timed call, so the smaller factor (8) is applied to all of it.
    return _step(model, 1), _VOCAB / _HEAD_SLICE


def _batched_decode(model: _Model) -> _Probe:
    return _step(model, _BATCH_ROWS), _VOCAB / _HEAD_SLICE


def _prefill(model: _Model) -> _Probe:
    import torch

    ids = model.ids(1, _PROMPT)

    def run() -> None:
        with torch.inference_mode():
            model.model(input_ids=ids, use_cache=True, logits_to_keep=1)

    return run, _LAYER_SCALE / _PROMPT


def _train(model: _Model) -> _Probe:
    import torch

    layer = model.model.model.layers[0]
    rotary = model.model.model.rotary_emb
    positions = torch.arange(_TRAIN_TOKENS).unsqueeze(0)

    def run() -> None:
        x = (torch.rand(1, _TRAIN_TOKENS, _HIDDEN) * 0.1).to(model.dtype).requires_grad_()
        embeddings = rotary(x, positions)
        out = layer(x, position_embeddings=embeddings, position_ids=positions)
        out = out[0] if isinstance(out, tuple) else out
        out.float().square().mean().backward()

    for parameter in layer.parameters():
        parameter.requires_grad_(False)
    return run, _MODEL_LAYERS / _TRAIN_TOKENS


_PROBES: dict[str, Callable[[_Model], _Probe]] = {
    "decode": _decode,
    "batched_decode": _batched_decode,
    "prefill": _prefill,
    "train": _train,
}


def measure() -> dict[str, dict[str, float]]:
    """Seconds per token of the reference model, per kind of work and number format
    (``batched_decode``: seconds per step of 8 rows)."""
    import torch

    models = {name: _Model(getattr(torch, name)) for name in FORMATS}
    figures: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        probes = {name: _PROBES[kind](models[name]) for name in FORMATS}
        seconds = _time_pair({name: run for name, (run, _) in probes.items()})
        figures[kind] = {name: seconds[name] * probes[name][1] for name in FORMATS}
    return figures
