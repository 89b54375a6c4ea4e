"""The decode loop: the rows of one batch through one forward pass per token.

Imports torch at module level; the host imports it only when a batch runs.

Prompts of different lengths are padded on the left, so every row's newest token sits
in the last column and one forward pass decodes them all. The attention mask hides the
padding, and position ids count only a row's real tokens, so a padded row is computed
as it would be alone. A row that ends leaves the batch at once: its line of the KV cache
is dropped, so the rows still running pay nothing for it.

"As it would be alone" holds up to rounding: a matrix product over 8 rows may sum in
another order than over one. In float32 that has not changed a greedy answer in our
tests (tiny model, gemma-3-270m). In bfloat16 it can: with 7 bits of mantissa a 1-ulp
difference sometimes flips a later token, and gemma-3-270m's greedy answers to 32-token
completions then part ways after a dozen tokens or so for about a third of requests.
That comes from the batched matrix products themselves (8 copies of one prompt, with no
padding at all, differ from it alone too), so no padding scheme avoids it.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch

from modelyard.backends.transformers.batcher import Row
from modelyard.backends.transformers.generation import RowDecoder, eos_token_ids

__all__ = ["run_batch"]


def run_batch(model: Any, tokenizer: Any, rows: Sequence[Row]) -> None:
    """Blocking, on the host's worker: generate every row of ``rows`` to its end.

    Results go to each row (``emit``, ``finish``, ``fail``). An error in one row's own
    text handling ends only that row; an error in the shared forward pass propagates,
    and the batcher fails the rows still running.
    """
    eos_ids = eos_token_ids(model, tokenizer)
    live = [RowDecoder(row, tokenizer, eos_ids) for row in rows if not _left(row)]
    if not live:
        return
    with torch.inference_mode():
        batch = _Batch(model, [d.row.request.input_ids for d in live], _pad_id(tokenizer, eos_ids))
        while True:
            tokens = _pick(live, batch.logits)
            keep = [i for i, token in enumerate(tokens) if _advance(live[i], token)]
            if not keep:
                return
            live = [live[i] for i in keep]
            batch.step([tokens[i] for i in keep], keep)


class _Batch:
    """Left-padded rows sharing one KV cache: rows may leave, none join."""

    def __init__(self, model: Any, prompts: Sequence[Sequence[int]], pad_id: int) -> None:
        self._model = model
        self._device = model.device
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, prompt in enumerate(prompts):
            ids[i, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
            mask[i, width - len(prompt) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp_min(0)
        # Like ``generate``: no mask at all when nothing is padded (a lone row, or equal lengths).
        self._mask: torch.Tensor | None = mask if bool((mask == 0).any()) else None
        self._next = positions[:, -1:] + 1  # each row's next position
        self._cache: Any = None
        # Logits of the last position only: the prompt's other positions would cost a
        # (prompt x vocabulary) product for nothing, and Gemma's vocabulary is 262k.
        self._extra = {"logits_to_keep": 1} if _accepts_logits_to_keep(model) else {}
        self.logits = self._forward(ids, positions)

    def step(self, tokens: Sequence[int], keep: Sequence[int]) -> None:
        """Feed each kept row its new token; ``keep``: the rows (by position) still running."""
        if len(keep) < self._next.shape[0]:  # rows ended: drop their lines everywhere
            index = torch.tensor(keep, dtype=torch.long)
            self._cache.batch_select_indices(index.to(self._device))
            self._next = self._next[index]
            if self._mask is not None:
                self._mask = self._mask[index]
        if self._mask is not None:
            self._mask = torch.cat([self._mask, self._mask.new_ones((len(keep), 1))], dim=-1)
        ids = torch.tensor(tokens, dtype=torch.long).unsqueeze(-1)
        self.logits = self._forward(ids, self._next)
        self._next = self._next + 1

    def _forward(self, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        mask = None if self._mask is None else self._mask.to(self._device)
        out = self._model(
            input_ids=ids.to(self._device),
            attention_mask=mask,
            position_ids=positions.to(self._device),
            past_key_values=self._cache,
            use_cache=True,
            **self._extra,
        )
        self._cache = out.past_key_values
        # float32 like ``generate``: sampling and argmax then see the same numbers in any dtype.
        return out.logits[:, -1].to(dtype=torch.float32)


def _pick(live: Sequence[RowDecoder], logits: torch.Tensor) -> list[int]:
    greedy = logits.argmax(dim=-1).tolist()  # one call for the whole batch
    return [decoder.pick(logits[i : i + 1], greedy[i]) for i, decoder in enumerate(live)]


def _advance(decoder: RowDecoder, token: int) -> bool:
    try:
        return decoder.advance(token)
    except Exception as exc:  # noqa: BLE001 - one row's failure must not end its batch-mates
        decoder.row.fail(exc)
        return False


def _left(row: Row) -> bool:
    """Whether the row's caller left before it started (and drop it if so)."""
    if row.cancelled.is_set():
        row.drop()
    return row.done


def _pad_id(tokenizer: Any, eos_ids: frozenset[int]) -> int:
    # Any real id will do: padded positions are masked out and never read.
    pad = tokenizer.pad_token_id
    if isinstance(pad, int):
        return pad
    return min(eos_ids) if eos_ids else 0


def _accepts_logits_to_keep(model: Any) -> bool:
    # A PEFT wrapper takes **kwargs and hands them to the model it wraps.
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters
