"""A remote provider speaking OpenAI's API (OpenAI, vLLM, llama.cpp server, Ollama...).

This sits on the hot path of every remote call, so it keeps one pooled lean HTTP/1.1
client per backend (`http1`), sends bodies straight from dicts, and relays a stream event
by event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing, asynccontextmanager
from typing import Any

from modelyard.backends.base import (
    BackendContext,
    Embeddings,
    Generation,
    GenerationParams,
    ModelSpec,
    StreamChunk,
    Usage,
)
from modelyard.backends.openai_compatible.boundary import Boundary
from modelyard.backends.openai_compatible.http1 import Origin, UpstreamClient, UpstreamResponse
from modelyard.backends.openai_compatible.sse import sse_data
from modelyard.backends.openai_compatible.wire import (
    ACCEPTED_EXTRA,
    chat_body,
    completion_body,
    embedding_body,
    estimate_tokens,
    load_json,
    parse_embeddings,
    parse_generation,
    parse_stream_event,
)
from modelyard.errors import BackendUnavailable, InvalidRequest, UpstreamError
from modelyard.prompting import Message
from modelyard.security.hop import HOP_HEADER
from modelyard.security.outbound import OutboundGuard

__all__ = ["OpenAICompatibleBackend"]

# Generous, since one backend may carry a tenant's whole traffic to its provider; above
# this, requests wait for a free connection (and fail with a 503 after the timeout).
_MAX_CONNECTIONS = 1000
_MAX_IDLE = 200
_COMPACT = (",", ":")


class OpenAICompatibleBackend:
    """Chat, completions and embeddings relayed to ``spec.source["base_url"]``."""

    accepted_extra: frozenset[str] = ACCEPTED_EXTRA
    weights_key: str | None = None  # nothing held here: the pool never evicts for a provider

    def __init__(self, spec: ModelSpec, context: BackendContext) -> None:
        self.spec = spec
        self._base_url, self._model, timeout_s = _check_source(spec.source)
        read_s = timeout_s or context.upstream_timeout_s
        self._read_s, self._connect_s = read_s, context.upstream_connect_timeout_s
        self._boundary = Boundary(read_s, context.upstream_connect_timeout_s, spec.secret)
        self._guard = context.outbound or OutboundGuard()
        # Only modelyard's own credential for the provider is ever sent, nothing of the caller's;
        # and the hop marker, so that a call that comes back to this gateway is refused.
        self._headers = {"Authorization": f"Bearer {spec.secret}"} if spec.secret else {}
        if context.hop_marker:
            self._headers[HOP_HEADER] = context.hop_marker
        self._client: UpstreamClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._active = 0
        self._closed = False

    # -- TextBackend ---------------------------------------------------------
    async def chat(self, messages: Sequence[Message], params: GenerationParams) -> Generation:
        body = chat_body(self._model, messages, params, stream=False)
        return await self._generate("chat/completions", body, _chars(messages), chat=True)

    async def complete(self, prompt: str, params: GenerationParams) -> Generation:
        body = completion_body(self._model, prompt, params, stream=False)
        return await self._generate("completions", body, len(prompt), chat=False)

    def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        body = chat_body(self._model, messages, params, stream=True)
        return self._stream("chat/completions", body, _chars(messages), chat=True)

    def stream_complete(self, prompt: str, params: GenerationParams) -> AsyncIterator[StreamChunk | Usage]:
        body = completion_body(self._model, prompt, params, stream=True)
        return self._stream("completions", body, len(prompt), chat=False)

    # -- EmbeddingBackend ----------------------------------------------------
    async def embed(self, texts: Sequence[str]) -> Embeddings:
        async with self._exchange() as client:
            response = await client.post("embeddings", _encode(embedding_body(self._model, texts)))
            self._check(response)
        return parse_embeddings(load_json(response.content), texts)

    async def close(self) -> None:
        """Refuse new requests; the client closes once the requests in flight are done."""
        self._closed = True
        if self._active == 0:
            await self._close_client()

    # -- internals -----------------------------------------------------------
    async def _generate(
        self, path: str, body: dict[str, Any], prompt_chars: int, *, chat: bool
    ) -> Generation:
        async with self._exchange() as client:
            response = await client.post(path, _encode(body))
            self._check(response)
        choices, usage = parse_generation(load_json(response.content), chat=chat)
        if usage is None:  # the provider did not say; meter an estimate rather than nothing
            usage = _estimate(prompt_chars, sum(len(choice.text) for choice in choices))
        return Generation(choices, usage)

    async def _stream(
        self, path: str, body: dict[str, Any], prompt_chars: int, *, chat: bool
    ) -> AsyncIterator[StreamChunk | Usage]:
        usage: Usage | None = None
        completion_chars = 0
        async with self._exchange() as client, client.stream(path, _encode(body)) as response:
            if response.status_code >= 300:
                await response.aread()
                self._check(response)
            answered = done = False
            async with aclosing(sse_data(response.aiter_lines())) as events:
                async for data in events:
                    # After [DONE], read on to the end of the body instead of breaking off:
                    # a response left unread costs its pooled connection, and a new TCP
                    # connection per streamed request costs more than the gateway may add.
                    if done or data == "[DONE]":
                        answered = done = True
                        continue
                    chunks, reported = parse_stream_event(data, chat=chat)
                    answered, usage = True, reported or usage
                    for chunk in chunks:
                        completion_chars += len(chunk.text)
                        yield chunk
            if not answered:
                raise UpstreamError("the provider ended the stream without answering")
        yield usage or _estimate(prompt_chars, completion_chars)

    @asynccontextmanager
    async def _exchange(self) -> AsyncIterator[UpstreamClient]:
        """One request to the provider: a live client, and errors in modelyard's terms."""
        client = self._current_client()
        self._active += 1
        try:
            with self._boundary.translate():
                yield client
        finally:
            self._active -= 1
            if self._closed and self._active == 0:
                await self._close_client()

    def _check(self, response: UpstreamResponse) -> None:
        if response.status_code >= 300:
            raise self._boundary.error_for(response)

    def _current_client(self) -> UpstreamClient:
        if self._closed:
            raise BackendUnavailable(f"model '{self.spec.id}' was unloaded; retry")
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # Pooled connections belong to the event loop that opened them. A server runs
            # one loop, so this builds one client; code that drives the backend from a new
            # loop each time (asyncio.run in tests) gets a fresh client instead of dead sockets.
            self._client, self._loop = self._new_client(), loop
        return self._client

    def _new_client(self) -> UpstreamClient:
        # Only modelyard's own credential for the provider is sent, nothing from the
        # caller's request and nothing (proxies, .netrc) from the environment.
        return UpstreamClient(
            self._base_url,
            headers=self._headers,
            connect_timeout_s=self._connect_s,
            read_timeout_s=self._read_s,
            max_connections=_MAX_CONNECTIONS,
            max_idle=_MAX_IDLE,
            address_for=_checked_by(self._guard),
        )

    async def _close_client(self) -> None:
        client, loop, self._client, self._loop = self._client, self._loop, None, None
        if client is None:
            return
        if loop is asyncio.get_running_loop():
            await client.aclose()
        # else: its loop is gone and took the sockets with it; nothing left to close cleanly.


