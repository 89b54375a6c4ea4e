"""A model host: one process, one engine, a small authenticated HTTP API on loopback.

Started as ``python -m modelyard.hosts.server`` by an executor, it reads its launch (see
``launch``) from stdin, binds an ephemeral port on 127.0.0.1, and writes one JSON line to
stdout, ``{"port": ..., "pid": ...}``, before loading the model, so that the parent can
watch the load through ``GET /health`` (loading, ready, failed with the reason). Every
request must carry ``Authorization: Bearer <the host's secret>``.

Routes: ``GET /health``; ``POST /v1/chat`` and ``POST /v1/complete`` (see ``wire``);
``POST /v1/drain``: refuse new requests from now on, so the supervisor can wait for the
ones in flight and then stop the process (SIGTERM; the server lets open responses finish
for ``shutdown_grace_s``).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import socket
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from modelyard.backends.base import TextBackend
from modelyard.errors import AuthenticationFailed, InvalidRequest, ModelyardError
from modelyard.hosts.engine import HostEngine
from modelyard.hosts.launch import AdapterRef, HostLaunch, decode_launch
from modelyard.hosts.wire import (
    STREAM_MEDIA_TYPE,
    decode_messages,
    decode_params,
    encode_event,
    encode_generation,
)

__all__ = ["build_app", "main"]

log = logging.getLogger(__name__)
_Call = Callable[[TextBackend], Awaitable[Any]]
_Stream = Callable[[TextBackend], AsyncIterator[Any]]


def build_app(engine: HostEngine, secret: str) -> ASGIApp:
    async def health(_: Request) -> Response:
        return JSONResponse(engine.state().to_json())

    async def drain(_: Request) -> Response:
        engine.drain()
        return JSONResponse(engine.state().to_json())

    async def chat(request: Request) -> Response:
        body = await _body(request)
        messages = decode_messages(body.get("messages"))
        params = decode_params(body.get("params"))
        return await _answer(
            engine,
            body,
            lambda b: b.chat(messages, params),
            lambda b: b.stream_chat(messages, params),
        )

    async def complete(request: Request) -> Response:
        body = await _body(request)
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            raise InvalidRequest("'prompt' must be a string", param="prompt")
        params = decode_params(body.get("params"))
        return await _answer(
            engine,
            body,
            lambda b: b.complete(prompt, params),
            lambda b: b.stream_complete(prompt, params),
        )

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/drain", drain, methods=["POST"]),
            Route("/v1/chat", chat, methods=["POST"]),
            Route("/v1/complete", complete, methods=["POST"]),
        ],
        exception_handlers={ModelyardError: _error_response, Exception: _unexpected},
    )
    return _RequireSecret(app, secret)


class _RequireSecret:
    """Pure ASGI: every HTTP request carries the host's secret, compared in constant time."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self._app = app
        self._expected = f"Bearer {secret}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._authorized(scope):
            error = AuthenticationFailed("this host needs its secret", code="invalid_host_secret")
            await _error_response(None, error)(scope, receive, send)
            return
        await self._app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        given = dict(scope["headers"]).get(b"authorization", b"")
        return hmac.compare_digest(given, self._expected)


async def _answer(engine: HostEngine, body: dict[str, Any], call: _Call, stream: _Stream) -> Response:
    backend = await engine.backend_for(AdapterRef.from_json(body.get("adapter")))
    if not body.get("stream"):
        generation = await engine.run(lambda: call(backend))
        return JSONResponse(encode_generation(generation))
    items = engine.stream(stream(backend))
    # The first piece is awaited before answering: a request that fails before any output
    # (a bad prompt, a full host) gets its own status, which a router may retry elsewhere.
    first = await anext(items)
    return StreamingResponse(_lines(first, items), media_type=STREAM_MEDIA_TYPE)


async def _lines(first: Any, items: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    try:
        yield _line(encode_event(first))
        async for item in items:
            yield _line(encode_event(item))
    except ModelyardError as exc:
        yield _line(encode_event(exc))
    except Exception:
        log.exception("a stream failed on the host")
        yield _line(encode_event(ModelyardError("generation failed on the model host")))
    finally:
        await items.aclose()  # type: ignore[attr-defined]


def _line(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode() + b"\n"


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise InvalidRequest("the request body is not JSON") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return body


def _error_response(_: Request | None, exc: Exception) -> Response:
    assert isinstance(exc, ModelyardError)
    return JSONResponse(exc.to_body(), status_code=exc.status_code, headers=exc.headers)


def _unexpected(_: Request, exc: Exception) -> Response:
    log.error("unexpected error on the host", exc_info=exc)
    return _error_response(None, ModelyardError("the model host failed"))


# -- the process -----------------------------------------------------------------------
def main() -> None:
    launch, secret = decode_launch(sys.stdin.buffer.readline())
    logging.basicConfig(
        level=launch.log_level.upper(),
        stream=sys.stderr,
        format=f"%(asctime)s host[{launch.label}] %(levelname)s %(name)s: %(message)s",
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections made before the server runs wait in the backlog
    asyncio.run(_serve(launch, secret, sock))


async def _serve(launch: HostLaunch, secret: str, sock: socket.socket) -> None:
    import uvicorn

    engine = HostEngine(launch)
    config = uvicorn.Config(
        build_app(engine, secret),
        log_level=launch.log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=max(1, round(launch.shutdown_grace_s)),
    )
    server = uvicorn.Server(config)
    loading = asyncio.create_task(engine.load())
    _exit_with_parent(server)
    _announce(sock)
    try:
        await server.serve(sockets=[sock])
    finally:
        loading.cancel()
        await engine.close()


def _announce(sock: socket.socket) -> None:
    """The one line the parent reads; after it, stdout is stderr, so nothing else lands there."""
    port = sock.getsockname()[1]
    os.write(1, json.dumps({"port": port, "pid": os.getpid()}).encode() + b"\n")
    os.dup2(2, 1)


def _exit_with_parent(server: Any) -> None:
    """Stop when stdin closes: the parent closed it to stop us, or the parent is gone."""

    def watch() -> None:
        sys.stdin.buffer.read()
        server.should_exit = True

    threading.Thread(target=watch, name="modelyard-host-lifeline", daemon=True).start()


if __name__ == "__main__":
    main()
