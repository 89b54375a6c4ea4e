"""Builds OpenAI-shaped response bodies and SSE frames from backend results."""

from __future__ import annotations

import base64
import json
import secrets
import struct
import time
from typing import Any

from modelyard.backends.base import Embeddings, Generation, StreamChunk, Usage

__all__ = [
    "DONE_FRAME",
    "StreamIds",
    "chat_chunk",
    "chat_completion",
    "completion_chunk",
    "embedding_list",
    "error_frame",
    "sse",
    "text_completion",
    "usage_dict",
]

DONE_FRAME = "data: [DONE]\n\n"


def sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


def error_frame(body: dict[str, Any]) -> str:
    return sse(body)


def usage_dict(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


class StreamIds:
    """The id and timestamp shared by every chunk of one streamed response."""

    def __init__(self, prefix: str) -> None:
        self.id = f"{prefix}-{secrets.token_hex(12)}"
        self.created = int(time.time())


def chat_completion(model: str, result: Generation) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": c.index,
                "message": {"role": "assistant", "content": c.text},
                "finish_reason": c.finish_reason,
                "logprobs": None,
            }
            for c in result.choices
        ],
        "usage": usage_dict(result.usage),
    }


def chat_chunk(
    ids: StreamIds,
    model: str,
    chunk: StreamChunk | None,
    *,
    role: bool = False,
    usage: Usage | None = None,
    index: int = 0,
) -> dict[str, Any]:
    choices: list[dict[str, Any]] = []
    if chunk is not None or role:
        delta: dict[str, Any] = {"role": "assistant", "content": ""} if role else {"content": chunk.text}
        choices.append(
            {
                "index": chunk.index if chunk else index,
                "delta": delta,
                "finish_reason": chunk.finish_reason if chunk else None,
                "logprobs": None,
            }
        )
    body: dict[str, Any] = {
        "id": ids.id,
        "object": "chat.completion.chunk",
        "created": ids.created,
        "model": model,
        "choices": choices,
    }
    if usage is not None:
        body["usage"] = usage_dict(usage)
    return body


def text_completion(model: str, result: Generation) -> dict[str, Any]:
    return {
        "id": f"cmpl-{secrets.token_hex(12)}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": c.index, "text": c.text, "finish_reason": c.finish_reason, "logprobs": None}
            for c in result.choices
        ],
        "usage": usage_dict(result.usage),
    }


def completion_chunk(
    ids: StreamIds, model: str, chunk: StreamChunk | None, usage: Usage | None = None
) -> dict[str, Any]:
    choices = (
        [{"index": chunk.index, "text": chunk.text, "finish_reason": chunk.finish_reason, "logprobs": None}]
        if chunk is not None
        else []
    )
    body: dict[str, Any] = {
        "id": ids.id,
        "object": "text_completion",
        "created": ids.created,
        "model": model,
        "choices": choices,
    }
    if usage is not None:
        body["usage"] = usage_dict(usage)
    return body


def _encode(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


def embedding_list(model: str, result: Embeddings, encoding: str) -> dict[str, Any]:
    return {
        "object": "list",
        "model": model,
        "data": [
            {"object": "embedding", "index": i, "embedding": _encode(v, encoding)}
            for i, v in enumerate(result.vectors)
        ],
        "usage": {"prompt_tokens": result.usage.prompt_tokens, "total_tokens": result.usage.prompt_tokens},
    }
