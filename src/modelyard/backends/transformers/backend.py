"""The transformers engine: a local causal LM behind the async ``TextBackend`` interface.

Loading is lazy (the first request pays for it) and generation runs on one worker
thread per model: on a small CPU box two concurrent generations only slow each other
down, and a single-thread executor queues requests without tying up the shared thread
pool the way threads blocked on a lock would. Requests that wait for that thread are
decoded together, in batches (see ``batcher``), which on a CPU costs far less than
decoding them one after another.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.backends.base import (
    BackendContext,
    Choice,
    Generation,
    GenerationParams,
    ModelSpec,
    StreamChunk,
    Usage,
)
from modelyard.backends.transformers.batcher import BatchStats, Row
from modelyard.backends.transformers.files import prompt_format
from modelyard.backends.transformers.loading import LoadedModel, check_source
from modelyard.backends.transformers.planning import check_params, completion_budget
from modelyard.backends.transformers.relay import ChoiceRelay
from modelyard.backends.transformers.shared import BaseHost, acquire_host, release_host
from modelyard.errors import BackendUnavailable, InvalidRequest, ModelyardError
from modelyard.prompting import DEFAULT_STOP, Message, render_prompt

if TYPE_CHECKING:
    from modelyard.backends.transformers.generation import Request

__all__ = ["TransformersBackend"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Prompt:
    """Text ready for the tokenizer, and how to read the answer that follows it."""

    text: str
    add_special_tokens: bool  # False when a chat template already wrote BOS
    stops: tuple[str, ...]
    param: str  # request field to blame if it is too long


@dataclass(frozen=True, slots=True)
class _Plan:
    request: Request
    prompt_tokens: int
    n: int

    def for_choice(self, index: int) -> Request:
        seed = self.request.seed
        return replace(self.request, seed=None if seed is None else seed + index)


class TransformersBackend:
    """Chat and completions from a local Hugging Face folder or a built-in model."""

    accepted_extra: frozenset[str] = frozenset()

    def __init__(self, spec: ModelSpec, context: BackendContext) -> None:
        check_source(spec)
        self.spec = spec
        self.context = context
        self._prompt_format = prompt_format(spec.source)
        # A fine-tuned model is a LoRA adapter served on its base's shared host.
        self._adapter = spec.id if "adapter" in spec.source else None
        self._host: BaseHost = acquire_host(spec, context)
        # The base's weights, shared with every adapter on it: one entry in the pool's budget.
        self.weights_key: str | None = f"host:{self._host.key}"
        self._ready = False
        self._closed = False

    # -- TextBackend ---------------------------------------------------------
    async def chat(self, messages: Sequence[Message], params: GenerationParams) -> Generation:
        return await _collect(self.stream_chat(messages, params), params.n)

    async def complete(self, prompt: str, params: GenerationParams) -> Generation:
        return await _collect(self.stream_complete(prompt, params), params.n)

    def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        def prompt(loaded: LoadedModel) -> _Prompt:
            return self._chat_prompt(loaded, messages, params.stop)

        return self._stream(prompt, params)

    def stream_complete(self, prompt: str, params: GenerationParams) -> AsyncIterator[StreamChunk | Usage]:
        return self._stream(lambda _: _Prompt(prompt, True, params.stop, "prompt"), params)

    async def close(self) -> None:
        """Refuse new work; generations already accepted finish, then the model is freed.

        The pool closes a backend to evict it, and a caller mid-answer should not pay for
        that. A caller who leaves stops its own generation (see ``_generate``).
        """
        if not self._closed:
            self._closed = True
            release_host(self._host)

    # -- helpers others may call ---------------------------------------------
    def batch_stats(self) -> BatchStats:
        """How this model's requests were batched (shared with adapters on the same base)."""
        return self._host.batch_stats()

    async def prompt_tokens(self, text: str) -> int:
        """Tokens ``text`` takes as a completion prompt (with the BOS the tokenizer adds)."""
        loaded = await self.load()
        return len(await asyncio.to_thread(_tokenize, loaded, text, True))

    async def load(self) -> LoadedModel:
        """Load now (the first request would otherwise); concurrent callers load once."""
        if self._ready:
            return self._host.loaded
        self._check_open()
        return await asyncio.to_thread(self._load_blocking)

    # -- internals -----------------------------------------------------------
    def _load_blocking(self) -> LoadedModel:
        self._host.load()
        if self._adapter is not None:
            # Attaching changes the model's layers: do it between generations, on the host thread.
            adapter_dir = Path(self.spec.source["adapter"])
            self._host.submit(partial(self._host.attach, self._adapter, adapter_dir)).result()
        self._check_open()
        self._ready = True
        return self._host.loaded

    def _chat_prompt(
        self, loaded: LoadedModel, messages: Sequence[Message], stops: tuple[str, ...]
    ) -> _Prompt:
        if self._prompt_format == "chat_template" and loaded.has_chat_template:
            return _Prompt(_apply_chat_template(loaded, messages), False, stops, "messages")
        # The default format's turns end where the next header starts; stop there.
        return _Prompt(render_prompt(messages), True, (*stops, *DEFAULT_STOP), "messages")

    async def _stream(
        self, build: Callable[[LoadedModel], _Prompt], params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        check_params(params)
        loaded = await self.load()
        # Announced before tokenizing, so that a batch forming meanwhile waits for it.
        with self._host.on_the_way():
            plan = await asyncio.to_thread(self._plan, loaded, build, params)
            queue, cancelled = self._start(plan)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise _translate(item, self.spec.id)
                yield item
                if isinstance(item, Usage):  # always the last item
                    return
        finally:
            # Also reached when the consumer stops early (client gone): stop its rows.
            cancelled.set()

    def _plan(
        self, loaded: LoadedModel, build: Callable[[LoadedModel], _Prompt], params: GenerationParams
    ) -> _Plan:
        from modelyard.backends.transformers.generation import Request

        prompt = build(loaded)
        ids = _tokenize(loaded, prompt.text, prompt.add_special_tokens)
        if not ids:
            raise InvalidRequest("the prompt is empty", param=prompt.param)
        budget = completion_budget(
            len(ids),
            params.max_tokens,
            context_length=loaded.context_length,
            default_max_tokens=self.context.default_max_tokens,
            prompt_param=prompt.param,
        )
        request = Request(tuple(ids), budget, prompt.stops, params.temperature, params.top_p, params.seed)
        return _Plan(request, len(ids), params.n)

    def _start(self, plan: _Plan) -> tuple[asyncio.Queue[Any], threading.Event]:
        """Queue the request's choices as rows on the host; what they produce comes in the queue."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()

        def put(item: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone: nobody is listening any more
                cancelled.set()

        relay = ChoiceRelay(plan.n, plan.prompt_tokens, put)
        self._submit([Row(plan.for_choice(i), i, self._adapter, relay, cancelled) for i in range(plan.n)])
        return queue, cancelled

    def _submit(self, rows: list[Row]) -> None:
        self._check_open()
        try:
            self._host.generate(rows)
        except RuntimeError as exc:  # closed between the check and the submit
            raise BackendUnavailable(f"model '{self.spec.id}' was unloaded; retry") from exc

    def _check_open(self) -> None:
        if self._closed:
            raise BackendUnavailable(f"model '{self.spec.id}' was unloaded; retry")


def _translate(exc: BaseException, model_id: str) -> BaseException:
    if isinstance(exc, ModelyardError):
        return exc
    log.error("generation failed on model %s", model_id, exc_info=exc)
    error = ModelyardError(f"generation failed on model '{model_id}'")
    error.__cause__ = exc
    return error


def _tokenize(loaded: LoadedModel, text: str, add_special_tokens: bool) -> list[int]:
    return list(loaded.tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"])


def _apply_chat_template(loaded: LoadedModel, messages: Sequence[Message]) -> str:
    from jinja2 import TemplateError

    conversation = [{"role": m.role, "content": m.content} for m in messages]
    try:
        return loaded.tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    except TemplateError as exc:  # e.g. "System role not supported": the template's own words
        raise InvalidRequest(
            f"the model's chat template refused the messages: {exc}", param="messages"
        ) from exc


async def _collect(stream: AsyncIterator[StreamChunk | Usage], n: int) -> Generation:
    """A non-streaming answer is the join of the stream, so the two always agree."""
    texts: list[list[str]] = [[] for _ in range(max(n, 1))]
    reasons = ["stop"] * len(texts)
    usage = Usage(0, 0)
    async with aclosing(stream):  # type: ignore[type-var]
        async for item in stream:
            if isinstance(item, Usage):
                usage = item
                continue
            texts[item.index].append(item.text)
            if item.finish_reason is not None:
                reasons[item.index] = item.finish_reason
    choices = [Choice(i, "".join(parts), reasons[i]) for i, parts in enumerate(texts)]
    return Generation(choices, usage)
