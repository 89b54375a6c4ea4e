"""A host seen as a backend: :class:`HostClient` speaks ``TextBackend`` over HTTP to a host.

The router (and later the gateway) holds one client per host replica and adapter and calls
it like any in-process backend. The target is read on every request, so a client built on
a supervised host (whose address and secret change when it restarts) follows it.

This is a loopback call to our own child, authenticated by its secret; it does not pass
the outbound guard, which exists for calls to addresses users name.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import httpx

from modelyard.backends.base import Generation, GenerationParams, StreamChunk, Usage
from modelyard.errors import BackendUnavailable, ModelyardError, UpstreamTimeout
from modelyard.hosts.launch import AdapterRef
from modelyard.hosts.wire import (
    decode_error,
    decode_event,
    decode_generation,
    encode_messages,
    encode_params,
)
from modelyard.prompting import Message

__all__ = ["HostClient", "HostTarget"]


class HostTarget(Protocol):
    """Where a host is now (a ``HostHandle``, or a supervised host that follows restarts)."""

    @property
    def address(self) -> str: ...

    @property
    def secret(self) -> str: ...


class HostClient:
    """``TextBackend`` over HTTP to a host; ``adapter``: the LoRA adapter requests run on.

    Errors come back as the host raised them (``modelyard.errors``); a host that cannot be
    reached is ``BackendUnavailable`` with code ``host_unreachable``, and a timeout is
    ``UpstreamTimeout``: both are safe to retry on another replica when they happen before
    the first piece of a stream.
    """

    def __init__(
        self,
        target: HostTarget,
        *,
        adapter: AdapterRef | None = None,
        timeout: httpx.Timeout | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.target = target
        self.adapter = adapter
        self._timeout = timeout or httpx.Timeout(300.0, connect=5.0)
        self._http = http
        self._owns_http = http is None

    def with_adapter(self, adapter: AdapterRef | None) -> HostClient:
        """A client for the same host, on ``adapter``, sharing this one's connections."""
        return HostClient(self.target, adapter=adapter, timeout=self._timeout, http=self._client())

    # -- TextBackend -----------------------------------------------------------
    async def chat(self, messages: Sequence[Message], params: GenerationParams) -> Generation:
        return await self._call("/v1/chat", {"messages": encode_messages(messages)}, params)

    async def complete(self, prompt: str, params: GenerationParams) -> Generation:
        return await self._call("/v1/complete", {"prompt": prompt}, params)

    def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        return self._stream("/v1/chat", {"messages": encode_messages(messages)}, params)

    def stream_complete(self, prompt: str, params: GenerationParams) -> AsyncIterator[StreamChunk | Usage]:
        return self._stream("/v1/complete", {"prompt": prompt}, params)

    async def close(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
        self._http = None

    # -- host control ----------------------------------------------------------
    async def health(self) -> dict[str, Any]:
        """The host's state: ``{"status", "reason", "in_flight", "adapters"}``."""
        return await self._json("GET", "/health")

    async def drain(self) -> dict[str, Any]:
        """Tell the host to refuse new requests; returns its state."""
        return await self._json("POST", "/v1/drain")

    # -- internals -------------------------------------------------------------
    async def _call(self, path: str, body: dict[str, Any], params: GenerationParams) -> Generation:
        data = await self._json("POST", path, self._body(body, params, stream=False))
        return decode_generation(data)

    async def _stream(
        self, path: str, body: dict[str, Any], params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        request = self._request("POST", path, self._body(body, params, stream=True))
        with _translated():
            response = await self._client().send(request, stream=True)
            try:
                if response.status_code != 200:
                    await response.aread()
                    raise _error(response)
                async for line in response.aiter_lines():
                    if line:
                        item = decode_event(json.loads(line))
                        yield item
                        if isinstance(item, Usage):
                            return
            finally:
                await response.aclose()
        raise BackendUnavailable("the model host ended a stream without its usage", code="host_stream_cut")

    async def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        with _translated():
            response = await self._client().send(self._request(method, path, body))
        if response.status_code != 200:
            raise _error(response)
        return response.json()

    def _body(self, body: dict[str, Any], params: GenerationParams, *, stream: bool) -> dict[str, Any]:
        adapter = None if self.adapter is None else self.adapter.to_json()
        return {**body, "params": encode_params(params), "adapter": adapter, "stream": stream}

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> httpx.Request:
        target = self.target  # read once: address and secret of the same incarnation
        headers = {"Authorization": f"Bearer {target.secret}"}
        return self._client().build_request(method, target.address + path, json=body, headers=headers)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # No proxies from the environment: this is a call to our own child on loopback.
            self._http = httpx.AsyncClient(timeout=self._timeout, trust_env=False)
        return self._http


@contextmanager
def _translated() -> Iterator[None]:
    """httpx's transport errors, said in modelyard's words."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout("the model host did not answer in time") from exc
    except httpx.TransportError as exc:
        raise BackendUnavailable("the model host cannot be reached", code="host_unreachable") from exc


def _error(response: httpx.Response) -> ModelyardError:
    try:
        body = response.json()
    except ValueError:
        body = None
    retry_after = response.headers.get("retry-after")
    headers = {"Retry-After": retry_after} if retry_after else None
    return decode_error(response.status_code, body, headers)
