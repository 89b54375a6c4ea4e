"""A real OpenAI-protocol server on loopback, for tests and benchmarks.

``MockUpstream`` runs a small Starlette app under uvicorn in a background thread, on a
free port of 127.0.0.1, and answers deterministically: chat replies ``"You said: <last
user message>"``, completions ``"You said: <prompt>"``, streamed word by word; embeddings
are 8 hash-seeded numbers per input. Behaviours (failures, delays, broken streams) are
plain attributes a test sets between calls; ``reset()`` restores them::

    with MockUpstream() as upstream:
        upstream.fail_status = 429
        upstream.fail_headers = {"Retry-After": "7"}
        ...  # point a client at upstream.base_url
        assert upstream.requests[-1].headers["authorization"] == "Bearer sk-provider"

It is kept lean (no validation layer, no access log) so that a latency benchmark can use
it as the baseline a gateway is compared against.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import re
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.helpers.deadlines import deadline, scaled

__all__ = ["EMBEDDING_DIM", "MockUpstream", "RecordedRequest", "embedding_for", "reply_pieces"]

EMBEDDING_DIM = 8
_COMPACT = (",", ":")
_CREATED = 1_700_000_000  # a fixed timestamp keeps answers byte-for-byte deterministic
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 429: "rate_limit_error"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the upstream saw it; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any  # the parsed body, or None when there was none or it was not JSON
    client_port: int | None = None  # the caller's TCP port: equal ports mean a reused connection


class _AbortStream(Exception):
    """Raised inside a streaming body so that uvicorn drops the connection mid-response."""


def _not_an_intended_abort(record: logging.LogRecord) -> bool:
    """Keeps uvicorn from printing a traceback for every stream dropped on purpose."""
    return not (record.exc_info and isinstance(record.exc_info[1], _AbortStream))


def reply_pieces(text: str) -> list[str]:
    """``"You said: hi there"`` -> ``["You", " said:", " hi", " there"]`` (joins back exactly)."""
    return re.findall(r"\s*\S+", text) or [text]


def embedding_for(text: str) -> list[float]:
    """A unit vector of ``EMBEDDING_DIM`` numbers seeded by the text's SHA-256."""
    digest = hashlib.sha256(text.encode()).digest()
    raw = [int.from_bytes(digest[4 * i : 4 * i + 4], "big") / 2**31 - 1.0 for i in range(EMBEDDING_DIM)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def _words(text: str) -> int:
    return len(text.split())


def _text(message: dict[str, Any]) -> str:
    """A chat message's text, whether its content is a string or a list of parts."""
    content = message.get("content") or ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text") or "" for part in content if isinstance(part, dict))


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    error = {
        "message": message,
        "type": _ERROR_TYPES.get(status, "server_error"),
        "param": None,
        "code": None,
    }
    return JSONResponse({"error": error}, status, headers=headers)


@dataclass
class _Answer:
    """What one generation request gets: the pieces of each choice and the usage."""

    pieces: list[str]
    n: int
    finish_reason: str
    prompt_tokens: int

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def usage(self) -> dict[str, int]:
        completion = len(self.pieces) * self.n
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


class MockUpstream:
    """An OpenAI-compatible provider on ``http://127.0.0.1:<free port>/v1``.

    Settable behaviours (all reset by ``reset()``):

    - ``fail_status``: answer every API call with this status and an OpenAI error body
      carrying ``fail_message``, plus ``fail_headers`` (e.g. ``{"Retry-After": "7"}``).
    - ``delay_s``: wait this long before answering (ends early if the client hangs up).
    - ``chunk_delay_s``: wait this long before each streamed piece.
    - ``stream_chunks``: the pieces to answer with (streamed, or joined when not).
    - ``stream_error_after``: after this many pieces, send an in-band error event and end.
    - ``stream_abort_after``: after this many pieces, drop the connection mid-body.
    - ``include_usage``: False to never report usage (as some providers do not).
    - ``raw_body``: answer 200 with exactly this body (e.g. malformed JSON).
    - ``redirect_to``: answer POSTs with 307 to this URL (``GET /v1/redirect`` always
      redirects, to ``redirect_to`` or to this upstream's ``/v1/models``).
    """

    fail_status: int | None
    fail_message: str
    fail_headers: dict[str, str]
    delay_s: float
    chunk_delay_s: float
    pieces_sent: int  # streamed pieces handed to the server so far, for ordering checks
    stream_chunks: list[str] | None
    stream_error_after: int | None
    stream_abort_after: int | None
    include_usage: bool
    raw_body: str | None
    redirect_to: str | None

    def __init__(self, *, model_ids: tuple[str, ...] = ("mock-model",), record: bool = True) -> None:
        self.model_ids = model_ids
        self.record = record
        self.requests: list[RecordedRequest] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self.reset()

    def reset(self) -> None:
        """Back to a healthy upstream, with no recorded requests."""
        self.requests.clear()
        self.fail_status = None
        self.fail_message = "mock upstream failure"
        self.fail_headers = {}
        self.delay_s = 0.0
        self.chunk_delay_s = 0.0
        self.pieces_sent = 0
        self.stream_chunks = None
        self.stream_error_after = None
        self.stream_abort_after = None
        self.include_usage = True
        self.raw_body = None
        self.redirect_to = None

    # -- addresses -------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("MockUpstream is not started")
        return self._port

    @property
    def url(self) -> str:
        """The server's root, ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI API root, ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    @property
    def last_request(self) -> RecordedRequest:
        return self.requests[-1]

    # -- life cycle ------------------------------------------------------------
    def start(self, timeout_s: float = 5.0) -> MockUpstream:
        """Bind a free loopback port and serve from a daemon thread; returns once serving."""
        if self._server is not None:
            raise RuntimeError("MockUpstream is already started")
        # IPPROTO_TCP, not the default 0: asyncio only sets TCP_NODELAY on accepted sockets
        # whose protocol says TCP, and without it Nagle's algorithm meets delayed ACKs and
        # every small response takes ~40 ms, which would wreck any latency baseline.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))  # the kernel picks a free port: no race with other tests
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(), loop="asyncio", log_level="warning", log_config=None, access_log=False,
            lifespan="off", timeout_graceful_shutdown=1,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        logging.getLogger("uvicorn.error").addFilter(_not_an_intended_abort)  # idempotent
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"mock-upstream-{self._port}",
            daemon=True,
        )
        self._thread.start()
        self._wait_started(sock, timeout_s)
        return self

    def stop(self) -> None:
        """Shut down (well under a second); ``base_url`` then names a port that refuses."""
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=scaled(5))

    def __enter__(self) -> MockUpstream:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_started(self, sock: socket.socket, timeout_s: float) -> None:
        ends = deadline(timeout_s)
        assert self._server is not None and self._thread is not None
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > ends:
                self.stop()
                sock.close()
                raise RuntimeError("MockUpstream did not start")
            time.sleep(0.002)

    # -- the app ---------------------------------------------------------------
    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/completions", self._completions, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/redirect", self._redirect, methods=["GET", "POST"]),
            ]
        )

    async def _begin(self, request: Request) -> tuple[Any, Response | None]:
        """Record the request, apply the behaviours; a response here ends the request."""
        body = await request.body()
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        if self.record:
            port = request.client.port if request.client else None
            self.requests.append(
                RecordedRequest(request.method, request.url.path, dict(request.headers), payload, port)
            )
        await _pause(request, self.delay_s)
        return payload, self._override(request, payload)

    def _override(self, request: Request, payload: Any) -> Response | None:
        if self.redirect_to is not None and request.method == "POST":
            return RedirectResponse(self.redirect_to, status_code=307)
        if self.fail_status is not None:
            return _error(self.fail_status, self.fail_message, self.fail_headers)
        if self.raw_body is not None:
            return Response(self.raw_body, media_type="application/json")
        if request.method == "POST" and not isinstance(payload, dict):
            return _error(400, "the request body must be a JSON object")
        return None

    async def _chat(self, request: Request) -> Response:
        payload, early = await self._begin(request)
        if early is not None:
            return early
        messages = payload.get("messages") or []
        last_user = next((_text(m) for m in reversed(messages) if m.get("role") == "user"), "")
        prompt_tokens = sum(_words(_text(m)) for m in messages)
        answer = self._answer(payload, f"You said: {last_user}", prompt_tokens)
        if payload.get("stream"):
            return self._sse(payload, answer, chat=True)
        choices = [
            {"index": i, "message": {"role": "assistant", "content": answer.text},
             "finish_reason": answer.finish_reason, "logprobs": None}
            for i in range(answer.n)
        ]  # fmt: skip
        return JSONResponse(self._envelope(payload, "chat.completion", choices, answer.usage()))

    async def _completions(self, request: Request) -> Response:
        payload, early = await self._begin(request)
        if early is not None:
            return early
        prompt = payload.get("prompt") or ""
        prompt = prompt if isinstance(prompt, str) else " ".join(map(str, prompt))
        answer = self._answer(payload, f"You said: {prompt}", _words(prompt))
        if payload.get("stream"):
            return self._sse(payload, answer, chat=False)
        choices = [
            {"index": i, "text": answer.text, "finish_reason": answer.finish_reason, "logprobs": None}
            for i in range(answer.n)
        ]
        return JSONResponse(self._envelope(payload, "text_completion", choices, answer.usage()))

    async def _embeddings(self, request: Request) -> Response:
        payload, early = await self._begin(request)
        if early is not None:
            return early
        inputs = payload.get("input") or []
        inputs = [inputs] if isinstance(inputs, str) else inputs
        data = [
            {"object": "embedding", "index": i, "embedding": embedding_for(text)}
            for i, text in enumerate(inputs)
        ]
        tokens = sum(_words(text) for text in inputs)
        body: dict[str, Any] = {"object": "list", "data": data, "model": payload.get("model")}
        if self.include_usage:
            body["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        return JSONResponse(body)

    async def _models(self, request: Request) -> Response:
        _, early = await self._begin(request)
        if early is not None:
            return early
        data = [{"id": m, "object": "model", "created": _CREATED, "owned_by": "mock"} for m in self.model_ids]
        return JSONResponse({"object": "list", "data": data})

    async def _redirect(self, request: Request) -> Response:
        await self._begin(request)
        return RedirectResponse(self.redirect_to or f"{self.base_url}/models", status_code=302)

    # -- answers ---------------------------------------------------------------
    def _answer(self, payload: dict[str, Any], reply: str, prompt_tokens: int) -> _Answer:
        pieces = list(self.stream_chunks or reply_pieces(reply))
        max_tokens = payload.get("max_tokens")
        finish = "stop"
        if isinstance(max_tokens, int) and len(pieces) > max_tokens:
            pieces, finish = pieces[:max_tokens], "length"
        return _Answer(pieces, int(payload.get("n") or 1), finish, prompt_tokens)

    def _envelope(
        self, payload: dict[str, Any], kind: str, choices: list[dict[str, Any]], usage: dict[str, int] | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": f"mock-{kind}",
            "object": kind,
            "created": _CREATED,
            "model": payload.get("model"),
            "choices": choices,
        }
        if usage is not None and self.include_usage:
            body["usage"] = usage
        return body

    def _sse(self, payload: dict[str, Any], answer: _Answer, *, chat: bool) -> StreamingResponse:
        wants_usage = bool((payload.get("stream_options") or {}).get("include_usage"))
        events = self._events(payload, answer, chat, wants_usage and self.include_usage)
        return StreamingResponse(events, media_type="text/event-stream")

    async def _events(
        self, payload: dict[str, Any], answer: _Answer, chat: bool, with_usage: bool
    ) -> AsyncIterator[str]:
        kind = "chat.completion.chunk" if chat else "text_completion"

        def event(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> str:
            body = self._envelope(payload, kind, choices, None)
            if with_usage:
                body["usage"] = usage
            return f"data: {json.dumps(body, separators=_COMPACT)}\n\n"

        if chat:
            yield event([_delta(chat, i, None, role=True) for i in range(answer.n)])
        for sent, piece in enumerate(answer.pieces):
            if sent == self.stream_abort_after:
                raise _AbortStream("dropping the connection on purpose")
            if sent == self.stream_error_after:
                error = {"message": self.fail_message, "type": "server_error", "param": None, "code": None}
                yield f"data: {json.dumps({'error': error}, separators=_COMPACT)}\n\n"
                return
            if self.chunk_delay_s:
                await asyncio.sleep(self.chunk_delay_s)
            self.pieces_sent += 1
            yield event([_delta(chat, i, piece) for i in range(answer.n)])
        yield event([_delta(chat, i, None, finish=answer.finish_reason) for i in range(answer.n)])
        if with_usage:
            yield event([], answer.usage())
        yield "data: [DONE]\n\n"


def _delta(
    chat: bool, index: int, text: str | None, *, role: bool = False, finish: str | None = None
) -> dict[str, Any]:
    if not chat:
        return {"index": index, "text": text or "", "finish_reason": finish, "logprobs": None}
    delta: dict[str, Any] = {"role": "assistant", "content": ""} if role else {}
    if text is not None:
        delta["content"] = text
    return {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}


async def _pause(request: Request, seconds: float) -> None:
    """Sleep, but stop as soon as the client hangs up (so a timed-out test ends cleanly)."""
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_disconnected(request), seconds)


async def _disconnected(request: Request) -> None:
    # The body has been read, so the next message the server can get is the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass
