"""One generation on a worker thread, streamed token by token.

Imports torch and transformers at module level: the backend imports this module only
once a model is being loaded, never when the backend is registered.

Every generation — streamed or not — runs through :func:`generate_stream`, which hands
text pieces to a callback as they are decided. Non-streaming answers are the join of
those pieces, so at temperature 0 both paths return the same text by construction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from transformers import (
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
)

from modelyard.backends.stops import StopMatcher

__all__ = ["Outcome", "Request", "generate_stream"]


@dataclass(frozen=True, slots=True)
class Request:
    """One choice to generate, already validated and tokenized."""

    input_ids: tuple[int, ...]
    max_new_tokens: int
    stops: tuple[str, ...]
    temperature: float
    top_p: float
    seed: int | None


@dataclass(frozen=True, slots=True)
class Outcome:
    finish_reason: str  # "stop" | "length"
    completion_tokens: int


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


class StreamWatcher(StoppingCriteria):
    """Sees every new token as ``generate`` produces it: decodes, applies stops, emits.

    A stopping criterion rather than a ``streamer``: ``generate`` consults criteria on
    the very step a token appears, so a matched stop string ends generation at once and
    the token count is exact (a streamer would be told one step later).
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        request: Request,
        emit: Callable[[str], None],
        cancelled: threading.Event,
    ) -> None:
        self._decoder = IncrementalDecoder(tokenizer)
        self._matcher = StopMatcher(request.stops)
        self._emit = emit
        self._cancelled = cancelled
        self.count = 0
        self.last_token: int | None = None

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: object
    ) -> torch.BoolTensor:
        self.last_token = int(input_ids[0, -1])
        self.count += 1
        self._send(self._matcher.feed(self._decoder.push(self.last_token)))
        done = self._matcher.stopped or self._cancelled.is_set()
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

    def finish(self) -> bool:
        """Emit what was held back; return whether a stop string ended the text."""
        self._send(self._matcher.feed(self._decoder.flush()))
        self._send(self._matcher.flush())
        return self._matcher.stopped

    def _send(self, text: str) -> None:
        if text:
            self._emit(text)


class GumbelSampler(LogitsProcessor):
    """Temperature and top-p sampling drawn from this request's own random generator.

    ``argmax(scores / T + Gumbel noise)`` is an exact sample of ``softmax(scores / T)``
    (the Gumbel-max trick), so ``generate`` runs in greedy mode and the randomness comes
    from a ``torch.Generator`` owned by the request. Seeding that, rather than calling
    ``torch.manual_seed``, keeps a seeded request reproducible even while other models
    in this process sample on other threads from the global generator.
    """

    def __init__(self, temperature: float, top_p: float, seed: int | None) -> None:
        self._temperature = temperature
        self._top_p = top_p
        self._generator = torch.Generator()
        if seed is None:
            self._generator.seed()  # fresh entropy
        else:
            self._generator.manual_seed(seed)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores = scores / self._temperature
        if self._top_p < 1.0:
            scores = self._keep_top_p(scores)
        # -log(Exp(1)) is Gumbel(0, 1). float64 and the clamp keep a draw of exactly 0
        # (whose log would be -inf and win outright) out of reach; filtered tokens stay -inf.
        noise = torch.empty(scores.shape, dtype=torch.float64).exponential_(generator=self._generator)
        gumbel = -noise.clamp_min_(torch.finfo(torch.float64).tiny).log_()
        return scores + gumbel.to(device=scores.device, dtype=scores.dtype)

    def _keep_top_p(self, scores: torch.FloatTensor) -> torch.FloatTensor:
        ordered, order = torch.sort(scores, descending=True, dim=-1)
        probs = ordered.softmax(dim=-1)
        # Drop a token when the ones before it already reach top_p; the first always stays.
        drop_sorted = (probs.cumsum(dim=-1) - probs) >= self._top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        return scores.masked_fill(drop, float("-inf"))


def generate_stream(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    request: Request,
    emit: Callable[[str], None],
    cancelled: threading.Event,
) -> Outcome:
    """Generate one choice, calling ``emit`` with each safe-to-show piece of text."""
    watcher = StreamWatcher(tokenizer, request, emit, cancelled)
    eos_ids = _eos_ids(model, tokenizer)
    processors = LogitsProcessorList()
    if request.temperature > 0:
        processors.append(GumbelSampler(request.temperature, request.top_p, request.seed))
    input_ids = torch.tensor([request.input_ids], dtype=torch.long, device=model.device)
    with torch.inference_mode():
        model.generate(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            generation_config=_generation_config(request, eos_ids, tokenizer),
            logits_processor=processors,
            stopping_criteria=StoppingCriteriaList([watcher]),
        )
    stopped_by_string = watcher.finish()
    return Outcome(_finish_reason(watcher, stopped_by_string, eos_ids, request), watcher.count)


def _generation_config(
    request: Request, eos_ids: Sequence[int], tokenizer: PreTrainedTokenizerBase
) -> GenerationConfig:
    # Greedy selection always: sampling, when asked for, happens in GumbelSampler.
    pad = tokenizer.pad_token_id
    if pad is None and eos_ids:
        pad = eos_ids[0]
    return GenerationConfig(
        max_new_tokens=request.max_new_tokens,
        do_sample=False,
        num_beams=1,
        eos_token_id=list(eos_ids) or None,
        pad_token_id=pad,
    )


def _eos_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> list[int]:
    configured = model.generation_config.eos_token_id
    ids = list(configured) if isinstance(configured, list) else [configured]
    ids.append(tokenizer.eos_token_id)
    return sorted({i for i in ids if isinstance(i, int)})


def _finish_reason(
    watcher: StreamWatcher, stopped_by_string: bool, eos_ids: Sequence[int], request: Request
) -> str:
    if stopped_by_string or watcher.last_token in eos_ids:
        return "stop"
    return "length" if watcher.count >= request.max_new_tokens else "stop"
