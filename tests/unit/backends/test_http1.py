"""The lean provider-hop client against raw servers that answer hand-written HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from modelyard.backends.openai_compatible import http1
from tests.helpers.deadlines import scaled

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length"))
    return head + await reader.readexactly(length)


async def _serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/v1"


def _client(base_url: str, **kwargs: float) -> http1.UpstreamClient:
    options = {"connect_timeout_s": scaled(2.0), "read_timeout_s": scaled(2.0), **kwargs}
    return http1.UpstreamClient(base_url, headers={"Authorization": "Bearer sk-x"}, **options)


def test_content_length_and_chunked_bodies_on_one_kept_alive_connection() -> None:
    seen: list[bytes] = []
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        seen.append(await _read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        seen.append(await _read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        await writer.drain()
        await reader.read()  # until the client goes

    async def main() -> tuple[bytes, bytes]:
        server, url = await _serve(handler)
        client = _client(url)
        first = (await client.post("chat/completions", b'{"a":1}')).content
        second = (await client.post("embeddings", b"{}")).content
        await client.aclose()
        server.close()
        return first, second

    assert asyncio.run(main()) == (b"hello", b"abcde")
    assert connections == 1
    assert seen[0].startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert b"Authorization: Bearer sk-x\r\n" in seen[0] and seen[0].endswith(b'\r\n\r\n{"a":1}')
    assert seen[1].startswith(b"POST /v1/embeddings HTTP/1.1\r\n")


def test_a_body_without_a_length_ends_with_the_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    async def main() -> bytes:
        server, url = await _serve(handler)
        body = (await _client(url).post("x", b"{}")).content
        server.close()
        return body

    assert asyncio.run(main()) == b"all of it"


def test_lines_are_split_across_chunk_boundaries() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in (b"data: o", b"ne\r\n\r\ndata: two\n", b"\n"):
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def main() -> list[str]:
        server, url = await _serve(handler)
        async with _client(url).stream("x", b"{}") as response:
            lines = [line async for line in response.aiter_lines()]
        server.close()
        return lines

    assert asyncio.run(main()) == ["data: one", "", "data: two", ""]


def test_a_kept_alive_connection_closed_by_the_provider_is_replaced_once() -> None:
    requests = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        await _read_request(reader)
        requests += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        # Read the next request, then hang up without answering: a keep-alive close race.
        try:
            await _read_request(reader)
        except asyncio.IncompleteReadError:
            return
        writer.close()

    async def main() -> tuple[bytes, bytes]:
        server, url = await _serve(handler)
        client = _client(url)
        first = (await client.post("x", b"{}")).content
        second = (await client.post("x", b"{}")).content
        server.close()
        return first, second

    assert asyncio.run(main()) == (b"ok", b"ok")
    assert requests == 2


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", http1.ProtocolFailure),
        (b"NOT HTTP AT ALL\r\n\r\n", http1.ProtocolFailure),
        (b"", http1.ProtocolFailure),
    ],
    ids=["cut-body", "garbage", "silent-close"],
)
def test_broken_answers_are_transport_failures(response: bytes, error: type[Exception]) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(response)
        await writer.drain()
        writer.close()

    async def main() -> None:
        server, url = await _serve(handler)
        try:
            await _client(url).post("x", b"{}")
        finally:
            server.close()

    with pytest.raises(error):
        asyncio.run(main())


def test_silence_is_a_read_timeout_and_a_closed_port_a_connect_failure() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def silent() -> None:
        server, url = await _serve(handler)
        try:
            await _client(url, read_timeout_s=0.2).post("x", b"{}")
        finally:
            server.close()

    async def closed_port() -> None:
        server, url = await _serve(handler)
        server.close()
        await server.wait_closed()
        await _client(url).post("x", b"{}")

    with pytest.raises(http1.ReadTimedOut):
        asyncio.run(silent())
    with pytest.raises(http1.ConnectFailed):
        asyncio.run(closed_port())


def test_a_full_pool_waits_then_times_out() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def main() -> None:
        server, url = await _serve(handler)
        client = _client(url, read_timeout_s=scaled(5.0), pool_timeout_s=0.2)
        client._slots = asyncio.Semaphore(1)  # one connection, held by a silent request
        hold = asyncio.create_task(client.post("x", b"{}"))
        await asyncio.sleep(0.05)
        try:
            await client.post("x", b"{}")
        finally:
            hold.cancel()
            server.close()

    with pytest.raises(http1.PoolTimedOut):
        asyncio.run(main())


@pytest.mark.parametrize(
    ("base_url", "host_header", "prefix"),
    [
        ("http://example.test/v1/", "example.test", "/v1"),
        ("https://example.test:8443", "example.test:8443", ""),
        ("http://[::1]:8000/api", "[::1]:8000", "/api"),
    ],
)
def test_origins(base_url: str, host_header: str, prefix: str) -> None:
    origin = http1.Origin.parse(base_url)
    assert (origin.host_header, origin.prefix) == (host_header, prefix)


@pytest.mark.parametrize("base_url", ["ftp://example.test", "http://", "http://example.test:99999"])
def test_bad_origins_are_refused(base_url: str) -> None:
    with pytest.raises(ValueError):
        http1.Origin.parse(base_url)
