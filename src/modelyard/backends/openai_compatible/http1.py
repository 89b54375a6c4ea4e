"""A lean pooled HTTP/1.1 client for the provider hop, parsed by httptools (llhttp, in C).

Every remote call pays this hop on top of its own, and the gateway's latency budget is
about 2 ms. httpx spent ~0.7 ms of CPU per request here (client layers, auth and redirect
machinery, pure-Python h11); this client does what the hop needs and nothing else:
keep-alive connections on asyncio protocols, Content-Length and chunked bodies, per-read
timeouts, a pool with a wait limit, TLS with SNI. It never follows redirects and reads no
proxy, certificate or credential settings from the environment.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httptools

__all__ = [
    "ConnectFailed",
    "ConnectTimedOut",
    "PoolTimedOut",
    "ProtocolFailure",
    "ReadTimedOut",
    "TransportFailure",
    "UpstreamClient",
    "UpstreamResponse",
]

_HIGH_WATER = 1 << 20  # pause reading when a slow consumer leaves this much unread


class TransportFailure(Exception):
    """The exchange with the provider failed below HTTP semantics."""


class ConnectFailed(TransportFailure):
    pass


class ConnectTimedOut(TransportFailure):
    pass


class ReadTimedOut(TransportFailure):
    pass


class PoolTimedOut(TransportFailure):
    pass


class ProtocolFailure(TransportFailure):
    """Reset, closed mid-body, or bytes that are not HTTP."""


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int
    prefix: str  # the base URL's path, e.g. "/v1"

    @classmethod
    def parse(cls, base_url: str) -> Origin:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


class _Connection(asyncio.Protocol):
    """One keep-alive connection; holds the response being read, if any."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.response: UpstreamResponse | None = None
        self._parser = httptools.HttpResponseParser(self)

    # -- asyncio.Protocol ------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.response is None:  # bytes nobody asked for: the connection can't be trusted
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.response.fail(ProtocolFailure("the provider switched protocols"))
            self.close()
        except httptools.HttpParserError:
            self.response.fail(ProtocolFailure("the provider sent a malformed HTTP response"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        response = self.response
        if response is None or response.complete:
            return
        if response.status_code and not ({"content-length", "transfer-encoding"} & response.headers.keys()):
            response.finish()  # a body without a length ends where the connection does
        else:
            response.fail(ProtocolFailure("the provider closed the connection mid-response"))

    # -- httptools callbacks -----------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.response is not None
        self.response.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        assert self.response is not None
        self.response.status_code = self._parser.get_status_code()
        self.response.keep_alive = self._parser.should_keep_alive()
        self.response.head_done()

    def on_body(self, body: bytes) -> None:
        assert self.response is not None
        self.response.feed(body)

    def on_message_complete(self) -> None:
        assert self.response is not None
        self.response.finish()

    # -- used by the client ------------------------------------------------------
    def send(self, data: bytes, response: UpstreamResponse) -> None:
        self.response = response
        response.connection = self
        assert self.transport is not None
        self.transport.write(data)

    def reusable(self) -> bool:
        response = self.response
        return not self.closed and (response is None or (response.complete and response.keep_alive))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class UpstreamResponse:
    """Status and headers as soon as they arrive; the body read whole or line by line."""

    def __init__(self, read_timeout_s: float) -> None:
        self.status_code = 0
        self.headers: dict[str, str] = {}
        self.keep_alive = False
        self.complete = False
        self.received_any = False
        self.connection: _Connection | None = None
        self._timeout = read_timeout_s
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._error: Exception | None = None
        self._head = False
        self._wake: asyncio.Future[None] | None = None
        self._content: bytes | None = None

    # -- fed by the connection ---------------------------------------------------
    def head_done(self) -> None:
        self._head = True
        self._notify()

    def feed(self, data: bytes) -> None:
        self.received_any = True
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > _HIGH_WATER and self.connection and self.connection.transport:
            self.connection.transport.pause_reading()
        self._notify()

    def finish(self) -> None:
        self.complete = True
        self._notify()

    def fail(self, error: Exception) -> None:
        self._error = error
        self._notify()

    def _notify(self) -> None:
        wake, self._wake = self._wake, None
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def _wait(self) -> None:
        if self._error is not None:
            raise self._error
        self._wake = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(self._timeout):
                await self._wake
        except TimeoutError as exc:
            raise ReadTimedOut("the provider did not answer in time") from exc
        if self._error is not None:
            raise self._error

    # -- read by the caller ------------------------------------------------------
    async def wait_head(self) -> None:
        while not self._head:
            await self._wait()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        while True:
            if self._chunks:
                data = self._chunks.popleft()
                self._buffered -= len(data)
                if self._buffered <= _HIGH_WATER // 2 and self.connection and self.connection.transport:
                    self.connection.transport.resume_reading()
                yield data
            elif self.complete:
                return
            else:
                await self._wait()

    async def aread(self) -> bytes:
        if self._content is None:
            self._content = b"".join([chunk async for chunk in self.aiter_bytes()])
        return self._content

    async def aiter_lines(self) -> AsyncIterator[str]:
        pending = ""
        async for chunk in self.aiter_bytes():
            lines = (pending + chunk.decode("utf-8", errors="replace")).split("\n")
            pending = lines.pop()
            for line in lines:
                yield line.removesuffix("\r")
        if pending:
            yield pending

    @property
    def content(self) -> bytes:
        if self._content is None:
            raise RuntimeError("the body has not been read")
        return self._content

    def json(self) -> Any:
        import json

        return json.loads(self.content)


class UpstreamClient:
    """Pooled keep-alive connections to one origin."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        connect_timeout_s: float,
        read_timeout_s: float,
        pool_timeout_s: float | None = None,
        max_connections: int = 1000,
        max_idle: int = 200,
        keepalive_expiry_s: float = 30.0,
        address_for: Callable[[str, str, int], str | None] | None = None,
    ) -> None:
        self._origin = Origin.parse(base_url)
        # Where a new connection really goes: a checked address for (scheme, host, port) (the
        # outbound guard), or None to connect by name. It runs as each socket opens, so a name that
        # starts resolving somewhere internal (DNS rebinding) is caught too.
        self._address_for = address_for
        self._head = self._fixed_headers(headers)
        self._connect_timeout = connect_timeout_s
        self._read_timeout = read_timeout_s
        self._pool_timeout = pool_timeout_s or read_timeout_s
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []
        self._max_idle = max_idle
        self._expiry = keepalive_expiry_s
        self._ssl = ssl.create_default_context() if self._origin.scheme == "https" else None
        self._closed = False

    def _fixed_headers(self, headers: Mapping[str, str]) -> bytes:
        lines = [f"Host: {self._origin.host_header}", "Accept: application/json"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n").encode("latin-1")

    async def post(self, path: str, body: bytes) -> UpstreamResponse:
        """POST and read the whole answer."""
        async with self.stream(path, body) as response:
            await response.aread()
            return response

    @asynccontextmanager
    async def stream(self, path: str, body: bytes) -> AsyncIterator[UpstreamResponse]:
        """POST; the response's head is in, its body is read by the caller inside the block."""
        if self._closed:
            raise TransportFailure("the client is closed")
        await self._acquire_slot()
        connection: _Connection | None = None
        try:
            connection, response = await self._send(path, body)
            yield response
        finally:
            if connection is not None:
                self._release(connection)
            self._slots.release()

    async def _send(self, path: str, body: bytes) -> tuple[_Connection, UpstreamResponse]:
        request = self._request_bytes(path, body)
        for attempt in (1, 2):
            connection, reused = await self._connection()
            response = UpstreamResponse(self._read_timeout)
            connection.send(request, response)
            try:
                await response.wait_head()
                return connection, response
            except ProtocolFailure:
                connection.close()
                # A kept-alive connection the provider closed just as we wrote to it has
                # answered nothing: sending once more on a fresh one is what browsers do.
                if not (reused and attempt == 1 and not response.received_any and not response.status_code):
                    raise
            except BaseException:
                connection.close()
                raise
        raise AssertionError("unreachable")

    def _request_bytes(self, path: str, body: bytes) -> bytes:
        target = f"{self._origin.prefix}/{path.lstrip('/')}"
        head = f"POST {target} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        return head.encode("latin-1") + self._head + b"\r\n" + body

    async def _acquire_slot(self) -> None:
        try:
            async with asyncio.timeout(self._pool_timeout):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise PoolTimedOut("no free connection to the provider") from exc

    async def _connection(self) -> tuple[_Connection, bool]:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < self._expiry:
                connection.response = None
                return connection, True
            connection.close()
        return await self._open(), False

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        origin = self._origin
        try:
            async with asyncio.timeout(self._connect_timeout):
                address = origin.host
                if self._address_for is not None:  # resolving blocks: off the event loop
                    checked = await asyncio.to_thread(
                        self._address_for, origin.scheme, origin.host, origin.port
                    )
                    address = checked or origin.host
                _, protocol = await loop.create_connection(
                    _Connection,
                    address,
                    origin.port,
                    ssl=self._ssl,
                    server_hostname=origin.host if self._ssl else None,
                )
        except TimeoutError as exc:
            raise ConnectTimedOut("connecting to the provider timed out") from exc
        except OSError as exc:  # refused, unreachable, DNS, TLS handshake
            raise ConnectFailed("could not connect to the provider") from exc
        return protocol

    def _release(self, connection: _Connection) -> None:
        if self._closed or not connection.reusable() or len(self._idle) >= self._max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
