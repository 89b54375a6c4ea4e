"""Pure ASGI middleware that refuses request bodies above a byte limit with a 413.

A declared ``Content-Length`` over the limit is refused before the app runs, so nothing
is read or parsed; a body without one (chunked) is counted as it arrives, and once it
passes the limit whatever the app was about to answer is replaced by the 413. A body
within its declared length passes untouched: the server already holds it to that length,
which keeps the hot path to one header lookup. Routes with a limit of their own (file
uploads, bounded by ``max_upload_bytes``) are left to it.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelyard.errors import PayloadTooLarge

__all__ = ["BodyLimitMiddleware"]


class _BodyTooLarge(Exception):
    """Raised into the app from ``receive``: stops whatever reads the body."""


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, own_limit_paths: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self._max = max_bytes
        self._exempt = own_limit_paths
        error = PayloadTooLarge(f"the request body is larger than the limit of {max_bytes} bytes")
        self._body = json.dumps(error.to_body()).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._exempt:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared <= self._max:
            await self.app(scope, receive, send)
            return
        if declared is not None:
            await self._refuse(send)
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        over = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max:
                    over = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:  # the app answered after its read failed: the caller gets the 413
                if not started:
                    started = True
                    await self._refuse(send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            # However the app let the read failure out (as itself, wrapped, in a group).
            if not over or started:
                raise
        if over and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(self._body)).encode())]
        # The rest of the body is never read: the connection cannot be reused.
        headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": PayloadTooLarge.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self._body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
