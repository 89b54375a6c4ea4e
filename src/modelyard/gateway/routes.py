"""HTTP in, HTTP out: /v1/chat/completions, /v1/completions, /v1/embeddings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from modelyard.api.deps import AuthenticatedRouter, GatewayDep, PrincipalDep
from modelyard.gateway.protocol import ChatCompletionRequest, CompletionRequest, EmbeddingRequest

__all__ = ["router"]

# One router per endpoint scope, gathered under `router` so app.py includes one thing.
_chat: APIRouter = AuthenticatedRouter(scope="chat")
_completions: APIRouter = AuthenticatedRouter(scope="completions")
_embeddings: APIRouter = AuthenticatedRouter(scope="embeddings")
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _event_stream(frames: Any) -> StreamingResponse:
    return StreamingResponse(frames, media_type="text/event-stream", headers=_SSE_HEADERS)


@_chat.post("/chat/completions", response_model=None)
async def chat_completions(
    body: ChatCompletionRequest, principal: PrincipalDep, gateway: GatewayDep
) -> JSONResponse | StreamingResponse:
    if body.stream:
        return _event_stream(await gateway.stream_chat(body, principal))
    # A ready JSONResponse skips FastAPI's response encoding: the body is plain JSON already.
    return JSONResponse(await gateway.chat(body, principal))


@_completions.post("/completions", response_model=None)
async def completions(
    body: CompletionRequest, principal: PrincipalDep, gateway: GatewayDep
) -> JSONResponse | StreamingResponse:
    if body.stream:
        return _event_stream(await gateway.stream_complete(body, principal))
    return JSONResponse(await gateway.complete(body, principal))


@_embeddings.post("/embeddings", response_model=None)
async def embeddings(body: EmbeddingRequest, principal: PrincipalDep, gateway: GatewayDep) -> JSONResponse:
    return JSONResponse(await gateway.embed(body, principal))


router = APIRouter(prefix="/v1", tags=["inference"])
router.include_router(_chat)
router.include_router(_completions)
router.include_router(_embeddings)
