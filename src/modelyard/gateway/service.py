"""The HTTP side of the call path: request bodies in, OpenAI-shaped answers and SSE out.

Resolving, quotas, backends and metering are the call path's (``gateway.calls``), the
same one evaluations and the judge use.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from modelyard.backends.base import Choice, EmbeddingBackend, Generation, StreamChunk, TextBackend, Usage
from modelyard.errors import ModelyardError
from modelyard.gateway import render
from modelyard.gateway.calls import CallPath, StreamTally, message_chars
from modelyard.gateway.metering import Meter
from modelyard.gateway.params import (
    completion_prompts,
    embedding_inputs,
    generation_params,
    to_messages,
)
from modelyard.gateway.protocol import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from modelyard.prompting import Message
from modelyard.quotas import Demand, prompt_bound
from modelyard.store import ModelRecord
from modelyard.tenancy import Principal

__all__ = ["GatewayService"]

log = logging.getLogger(__name__)

Frames = AsyncIterator[str]
_Request = ChatCompletionRequest | CompletionRequest
_TASK_OF_ENDPOINT = {"chat": "chat", "completions": "chat", "embeddings": "embedding"}


class GatewayService:
    def __init__(self, calls: CallPath) -> None:
        self._calls = calls

    @property
    def calls(self) -> CallPath:
        return self._calls

    def _meter(self, principal: Principal, model: str, endpoint: str) -> Meter:
        return self._calls.meter(principal, model, endpoint)

    def _record(self, model: str, principal: Principal, endpoint: str, meter: Meter) -> ModelRecord:
        return self._calls.resolve(meter, model, _TASK_OF_ENDPOINT[endpoint], f"/v1/{endpoint}")

    async def _admit(
        self, meter: Meter, record: ModelRecord, demand: Demand, request: _Request | None = None
    ) -> None:
        cap = await self._calls.admit(meter, record, demand)
        if cap is not None and request is not None:
            request.max_tokens = cap

    async def _backend(self, record: ModelRecord) -> Any:
        return await self._calls.backend(record)

    # -- non-streaming -------------------------------------------------------
    async def chat(self, request: ChatCompletionRequest, principal: Principal) -> dict[str, Any]:
        meter = self._meter(principal, request.model, "chat")
        try:
            record = self._record(request.model, principal, "chat", meter)
            messages = to_messages(request)
            await self._admit(meter, record, _chat_demand(request, messages), request)
            backend: TextBackend = await self._backend(record)
            params = generation_params(request, _accepted(backend))
            result = await backend.chat(messages, params)
        except BaseException as exc:
            meter.failure(exc)
            raise
        meter.success(result.usage)
        return render.chat_completion(request.model, result)

    async def complete(self, request: CompletionRequest, principal: Principal) -> dict[str, Any]:
        meter = self._meter(principal, request.model, "completions")
        try:
            record = self._record(request.model, principal, "completions", meter)
            prompts = completion_prompts(request)
            await self._admit(meter, record, _completion_demand(request, prompts), request)
            backend: TextBackend = await self._backend(record)
            params = generation_params(request, _accepted(backend))
            result = await _complete_all(backend, prompts, params, request.echo)
        except BaseException as exc:
            meter.failure(exc)
            raise
        meter.success(result.usage)
        return render.text_completion(request.model, result)

    async def embed(self, request: EmbeddingRequest, principal: Principal) -> dict[str, Any]:
        meter = self._meter(principal, request.model, "embeddings")
        try:
            record = self._record(request.model, principal, "embeddings", meter)
            inputs = embedding_inputs(request)
            demand = Demand(prompt_bound(inputs), None, completes=False)
            await self._admit(meter, record, demand)
            backend: EmbeddingBackend = await self._backend(record)
            result = await backend.embed(inputs)
        except BaseException as exc:
            meter.failure(exc)
            raise
        meter.success(result.usage)
        return render.embedding_list(request.model, result, request.encoding_format)

    # -- streaming -----------------------------------------------------------
    async def stream_chat(self, request: ChatCompletionRequest, principal: Principal) -> Frames:
        meter = self._meter(principal, request.model, "chat")
        ids = render.StreamIds("chatcmpl")
        tally = StreamTally()

        async def open_stream() -> AsyncIterator[StreamChunk | Usage]:
            record = self._record(request.model, principal, "chat", meter)
            messages = to_messages(request)
            tally.prompt_chars = message_chars(messages)
            await self._admit(meter, record, _chat_demand(request, messages), request)
            backend: TextBackend = await self._backend(record)
            return backend.stream_chat(messages, generation_params(request, _accepted(backend)))

        def frame(item: StreamChunk | None, usage: Usage | None) -> dict[str, Any]:
            if item is None and usage is None:
                return render.chat_chunk(ids, request.model, None, role=True)
            return render.chat_chunk(ids, request.model, item, usage=usage)

        return await _primed(open_stream, frame, meter, tally)

    async def stream_complete(self, request: CompletionRequest, principal: Principal) -> Frames:
        meter = self._meter(principal, request.model, "completions")
        ids = render.StreamIds("cmpl")
        tally = StreamTally()

        async def open_stream() -> AsyncIterator[StreamChunk | Usage]:
            record = self._record(request.model, principal, "completions", meter)
            prompts = completion_prompts(request)
            tally.prompt_chars = len(prompts[0])
            await self._admit(meter, record, _completion_demand(request, prompts), request)
            backend: TextBackend = await self._backend(record)
            return backend.stream_complete(prompts[0], generation_params(request, _accepted(backend)))

        def frame(item: StreamChunk | None, usage: Usage | None) -> dict[str, Any] | None:
            if item is None and usage is None:
                return None
            return render.completion_chunk(ids, request.model, item, usage=usage)

        return await _primed(open_stream, frame, meter, tally)


# -- quotas --------------------------------------------------------------------
def _requested_max_tokens(request: ChatCompletionRequest | CompletionRequest) -> int | None:
    return getattr(request, "max_completion_tokens", None) or request.max_tokens


def _chat_demand(request: ChatCompletionRequest, messages: list[Message]) -> Demand:
    bound = prompt_bound([m.content for m in messages])
    return Demand(bound, _requested_max_tokens(request), choices=request.n)


def _completion_demand(request: CompletionRequest, prompts: list[str]) -> Demand:
    return Demand(prompt_bound(prompts), _requested_max_tokens(request), choices=request.n * len(prompts))


def _accepted(backend: object) -> frozenset[str]:
    return frozenset(getattr(backend, "accepted_extra", frozenset()))


async def _complete_all(backend: TextBackend, prompts: list[str], params: Any, echo: bool) -> Any:
    choices: list[Choice] = []
    prompt_tokens = completion_tokens = 0
    for prompt in prompts:
        result = await backend.complete(prompt, params)
        for choice in result.choices:
            text = prompt + choice.text if echo else choice.text
            choices.append(Choice(len(choices), text, choice.finish_reason))
        prompt_tokens += result.usage.prompt_tokens
        completion_tokens += result.usage.completion_tokens
    return Generation(choices, Usage(prompt_tokens, completion_tokens))


async def _primed(
    open_stream: Callable[[], Any],
    frame: Callable[[StreamChunk | None, Usage | None], dict[str, Any] | None],
    meter: Meter,
    tally: StreamTally,
) -> Frames:
    """Start the stream before answering, so early errors still get a proper HTTP status."""
    try:
        stream = await open_stream()
        first = await anext(stream)
    except StopAsyncIteration:
        first, stream = None, _empty()
    except BaseException as exc:
        meter.failure(exc)
        raise
    return _frames(stream, first, frame, meter, tally)


async def _empty() -> AsyncIterator[StreamChunk | Usage]:
    return
    yield  # pragma: no cover - makes this an async generator


async def _frames(
    stream: AsyncIterator[StreamChunk | Usage],
    first: StreamChunk | Usage | None,
    frame: Callable[[StreamChunk | None, Usage | None], dict[str, Any] | None],
    meter: Meter,
    tally: StreamTally,
) -> Frames:
    try:
        opening = frame(None, None)
        if opening is not None:
            yield render.sse(opening)
        item = first
        while item is not None:
            # Counted before it is sent: a client that leaves after this piece had it.
            tally.add(item)
            if not isinstance(item, Usage):
                yield render.sse(frame(item, None))  # type: ignore[arg-type]
            item = await anext(stream, None)
        usage = tally.usage()
        yield render.sse(frame(None, usage))  # type: ignore[arg-type]
        yield render.DONE_FRAME
        meter.success(usage)
    except ModelyardError as exc:
        # Headers are sent already: the error travels as an SSE event, as OpenAI does.
        meter.failure(exc, tally.reported)
        yield render.error_frame(exc.to_body())
    except Exception as exc:
        log.exception("stream failed")
        meter.failure(exc, tally.reported)
        yield render.error_frame(ModelyardError("the stream failed").to_body())
    except BaseException:
        # The client went away (or the server is stopping): bill what was produced until
        # then, and settle the quota reservation with the same figure.
        meter.aborted(tally.usage())
        raise
    finally:
        await _aclose(stream)


async def _aclose(stream: object) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()
