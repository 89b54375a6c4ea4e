"""Pure ASGI middleware: a JSON body whose text holds a lone surrogate is a 400 naming the field.

Python's JSON decoder turns an unpaired ``\\ud800`` escape into a ``str`` that nothing
downstream can encode (the quota estimate, a tokenizer, PostgreSQL), and each would fail
with a 500. Checked once here for every route: a body without a ``\\uD800``-``\\uDFFF``
escape, nearly all of them, is only scanned by a regular expression and passed on.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelyard.errors import InvalidRequest
from modelyard.unicode_text import lone_surrogate_path, surrogate_message

__all__ = ["LoneSurrogateGuard"]

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class LoneSurrogateGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        body, more = await _read(receive)
        field = _surrogate_field(body)
        if field is not None:
            error = InvalidRequest(surrogate_message(field), param=field, code="invalid_value")
            payload = json.dumps(error.to_body()).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ]
            await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        await self.app(scope, _replay(body, more, receive), send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return b"json" in value.lower()
    return True  # FastAPI parses a body without a content type as JSON too


async def _read(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body (the body limit outside bounds it), and any non-body message."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), []


def _replay(body: bytes, pending: list[Message], receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if pending:  # the caller left while sending: the app sees the same disconnect
                return pending.pop()
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _surrogate_field(body: bytes) -> str | None:
    if not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        path = lone_surrogate_path(json.loads(body))
    except (ValueError, RecursionError):
        return None  # not JSON: the route's own parsing says so
    if path is None:
        return None  # only surrogate pairs, which decode to real characters
    return ".".join(str(part) for part in path) or "body"