def _check_source(source: dict[str, Any]) -> tuple[str, str, float | None]:
    """Validate ``spec.source`` once, when the backend is built. Messages never echo the
    URL, which may carry credentials."""
    base_url, model, timeout_s = source.get("base_url"), source.get("upstream_model"), source.get("timeout_s")
    if not isinstance(base_url, str):
        raise InvalidRequest("a remote model needs a base_url", param="source")
    try:
        Origin.parse(base_url)
    except ValueError as exc:  # also a bad port or a malformed IPv6 literal
        raise InvalidRequest("the remote model's base_url must be an http(s) URL", param="source") from exc
    if not isinstance(model, str) or not model:
        raise InvalidRequest("a remote model needs an upstream_model", param="source")
    if timeout_s is not None and (not isinstance(timeout_s, int | float) or timeout_s <= 0):
        raise InvalidRequest("timeout_s must be a positive number of seconds", param="source")
    return base_url.rstrip("/"), model, timeout_s


def _checked_by(guard: OutboundGuard) -> Callable[[str, str, int], str | None]:
    def address_for(scheme: str, host: str, port: int) -> str | None:
        try:
            return guard.connect_address(host, scheme=scheme, port=port)
        except InvalidRequest as exc:
            # At call time the caller cannot fix the address: it is the provider's (or DNS's).
            raise UpstreamError(
                "the provider's address is refused by the outbound policy", code=exc.code
            ) from None

    return address_for


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=_COMPACT, ensure_ascii=False).encode()


def _chars(messages: Sequence[Message]) -> int:
    return sum(len(message.content) for message in messages)


def _estimate(prompt_chars: int, completion_chars: int) -> Usage:
    return Usage(estimate_tokens(prompt_chars), estimate_tokens(completion_chars))
