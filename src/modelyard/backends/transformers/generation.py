"""One row of a decode batch, token by token: pick, decode, stop, stream.

Imports torch and transformers at module level: the backend imports this module only
once a model is being loaded, never when the backend is registered.

Every generation, streamed or not and batched or alone, runs through a
:class:`RowDecoder`, which hands text pieces to its row as they are decided.
Non-streaming answers are the join of those pieces, so at temperature 0 both paths
return the same text by construction. The forward passes themselves are run by
``decode_loop.run_batch``, for all the rows of a batch at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from modelyard.backends.stops import StopMatcher

if TYPE_CHECKING:
    from modelyard.backends.transformers.batcher import Row

__all__ = ["GumbelSampler", "IncrementalDecoder", "Request", "RowDecoder", "eos_token_ids"]


@dataclass(frozen=True, slots=True)
class Request:
    """One choice to generate, already validated and tokenized."""

    input_ids: tuple[int, ...]
    max_new_tokens: int
    stops: tuple[str, ...]
    temperature: float
    top_p: float
    seed: int | None


class IncrementalDecoder:
    """Token ids in, text out, never splitting a multi-byte character.

    Decodes a short window of recent tokens twice (with and without the newest) and
    emits the difference, so the cost per token stays constant and tokenizers that
    merge across token boundaries (byte-level BPE, SentencePiece) decode correctly.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self._tokenizer = tokenizer
        self._ids: list[int] = []
        self._prefix = 0  # window start
        self._read = 0  # tokens whose text has been emitted

    def push(self, token_id: int) -> str:
        self._ids.append(token_id)
        before = self._decode(self._ids[self._prefix : self._read])
        after = self._decode(self._ids[self._prefix :])
        # U+FFFD at the end means the last token ended mid-character: wait for the rest.
        if len(after) <= len(before) or after.endswith("\ufffd"):
            return ""
        self._prefix, self._read = self._read, len(self._ids)
        return after[len(before) :]

    def flush(self) -> str:
        before = self._decode(self._ids[self._prefix : self._read])
        after = self._decode(self._ids[self._prefix :])
        self._prefix = self._read = len(self._ids)
        return after[len(before) :]

    def _decode(self, ids: list[int]) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=True) if ids else ""


class GumbelSampler:
    """Temperature and top-p sampling drawn from this request's own random generator.

    ``argmax(scores / T + Gumbel noise)`` is an exact sample of ``softmax(scores / T)``
    (the Gumbel-max trick), so picking stays an argmax and the randomness comes from a
    ``torch.Generator`` owned by the request's row. It draws the same numbers whatever
    else shares the row's batch, so a seeded request samples alike batched or alone.
    Seeding that, rather than calling ``torch.manual_seed``, keeps a seeded request
    reproducible even while other models in this process sample on other threads from
    the global generator.
    """

    def __init__(self, temperature: float, top_p: float, seed: int | None) -> None:
        self._temperature = temperature
        self._top_p = top_p
        self._generator = torch.Generator()
        if seed is None:
            self._generator.seed()  # fresh entropy
        else:
            self._generator.manual_seed(seed)

    def __call__(self, scores: torch.Tensor) -> torch.Tensor:
        """``scores``: one row's float32 logits, shape (1, vocab)."""
        scores = scores / self._temperature
        if self._top_p < 1.0:
            scores = self._keep_top_p(scores)
        # -log(Exp(1)) is Gumbel(0, 1). float64 and the clamp keep a draw of exactly 0
        # (whose log would be -inf and win outright) out of reach; filtered tokens stay -inf.
        noise = torch.empty(scores.shape, dtype=torch.float64).exponential_(generator=self._generator)
        gumbel = -noise.clamp_min_(torch.finfo(torch.float64).tiny).log_()
        return scores + gumbel.to(device=scores.device, dtype=scores.dtype)

    def _keep_top_p(self, scores: torch.Tensor) -> torch.Tensor:
        ordered, order = torch.sort(scores, descending=True, dim=-1)
        probs = ordered.softmax(dim=-1)
        # Drop a token when the ones before it already reach top_p; the first always stays.
        drop_sorted = (probs.cumsum(dim=-1) - probs) >= self._top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        return scores.masked_fill(drop, float("-inf"))


class RowDecoder:
    """One row's side of the decode loop: picks its token, turns it into text, ends it.

    It sees each new token on the very step it appears, so a matched stop string ends
    the row at once and its token count is exact.
    """

    def __init__(self, row: Row, tokenizer: PreTrainedTokenizerBase, eos_ids: frozenset[int]) -> None:
        request = row.request
        self.row = row
        self._decoder = IncrementalDecoder(tokenizer)
        self._matcher = StopMatcher(request.stops)
        sampled = request.temperature > 0
        self._sampler = GumbelSampler(request.temperature, request.top_p, request.seed) if sampled else None
        self._eos_ids = eos_ids
        self._count = 0

    def pick(self, scores: torch.Tensor, greedy: int) -> int:
        """The next token: ``greedy`` (the batch's argmax of this row) unless sampling."""
        if self._sampler is None:
            return greedy
        return int(self._sampler(scores).argmax(dim=-1))

    def advance(self, token: int) -> bool:
        """Take the row's new token; False once the row has ended (or its caller left)."""
        self._count += 1
        self.row.emit(self._matcher.feed(self._decoder.push(token)))
        if self._matcher.stopped or token in self._eos_ids:
            return self._finish("stop")
        if self._count >= self.row.request.max_new_tokens:
            return self._finish("length")
        if self.row.cancelled.is_set():
            self.row.drop()
            return False
        return True

    def _finish(self, reason: str) -> bool:
        """Emit what was held back, then end the row."""
        self.row.emit(self._matcher.feed(self._decoder.flush()))
        self.row.emit(self._matcher.flush())
        # Held-back text that completes a stop string ends the answer as a stop, not a length.
        self.row.finish("stop" if self._matcher.stopped else reason, self._count)
        return False


def eos_token_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> frozenset[int]:
    """Every token that ends an answer: the model's generation config's and the tokenizer's."""
    configured = model.generation_config.eos_token_id
    ids: Sequence[object] = configured if isinstance(configured, list) else [configured]
    return frozenset(i for i in (*ids, tokenizer.eos_token_id) if isinstance(i, int))
